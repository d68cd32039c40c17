"""Benchmarks for mockorigin (`make bench`): figures as ratios to bare Twisted, measured in the same run."""
