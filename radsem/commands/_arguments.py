"""Argument types shared by the sub-commands (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse

__all__ = ["whole_number", "positive", "non_negative", "jobs"]


def whole_number(text: str) -> int:
    """A whole number written in ``text`` (argparse reports anything else as a usage error)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive(text: str) -> int:
    """A whole number of at least 1 (epochs, folds, patients)."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative(text: str) -> int:
    """A whole number of at least 0 (seeds, counts that may be zero)."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def jobs(text: str) -> int:
    """Worker processes: at least 1, or -1 for every core."""
    value = whole_number(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or -1 (all cores), got {value}")
    return value
