"""The permutation null of a cross-validated statistic: the permuted labels, the Monte Carlo
p-value and the interval calibrated on it (used for the AUC of
:func:`radsem.compare.compare_label` and of the label outcome of
:func:`radsem.compare.compare_models`)."""

from __future__ import annotations

import numpy as np

__all__ = ["permutation_interval", "permuted_labels", "permutation_columns"]

#: the columns :func:`permutation_columns` adds to a table of AUCs
PERMUTATION_COLUMNS = ("auc_null", "pvalue_perm", "ci_lower_perm", "ci_upper_perm")


def permuted_labels(y, n_permutations: int, seed: int | None) -> list[np.ndarray]:
    """The permuted copies of a label that are refitted: the successive ``permutation(y)``
    draws of ``numpy.random.default_rng([seed, 14])`` (fresh entropy when ``seed`` is None)."""
    rng = np.random.default_rng(None if seed is None else [int(seed), 14])
    y = np.asarray(y)
    return [rng.permutation(y) for _ in range(int(n_permutations))]


def permutation_columns(estimate: float, null, alpha: float = 0.05) -> dict[str, float]:
    """:func:`permutation_interval` of an AUC as the table columns ``auc_null, pvalue_perm,
    ci_lower_perm, ci_upper_perm, n_permutations``."""
    res = permutation_interval(estimate, null, alpha=alpha)
    return {
        "auc_null": res["null_mean"],
        "pvalue_perm": res["pvalue"],
        "ci_lower_perm": res["ci_lower"],
        "ci_upper_perm": res["ci_upper"],
        "n_permutations": int(res["n_permutations"]),
    }


def permutation_interval(
    estimate: float,
    null,
    alpha: float = 0.05,
    null_value: float = 0.5,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> dict[str, float]:
    """Permutation p-value of ``estimate`` and the interval with the null distribution's spread.

    Parameters
    ----------
    estimate : float
        The statistic on the data (e.g. the mean per-fold cross-validated AUC).
    null : array-like
        The same statistic, computed by the same procedure, on ``B`` permutations of the
        outcome (NaN values are dropped).
    alpha : float
        1 - the confidence level.
    null_value : float
        The value of the statistic when the outcome is unrelated to the features (0.5 for an
        AUC).
    bounds : (float, float)
        The interval is clipped to these.

    Returns
    -------
    dict
        ``ci_lower, ci_upper, pvalue`` (two-sided), ``pvalue_greater`` (one-sided, estimate
        larger than by chance), ``null_mean, null_sd, n_permutations``. The interval is NaN
        when ``B < 2 / alpha - 1`` (too few permutations for the level).

    Notes
    -----
    With the null statistics sorted, a_(1) <= ... <= a_(B), and m = floor(alpha (B + 1) / 2),
    the interval is

        [estimate - (a_(B-m+1) - null_value),  estimate - (a_(m) - null_value)],

    the inversion of the equal-tailed Monte Carlo permutation test under a location shift: it
    excludes ``null_value`` exactly when ``pvalue <= alpha``, where ``pvalue = min(1, 2 min(p+,
    p-))``, p+ = (1 + #{a_b >= estimate}) / (B + 1) and p- = (1 + #{a_b <= estimate}) / (B + 1)
    (the Monte Carlo p-value of Dwass 1957 / Phipson & Smyth 2010, for cross-validated
    accuracy Ojala & Garriga 2010). When the outcome is unrelated to the features, the data's
    statistic and the permuted ones are exchangeable, so the interval covers ``null_value`` with
    probability >= 1 - alpha for any B (= 1 - alpha when alpha (B + 1) / 2 is an integer, e.g.
    B = 39, 79, 199, 399 at alpha = 0.05, and the statistic has no ties). Away from the null the
    interval assumes that the statistic varies about its expectation as it varies about
    ``null_value`` under permutation (a location-shift model); AUC estimates vary less the
    further the AUC is from 0.5 (Hanley & McNeil 1982), so it then errs on the wide side.
    """
    a = np.asarray(null, dtype=float).ravel()
    a = np.sort(a[np.isfinite(a)])
    B = a.size
    est = float(estimate)
    m = int(np.floor(alpha * (B + 1) / 2 + 1e-9))
    out = {
        "ci_lower": np.nan,
        "ci_upper": np.nan,
        "pvalue": np.nan,
        "pvalue_greater": np.nan,
        "null_mean": float(a.mean()) if B else np.nan,
        "null_sd": float(a.std(ddof=1)) if B > 1 else np.nan,
        "n_permutations": B,
    }
    if B == 0 or not np.isfinite(est):
        return out
    p_up = (1 + int(np.sum(a >= est))) / (B + 1)
    p_down = (1 + int(np.sum(a <= est))) / (B + 1)
    out["pvalue"] = min(1.0, 2 * min(p_up, p_down))
    out["pvalue_greater"] = p_up
    if m >= 1:
        out["ci_lower"] = max(est - (a[B - m] - null_value), bounds[0])
        out["ci_upper"] = min(est - (a[m - 1] - null_value), bounds[1])
    return out
