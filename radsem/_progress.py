"""Progress bars that cost nothing when switched off.

``tqdm(..., disable=True)`` still creates tqdm's class-wide multiprocessing lock, which fails
inside loky/joblib worker processes on some Python builds (the resource tracker's lock). Code
that may run in a worker asks for a bar through :func:`progress_bar`, which returns a silent
stand-in unless a bar is wanted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["progress_bar"]


class _SilentBar:
    """The part of tqdm's interface radsem uses, doing nothing."""

    def __init__(self, iterable: Iterable | None) -> None:
        self._iterable = iterable if iterable is not None else ()

    def __iter__(self) -> Iterator:
        return iter(self._iterable)

    def update(self, n: int = 1) -> None:
        """Ignore progress."""

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        """Ignore postfix values."""

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        """Ignore descriptions."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(iterable: Iterable | None = None, *, enabled: bool, **kwargs: Any):
    """A tqdm bar over ``iterable`` (to stderr) when ``enabled``, otherwise a silent stand-in."""
    if not enabled:
        return _SilentBar(iterable)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
