"""How big the reliability runs are: bounded in CI, bigger with PEERNUDGE_RELIABILITY_SCALE."""

import os

SCALE = float(os.environ.get("PEERNUDGE_RELIABILITY_SCALE", "1"))


def scaled(ci_size: int, full_size: int) -> int:
    """The CI size at scale 1; the issue's full size at scale >= 10."""
    if SCALE >= 10:
        return full_size
    return max(1, int(ci_size * SCALE))


def report(name: str, **figures: object) -> None:
    """Print a test's figures so the README can quote them (pytest -s shows them)."""
    print(f"\nRELIABILITY {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
