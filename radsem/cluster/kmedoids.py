"""k-medoids clustering (PAM / FasterPAM) in the scikit-learn style, on the ``kmedoids`` package."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from radsem.cluster._checks import numeric_matrix
from radsem.errors import DataError

__all__ = ["KMedoids", "dissimilarity"]

_METHODS = ("pam", "fasterpam")
_METRICS = (
    "braycurtis",
    "canberra",
    "chebyshev",
    "cityblock",
    "correlation",
    "cosine",
    "dice",
    "euclidean",
    "hamming",
    "jaccard",
    "jensenshannon",
    "mahalanobis",
    "minkowski",
    "rogerstanimoto",
    "russellrao",
    "seuclidean",
    "sokalsneath",
    "sqeuclidean",
    "yule",
)  # scipy's cdist metrics


def dissimilarity(X: np.ndarray, Y: np.ndarray | None = None, metric: str = "sqeuclidean"):
    """Pairwise dissimilarities with scipy's ``cdist`` names ("sqeuclidean", "euclidean", ...)."""
    if metric not in _METRICS:
        raise DataError(
            f"metric must be a scipy cdist metric ({', '.join(_METRICS)}), got {metric!r}"
        )
    X = numeric_matrix(X)
    Y = X if Y is None else numeric_matrix(Y, "Y")
    if Y.shape[1] != X.shape[1]:
        raise DataError(
            f"X and Y need the same features; got {X.shape[1]} and {Y.shape[1]} columns"
        )
    return cdist(X, Y, metric=metric)


class KMedoids(ClusterMixin, BaseEstimator):
    """Partitioning around medoids.

    Parameters
    ----------
    n_clusters : int
    metric : str
        A scipy ``cdist`` metric on the rows of X ("sqeuclidean" as Halle et al. 2024), or
        "precomputed" when ``fit`` receives a square dissimilarity matrix.
    method : {"pam", "fasterpam"}
        "pam": BUILD initialisation + SWAP, deterministic, the algorithm of R ``cluster::pam``.
        "fasterpam": Schubert & Rousseeuw's FasterPAM from random starts (needs
        ``random_state`` for reproducibility; faster on large n).
    max_iter : int
    random_state : int, optional

    Attributes
    ----------
    labels_, medoid_indices_, cluster_centers_, inertia_ : fitted results; ``inertia_`` is the
        sum of dissimilarities of every row to its medoid (pam's objective times n).

    Notes
    -----
    Checked against R ``cluster::pam(d, k, diss = TRUE)`` on the same dissimilarities (identical
    medoids; tests/cluster). pam's objective on squared Euclidean distances needs the
    dissimilarity matrix itself, which this class builds.
    """

    def __init__(
        self,
        n_clusters: int = 3,
        metric: str = "sqeuclidean",
        method: str = "pam",
        max_iter: int = 300,
        random_state: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.metric = metric
        self.method = method
        self.max_iter = max_iter
        self.random_state = random_state

    def _validate(self, X) -> np.ndarray:
        if self.method not in _METHODS:
            raise DataError(f"method must be one of {', '.join(_METHODS)}, got {self.method!r}")
        if self.metric != "precomputed" and self.metric not in _METRICS:
            raise DataError(
                f"metric must be 'precomputed' or a scipy cdist metric "
                f"({', '.join(_METRICS)}), got {self.metric!r}"
            )
        X = numeric_matrix(X)
        if (
            not isinstance(self.n_clusters, (int, np.integer))
            or not 2 <= self.n_clusters <= X.shape[0] - 1
        ):
            raise DataError(
                f"n_clusters must be an integer between 2 and n - 1 = "
                f"{X.shape[0] - 1}, got {self.n_clusters!r}"
            )
        if self.metric == "precomputed" and (X.shape[0] != X.shape[1] or not np.allclose(X, X.T)):
            raise DataError("a precomputed dissimilarity matrix must be square and symmetric")
        if self.metric == "precomputed" and np.any(X < 0):
            raise DataError("a precomputed dissimilarity matrix cannot have negative entries")
        return X

    def fit(self, X, y=None) -> KMedoids:
        """Cluster the rows of X (or a precomputed dissimilarity matrix)."""
        import kmedoids

        X = self._validate(X)
        diss = X if self.metric == "precomputed" else dissimilarity(X, metric=self.metric)
        if self.method == "pam":
            res = kmedoids.pam(diss, int(self.n_clusters), max_iter=self.max_iter, init="build")
        else:
            res = kmedoids.fasterpam(
                diss,
                int(self.n_clusters),
                max_iter=self.max_iter,
                init="random",
                random_state=self.random_state,
                n_cpu=1,
            )
        self.medoid_indices_ = np.asarray(res.medoids, dtype=int)
        self.labels_ = np.asarray(res.labels, dtype=int)
        self.inertia_ = float(diss[np.arange(len(diss)), self.medoid_indices_[self.labels_]].sum())
        self.cluster_centers_ = (
            None if self.metric == "precomputed" else X[self.medoid_indices_].copy()
        )
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray | pd.Series:
        """Index of the nearest medoid for new rows (dissimilarities to medoids if precomputed).

        A DataFrame gives a Series under its index labels; an array gives an array."""
        index = X.index if isinstance(X, pd.DataFrame) else None
        labels = self._predict(X)
        return labels if index is None else pd.Series(labels, index=index, name="cluster")

    def _predict(self, X) -> np.ndarray:
        check_is_fitted(self, "medoid_indices_")
        X = numeric_matrix(X)
        if self.metric == "precomputed":
            if X.shape[1] != self.n_features_in_:
                raise DataError("predict needs dissimilarities to all fitted rows")
            return np.argmin(X[:, self.medoid_indices_], axis=1)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise DataError(f"X must have {self.n_features_in_} columns")
        return np.argmin(dissimilarity(X, self.cluster_centers_, self.metric), axis=1)

    def fit_predict(self, X, y=None) -> np.ndarray | pd.Series:
        """Fit and return ``labels_`` (a Series under the index labels of a DataFrame)."""
        labels = self.fit(X).labels_
        if isinstance(X, pd.DataFrame):
            return pd.Series(labels, index=X.index, name="cluster")
        return labels
