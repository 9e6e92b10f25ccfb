"""Progress bars that cost nothing when switched off.

``tqdm(..., disable=True)`` still creates tqdm's class-wide multiprocessing lock, which fails
inside loky/joblib worker processes on some Python builds (the resource tracker's lock). Code
that may run in a worker asks for a bar through :func:`progress_bar`, which returns a silent
stand-in unless a bar is wanted.

A bar is drawn only when it is asked for (``enabled``: the commands' ``--quiet`` switches it
off) *and* standard error is a terminal, so logs and CI output stay free of bar updates; set
``RADSEM_PROGRESS=1`` to draw bars anyway (``0``: never).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["progress_bar", "bars_wanted", "engine_progress", "engine_progress_wanted"]

_ENGINE = contextvars.ContextVar("radsem_engine_progress", default=False)


@contextlib.contextmanager
def engine_progress(enabled: bool) -> Iterator[None]:
    """Within the block, steps the SEM engine runs on its own (the bootstrap behind
    ``se="bootstrap"``) draw progress bars when ``enabled`` (what ``radsem fit`` asks for
    unless ``--quiet``); outside, they are silent."""
    token = _ENGINE.set(bool(enabled))
    try:
        yield
    finally:
        _ENGINE.reset(token)


def engine_progress_wanted() -> bool:
    """Whether an enclosing :func:`engine_progress` asked for bars."""
    return _ENGINE.get()


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

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        """Ignore postfix text."""

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        """Ignore descriptions."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def bars_wanted(enabled: bool) -> bool:
    """Whether a bar asked for with ``enabled`` is drawn (terminal, ``RADSEM_PROGRESS``)."""
    if not enabled:
        return False
    forced = os.environ.get("RADSEM_PROGRESS", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def progress_bar(iterable: Iterable | None = None, *, enabled: bool, **kwargs: Any):
    """A tqdm bar over ``iterable`` (to stderr) when ``enabled`` and stderr is a terminal (see
    :func:`bars_wanted`), otherwise a silent stand-in with the same methods."""
    if not bars_wanted(enabled):
        return _SilentBar(iterable)
    from tqdm.auto import tqdm

    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
