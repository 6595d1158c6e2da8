"""Integration tests: bulkhead (being written)."""
