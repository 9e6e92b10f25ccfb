"""Fit a model with lavaan through rpy2 and return its estimates and fit measures.

Strings and data are passed as R objects (function arguments), never pasted into R code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem._r import from_r_dataframe, to_r_dataframe


def lavaan_fit(model: str, data: pd.DataFrame, func: str = "sem", **options):
    """Return (parameterEstimates DataFrame, fitMeasures Series, fitted R object)."""
    import rpy2.robjects as ro

    kwargs = {"model": ro.StrVector([model]), "data": to_r_dataframe(data)}
    for key, value in options.items():
        rkey = key.replace("_", ".")
        if isinstance(value, (list, tuple)):
            value = ro.StrVector(list(value))
        kwargs[rkey] = value
    # do.call with the function's name: lavaan reads its own name from match.call()
    namespace = ro.r["asNamespace"]("lavaan")
    fit = ro.r["do.call"](func, ro.ListVector(kwargs), envir=namespace)
    pe = from_r_dataframe(_wrapped("parameterEstimates")(fit))
    fm = _wrapped("fitMeasures")(fit)
    fm = pd.Series(np.array(list(fm), dtype=float), index=list(ro.r["names"](fm)))
    return pe, fm, fit


def lavaan_std(fit) -> pd.DataFrame:
    """standardizedSolution() of a lavaan fit."""
    return from_r_dataframe(_wrapped("standardizedSolution")(fit))


_WRAPPERS = {
    # constant R code (no user text): calling lavaan's accessors through a one-argument
    # closure keeps rpy2 from inlining the fitted object into the call R deparses (>1 s)
    "parameterEstimates": "function(f) lavaan::parameterEstimates(f)",
    "fitMeasures": "function(f) lavaan::fitMeasures(f)",
    "standardizedSolution": "function(f) lavaan::standardizedSolution(f)",
}


def _wrapped(name: str):
    import rpy2.robjects as ro

    return ro.r(_WRAPPERS[name])
