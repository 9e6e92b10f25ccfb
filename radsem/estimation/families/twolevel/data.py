"""Two-level data: within and between parts, cluster sizes and sufficient statistics.

Level-1 variables ``y`` (within-only and variables of both levels) are observed on every
row; between-only variables ``z`` are properties of a cluster (constant within it). The
likelihood only needs (Muthen 1990; McDonald & Goldstein 1989; lavaan's two-level ML):

* the pooled within-cluster covariance ``S_PW = sum_j sum_i (y_ij - ybar_j)(...)' / (N - J)``;
* for every distinct cluster size ``n_s``: the number of clusters of that size and the mean
  and (``/count``) covariance of ``t_j = (ybar_j, z_j)`` over those clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["ClusterData", "cluster_data"]


@dataclass(frozen=True)
class ClusterData:
    """Sufficient statistics of two-level data.

    Attributes
    ----------
    within, between_only : tuple of str
        Level-1 variables (in the order of the level-1 block) and between-only variables;
        ``variables = within + between_only`` is the order of ``t``.
    nobs, nclusters : int
        Rows ``N`` and clusters ``J`` used.
    cluster_size : ndarray (J,)
        Rows per cluster, in the order the clusters first appear.
    cluster_labels : ndarray (J,)
    s_pw : ndarray (p1, p1)
        Pooled within-cluster covariance (divided by ``N - J``).
    sizes, counts : ndarray (S,)
        Distinct cluster sizes and how many clusters have each.
    means, covs : ndarray (S, pt), (S, pt, pt)
        Per size: mean and covariance (divided by the count) of ``t_j``.
    y1 : ndarray (N, p1)
        Level-1 data (rows in data order).
    cluster_index : ndarray (N,)
        Cluster of every row (position in ``cluster_size``).
    t2 : ndarray (J, pt)
        Cluster means of the level-1 variables and the between-only values.
    """

    within: tuple[str, ...]
    between_only: tuple[str, ...]
    nobs: int
    nclusters: int
    cluster_size: np.ndarray
    cluster_labels: np.ndarray
    s_pw: np.ndarray
    sizes: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    y1: np.ndarray
    t2: np.ndarray
    cluster_index: np.ndarray

    @property
    def variables(self) -> tuple[str, ...]:
        """All variables in the order of ``t``: level-1 first, then between-only."""
        return self.within + self.between_only

    @property
    def p1(self) -> int:
        """Number of level-1 variables."""
        return len(self.within)


def cluster_data(
    data: pd.DataFrame, within: tuple[str, ...], between_only: tuple[str, ...], cluster: str
) -> ClusterData:
    """Check two-level data and compute its sufficient statistics.

    Parameters
    ----------
    data : pandas.DataFrame
    within : tuple of str
        Variables of the level-1 block.
    between_only : tuple of str
        Variables only in the level-2 block (must be constant within each cluster).
    cluster : str
        Column identifying the clusters.

    Returns
    -------
    ClusterData

    Raises
    ------
    DataError
        Missing cluster or model column, non-numeric column, missing values (only
        listwise-complete data are supported), fewer than two clusters, clusters of one row
        only, a between-only variable that varies within a cluster (naming the column and
        the cluster).
    """
    if not isinstance(cluster, str) or cluster not in data.columns:
        raise DataError(f"cluster column {cluster!r} not found in the data")
    variables = tuple(within) + tuple(between_only)
    absent = [v for v in variables if v not in data.columns]
    if absent:
        raise DataError(f"variable(s) not found in the data: {', '.join(absent)}")
    for v in variables:
        col = data[v]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise DataError(f"column {v!r} is not numeric (dtype {col.dtype})")
    if data[cluster].isna().any():
        raise DataError(f"cluster column {cluster!r} has missing values")
    values = data[list(variables)].to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = [variables[k] for k in np.flatnonzero(bad.any(axis=0))]
        raise DataError(
            f"missing values in column(s) {', '.join(cols)}: two-level models need complete "
            "data (missing='ml' is not supported with cluster=)"
        )
    codes, labels = pd.factorize(data[cluster], sort=False)
    nclus = len(labels)
    n = values.shape[0]
    if nclus < 2:
        raise DataError(f"cluster column {cluster!r} has {nclus} cluster(s); at least 2 needed")
    size = np.bincount(codes, minlength=nclus)
    if n == nclus:
        raise DataError(
            f"every cluster in column {cluster!r} has a single row: there is no within-cluster "
            "variation to separate the two levels"
        )
    p1 = len(within)
    sums = np.zeros((nclus, values.shape[1]))
    np.add.at(sums, codes, values)
    t2 = sums / size[:, None]
    if between_only:
        dev = values[:, p1:] - t2[codes, p1:]
        spread = np.abs(dev).max(axis=0)
        scale = np.maximum(np.abs(values[:, p1:]).max(axis=0), 1.0)
        for k, v in enumerate(between_only):
            if spread[k] > 1e-8 * scale[k]:
                row = int(np.argmax(np.abs(dev[:, k])))
                raise DataError(
                    f"column {v!r} is a between-level (level 2) variable but varies within "
                    f"cluster {labels[codes[row]]!r} of column {cluster!r}; level-2-only "
                    "variables must be constant within each cluster"
                )
    y1 = values[:, :p1]
    res = y1 - t2[codes, :p1]
    s_pw = res.T @ res / (n - nclus)
    sizes, inverse = np.unique(size, return_inverse=True)
    counts = np.bincount(inverse)
    means, covs = [], []
    for s in range(len(sizes)):
        block = t2[inverse == s]
        m = block.mean(axis=0)
        d = block - m
        means.append(m)
        covs.append(d.T @ d / block.shape[0])
    return ClusterData(
        tuple(within),
        tuple(between_only),
        int(n),
        int(nclus),
        size,
        np.asarray(labels),
        s_pw,
        sizes,
        counts,
        np.array(means),
        np.array(covs),
        y1,
        t2,
        codes,
    )
