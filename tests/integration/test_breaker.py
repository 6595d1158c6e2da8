"""Integration tests: breaker (being written)."""
