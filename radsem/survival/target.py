"""A right-censored outcome as scikit-survival passes it: a structured ``y``.

scikit-survival's estimators take ``fit(X, y)`` with ``y`` a structured array whose first field
is the boolean event indicator and whose second is the follow-up time, e.g.
``sksurv.util.Surv.from_arrays(event, time)``. radsem's survival estimators take the same ``y``,
or, as a shorthand on a data frame, the names of its time and event columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["structured_outcome", "survival_target"]


def structured_outcome(time, event) -> np.ndarray:
    """``y`` for scikit-survival: fields ``event`` (bool) and ``time`` (float).

    Parameters
    ----------
    time, event : array-like
        Follow-up times and 0/1 (or boolean) event indicators.
    """
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event).ravel()
    if t.shape != e.shape:
        raise DataError(f"time has {t.size} values but event has {e.size}")
    y = np.empty(t.size, dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = e.astype(float) > 0, t
    return y


def survival_target(X, y, event: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up times and event indicators of the rows of ``X``.

    Parameters
    ----------
    X : DataFrame or array-like
        The rows the outcome belongs to.
    y : structured array or str
        scikit-survival's ``y`` (first field the event indicator, second the time), or the
        name of the time column of the data frame ``X`` (then ``event`` names its event column).
    event : str, optional
        Event column of ``X`` when ``y`` is a column name.

    Returns
    -------
    (ndarray of float, ndarray of bool)
        Times and events, one per row of ``X``.

    Raises
    ------
    DataError
        A column that is not in ``X``, a ``y`` that is not a two-field structured array, a
        length that differs from ``X``, or times that are missing or negative.
    """
    if isinstance(y, str):
        if event is None or not isinstance(X, pd.DataFrame):
            raise DataError(
                "give y as a structured array (sksurv.util.Surv.from_arrays(event, time)) "
                "or the names of the time and event columns of a data frame: "
                "fit(X, 'time', 'event')"
            )
        for col in (y, event):
            if col not in X.columns:
                raise DataError(f"column {col!r} is not in the data")
        time, ev = X[y].to_numpy(), X[event].to_numpy()
    elif event is not None:
        raise DataError("event is only used with a time column name: fit(X, 'time', 'event')")
    else:
        arr = np.asarray(y)
        names = arr.dtype.names
        if names is None or len(names) != 2:
            raise DataError(
                "y must be a structured array with an event and a time field "
                "(sksurv.util.Surv.from_arrays(event, time))"
            )
        ev, time = arr[names[0]], arr[names[1]]
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(ev).ravel()
    if t.size != len(X):
        raise DataError(f"the outcome has {t.size} rows but the data have {len(X)}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise DataError("follow-up times must be finite and >= 0")
    e = e.astype(float)
    if not np.all(np.isin(e, (0.0, 1.0))):
        raise DataError("event indicators must be 0/1 (or boolean)")
    return t, e.astype(bool)
