"""Benchmarks of metareg (see docs/benchmarks.md). Never timed tests."""
