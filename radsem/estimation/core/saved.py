"""Fitted models saved as documented JSON and loaded back: ``fit.save(path)``,
``radsem.load_fit(path)``.

No pickle: the file is plain JSON that any language reads, holds no patient data, and loading it
runs no code. The format (``"format": "radsem.fit"``, ``"format_version": 1``):

=========================  ==================================================================
key                        content
=========================  ==================================================================
``format``                 ``"radsem.fit"``
``format_version``         ``1``
``radsem_version``         version of radsem that fitted the model
``class``                  ``"SemFit"`` (or a subclass, e.g. ``"OrdinalFit"``)
``model``                  the model in lavaan syntax
``options``                the options used (lavaan's names with ``_``)
``nobs``                   observations used (total over groups)
``converged``              whether the optimiser converged
``iterations``             optimiser iterations
``fit_measures``           ``{measure: value}`` (lavaan's names; ``null`` = not available)
``parameter_estimates``    table: ``{"columns": [...], "dtypes": [...], "data": [[row], ...]}``
``standardized_solution``  table as above (``null`` when not available)
``summary``                the lavaan-style text summary
=========================  ==================================================================

Tables keep their column order and dtypes; numbers are written with Python's shortest
round-trip representation, so the reloaded tables equal the fitted ones exactly; NaN is
written as ``null``. The JSON written by ``radsem fit`` (``fit.json``) carries the same record
under its key ``"fit"``, so :func:`load_fit` reads both.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["SavedFit", "fit_record", "save_fit", "load_fit", "FORMAT", "FORMAT_VERSION"]

FORMAT = "radsem.fit"
FORMAT_VERSION = 1


def _value(v: Any) -> Any:
    """A JSON value for one cell or option (NaN/inf -> None)."""
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | np.ndarray):
        return [_value(x) for x in v]
    if v is pd.NA:
        return None
    return str(v)


def _table(frame: pd.DataFrame) -> dict:
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "data": [[_value(v) for v in row] for row in frame.itertuples(index=False)],
    }


def _frame(record: dict) -> pd.DataFrame:
    try:
        columns, dtypes, rows = record["columns"], record["dtypes"], record["data"]
    except (KeyError, TypeError):
        raise DataError("a saved table needs 'columns', 'dtypes' and 'data'") from None
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    out = {}
    for col, dtype in zip(columns, dtypes, strict=True):
        values = frame[col]
        if dtype.startswith("float"):
            out[col] = pd.to_numeric(values.where(values.notna(), np.nan)).astype(dtype)
        elif dtype.startswith(("int", "uint", "bool")):
            out[col] = values.astype(dtype)
        else:
            out[col] = values.where(values.notna(), None).astype(object)
    return pd.DataFrame(out, columns=columns)


def fit_record(fit) -> dict:
    """The JSON-ready record of a fitted model (see the module's table of keys)."""
    from radsem._version import __version__

    try:
        std = _table(fit.standardized_solution())
    except Exception:  # noqa: BLE001 - a fit without a standardized solution still saves
        std = None
    measures = pd.Series(fit.fit_measures(), dtype=float)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "radsem_version": __version__,
        "class": type(fit).__name__,
        # every fit class has the tables; the model text, options and nobs where it keeps them
        # (a latent-survival fit counts the patients it used as n_used)
        "model": getattr(fit, "model", None),
        "options": _value(getattr(fit, "options", {})),
        "nobs": int(getattr(fit, "nobs", getattr(fit, "n_used", 0))),
        "converged": bool(fit.converged),
        "iterations": int(getattr(fit, "iterations", 0)),
        "fit_measures": {str(k): _value(v) for k, v in measures.items()},
        "parameter_estimates": _table(fit.parameter_estimates()),
        "standardized_solution": std,
        "summary": str(fit.summary()),
        "summary_full": _full_summary(fit),
    }


def _full_summary(fit) -> str | None:
    """``summary(fit_measures=True, standardized=True, rsquare=True)`` where the fit has it."""
    try:
        return str(fit.summary(fit_measures=True, standardized=True, rsquare=True))
    except TypeError:  # a fit class whose summary() takes no options
        return None


def save_fit(fit, path: str | os.PathLike) -> Path:
    """Write ``fit`` to ``path`` as JSON (atomically); returns the path."""
    from radsem.io import atomic_write_bytes

    path = Path(path)
    text = json.dumps(fit_record(fit), indent=1, allow_nan=False) + "\n"
    atomic_write_bytes(text.encode("utf-8"), path)
    return path


class SavedFit:
    """A fitted model read back from JSON: the same tables as the fit that was saved.

    Attributes
    ----------
    model : str
    options : dict
    nobs : int
    converged : bool
    iterations : int
    radsem_version : str
        Version of radsem that fitted the model.
    """

    def __init__(self, record: dict) -> None:
        self._record = record
        self.model = record["model"]
        self.options = dict(record.get("options") or {})
        self.nobs = int(record["nobs"])
        self.converged = bool(record["converged"])
        self.iterations = int(record.get("iterations", 0))
        self.radsem_version = str(record.get("radsem_version", "unknown"))
        self.fitted_class = str(record.get("class", "SemFit"))

    def parameter_estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` as saved."""
        return _frame(self._record["parameter_estimates"])

    def standardized_solution(self) -> pd.DataFrame:
        """lavaan's ``standardizedSolution()`` as saved."""
        if self._record.get("standardized_solution") is None:
            raise DataError("this saved fit has no standardized solution")
        return _frame(self._record["standardized_solution"])

    def fit_measures(self) -> pd.Series:
        """lavaan's ``fitMeasures()`` as saved (NaN where not available)."""
        values = {k: (np.nan if v is None else v) for k, v in self._record["fit_measures"].items()}
        return pd.Series(values, dtype=float)

    def summary(
        self, fit_measures: bool = False, standardized: bool = False, rsquare: bool = False
    ) -> str:
        """The lavaan-style text summary as saved: the default one, or with all three options
        (``fit_measures=True, standardized=True, rsquare=True``)."""
        flags = (bool(fit_measures), bool(standardized), bool(rsquare))
        if not any(flags):
            return self._record["summary"]
        full = self._record.get("summary_full")
        if all(flags) and full is not None:
            return full
        raise DataError(
            "a saved fit keeps summary() and summary(fit_measures=True, standardized=True, "
            "rsquare=True)" + ("" if full is not None else " (this file only the first)")
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the record again (e.g. to another place)."""
        from radsem.io import atomic_write_bytes

        path = Path(path)
        text = json.dumps(self._record, indent=1, allow_nan=False) + "\n"
        atomic_write_bytes(text.encode("utf-8"), path)
        return path

    def __repr__(self) -> str:
        fm = self.fit_measures()
        return (
            f"<SavedFit {self.fitted_class} {self.options.get('estimator', '?')} "
            f"N={self.nobs} chisq={fm.get('chisq', np.nan):.3f} "
            f"df={fm.get('df', np.nan):.0f} converged={self.converged}>"
        )


def load_fit(path: str | os.PathLike) -> SavedFit:
    """Read a fit saved by :meth:`SemFit.save` or the ``fit.json`` of ``radsem fit``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SavedFit
        ``parameter_estimates()``, ``standardized_solution()``, ``fit_measures()`` and
        ``summary()`` equal those of the fit that was saved.

    Raises
    ------
    DataError
        The file is not JSON, or not a saved radsem fit, or of a newer format version.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a JSON file ({exc})") from None
    if isinstance(record, dict) and isinstance(record.get("fit"), dict):
        record = record["fit"]  # the fit.json of `radsem fit`
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise DataError(
            f'{path}: not a saved radsem fit (expected "format": "{FORMAT}"; '
            "write one with fit.save(path) or radsem fit --format json)"
        )
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DataError(
            f"{path}: saved-fit format version {version!r} is newer than this "
            f"radsem reads ({FORMAT_VERSION}); update radsem"
        )
    return SavedFit(record)
