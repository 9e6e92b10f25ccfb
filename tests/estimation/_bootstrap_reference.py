"""lavaan (through rpy2) for the bootstrap tests: refits on given resamples, lavaan's own
bootstrap, its interval code applied to radsem's draws, and its Bollen-Stine p-value.

Models, data and options are passed as R objects (function arguments), never pasted into R
code; the R code below is constant.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from radsem._r import from_r_dataframe, to_r_dataframe

#: stored lavaan results (``tests/reference/make_bootstrap_references.py``)
REFERENCE_FILE = Path(__file__).resolve().parents[1] / "reference" / "bootstrap" / "lavaan.json"

#: saturated mediation model with the indirect and total effects
MEDIATION = """
m ~ a*x
y ~ b*m + c*x
ab := a*b
total := c + a*b
"""
#: one factor for :func:`factor_data` (df = 5, normal-theory p = 0.013): Bollen-Stine test
ONE_FACTOR = "f =~ y1 + y2 + y3 + y4 + y5"


def mediation_data(n: int = 120, seed: int = 11) -> pd.DataFrame:
    """x -> m -> y with a direct effect, skewed and heavy-tailed errors."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 0.5 * x + (rng.chisquare(3, n) - 3) / np.sqrt(6)
    y = 0.4 * m + 0.2 * x + rng.standard_t(5, n) * 0.8
    return pd.DataFrame({"x": x, "m": m, "y": y})


def factor_data(n: int = 150, seed: int = 5) -> pd.DataFrame:
    """One factor, t(5) errors and a residual correlation the one-factor model omits."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    e = rng.standard_t(5, size=(n, 5)) * 0.7
    e[:, 4] += 0.3 * e[:, 3]
    lam = np.array([1.0, 0.8, 0.9, 0.7, 0.6])
    return pd.DataFrame(f[:, None] * lam + e, columns=[f"y{k}" for k in range(1, 6)])


def load_reference() -> dict:
    """The stored lavaan bootstrap results."""
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


_REFITS = """
function(func, model, data, idx, args) {
  ns <- asNamespace("lavaan")
  fit0 <- do.call(func, c(list(model = model, data = data), args), envir = ns)
  out <- matrix(NA_real_, nrow(idx), length(lavaan::coef(fit0)) + 2L)
  colnames(out) <- c(names(lavaan::coef(fit0)), "chisq", "admissible")
  for (b in seq_len(nrow(idx))) {
    d <- data[idx[b, ], , drop = FALSE]
    f <- suppressWarnings(do.call(func, c(list(model = model, data = d), args), envir = ns))
    if (lavaan::lavInspect(f, "converged")) {
      ok <- suppressWarnings(lavaan::lavInspect(f, "post.check"))
      out[b, ] <- c(lavaan::coef(f), lavaan::fitMeasures(f, "chisq"), as.numeric(ok))
    }
  }
  out
}
"""

_BOOT = """
function(func, model, data, R, seed, args) {
  set.seed(seed)
  ns <- asNamespace("lavaan")
  fit <- suppressWarnings(do.call(func, c(list(model = model, data = data, se = "bootstrap",
                                               bootstrap = R), args), envir = ns))
  lavaan::parameterEstimates(fit, boot.ci.type = "perc")
}
"""

_CI_FROM_DRAWS = """
function(func, model, data, boot, type, level, args) {
  ns <- asNamespace("lavaan")
  fit <- suppressWarnings(do.call(func, c(list(model = model, data = data, se = "bootstrap",
                                               bootstrap = 3L), args), envir = ns))
  colnames(boot) <- names(lavaan::coef(fit))
  fit@boot$coef <- boot
  lavaan::parameterEstimates(fit, boot.ci.type = type, level = level)
}
"""

_BOLLEN_STINE = """
function(func, model, data, R, seed, args) {
  set.seed(seed)
  ns <- asNamespace("lavaan")
  fit <- do.call(func, c(list(model = model, data = data), args), envir = ns)
  t0 <- lavaan::fitMeasures(fit, "chisq")
  tb <- suppressWarnings(lavaan::bootstrapLavaan(fit, R = R, type = "bollen.stine",
          FUN = function(x) x@test[[1L]]$stat))
  tb <- tb[is.finite(tb[, 1]), 1]
  c(pvalue = mean(tb > t0), n = length(tb))
}
"""


def _args(options: dict):
    import rpy2.robjects as ro

    out = {}
    for key, value in options.items():
        if isinstance(value, (list, tuple)):
            value = ro.StrVector(list(value))
        out[key.replace("_", ".")] = value
    return ro.ListVector(out)


def _int_matrix(rows: np.ndarray):
    import rpy2.robjects as ro

    rows = np.asarray(rows, dtype=int) + 1  # R is 1-based
    return ro.r["matrix"](ro.IntVector(rows.ravel(order="F").tolist()), nrow=rows.shape[0])


def lavaan_refits(
    func: str, model: str, data: pd.DataFrame, rows: np.ndarray, **options
) -> pd.DataFrame:
    """lavaan's ``coef()``, chisq and post-check (1 = admissible) on ``data.iloc[rows[b]]``
    for every replicate ``b``."""
    import rpy2.robjects as ro

    out = ro.r(_REFITS)(
        func, model, to_r_dataframe(data.reset_index(drop=True)), _int_matrix(rows), _args(options)
    )
    names = list(ro.r["colnames"](out))
    return pd.DataFrame(np.asarray(out), columns=names)


def lavaan_bootstrap(
    func: str, model: str, data: pd.DataFrame, R: int, seed: int, **options
) -> pd.DataFrame:
    """parameterEstimates(boot.ci.type = "perc") of lavaan's ``se = "bootstrap"``."""
    import rpy2.robjects as ro

    return from_r_dataframe(ro.r(_BOOT)(func, model, to_r_dataframe(data), R, seed, _args(options)))


def lavaan_intervals(
    func: str,
    model: str,
    data: pd.DataFrame,
    draws: np.ndarray,
    boot_ci_type: str,
    level: float,
    **options,
) -> pd.DataFrame:
    """lavaan's parameterEstimates intervals computed from radsem's draws."""
    import rpy2.robjects as ro

    boot = ro.r["matrix"](
        ro.FloatVector(np.asarray(draws, float).ravel(order="F").tolist()), nrow=draws.shape[0]
    )
    return from_r_dataframe(
        ro.r(_CI_FROM_DRAWS)(
            func, model, to_r_dataframe(data), boot, boot_ci_type, level, _args(options)
        )
    )


def lavaan_bollen_stine(
    func: str, model: str, data: pd.DataFrame, R: int, seed: int, **options
) -> tuple[float, int]:
    """lavaan's Bollen-Stine p-value and number of successful replicates."""
    import rpy2.robjects as ro

    out = ro.r(_BOLLEN_STINE)(func, model, to_r_dataframe(data), R, seed, _args(options))
    return float(out[0]), int(out[1])
