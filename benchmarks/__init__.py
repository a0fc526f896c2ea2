"""Benchmark runners on public instances (not unit tests): see RESULTS.md."""
