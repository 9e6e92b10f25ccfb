"""Paired comparison of two risk scores' Harrell's C on the same patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from radsem.compare.metrics import Outcome, _as_outcome, _risk

__all__ = ["paired_concordance"]


def _influence(time: np.ndarray, event: np.ndarray, risk: np.ndarray, chunk: int = 256):
    """Per-subject concordant, discordant and risk-tied comparable-pair counts."""
    n = time.size
    infl = np.zeros((n, 3))
    ev = np.flatnonzero(event)
    for lo in range(0, ev.size, chunk):
        rows = ev[lo : lo + chunk]
        ti, xi = time[rows][:, None], risk[rows][:, None]
        # j outlives i: later time, or a censored time equal to i's event time
        later = (time[None, :] > ti) | ((time[None, :] == ti) & ~event[None, :])
        for col, m in enumerate(
            (
                later & (xi > risk[None, :]),
                later & (xi < risk[None, :]),
                later & (xi == risk[None, :]),
            )
        ):
            infl[rows, col] += m.sum(axis=1)
            infl[:, col] += m.sum(axis=0)
    return infl


def _c_and_dfbeta(time, event, risk):
    infl = _influence(time, event, risk)
    conc, disc, tx = infl.sum(axis=0) / 2.0
    npair = conc + disc + tx
    somer = (conc - disc) / npair
    dfbeta = (infl[:, 0] - infl[:, 1]) / npair - somer / npair * infl.sum(axis=1)
    return (somer + 1) / 2, dfbeta


def paired_concordance(outcome, risk_a, risk_b, alpha: float = 0.05) -> pd.Series:
    """Difference of Harrell's C between two risk scores on the same patients, with its SE.

    Parameters
    ----------
    outcome : Outcome or (time, event)
    risk_a, risk_b : array-like
        Two risk scores (higher = worse) for the same patients, e.g. out-of-sample predictions
        of two models on one test set.
    alpha : float

    Returns
    -------
    pandas.Series
        ``c_a, c_b, se_a, se_b, cov, diff, se, z, pvalue, ci_lower, ci_upper``.

    Notes
    -----
    Both C's are functions of the same pairs, so their difference is tested with the joint
    infinitesimal-jackknife covariance of R ``survival::concordance(fit1, fit2)``:
    var(C) = sum_i dfbeta_i^2 / 4 and cov(C_a, C_b) = sum_i dfbeta_ai dfbeta_bi / 4 with the
    dfbeta of :func:`radsem.survival.concordance_index`; z = (C_a - C_b) / sqrt(var_a + var_b -
    2 cov) (the approach of compareC, Kang et al. 2015, with the jackknife in place of its
    U-statistic variance). Checked against R's ``concordance(fit1, fit2)`` in tests/compare.
    """
    y: Outcome = _as_outcome(outcome)
    a, b = _risk(risk_a, len(y)), _risk(risk_b, len(y))
    ca, fa = _c_and_dfbeta(y.time, y.event, a)
    cb, fb = _c_and_dfbeta(y.time, y.event, b)
    va, vb, cab = fa @ fa / 4, fb @ fb / 4, fa @ fb / 4
    diff, se = ca - cb, float(np.sqrt(max(va + vb - 2 * cab, 0.0)))
    z = diff / se if se > 0 else np.nan
    q = stats.norm.ppf(1 - alpha / 2)
    return pd.Series(
        {
            "c_a": ca,
            "c_b": cb,
            "se_a": np.sqrt(va),
            "se_b": np.sqrt(vb),
            "cov": cab,
            "diff": diff,
            "se": se,
            "z": z,
            "pvalue": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
            "ci_lower": diff - q * se,
            "ci_upper": diff + q * se,
        }
    )
