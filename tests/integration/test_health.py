"""Integration tests: health (being written)."""
