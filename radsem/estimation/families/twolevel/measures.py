"""Fit measures of a two-level model (lavaan 0.6-14's ``fitMeasures()`` for ``cluster=``).

* ``fmin``: ``-log L / N`` of the full data without the ``2 pi`` constant (lavaan's);
* ``chisq = 2 (logl_h1 - logl)`` against the saturated two-level model; ``df`` = the free
  moments of h1 (without the fixed covariates' moments) minus the free parameters;
* baseline: the independence model at both levels (:func:`.h1.fit_baseline`); CFI, TLI and
  the other incremental indices from the two statistics;
* ``logl`` and ``unrestricted.logl`` conditional on the fixed covariates; ``aic``, ``bic``
  and ``bic2`` with the number of level-1 rows ``N``; the RMSEA family with ``N``;
* ``srmr_within`` and ``srmr_between``: root mean square of the differences between the
  correlation matrices of the h1 estimates and of the model at each level (the model's
  between covariance made positive definite first); ``srmr`` is their sum.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.measures.indices import incremental_indices, rmsea_indices

__all__ = ["twolevel_fit_measures", "srmr_levels"]


def _cor(m: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(m))
    return m / np.outer(sd, sd)


def _force_pd(m: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(m)
    if vals.min() > 0:
        return m
    tol = max(m.shape) * max(abs(vals.max()), 1.0) * np.finfo(float).eps
    vals = np.maximum(vals, tol)
    return vecs @ np.diag(vals) @ vecs.T


def srmr_levels(h1_w, model_w, h1_b, model_b) -> tuple[float, float]:
    """``(srmr_within, srmr_between)`` from the level covariance matrices (each level's
    variables only)."""
    r, c = vech_indices(h1_w.shape[0])
    within = float(np.sqrt(np.mean(((_cor(h1_w) - _cor(model_w))[r, c]) ** 2)))
    model_b = _force_pd(model_b)
    if np.all(np.diag(model_b) > 0):
        r, c = vech_indices(h1_b.shape[0])
        between = float(np.sqrt(np.mean(((_cor(h1_b) - _cor(model_b))[r, c]) ** 2)))
    else:
        between = np.nan
    return within, between


def twolevel_fit_measures(
    logl: float,
    npar: int,
    h1_logl: float,
    ndat: int,
    base_logl: float,
    base_npar: int,
    nobs: int,
    srmr: tuple[float, float],
    fmin: float = np.nan,
) -> dict[str, float]:
    """lavaan's fit measures of a two-level ML fit (names as ``fitMeasures()``)."""
    chisq = max(2.0 * (h1_logl - logl), 0.0)
    df = ndat - npar
    base_chisq = max(2.0 * (h1_logl - base_logl), 0.0)
    base_df = ndat - base_npar
    out = {
        "npar": float(npar),
        "fmin": float(fmin),
        "chisq": chisq,
        "df": float(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline.chisq": base_chisq,
        "baseline.df": float(base_df),
        "baseline.pvalue": float(stats.chi2.sf(base_chisq, base_df)) if base_df > 0 else np.nan,
    }
    out.update(incremental_indices(chisq, df, base_chisq, base_df))
    n = float(nobs)
    out.update(
        {
            "logl": logl,
            "unrestricted.logl": h1_logl,
            "aic": -2 * logl + 2 * npar,
            "bic": -2 * logl + npar * np.log(n),
            "ntotal": n,
            "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        }
    )
    rm = rmsea_indices(chisq, df, n)
    out["rmsea"] = rm["rmsea"]
    out["rmsea.ci.lower"] = rm["rmsea.ci.lower"]
    out["rmsea.ci.upper"] = rm["rmsea.ci.upper"]
    out["rmsea.ci.level"] = 0.90
    out["rmsea.pvalue"] = rm["rmsea.pvalue"]
    out["rmsea.close.h0"] = 0.05
    out["rmsea.notclose.pvalue"] = rm["rmsea.notclose.pvalue"]
    out["rmsea.notclose.h0"] = 0.08
    out["srmr"] = srmr[0] + srmr[1]
    out["srmr_within"] = srmr[0]
    out["srmr_between"] = srmr[1]
    return out
