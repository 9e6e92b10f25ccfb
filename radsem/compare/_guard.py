"""One model fit inside a cross-validation fold, with its failure and warnings recorded."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from radsem.errors import RadsemError

__all__ = ["guarded_fit"]


def guarded_fit(work: Callable[[], Any], where: dict) -> tuple[Any | None, list[dict]]:
    """Run ``work()`` (fit on the training rows, score the test rows).

    Returns its result and the failure records (``where`` plus ``error``): on a radsem,
    linear-algebra or value error the result is None and the record names the error; otherwise
    every warning raised inside the fit is recorded.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = work()
        except (RadsemError, np.linalg.LinAlgError, ValueError) as exc:
            return None, [{**where, "error": f"{type(exc).__name__}: {exc}"}]
    return result, [
        {**where, "error": f"warning {w.category.__name__}: {w.message}"} for w in caught
    ]
