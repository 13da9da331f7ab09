"""Benchmarks: each script runs its own baseline in the same run. Never run in CI timing."""
