"""Model families for :func:`radsem.compare.compare_models`: scikit-survival estimators.

A model family is a scikit-learn estimator (:class:`radsem.compare.SurvivalEstimator`):
``fit(X, y)`` with ``X`` a data frame and ``y`` scikit-survival's structured outcome (event
bool, time float; or ``fit(X, "time", "event")`` naming the columns of ``X``), ``predict(X)``
the risk score (higher = worse prognosis), ``score(X, y)`` Harrell's C, plus
``predict_risk(X) -> Series`` and ``predict_survival(X, times) -> DataFrame`` indexed like
``X``. Everything data dependent (scaling, harmonisation, feature selection, clustering, factor
scores) happens inside ``fit``, which the harness calls on a training fold only, on a
``sklearn.clone`` of the family. Subclass :class:`CoxFamily` and write ``_design`` (and
``_fit_design`` for steps learned from data) to add a family that ends in a Cox model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from radsem.compare.estimator import SurvivalEstimator
from radsem.errors import DataError, ModelSpecificationError
from radsem.survival import cox
from radsem.survival.target import structured_outcome

__all__ = [
    "SurvivalModel",
    "CoxFamily",
    "ClinicalCox",
    "PenalisedCox",
    "ClusterCox",
    "ScoreCox",
    "advanced_stage",
]


#: the base of every model family (kept under its older name)
SurvivalModel = SurvivalEstimator


def _need(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"{what} needs column(s) {', '.join(map(repr, missing))} in the data")


def advanced_stage(frame: pd.DataFrame, column: str = "figo_stage") -> pd.Series:
    """1 for FIGO stage III/IV, 0 for I/II (a fixed recoding, nothing learned from data)."""
    _need(frame, [column], "advanced_stage")
    stage = frame[column].astype(str).str.upper().str.extract(r"^(IV|III|II|I)", expand=False)
    if stage.isna().any():
        bad = frame.loc[stage.isna(), column].iloc[0]
        raise DataError(f"unrecognised FIGO stage {bad!r} in column {column!r}")
    return stage.isin(["III", "IV"]).astype(int).rename("advanced")


class CoxFamily(SurvivalEstimator):
    """Base of families that end in a Cox model on a design built from the frame.

    Subclasses implement ``_fit_design(train, time, event)`` (learn preprocessing from the
    training frame and its outcome arrays, ``time`` float and ``event`` bool; optional) and
    ``_design(frame) -> DataFrame`` (the covariates of the Cox model for any rows).
    """

    penalizer: float = 0.0

    def _fit_design(self, train: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> None:
        """Learn preprocessing from the training fold (default: nothing)."""

    def _design(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def _fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> None:
        self._fit_design(X, time, event)
        D = self._design(X)
        frame = D.assign(**{"__time": time, "__event": event.astype(int)})
        self.cox_ = cox(frame, "__time", "__event", list(D.columns), penalizer=self.penalizer)

    def predict_risk(self, test: pd.DataFrame) -> pd.Series:
        """The Cox linear predictor (centred at the training means)."""
        return self.cox_.predict_lp(self._design(test)).rename("risk")

    def predict_survival(self, test: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
        """S(t | x) from the training baseline hazard (rows: patients, columns: times)."""
        return self.cox_.predict_survival(self._design(test), times)


class ClinicalCox(CoxFamily):
    """Cox model on clinical covariates (default: advanced FIGO stage III/IV and age).

    Parameters
    ----------
    covariates : sequence of str
        Columns; ``"advanced"`` is derived from ``figo_stage`` by :func:`advanced_stage` when
        the data have no such column.
    """

    def __init__(self, covariates: Sequence[str] = ("advanced", "age")):
        self.covariates = covariates

    def _design(self, frame: pd.DataFrame) -> pd.DataFrame:
        cols = list(self.covariates)
        if "advanced" in cols and "advanced" not in frame.columns:
            frame = frame.assign(advanced=advanced_stage(frame).to_numpy())
        _need(frame, cols, "ClinicalCox")
        return frame[cols]


class ScoreCox(CoxFamily):
    """Cox model on biomarker scores: precomputed columns, or a scorer fitted in the fold.

    Parameters
    ----------
    columns : sequence of str, optional
        Precomputed score columns (and any covariates, e.g. ``"age"``) to enter the model.
    scorer : callable, optional
        ``scorer(train) -> transform`` where ``transform(frame) -> DataFrame`` returns the scores
        (e.g. SEM factor scores from a model fitted on ``train``). Called on the training fold
        only; its columns are added to ``columns``.
    clinical : sequence of str
        Clinical covariates added to the scores (``"advanced"`` as in :class:`ClinicalCox`).
    penalizer : float
        Ridge penalty of the Cox fit.
    """

    def __init__(
        self,
        columns: Sequence[str] = (),
        scorer: Callable | None = None,
        clinical: Sequence[str] = (),
        penalizer: float = 0.0,
    ):
        self.columns = columns
        self.scorer = scorer
        self.clinical = clinical
        self.penalizer = penalizer

    def _fit_design(self, train, time, event):
        if not self.columns and self.scorer is None:
            raise ModelSpecificationError("ScoreCox needs columns or a scorer")
        self.transform_ = None if self.scorer is None else self.scorer(train)

    def _design(self, frame):
        parts = []
        if self.columns:
            _need(frame, list(self.columns), "ScoreCox")
            parts.append(frame[list(self.columns)])
        if self.transform_ is not None:
            scores = pd.DataFrame(self.transform_(frame))
            scores.index = frame.index
            parts.append(scores)
        if self.clinical:
            parts.append(ClinicalCox(self.clinical)._design(frame))
        return pd.concat(parts, axis=1)


class _Scaler:
    """Training-fold mean/SD standardisation (SD with ddof=1; constant columns are dropped)."""

    def fit(self, X: pd.DataFrame) -> _Scaler:
        sd = X.std(ddof=1)
        self.keep_ = list(sd.index[(sd > 0) & sd.notna()])
        self.mean_, self.sd_ = X[self.keep_].mean(), sd[self.keep_]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return (X[self.keep_] - self.mean_) / self.sd_


class PenalisedCox(CoxFamily):
    """Penalised (ridge or elastic-net) Cox model on many features, preprocessed in the fold.

    Parameters
    ----------
    features : sequence of str
        Feature columns.
    penalizer : float
        Overall penalty strength (ridge: loglik - penalizer / 2 * ||b||^2 on standardised
        features; elastic net: scikit-survival's ``alpha``).
    l1_ratio : float
        0 = ridge (radsem's Cox, R ``ridge()`` numbers), > 0 = elastic net (scikit-survival
        ``CoxnetSurvivalAnalysis`` with a Breslow baseline).
    harmonizer : transformer, optional
        A scikit-learn transformer (e.g. :class:`radsem.radiomics.ProtocolHarmonizer` with its
        protocol table) cloned and fitted on the training fold's features.
    select : int, optional
        Keep the ``select`` features with the largest univariable Cox score statistic in the
        training fold (after scaling).
    """

    def __init__(
        self,
        features: Sequence[str],
        penalizer: float = 1.0,
        l1_ratio: float = 0.0,
        harmonizer=None,
        select: int | None = None,
    ):
        self.features = features
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.harmonizer = harmonizer
        self.select = select

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        _need(frame, list(self.features), "PenalisedCox")
        X = frame[list(self.features)]
        if self.harmonizer_ is not None:
            X = pd.DataFrame(self.harmonizer_.transform(X), index=frame.index)
            X.columns = X.columns.astype(str)
        return X

    def _fit_design(self, train, time, event):
        from sklearn.base import clone

        if not 0.0 <= self.l1_ratio <= 1.0:
            raise ModelSpecificationError(f"l1_ratio must be in [0, 1], got {self.l1_ratio}")
        if self.penalizer < 0:
            raise ModelSpecificationError(f"penalizer must be >= 0, got {self.penalizer}")
        self.harmonizer_ = None
        if self.harmonizer is not None:
            self.harmonizer_ = clone(self.harmonizer).fit(train[list(self.features)])
        X = self._features(train)
        self.scaler_ = _Scaler().fit(X)
        Z = self.scaler_.transform(X)
        self.selected_ = list(Z.columns)
        if self.select is not None and self.select < Z.shape[1]:
            score = _univariable_score(Z.to_numpy(), time, event.astype(float))
            top = np.argsort(-score, kind="stable")[: int(self.select)]
            self.selected_ = [Z.columns[i] for i in sorted(top)]

    def _design(self, frame):
        return self.scaler_.transform(self._features(frame))[self.selected_]

    def _fit(self, X, time, event):
        if self.l1_ratio == 0:
            return super()._fit(X, time, event)
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        self._fit_design(X, time, event)
        self.coxnet_ = CoxnetSurvivalAnalysis(
            alphas=[self.penalizer], l1_ratio=self.l1_ratio, fit_baseline_model=True
        )
        self.coxnet_.fit(self._design(X).to_numpy(), structured_outcome(time, event))

    def predict_risk(self, test):
        if self.l1_ratio == 0:
            return super().predict_risk(test)
        return pd.Series(
            self.coxnet_.predict(self._design(test).to_numpy()), index=test.index, name="risk"
        )

    def predict_survival(self, test, times):
        if self.l1_ratio == 0:
            return super().predict_survival(test, times)
        fns = self.coxnet_.predict_survival_function(self._design(test).to_numpy())
        times = np.atleast_1d(np.asarray(times, float))
        return pd.DataFrame(
            [f(np.clip(times, f.x[0], f.x[-1])) for f in fns], index=test.index, columns=times
        )


def _univariable_score(Z: np.ndarray, time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Squared standardised Cox score statistic at beta = 0 for each column (Breslow ties)."""
    order = np.argsort(-time, kind="stable")
    Zs, ts, es = Z[order], time[order], event[order]
    n_risk = np.arange(1, len(ts) + 1, dtype=float)
    cz = np.cumsum(Zs, axis=0)
    cz2 = np.cumsum(Zs**2, axis=0)
    # risk set of subject i in decreasing-time order: all j with t_j >= t_i (last index of tie)
    last = np.searchsorted(-ts, -ts, side="right") - 1
    mean = cz[last] / n_risk[last][:, None]
    var = cz2[last] / n_risk[last][:, None] - mean**2
    U = (es[:, None] * (Zs - mean)).sum(axis=0)
    V = (es[:, None] * var).sum(axis=0)
    return np.where(V > 0, U**2 / np.where(V > 0, V, 1.0), 0.0)


class ClusterCox(CoxFamily):
    """The Halle et al. pipeline: k-medoids clusters of radiomic features, Cox on membership.

    Features are standardised with the training fold's mean/SD, clustered by
    :class:`radsem.cluster.KMedoids` in the training fold, clusters renumbered by training
    event rate (cluster 1 = lowest) and test patients assigned to the nearest training medoid.
    The Cox model has one indicator per cluster above the first.

    Parameters
    ----------
    features : sequence of str
    n_clusters : int
    metric : str
        Dissimilarity of :class:`radsem.cluster.KMedoids` (default squared Euclidean).
    clusterer : estimator, optional
        Any object with ``fit(X)``, ``labels_`` and ``predict(X)`` (cloned per fold) instead of
        k-medoids.
    clinical : sequence of str
        Clinical covariates added to the cluster indicators.
    random_state : int, optional
    """

    def __init__(
        self,
        features: Sequence[str],
        n_clusters: int = 3,
        metric: str = "sqeuclidean",
        clusterer=None,
        clinical: Sequence[str] = (),
        random_state: int | None = 0,
    ):
        self.features = features
        self.n_clusters = n_clusters
        self.metric = metric
        self.clusterer = clusterer
        self.clinical = clinical
        self.random_state = random_state

    def _fit_design(self, train, time, event):
        from sklearn.base import clone

        from radsem.cluster import KMedoids, renumber_by_event_rate

        _need(train, list(self.features), "ClusterCox")
        X = train[list(self.features)]
        self.scaler_ = _Scaler().fit(X)
        Z = self.scaler_.transform(X).to_numpy()
        est = (
            KMedoids(n_clusters=self.n_clusters, metric=self.metric, random_state=self.random_state)
            if self.clusterer is None
            else clone(self.clusterer)
        )
        self.clusterer_ = est.fit(Z)
        raw = np.asarray(self.clusterer_.labels_)
        new = renumber_by_event_rate(raw, event.astype(int), time)
        self.relabel_ = dict(zip(raw.tolist(), np.asarray(new).tolist(), strict=True))
        self.levels_ = sorted(set(self.relabel_.values()))

    def clusters(self, frame: pd.DataFrame) -> pd.Series:
        """Cluster (renumbered) of each row: the nearest training medoid."""
        Z = self.scaler_.transform(frame[list(self.features)]).to_numpy()
        lab = [self.relabel_[int(k)] for k in self.clusterer_.predict(Z)]
        return pd.Series(lab, index=frame.index, name="cluster")

    def _design(self, frame):
        cl = self.clusters(frame)
        X = pd.DataFrame(
            {f"cluster{k}": (cl == k).astype(int) for k in self.levels_[1:]}, index=frame.index
        )
        if self.clinical:
            X = pd.concat([X, ClinicalCox(self.clinical)._design(frame)], axis=1)
        return X
