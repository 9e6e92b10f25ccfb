"""Logistic counterparts of the survival model families, for recurrence within a horizon.

:class:`Logistic` turns any model family into a binary-outcome model. For families that end in a
Cox model (:class:`radsem.compare.CoxFamily`: clinical, penalised radiomic, cluster, score and
CAE families) it reuses the family's fold-fitted preprocessing and design (scaling,
harmonisation, selection, clusters, factor scores, CAE codes) and fits a (weighted, penalised)
logistic regression on that design instead of the Cox model. Any other family is fitted as
usual on the survival outcome and its risk score is recalibrated by a logistic regression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, is_classifier

from radsem._warnings import user_stacklevel
from radsem.compare.estimator import (
    LegacyBinaryFamily,
    LegacySurvivalFamily,
    _frame,
    _is_estimator,
    as_survival_estimator,
    fold_copy,
)
from radsem.compare.models import CoxFamily
from radsem.errors import DataError, ModelSpecificationError
from radsem.survival.target import structured_outcome, survival_target

__all__ = ["Logistic", "as_binary_estimator"]


class Logistic(ClassifierMixin, BaseEstimator):
    """Logistic regression on a model family's design (or risk score), fitted in the fold.

    A scikit-learn classifier (``classes_ = [0, 1]``, ``predict_proba``,
    ``decision_function``, ``sklearn.clone``) whose ``fit`` also takes the survival outcome,
    which the family's preprocessing may use (clusters renumbered by event rate, selection by
    the univariable Cox score).

    Parameters
    ----------
    family : model family
        An unfitted family (e.g. ``ClinicalCox()``, ``PenalisedCox(...)``); cloned in ``fit``.
    penalizer : float, optional
        Ridge penalty theta of the weighted log-likelihood
        ``sum_i w_i l_i - theta / 2 ||b||^2`` (intercept unpenalised). Default: the family's own
        ``penalizer`` (0 when it has none), so a ridge Cox family becomes a ridge logistic model
        on the same standardised design. Elastic-net families (``l1_ratio > 0``) use
        scikit-learn's elastic-net logistic regression with ``C = 1 / (n alpha)`` (Coxnet's
        scaling of the penalty).
    max_iter : int
        Iterations of the solver.

    Attributes
    ----------
    classes_ : ndarray
        ``[0, 1]``.
    params_ : Series
        Intercept and coefficients, named after the design columns.
    coef_, intercept_ : ndarray
        The same, scikit-learn's way.
    family_ : estimator
        The family as fitted on the training rows.

    Notes
    -----
    Weights (IPCW from :func:`radsem.compare.binary.horizon_labels`) are rescaled to mean 1
    over the patients with positive weight, so the penalty has the same meaning as for n
    unweighted patients; rows with weight 0 (censored before the horizon) do not enter the
    logistic fit, but do enter the family's preprocessing. Ridge and plain fits by
    scikit-learn's Newton-Cholesky solver (:func:`ridge_logistic`; checked against statsmodels'
    weighted GLM in the tests); the elastic net by scikit-learn (saga).
    """

    def __init__(self, family=None, penalizer: float | None = None, max_iter: int = 2000):
        self.family = family
        self.penalizer = penalizer
        self.max_iter = max_iter

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.design_based_:
            return self.family_._design(frame)
        return self.family_.predict_risk(frame).to_frame("risk")

    def fit(self, X: pd.DataFrame, y, sample_weight=None, survival=None, event=None) -> Logistic:
        """Fit on the training rows.

        Parameters
        ----------
        X : DataFrame
            Training rows.
        y : array-like
            0/1 labels (event by the horizon); rows of weight 0 may hold any value (NaN).
        sample_weight : array-like, optional
            Case weights (IPCW); 0 for patients censored before the horizon.
        survival : structured array or str
            The survival outcome of the rows (scikit-survival's ``y``), or the name of the
            time column of ``X`` (then ``event`` names its event column). Needed by families
            whose preprocessing uses the outcome and by families that are not Cox families.
        event : str, optional
            Event column of ``X`` when ``survival`` is a column name.
        """
        X = _frame(X)
        if self.family is None or not hasattr(self.family, "fit"):
            raise ModelSpecificationError("Logistic needs a model family with fit()")
        tcol = survival if isinstance(survival, str) else None
        if survival is None:  # no survival outcome: the labels stand in for events at one time
            time, ev = np.ones(len(X)), np.nan_to_num(np.asarray(y, dtype=float)) > 0
        else:
            time, ev = survival_target(X, survival, event)
        fam = self.family
        fam = fold_copy(
            fam if isinstance(fam, CoxFamily) else as_survival_estimator(fam, tcol, event)
        )
        self.design_based_ = isinstance(fam, CoxFamily)
        if self.design_based_:
            fam._fit_design(X, time, ev)
        else:
            if survival is None:
                raise DataError(
                    f"Logistic({type(self.family).__name__}) needs the survival outcome "
                    "(survival=) to fit a family that is not a Cox family"
                )
            fam.fit(X, structured_outcome(time, ev))
        self.family_ = fam
        base = fam.family if isinstance(fam, LegacySurvivalFamily) else fam
        Xd = self._features(X)
        y = np.asarray(y, dtype=float)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        keep = w > 0
        if not keep.any() or len(np.unique(y[keep])) < 2:
            raise DataError("the training fold needs both cases and controls at the horizon")
        w = w[keep] / w[keep].mean()
        theta = self.penalizer
        if theta is None:
            theta = float(getattr(base, "penalizer", 0.0) or 0.0)
        if theta < 0:
            raise ModelSpecificationError(f"penalizer must be >= 0, got {theta}")
        l1 = float(getattr(base, "l1_ratio", 0.0) or 0.0) if self.design_based_ else 0.0
        self.columns_ = list(Xd.columns)
        Xk, yk = Xd.to_numpy(dtype=float)[keep], y[keep]
        if l1 > 0:
            from sklearn.linear_model import LogisticRegression

            est = LogisticRegression(
                l1_ratio=l1,
                C=1.0 / (keep.sum() * theta),
                solver="saga",
                max_iter=self.max_iter,
                random_state=0,
            )
            est.fit(Xk, yk.astype(int), sample_weight=w)
            coef = np.r_[est.intercept_, est.coef_.ravel()]
        else:
            coef = ridge_logistic(Xk, yk, w, theta, max_iter=self.max_iter)
        self.params_ = pd.Series(coef, index=["Intercept", *self.columns_])
        self.intercept_ = coef[:1].copy()
        self.coef_ = coef[None, 1:].copy()
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of the event by the horizon, in the order of ``X``."""
        Xd = self._features(_frame(X)).to_numpy(dtype=float)
        return self.params_.iloc[0] + Xd @ self.params_.iloc[1:].to_numpy()

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)``: probabilities of class 0 (no event by the horizon) and class 1."""
        from scipy.special import expit

        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The more probable class (0 or 1) of each row."""
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def predict_probability(self, X: pd.DataFrame) -> pd.Series:
        """Predicted probability of the event by the horizon, indexed like ``X``."""
        from scipy.special import expit

        return pd.Series(expit(self.decision_function(X)), index=X.index, name="probability")


def ridge_logistic(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    theta: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> np.ndarray:
    """Weighted (ridge) logistic regression: scikit-learn's Newton-Cholesky solver.

    Maximises ``sum_i w_i [y_i eta_i - log(1 + exp(eta_i))] - theta / 2 ||b||^2`` with
    ``eta = b0 + X b`` (intercept unpenalised), which is scikit-learn's
    ``LogisticRegression(C=1 / theta)`` with ``sample_weight=w`` (``C=inf`` without a penalty).
    Returns ``[b0, b]``. Without a penalty and with separated classes the maximum is at
    infinity: a :class:`radsem.ConvergenceWarning` says so.

    Raises
    ------
    DataError
        Without a penalty, when the design is singular (collinear or constant columns).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from radsem.errors import ConvergenceWarning

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    theta = float(theta)
    if theta == 0:
        A = np.column_stack([np.ones(len(y)), X])
        if np.linalg.matrix_rank(A) < A.shape[1]:
            raise DataError("the logistic design is singular (collinear or constant columns)")
    est = LogisticRegression(
        C=np.inf if theta == 0 else 1.0 / theta,
        solver="newton-cholesky",
        tol=tol,
        max_iter=max_iter,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SklearnConvergenceWarning)
        est.fit(X, y.astype(int), sample_weight=np.asarray(w, dtype=float))
    others = [c for c in caught if not issubclass(c.category, SklearnConvergenceWarning)]
    for c in others:
        warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    coef = np.r_[est.intercept_, est.coef_.ravel()]
    diverged = len(others) < len(caught)
    if theta == 0:  # no finite maximum when a direction separates cases from controls
        eta = coef[0] + X @ coef[1:]
        pos = np.asarray(w, dtype=float) > 0
        cases, controls = eta[pos & (y == 1)], eta[pos & (y == 0)]
        if cases.min() >= controls.max() or np.max(np.abs(eta)) > 30:
            diverged = True
    if diverged:
        warnings.warn(
            "logistic regression did not converge (separated cases and controls?); use a penalizer",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return coef


def as_binary_estimator(model, time: str | None = None, event: str | None = None):
    """``model`` as a binary classifier: scikit-learn classifiers as they are, an older binary
    family wrapped, and any survival model in :class:`radsem.compare.Logistic`."""
    if _is_estimator(model) and hasattr(model, "__sklearn_tags__") and is_classifier(model):
        return model
    if hasattr(model, "fit") and hasattr(model, "predict_proba"):
        return LegacyBinaryFamily(model, time, event)
    if isinstance(model, CoxFamily):  # Logistic reuses its design, whatever its fit
        return Logistic(model)
    return Logistic(as_survival_estimator(model, time, event))
