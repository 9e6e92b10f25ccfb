"""Confidence intervals for a cross-validated AUC.

The pooled out-of-fold AUC ranks together patients scored by different fold models; its
DeLong interval treats those scores as one fixed classifier and is too narrow when the fold
models differ (under the null it also sits below 0.5: the pooling bias of cross-validated AUCs,
Airola et al. 2011). Within one test fold the scores come from one model fitted without those
patients, so the fold's AUC has its own DeLong variance, and the test folds of one repeat are
disjoint. The cross-validated AUC, the mean of the per-fold AUCs, therefore has the variance
sum_v var(AUC_v) / V^2 (the influence-curve interval of LeDell, Petersen & van der Laan 2015,
Electron J Stat 9:1583, written with the DeLong variance of each fold's AUC).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["cv_auc_interval"]


def cv_auc_interval(aucs, variances, repeats, alpha: float = 0.05) -> dict[str, float]:
    """Mean per-fold AUC and its influence-curve (LeDell et al. 2015) interval.

    Parameters
    ----------
    aucs, variances : array-like
        Per test fold: the AUC of the fold model on its test patients and its DeLong variance.
    repeats : array-like
        The repeat of each fold (folds of one repeat are disjoint).
    alpha : float

    Returns
    -------
    dict
        ``auc, se, ci_lower, ci_upper`` (NaN when no fold has a finite AUC).

    Notes
    -----
    Per repeat r: A_r = mean_v AUC_v and Var(A_r) = sum_v var_v / V^2. Over repeats the
    estimate is the mean of the A_r and its variance the mean of the Var(A_r): the repeats
    reuse the same patients, so averaging them reduces the variance by an unknown amount, and
    one repeat's variance is the conservative choice. Wald interval on the AUC scale, clipped to
    [0, 1].
    """
    a = np.asarray(aucs, dtype=float)
    v = np.asarray(variances, dtype=float)
    r = np.asarray(repeats)
    ok = np.isfinite(a) & np.isfinite(v)
    if not ok.any():
        return {"auc": np.nan, "se": np.nan, "ci_lower": np.nan, "ci_upper": np.nan}
    means, var = [], []
    for rep in np.unique(r[ok]):
        sel = ok & (r == rep)
        means.append(a[sel].mean())
        var.append(v[sel].sum() / sel.sum() ** 2)
    est, se = float(np.mean(means)), float(np.sqrt(np.mean(var)))
    q = stats.norm.ppf(1 - alpha / 2)
    return {
        "auc": est,
        "se": se,
        "ci_lower": max(est - q * se, 0.0),
        "ci_upper": min(est + q * se, 1.0),
    }
