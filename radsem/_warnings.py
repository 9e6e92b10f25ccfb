"""Warnings that point at the user's line.

A warning raised deep inside radsem is most useful when its file and line are the user's call
(``fit = radsem.sem(...)`` in their script), not radsem's internals, whatever the call path.
:func:`user_stacklevel` counts the frames up to the first one outside the radsem package, for
``warnings.warn(..., stacklevel=user_stacklevel())``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["user_stacklevel"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` call made by this function's caller that
    attributes the warning to the first frame outside radsem (1 when radsem is the caller's
    caller's ... all the way up, e.g. in a worker process)."""
    frame = sys._getframe(1)  # the function calling warnings.warn: stacklevel 1
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level if frame is not None else 1
