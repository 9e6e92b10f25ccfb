"""Fit a model with the R package lavaan through rpy2 and return radsem's tables.

Nothing the user writes is pasted into R code, and the user's model text never reaches R:
lavaan itself evaluates modifiers and constraint expressions with R's evaluator (and joins a
line without an operator onto the previous one), so the model is parsed by radsem and rebuilt
as canonical syntax by :func:`radsem.syntax.serialise.to_lavaan_syntax` (strictly checked names,
whitelisted functions), which is what lavaan receives, as a character vector. The data go as an
R data.frame and options as R values (rpy2 conversion) in a call built with ``do.call``.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from radsem import _r
from radsem.engines._options import FUNCTIONS, translate_options
from radsem.engines._safety import check_model_text
from radsem.engines._tables import tidy_modindices, tidy_parameters
from radsem.errors import (
    ConvergenceWarning,
    DataError,
    EngineUnavailableError,
    EstimationError,
    ImproperSolutionWarning,
    ModelSpecificationError,
    ModelSyntaxError,
    RadsemWarning,
)
from radsem.syntax.serialise import to_lavaan_syntax

__all__ = ["fit_lavaan", "LavaanFit", "lavaan_available"]

_INSTALL = (
    "the lavaan engine needs R (>= 4.0) with the lavaan package and the Python package rpy2: "
    "install R from https://cran.r-project.org, run install.packages('lavaan') in R, then "
    "pip install 'radsem[r]' (rpy2 3.5)"
)

# Fixed R code (no user text): call a lavaan function by name with a list of arguments,
# collect its warnings, and turn an error into a value carrying the message.
_CALLER = """
function(what, args) {
  warns <- character(0)
  value <- withCallingHandlers(
    tryCatch(do.call(what, args, envir = asNamespace("lavaan")),
             error = function(e) structure(list(message = conditionMessage(e)),
                                           class = "radsem_error")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(value = value, warnings = warns)
}
"""


def lavaan_available() -> bool:
    """Whether R, rpy2 and lavaan are usable in this process."""
    return _r.r_available("lavaan")


def _require() -> None:
    try:
        _r.require_r("lavaan")
    except EngineUnavailableError as exc:
        raise EngineUnavailableError(f"{_INSTALL} ({exc})") from None


@functools.lru_cache(maxsize=1)
def _caller() -> Any:
    import rpy2.robjects as ro

    return ro.r(_CALLER)


@functools.lru_cache(maxsize=1)
def _known_options() -> frozenset[str]:
    import rpy2.robjects as ro

    names = set(ro.r["names"](_call("lavOptions", {})))
    return frozenset(names | {"group", "cluster", "sampling.weights", "ordered", "sample.nobs"})


@functools.lru_cache(maxsize=1)
def _lavaan_version() -> str:
    import rpy2.robjects as ro

    return str(ro.r["as.character"](ro.r["packageVersion"]("lavaan"))[0])


def _to_r(value: Any) -> Any:
    import rpy2.robjects as ro

    if isinstance(value, bool | np.bool_):
        return ro.BoolVector([bool(value)])
    if isinstance(value, int | np.integer):
        return ro.IntVector([int(value)])
    if isinstance(value, float | np.floating):
        return ro.FloatVector([float(value)])
    if isinstance(value, str):
        return ro.StrVector([value])
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ro.StrVector(list(value))
    if isinstance(value, list | tuple) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in value
    ):
        return ro.FloatVector([float(v) for v in value])
    raise ModelSpecificationError(
        f"cannot pass a {type(value).__name__} to lavaan (options are booleans, numbers, "
        "strings or lists of strings or of numbers)"
    )


def _classify_warning(message: str) -> type[Warning]:
    low = message.lower()
    if "converge" in low:
        return ConvergenceWarning
    if any(k in low for k in ("negative", "positive definite", "not identified", "heywood")):
        return ImproperSolutionWarning
    return RadsemWarning


def _raise_error(message: str) -> None:
    text = re.sub(r"^lavaan ERROR:\s*", "", message.strip())
    low = text.lower()
    if "syntax" in low or "parse" in low or "unexpected" in low or "modifier" in low:
        line = re.search(r"line\s*(?:=\s*)?(\d+)", text)
        pos = re.search(r"(?:pos|column)\s*(?:=\s*)?(\d+)", text)
        raise ModelSyntaxError(
            f"lavaan: {text}", int(line.group(1)) if line else 0, int(pos.group(1)) if pos else 0
        )
    if (
        "not found in the dataset" in low
        or "missing observed variables" in low
        or ("data" in low and "not found" in low)
    ):
        raise DataError(f"lavaan: {text}")
    raise EstimationError(f"lavaan: {text}")


def _call(what: str, args: Mapping[str, Any]) -> Any:
    """Call ``lavaan::<what>(**args)``; R warnings become Python warnings, errors exceptions."""
    import rpy2.robjects as ro

    result = _caller()(ro.StrVector([what]), ro.ListVector(dict(args)))
    for message in result.rx2("warnings"):
        text = re.sub(r"^lavaan WARNING:\s*", "", str(message).strip())
        warnings.warn(f"lavaan: {text}", _classify_warning(text), stacklevel=3)
    value = result.rx2("value")
    if "radsem_error" in list(ro.r["class"](value)):
        _raise_error(str(value.rx2("message")[0]))
    return value


def _r_data(data: pd.DataFrame) -> Any:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    frame = data.copy()
    for col in frame.columns:
        if not isinstance(col, str):
            raise DataError(f"column names must be strings, got {col!r}")
        dtype = frame[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            continue  # becomes an R factor with the same levels
        elif pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_numeric_dtype(dtype):
            frame[col] = frame[col].astype("float64")
        elif pd.api.types.is_bool_dtype(dtype):
            frame[col] = frame[col].astype("float64")
    frame = frame.reset_index(drop=True)
    return _r.to_r_dataframe(frame)


def fit_lavaan(model: str, data: pd.DataFrame, function: str = "sem", **options: Any) -> LavaanFit:
    """Fit ``model`` on ``data`` with lavaan (through rpy2).

    Parameters
    ----------
    model : str
        lavaan model syntax.
    data : pandas.DataFrame
        Observed variables (and the grouping column, if any); column names are passed verbatim.
    function : {"sem", "cfa", "growth", "lavaan"}
        Which lavaan function to call (they differ only in defaults).
    **options
        lavaan options in Python spelling: ``estimator="MLR"``, ``missing="ml"``,
        ``group="school"``, ``group_equal=("loadings", "intercepts")``, ``group_partial=[...]``,
        ``std_lv=True``, ``meanstructure=True``, ``se="bootstrap"``, ``bootstrap=500``,
        ``seed=1`` (lavaan's ``iseed``), ``ordered=[...]``, ``fixed_x=False``, ... Any name of
        ``lavaan::lavOptions()`` with ``.`` written as ``_`` is accepted.

    Returns
    -------
    LavaanFit

    Raises
    ------
    EngineUnavailableError
        R, rpy2 or lavaan is missing (the message says how to install them).
    ModelSyntaxError
        The model does not parse with radsem's parser (lavaan features radsem refuses, such
        as ``<~`` or ``efa()``, included), or holds a name, label or function that cannot
        be passed on to R.
    ModelSpecificationError
        Unknown option or wrong option type.
    DataError, EstimationError
        lavaan refused the data or failed; the message is lavaan's.

    Notes
    -----
    lavaan warnings (non-convergence, negative variances, non-positive-definite matrices, ...)
    are re-issued as :class:`ConvergenceWarning`, :class:`ImproperSolutionWarning` or
    :class:`RadsemWarning` with lavaan's text.

    Examples
    --------
    >>> from radsem.datasets import load
    >>> from radsem.engines import fit_lavaan
    >>> fit = fit_lavaan("visual =~ x1 + x2 + x3", load("HolzingerSwineford1939"), "cfa")
    >>> round(float(fit.fit_measures()["npar"]))
    6
    """
    if function not in FUNCTIONS:
        raise ModelSpecificationError(f"function must be one of {FUNCTIONS}, got {function!r}")
    if not isinstance(model, str):
        raise ModelSyntaxError(f"the model must be a string, got {type(model).__name__}", 1, 1)
    syntax, expressions = to_lavaan_syntax(model)
    check_model_text(syntax)  # second line of defence: the rebuilt text is plain syntax
    _require()
    import rpy2.robjects as ro

    lavaan_options = translate_options(options, set(_known_options()))
    args: dict[str, Any] = {"model": ro.StrVector([syntax]), "data": _r_data(data)}
    args.update({key: _to_r(value) for key, value in lavaan_options.items()})
    fitted = _call(function, args)
    out = LavaanFit(fitted, model=model, data=data, function=function, options=dict(options))
    out.syntax = syntax
    out._expressions = expressions
    return out


class LavaanFit:
    """A lavaan fit seen through radsem's tables (results are computed lazily and cached).

    Attributes
    ----------
    model : str
        The model as given.
    syntax : str
        The canonical syntax lavaan was given (rebuilt from radsem's parse of ``model``).
    data : pandas.DataFrame
    function : str
    options : dict
        The options as given (Python spelling).
    converged : bool
    lavaan_version : str
    group_labels : list of str
        Labels of groups 1..G in lavaan's order (empty with one group).

    Notes
    -----
    Implements :class:`radsem.FitResult` (``problem`` is the R ``lavaan`` object).
    """

    engine = "lavaan"

    def __init__(
        self, r_fit: Any, model: str, data: pd.DataFrame, function: str, options: dict[str, Any]
    ) -> None:
        self._fit = r_fit
        self.model = model
        self.syntax = model
        self._expressions: dict[str, str] = {}
        self.data = data
        self.function = function
        self.options = options
        self.lavaan_version = _lavaan_version()
        self.converged = bool(self._inspect("converged")[0])
        self.group_labels = [str(g) for g in self._inspect("group.label")]
        self._cache: dict[str, Any] = {}

    def _inspect(self, what: str) -> Any:
        import rpy2.robjects as ro

        return _call("lavInspect", {"object": self._fit, "what": ro.StrVector([what])})

    def __repr__(self) -> str:
        return (
            f"LavaanFit(function={self.function!r}, converged={self.converged}, "
            f"lavaan {self.lavaan_version})"
        )

    @property
    def problem(self) -> Any:
        """The R ``lavaan`` object (through rpy2)."""
        return self._fit

    @property
    def nobs(self) -> int:
        """lavaan's ``lavInspect(fit, "ntotal")``."""
        if "nobs" not in self._cache:
            self._cache["nobs"] = int(self._inspect("ntotal")[0])
        return self._cache["nobs"]

    @property
    def theta(self) -> np.ndarray:
        """lavaan's ``coef(fit)``: the free parameters in lavaan's numbering."""
        if "theta" not in self._cache:
            self._cache["theta"] = np.array(_call("coef", {"object": self._fit}), dtype=float)
        return self._cache["theta"].copy()

    def vcov(self) -> pd.DataFrame:
        """lavaan's ``vcov(fit)``, labelled as lavaan labels it."""
        if "vcov" not in self._cache:
            import rpy2.robjects as ro

            value = _call("vcov", {"object": self._fit})
            names = [str(n) for n in ro.r["rownames"](value)]
            self._cache["vcov"] = pd.DataFrame(np.array(value), index=names, columns=names)
        return self._cache["vcov"].copy()

    def summary(self) -> str:
        """lavaan's ``summary(fit)`` as printed by R."""
        import rpy2.robjects as ro

        text = ro.r["capture.output"](ro.r["summary"](self._fit))
        return "\n".join(str(line) for line in text)

    def parameter_estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(fit, standardized = TRUE)`` in radsem's columns.

        Columns ``lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower, ci_upper, std_lv,
        std_all``; ``group`` is 1-based (1 with one group; 0 for ``:=`` rows of multi-group
        models, as lavaan); ``==``/``<``/``>`` rows are left out, as lavaan does by default.
        """
        if "pe" not in self._cache:
            import rpy2.robjects as ro

            table = _call(
                "parameterEstimates",
                {"object": self._fit, "standardized": ro.BoolVector([True])},
            )
            self._cache["pe"] = self._user_expressions(tidy_parameters(_r.from_r_dataframe(table)))
        return self._cache["pe"].copy()

    def standardized_solution(self) -> pd.DataFrame:
        """lavaan's ``standardizedSolution(fit)`` (type std.all) with radsem's column names."""
        table = _r.from_r_dataframe(_call("standardizedSolution", {"object": self._fit}))
        table = table.rename(columns={"est.std": "est_std"})
        return self._user_expressions(tidy_parameters(table, columns=None))

    def _user_expressions(self, table: pd.DataFrame) -> pd.DataFrame:
        """Constraint and definition rows carry radsem's text of the expression, not the
        canonical text lavaan was given."""
        if self._expressions and "rhs" in table:
            rows = table["op"].isin([":=", "==", "<", ">"])
            for col in ("lhs", "rhs"):
                table.loc[rows, col] = table.loc[rows, col].map(
                    lambda v: self._expressions.get(v, v)
                )
        return table

    def fit_measures(self) -> pd.Series:
        """lavaan's ``fitMeasures(fit)``, indexed by lavaan's names."""
        if "fm" not in self._cache:
            values = _call("fitMeasures", {"object": self._fit})
            names = [str(n) for n in values.names]
            self._cache["fm"] = pd.Series(np.array(values, dtype=float), index=names, name="lavaan")
        return self._cache["fm"].copy()

    def modindices(self) -> pd.DataFrame:
        """lavaan's ``modindices(fit)``: ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all``."""
        if "mi" not in self._cache:
            table = _r.from_r_dataframe(_call("modindices", {"object": self._fit}))
            self._cache["mi"] = tidy_modindices(table)
        return self._cache["mi"].copy()

    def implied(self) -> dict[int, dict[str, Any]]:
        """Model-implied moments per group: ``{group: {"cov": DataFrame, "mean": Series|None}}``.

        Groups are numbered from 1 as in :meth:`parameter_estimates`.
        """
        import rpy2.robjects as ro

        value = self._inspect("implied")
        blocks = [value] if len(self.group_labels) <= 1 else list(value)
        out: dict[int, dict[str, Any]] = {}
        for g, block in enumerate(blocks, start=1):
            cov = block.rx2("cov")
            names = [str(n) for n in ro.r["rownames"](cov)]
            entry: dict[str, Any] = {
                "cov": pd.DataFrame(np.array(cov), index=names, columns=names),
                "mean": None,
            }
            if "mean" in list(block.names):
                entry["mean"] = pd.Series(np.array(block.rx2("mean"), dtype=float), index=names)
            out[g] = entry
        return out
