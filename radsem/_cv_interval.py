"""The corrected resampled-t interval of repeated cross-validation (Nadeau & Bengio 2003).

Shared by the comparison of outcome models (:mod:`radsem.compare`) and the gene-to-feature
maps (:mod:`radsem.genemap`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["corrected_ci"]


def corrected_ci(
    values, test_fraction: float, alpha: float = 0.05, centre: float | None = None
) -> dict[str, float]:
    """Mean and corrected resampled-t CI of per-fold values (Nadeau & Bengio 2003).

    Parameters
    ----------
    values : array-like
        One value per fold (over all repeats); NaN values are ignored.
    test_fraction : float
        n_test / n_train of one fold (1 / (K - 1) for K-fold).
    alpha : float
        1 - the confidence level.
    centre : float, optional
        Point estimate to centre the interval and the test on (default: the mean of the
        fold values; e.g. a pooled out-of-fold estimate).

    Notes
    -----
    Folds share training patients, so the naive variance s^2 / J of the mean of J fold values
    is too small. The corrected variance is (1 / J + n_test / n_train) s^2 and the interval
    mean +- t_{J-1, 1-alpha/2} sqrt(corrected variance); the paired test of two models uses
    the same statistic on per-fold differences (Bouckaert & Frank 2004's corrected repeated
    k-fold t-test).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    J = v.size
    if J == 0:
        return {
            "mean": np.nan,
            "sd": np.nan,
            "se": np.nan,
            "ci_lower": np.nan,
            "ci_upper": np.nan,
            "t": np.nan,
            "pvalue": np.nan,
            "n_folds": 0,
        }
    m = float(v.mean()) if centre is None else float(centre)
    sd = float(v.std(ddof=1)) if J > 1 else np.nan
    se = float(np.sqrt((1.0 / J + test_fraction) * sd**2)) if J > 1 else np.nan
    q = stats.t.ppf(1 - alpha / 2, J - 1) if J > 1 else np.nan
    t = m / se if J > 1 and se > 0 else np.nan
    p = float(2 * stats.t.sf(abs(t), J - 1)) if np.isfinite(t) else np.nan
    return {
        "mean": m,
        "sd": sd,
        "se": se,
        "ci_lower": m - q * se,
        "ci_upper": m + q * se,
        "t": t,
        "pvalue": p,
        "n_folds": J,
    }
