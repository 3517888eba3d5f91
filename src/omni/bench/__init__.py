"""Benchmarks behind ``omni bench``: measured latency on the user's own machine, with the raw runs kept as JSON."""
