"""Prediction metrics with bootstrap confidence intervals and paired model comparison.

All metrics are vectorised over leading axes so a bootstrap is one array operation; the
same resampled patients serve every model (a paired bootstrap).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = [
    "r2",
    "spearman",
    "mae",
    "auc",
    "fold_r2",
    "corrected_cv_interval",
    "performance_table",
]


def r2(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Coefficient of determination ``1 - SSE / SST`` along the last axis."""
    sse = ((y - p) ** 2).sum(-1)
    sst = ((y - y.mean(-1, keepdims=True)) ** 2).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1.0), np.nan)


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    den = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, (a * b).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def spearman(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation (average ranks for ties) along the last axis."""
    return _pearson(rankdata(y, axis=-1), rankdata(p, axis=-1))


def mae(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mean absolute error along the last axis."""
    return np.abs(y - p).mean(-1)


def auc(positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Area under the ROC curve (Mann-Whitney, ties count one half) along the last axis;
    ``positive`` is boolean."""
    positive = np.broadcast_to(positive, score.shape)
    ranks = rankdata(score, axis=-1)
    n1 = positive.sum(-1)
    n0 = positive.shape[-1] - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = ((ranks * positive).sum(-1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.where((n1 > 0) & (n0 > 0), out, np.nan)


def _nanmean0(a: np.ndarray) -> np.ndarray:
    """Mean over the first axis ignoring NaN; NaN (no warning) where every value is NaN
    (e.g. the rank correlation of a constant prediction)."""
    count = (~np.isnan(a)).sum(0)
    total = np.nansum(a, 0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _interval(draws: np.ndarray, alpha: float) -> tuple[float, float]:
    ok = draws[~np.isnan(draws)]
    if not len(ok):
        return float("nan"), float("nan")
    lo, hi = np.quantile(ok, [alpha, 1 - alpha])
    return float(lo), float(hi)


def fold_r2(y: np.ndarray, p: np.ndarray, splits) -> np.ndarray:
    """R² within each held-out fold of a repeated cross-validation.

    Parameters
    ----------
    y : ndarray
        Observed target (patients).
    p : ndarray
        Out-of-fold predictions (repeats, patients).
    splits : list of list of ndarray
        Per repeat, the test indices of each fold (as in the cross-validation).

    Returns
    -------
    ndarray
        (repeats * folds,) ``1 - SSE / SST`` of each fold, SST about the fold's own mean.
    """
    out = []
    for r, split in enumerate(splits):
        for test in split:
            out.append(float(r2(y[test], p[r, test])))
    return np.asarray(out)


def corrected_cv_interval(
    values: np.ndarray, centre: float, n_train: int, n_test: int, level: float = 0.95
) -> tuple[float, float, float]:
    """Nadeau and Bengio's (2003) corrected repeated-cross-validation t-interval.

    The per-fold estimates of a repeated cross-validation are correlated (their training
    sets overlap), so their plain standard error is too small; Nadeau and Bengio inflate the
    variance by ``n_test / n_train``: ``se^2 = (1 / J + n_test / n_train) * s^2`` over the
    ``J`` folds of all repeats, with a t reference on ``J - 1`` degrees of freedom. Unlike a
    bootstrap of fixed out-of-fold predictions, this includes the variation due to
    refitting the model on other training patients.

    Parameters
    ----------
    values : ndarray
        Per-fold estimates (e.g. :func:`fold_r2`, or per-fold differences of two models).
    centre : float
        Point estimate the interval is centred on.
    n_train, n_test : int
        Training and test patients per fold.
    level : float

    Returns
    -------
    (lower, upper, p_value)
        The interval and the two-sided p-value of ``centre = 0``.
    """
    from radsem._cv_interval import corrected_ci

    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2 or np.isnan(centre):
        return float("nan"), float("nan"), float("nan")
    if values.var(ddof=1) == 0:
        return float(centre), float(centre), float(0.0 if centre != 0 else 1.0)
    ci = corrected_ci(values, n_test / n_train, alpha=1 - level, centre=centre)
    return float(ci["ci_lower"]), float(ci["ci_upper"]), float(ci["pvalue"])


def _metrics(y: np.ndarray, p: np.ndarray, positive: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric per repeat (leading axis of ``p``), then averaged over repeats."""
    return {
        "r2": _nanmean0(r2(y, p)),
        "spearman": _nanmean0(spearman(y, p)),
        "mae": mae(y, p).mean(0),
        "auc": _nanmean0(auc(positive, p)),
    }


def performance_table(
    y: pd.DataFrame,
    predictions: dict[str, np.ndarray],
    label_targets=(),
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    reference: str = "network",
    splits=None,
) -> pd.DataFrame:
    """Per target and model: R², Spearman, MAE and AUC with percentile bootstrap intervals,
    and the paired difference in R² against ``reference``.

    Parameters
    ----------
    y : DataFrame
        Observed targets (patients x targets).
    predictions : dict
        Model name -> out-of-fold predictions, array (repeats, patients, targets).
    label_targets : sequence of str
        0/1 label columns: AUC against the label. For the other targets AUC is the
        Smedley et al. median split (above the median vs the rest).
    n_boot : int
        Bootstrap resamples of patients (shared by all models).
    level : float
    seed : int
    reference : str
        Model the others are compared with.
    splits : list of list of ndarray, optional
        The cross-validation's test folds per repeat. When given (as :func:`genemap` does),
        the R² interval and the paired R² difference use Nadeau and Bengio's corrected
        repeated-CV t-interval (:func:`corrected_cv_interval`) over the per-fold R², which
        accounts for refitting on other training patients and covers 0 at zero signal;
        without it, every interval is a percentile bootstrap of the fixed out-of-fold
        predictions. Spearman, MAE and AUC always use the bootstrap.

    Returns
    -------
    DataFrame
        ``target, model, n, r2, r2_lower, r2_upper, spearman, ..., auc_upper,
        r2_diff, r2_diff_lower, r2_diff_upper, p_value`` (the last four: model minus
        reference; ``p_value`` two-sided bootstrap, NaN for the reference itself).
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    boot = rng.integers(0, n, size=(n_boot, n))
    alpha = (1 - level) / 2
    rows = []
    if splits is not None:
        n_test = float(np.mean([len(test) for split in splits for test in split]))
        n_train = n - n_test
    for j, target in enumerate(y.columns):
        obs = y[target].to_numpy(float)
        positive = obs > 0.5 if target in label_targets else obs > np.median(obs)
        point, draws, folds_r2 = {}, {}, {}
        for name, pred in predictions.items():
            p = pred[:, :, j]
            point[name] = _metrics(obs[None, :], p, positive[None, :])
            draws[name] = _metrics(obs[boot][None], p[:, boot], positive[boot][None])
            if splits is not None:
                folds_r2[name] = fold_r2(obs, p, splits)
        for name in predictions:
            row = {"target": target, "model": name, "n": n}
            for metric, value in point[name].items():
                if metric == "r2" and splits is not None:
                    lo, hi, _ = corrected_cv_interval(
                        folds_r2[name], float(value), n_train, n_test, level
                    )
                else:
                    lo, hi = _interval(draws[name][metric], alpha)
                row.update(
                    {
                        metric: float(value),
                        f"{metric}_lower": lo,
                        f"{metric}_upper": hi,
                    }
                )
            if reference in predictions and name != reference:
                delta = float(point[name]["r2"] - point[reference]["r2"])
                if splits is not None:
                    lo, hi, p_value = corrected_cv_interval(
                        folds_r2[name] - folds_r2[reference], delta, n_train, n_test, level
                    )
                else:
                    diff = draws[name]["r2"] - draws[reference]["r2"]
                    lo, hi = _interval(diff, alpha)
                    share = min(np.mean(diff <= 0), np.mean(diff >= 0))
                    p_value = float(min(1.0, 2 * (share * n_boot + 1) / (n_boot + 1)))
                row.update(
                    {
                        "r2_diff": delta,
                        "r2_diff_lower": float(lo),
                        "r2_diff_upper": float(hi),
                        "p_value": float(p_value),
                    }
                )
            else:
                row.update(
                    {
                        "r2_diff": np.nan,
                        "r2_diff_lower": np.nan,
                        "r2_diff_upper": np.nan,
                        "p_value": np.nan,
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows)
