"""Fit a model with semopy where semopy can fit it as lavaan would, and refuse otherwise.

semopy covers single-group models with ``=~``, ``~`` and ``~~``, fixed values and shared
labels, estimated by ML (its Wishart likelihood "MLW"), GLS or ULS on complete data.  For
everything else (``:=``, ``==``, ``<``/``>``, intercepts ``~ 1``, thresholds, ``NA*``/``start()``
/``c()`` modifiers, groups, FIML, MLR, std_lv, ordered data, ...) semopy either has no
equivalent or silently gives numbers that differ from lavaan's, so this engine raises
:class:`ModelSpecificationError` (or :class:`EngineUnavailableError` when semopy is missing).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from radsem.engines._tables import PARAMETER_COLUMNS
from radsem.errors import (
    ConvergenceWarning,
    DataError,
    EngineUnavailableError,
    EstimationError,
    ModelSpecificationError,
)

__all__ = ["fit_semopy", "SemopyFit"]

_OBJECTIVES = {"ML": "MLW", "GLS": "GLS", "ULS": "ULS"}
_UNSUPPORTED_OPS = {
    ":=": "defined parameters (:=)",
    "==": "equality constraints (==)",
    "<": "inequality constraints (<)",
    ">": "inequality constraints (>)",
    "~1": "intercepts/means (~ 1)",
    "|": "thresholds (|)",
    "~*~": "scaling factors (~*~)",
    "<~": "formative indicators (<~)",
}
# option -> values semopy reproduces (lavaan's defaults for single-group complete-data ML)
_ALLOWED_OPTIONS: dict[str, set[Any]] = {
    "estimator": {None, "ML", "GLS", "ULS", "ml", "gls", "uls"},
    "missing": {None, "listwise"},
    "se": {None, "standard"},
    "information": {None, "expected"},
    "std_lv": {None, False},
    "meanstructure": {None, False, "default"},
    "orthogonal": {None, False},
    "fixed_x": {None, False, True, "default"},
    "group": {None},
    "group_equal": {None, ()},
    "group_partial": {None, ()},
    "ordered": {None, False, ()},
    "level": {None, 0.95},
}
_FIT_NAMES = {
    "DoF": "df",
    "chi2": "chisq",
    "chi2 p-value": "pvalue",
    "chi2 Baseline": "baseline.chisq",
    "DoF Baseline": "baseline.df",
    "CFI": "cfi",
    "TLI": "tli",
    "NFI": "nfi",
    "RMSEA": "rmsea",
}


def _refuse(what: str) -> None:
    raise ModelSpecificationError(
        f"semopy cannot fit {what} the way lavaan does; use engine='lavaan' or radsem's own engine"
    )


def _check_options(function: str, options: dict[str, Any]) -> str:
    if function == "growth":
        _refuse("growth models (they need a mean structure)")
    for name, value in options.items():
        allowed = _ALLOWED_OPTIONS.get(name)
        if allowed is None:
            _refuse(f"the option {name}={value!r}")
        hashable = tuple(value) if isinstance(value, list) else value
        if hashable not in allowed:
            _refuse(f"the option {name}={value!r}")
    estimator = options.get("estimator") or "ML"
    return _OBJECTIVES[str(estimator).upper()]


def _term_text(term: Any) -> str:
    prefix = ""
    for modifier in term.modifiers:
        values = modifier.values
        if len(values) != 1:
            _refuse("per-group modifiers c(...)")
        value = values[0]
        if modifier.kind == "fixed":
            if isinstance(value, float) and math.isnan(value):
                _refuse("NA* (freeing a parameter lavaan fixes)")
            prefix += f"{float(value)!r}*"
        elif modifier.kind == "label":
            prefix += f"{value}*"
        else:
            _refuse(f"the modifier {modifier.kind}()")
    return prefix + term.name


def _semopy_description(model: str) -> tuple[str, set[tuple[str, str]]]:
    from radsem.syntax import parse_model

    lines: list[str] = []
    loadings: set[tuple[str, str]] = set()
    for statement in parse_model(model):
        if statement.op in _UNSUPPORTED_OPS:
            _refuse(_UNSUPPORTED_OPS[statement.op])
        if statement.op not in {"=~", "~", "~~"}:
            _refuse(f"the operator {statement.op}")
        rhs = " + ".join(_term_text(term) for term in statement.rhs)
        for lhs in statement.lhs:
            lines.append(f"{lhs} {statement.op} {rhs}")
            if statement.op == "=~":
                loadings.update((lhs, term.name) for term in statement.rhs)
    return "\n".join(lines), loadings


def fit_semopy(model: str, data: pd.DataFrame, function: str = "sem", **options: Any) -> SemopyFit:
    """Fit ``model`` with semopy, refusing what semopy does not reproduce.

    Parameters
    ----------
    model : str
        lavaan syntax (parsed by radsem's parser, then rewritten for semopy).
    data : pandas.DataFrame
    function : {"sem", "cfa"}
        ``"growth"`` and ``"lavaan"`` are refused (defaults semopy does not share).
    **options
        Only ``estimator`` in ML/GLS/ULS and lavaan's defaults of the other options.

    Returns
    -------
    SemopyFit

    Raises
    ------
    EngineUnavailableError
        semopy is not installed.
    ModelSpecificationError
        The model or an option needs something semopy lacks (see the module docstring).

    Notes
    -----
    semopy's ``LogLik`` is its fit function, not a log-likelihood, so ``logl``, ``aic`` and
    ``bic`` are not reported; ``std_lv`` is not available (NaN).
    """
    if function not in {"sem", "cfa"}:
        _refuse(f"models with lavaan's {function}() defaults")
    objective = _check_options(function, options)
    description, loadings = _semopy_description(model)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    try:
        import semopy
    except ImportError as exc:
        raise EngineUnavailableError(
            f"semopy is not installed (pip install semopy): {exc}"
        ) from None
    sem_model = semopy.Model(description)
    observed = sorted(sem_model.vars["observed"])
    absent = [name for name in observed if name not in data.columns]
    if absent:
        raise DataError(f"variables not in the data: {', '.join(absent)}")
    frame = data[observed].apply(pd.to_numeric, errors="coerce").dropna()
    if len(frame) < len(observed) + 1:
        raise DataError(f"too few complete rows ({len(frame)}) for {len(observed)} variables")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = sem_model.fit(frame, obj=objective)
        except Exception as exc:  # noqa: BLE001 - semopy raises bare exceptions
            raise EstimationError(f"semopy failed: {exc}") from exc
    converged = bool(getattr(result, "success", True))
    if not converged:
        warnings.warn("semopy did not converge", ConvergenceWarning, stacklevel=2)
    return SemopyFit(sem_model, loadings, model, data, function, dict(options), converged)


class SemopyFit:
    """A semopy fit in radsem's column names.

    Implements :class:`radsem.FitResult` (``problem`` is the ``semopy.Model``).
    """

    engine = "semopy"

    def __init__(self, sem_model, loadings, model, data, function, options, converged) -> None:
        self._model = sem_model
        self._loadings = loadings
        self.model = model
        self.data = data
        self.function = function
        self.options = options
        self.converged = converged

    @property
    def problem(self) -> Any:
        """The fitted ``semopy.Model``."""
        return self._model

    @property
    def nobs(self) -> int:
        """Number of cases semopy used."""
        return int(self._model.n_samples)

    @property
    def theta(self) -> np.ndarray:
        """semopy's free parameters (its own order and names, see :meth:`vcov`)."""
        return np.array(self._model.param_vals, dtype=float)

    def vcov(self) -> pd.DataFrame:
        """Inverse Fisher information (semopy's standard errors), labelled with semopy's
        parameter names."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, inverse = self._model.calc_fim(inverse=True)
        names = [k for k, v in self._model.parameters.items() if v.active]
        return pd.DataFrame(inverse, index=names, columns=names)

    def summary(self) -> str:
        """A text report: the parameter table and the fit measures."""
        table = self.parameter_estimates()
        cols = ["lhs", "op", "rhs", "est", "se", "z", "pvalue"]
        lines = [
            f"semopy fit ({self.function}), N = {self.nobs}, converged: {self.converged}",
            "",
            table[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"),
            "",
            self.fit_measures().to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        return "\n".join(lines)

    def parameter_estimates(self) -> pd.DataFrame:
        """Estimates with ``=~`` rows restored (semopy prints them as ``indicator ~ factor``)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = self._model.inspect(std_est=True)
        rows = []
        for _, row in raw.iterrows():
            lhs, op, rhs = str(row["lval"]), str(row["op"]), str(row["rval"])
            if op == "~" and (rhs, lhs) in self._loadings:
                lhs, op, rhs = rhs, "=~", lhs
            rows.append(
                {
                    "lhs": lhs,
                    "op": op,
                    "rhs": rhs,
                    "group": 1,
                    "label": "",
                    "est": row["Estimate"],
                    "se": row["Std. Err"],
                    "z": row["z-value"],
                    "pvalue": row["p-value"],
                    "std_all": row.get("Est. Std", np.nan),
                }
            )
        table = pd.DataFrame(rows)
        for col in ("est", "se", "z", "pvalue", "std_all"):
            table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
        table["ci_lower"] = table["est"] - 1.959963984540054 * table["se"]
        table["ci_upper"] = table["est"] + 1.959963984540054 * table["se"]
        table["std_lv"] = np.nan
        return table[PARAMETER_COLUMNS]

    def fit_measures(self) -> pd.Series:
        """semopy's ``calc_stats`` under lavaan's names (no logl/aic/bic: see Notes of
        :func:`fit_semopy`)."""
        import semopy

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = semopy.calc_stats(self._model)
        values = {
            lav: float(stats[name].iloc[0]) for name, lav in _FIT_NAMES.items() if name in stats
        }
        values["npar"] = float(len(self._model.param_vals))
        return pd.Series(values, name="semopy")

    def modindices(self) -> pd.DataFrame:
        """semopy computes no modification indices."""
        raise ModelSpecificationError("semopy computes no modification indices; use lavaan")
