"""Performance benchmarks (not tests)."""
