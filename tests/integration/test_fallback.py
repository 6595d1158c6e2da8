"""Integration tests: fallback (being written)."""
