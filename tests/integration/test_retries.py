"""Integration tests: retries (being written)."""
