"""The Halle et al. (Sci Rep 2024) cluster post-processing: renumbering and feature ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.cluster._checks import align_to, label_vector, numeric_matrix
from radsem.errors import DataError

__all__ = ["renumber_by_event_rate", "feature_ranking"]


def renumber_by_event_rate(labels, event, time=None) -> np.ndarray:
    """Renumber clusters 1..K by increasing event rate (cluster 1 = lowest risk).

    Parameters
    ----------
    labels : array-like
        Cluster labels (any hashable values).
    event : array-like
        0/1 event indicator (e.g. death from disease).
    time : array-like, optional
        Follow-up time; when given the rate is events per person-time, else the proportion of
        patients with an event. Ties keep the order of the original labels.

    Returns
    -------
    numpy.ndarray of int, values 1..K; a Series under the labels' index when ``labels`` is a
    Series (``event`` and ``time`` Series are then aligned on that index).
    """
    index = labels.index if isinstance(labels, pd.Series) else None
    if index is not None:
        event = align_to(event, index, "event")
        time = None if time is None else align_to(time, index, "time")
    lab = pd.Series(np.asarray(labels))
    ev = pd.to_numeric(pd.Series(np.asarray(event)), errors="coerce")
    if len(lab) != len(ev):
        raise DataError("labels and event must have the same length")
    lab = pd.Series(label_vector(lab.to_numpy(), len(ev)))
    if ev.isna().any() or not ev.isin([0, 1]).all():
        raise DataError("event must be coded 0/1 without missing values")
    if time is None:
        rate = ev.groupby(lab).mean()
    else:
        t = pd.Series(np.asarray(time, float))
        if len(t) != len(lab) or t.isna().any() or (t < 0).any():
            raise DataError("time must be non-negative, complete and as long as labels")
        rate = ev.groupby(lab).sum() / t.groupby(lab).sum()
    order = sorted(rate.index, key=lambda g: (rate[g], list(rate.index).index(g)))
    mapping = {g: i + 1 for i, g in enumerate(order)}
    out = lab.map(mapping).to_numpy(int)
    return out if index is None else pd.Series(out, index=index, name="cluster")


def feature_ranking(X: pd.DataFrame, labels, high: float = 1.85, mid: float = 1.50):
    """Feature ranking FR_k = sqrt(sum_{i<j} (mu_k(C_i) - mu_k(C_j))^2), sorted high to low.

    Parameters
    ----------
    X : pandas.DataFrame
        z-scored features (rows = patients). FR compares cluster means on the feature scale,
        so it is meaningful only for standardised features; a DataWarning-free check is left to
        the caller, but columns are not rescaled here.
    labels : array-like
        Cluster labels.
    high, mid : float
        Band limits highlighted by Halle et al.: FR > 1.85 and 1.50 < FR <= 1.85.

    Returns
    -------
    pandas.DataFrame
        Index feature; columns ``fr``, ``band`` ("high", "mid", "low") and the cluster means
        ``mean_<label>`` (the data of the FR plot).
    """
    columns = pd.Index(
        X.columns
        if isinstance(X, pd.DataFrame)
        else range(np.shape(X)[1] if np.ndim(X) == 2 else 0),
        name="feature",
    )
    values = numeric_matrix(X)
    if isinstance(X, pd.DataFrame):
        labels = align_to(labels, X.index)
    lab = label_vector(labels, len(values))
    means = pd.DataFrame(values, columns=columns).groupby(lab).mean()
    if len(means) < 2:
        raise DataError("feature ranking needs at least two clusters")
    m = means.to_numpy()
    diff = m[:, None, :] - m[None, :, :]
    fr = np.sqrt((diff**2).sum(axis=(0, 1)) / 2.0)  # each unordered pair counted twice
    out = pd.DataFrame({"fr": fr}, index=columns.copy())
    out["band"] = np.where(fr > high, "high", np.where(fr > mid, "mid", "low"))
    for g, row in means.iterrows():
        out[f"mean_{g}"] = row.to_numpy()
    out.index.name = "feature"
    return out.sort_values("fr", ascending=False, kind="stable")
