"""Choosing the number of clusters with several criteria, reporting where they disagree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

from radsem.cluster._checks import numeric_matrix
from radsem.cluster.kmedoids import KMedoids, dissimilarity
from radsem.errors import DataError

__all__ = ["choose_k", "ChooseKResult"]


@dataclass(frozen=True)
class ChooseKResult:
    """Criteria per K and the K each criterion picks.

    Attributes
    ----------
    table : pandas.DataFrame
        Index k; silhouette, calinski_harabasz, davies_bouldin, gap, gap_se, stability
        (mean adjusted Rand index over subsamples), stability_sd.
    picks : pandas.Series
        The K chosen by each criterion.
    agree : bool
        Whether all criteria pick the same K (when False, say so in the report).
    """

    table: pd.DataFrame
    picks: pd.Series
    agree: bool

    @property
    def message(self) -> str:
        if self.agree:
            return f"all criteria choose K = {self.picks.iloc[0]}"
        return "criteria disagree: " + ", ".join(f"{c} -> K = {k}" for c, k in self.picks.items())


def _within_dispersion(X: np.ndarray, labels: np.ndarray) -> float:
    """W_k = sum_r D_r / (2 n_r) with squared Euclidean D_r (Tibshirani et al. 2001)."""
    w = 0.0
    for g in np.unique(labels):
        xs = X[labels == g]
        w += ((xs - xs.mean(axis=0)) ** 2).sum()
    return w


def _gap(X, ks, make, n_refs, rng):
    """Gap statistic with uniform references over the box of the principal-component scores."""
    xc = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    scores = xc @ vt.T
    lo, hi = scores.min(axis=0), scores.max(axis=0)
    logw = np.array([np.log(_within_dispersion(X, make(k).fit_predict(X))) for k in ks])
    ref = np.empty((n_refs, len(ks)))
    for b in range(n_refs):
        z = rng.uniform(lo, hi, size=scores.shape) @ vt
        for j, k in enumerate(ks):
            ref[b, j] = np.log(_within_dispersion(z, make(k).fit_predict(z)))
    gap = ref.mean(axis=0) - logw
    se = ref.std(axis=0, ddof=1) * np.sqrt(1 + 1 / n_refs) if n_refs > 1 else np.zeros(len(ks))
    return gap, se


def _stability(X, k, make, n_subsamples, fraction, rng):
    full = make(k).fit_predict(X)
    n = len(X)
    scores = []
    for _ in range(n_subsamples):
        idx = np.sort(rng.choice(n, size=max(k + 1, int(round(fraction * n))), replace=False))
        scores.append(adjusted_rand_score(full[idx], make(k).fit_predict(X[idx])))
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0


def _stability_pick(stab: pd.Series, tol: float = 0.01) -> int:
    """Largest K whose stability is within ``tol`` of the best (merging true clusters is
    stable too, so exact ties favour the finer partition)."""
    return int(max(k for k, v in stab.items() if v >= stab.max() - tol))


def choose_k(
    X,
    ks=range(2, 9),
    *,
    metric: str = "sqeuclidean",
    method: str = "pam",
    n_refs: int = 20,
    n_subsamples: int = 20,
    subsample_fraction: float = 0.8,
    random_state: int | None = 0,
    progress: bool = False,
) -> ChooseKResult:
    """Compare K by silhouette, Calinski-Harabasz, Davies-Bouldin, gap and resampling stability.

    Parameters
    ----------
    X : array-like
        Features (z-scored), rows = patients.
    ks : iterable of int
        Candidate numbers of clusters (each >= 2).
    metric, method :
        Passed to :class:`KMedoids` (the silhouette uses the same dissimilarity).
    n_refs : int
        Reference data sets of the gap statistic.
    n_subsamples, subsample_fraction :
        Stability: mean adjusted Rand index between the full-data clustering and the clustering
        of random subsamples (restricted to the subsampled rows).
    random_state : int
    progress : bool
        Show a progress bar over the candidate K (stderr, on a terminal).

    Returns
    -------
    ChooseKResult

    Notes
    -----
    Picks: silhouette max, Calinski-Harabasz max, Davies-Bouldin min, gap by Tibshirani et
    al. (2001): the smallest k with gap(k) >= gap(k+1) - s(k+1) (s = sd * sqrt(1 + 1/B);
    the largest k when none qualifies), stability: the largest k whose mean adjusted Rand
    index is within 0.01 of the best (merging true clusters is also stable, so the coarser
    partition does not win a tie). Reference data for the gap are uniform
    over the bounding box of the principal-component scores (Tibshirani's second proposal).
    Halle et al. (2024) found these indices inconsistent on radiomic data; the result makes
    such disagreement explicit rather than choosing silently.
    """
    X = numeric_matrix(X)
    try:
        ks = sorted({int(k) for k in ks})
    except (TypeError, ValueError):
        raise DataError(f"ks must be integers, got {ks!r}") from None
    if not ks or ks[0] < 2 or ks[-1] >= len(X):
        raise DataError(f"ks must lie between 2 and n - 1 = {len(X) - 1}")
    n_distinct = len(np.unique(X, axis=0))
    if n_distinct < ks[-1]:
        raise DataError(
            f"X has only {n_distinct} distinct row(s); it cannot be split into {ks[-1]} clusters"
        )
    for name, value in (("n_refs", n_refs), ("n_subsamples", n_subsamples)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{name} must be a positive integer, got {value!r}")
    if not 0 < subsample_fraction <= 1:
        raise DataError(f"subsample_fraction must be in (0, 1], got {subsample_fraction!r}")
    rng = np.random.default_rng(random_state)

    def make(k):
        return KMedoids(
            k,
            metric=metric,
            method=method,
            random_state=int(rng.integers(2**31)) if method != "pam" else None,
        )

    from radsem._progress import progress_bar

    diss = dissimilarity(X, metric=metric)
    rows = []
    bar = progress_bar(total=len(ks) + 1, enabled=progress, desc="choosing K")
    for k in ks:
        lab = make(k).fit_predict(X)
        stab, stab_sd = _stability(X, k, make, n_subsamples, subsample_fraction, rng)
        rows.append(
            {
                "k": k,
                "silhouette": silhouette_score(diss, lab, metric="precomputed"),
                "calinski_harabasz": calinski_harabasz_score(X, lab),
                "davies_bouldin": davies_bouldin_score(X, lab),
                "stability": stab,
                "stability_sd": stab_sd,
            }
        )
        bar.update()
    table = pd.DataFrame(rows).set_index("k")
    bar.set_postfix(step="gap statistic")
    gap, se = _gap(X, ks, make, n_refs, rng)
    bar.update()
    bar.close()
    table["gap"], table["gap_se"] = gap, se
    gap_pick = ks[-1]
    for j in range(len(ks) - 1):
        if gap[j] >= gap[j + 1] - se[j + 1]:
            gap_pick = ks[j]
            break
    picks = pd.Series(
        {
            "silhouette": int(table["silhouette"].idxmax()),
            "calinski_harabasz": int(table["calinski_harabasz"].idxmax()),
            "davies_bouldin": int(table["davies_bouldin"].idxmin()),
            "gap": int(gap_pick),
            "stability": _stability_pick(table["stability"]),
        },
        name="k",
    )
    return ChooseKResult(table, picks, bool(picks.nunique() == 1))
