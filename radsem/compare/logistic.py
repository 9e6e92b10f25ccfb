"""Logistic counterparts of the survival model families, for recurrence within a horizon.

:class:`Logistic` turns any model family into a binary-outcome model. For families that end in a
Cox model (:class:`radsem.compare.CoxFamily`: clinical, penalised radiomic, cluster, score and
CAE families) it reuses the family's fold-fitted preprocessing and design (scaling,
harmonisation, selection, clusters, factor scores, CAE codes) and fits a (weighted, penalised)
logistic regression on that design instead of the Cox model. Any other family is fitted as
usual on the survival outcome and its risk score is recalibrated by a logistic regression.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.compare.models import CoxFamily
from radsem.errors import DataError, ModelSpecificationError

__all__ = ["Logistic"]


class Logistic:
    """Logistic regression on a model family's design (or risk score), fitted in the fold.

    Parameters
    ----------
    family : model family
        An unfitted family (e.g. ``ClinicalCox()``, ``PenalisedCox(...)``); deep-copied in
        ``fit``.
    penalizer : float, optional
        Ridge penalty theta of the weighted log-likelihood
        ``sum_i w_i l_i - theta / 2 ||b||^2`` (intercept unpenalised). Default: the family's own
        ``penalizer`` (0 when it has none), so a ridge Cox family becomes a ridge logistic model
        on the same standardised design. Elastic-net families (``l1_ratio > 0``) use
        scikit-learn's elastic-net logistic regression with ``C = 1 / (n alpha)`` (Coxnet's
        scaling of the penalty).
    max_iter : int
        Iterations of the solver.

    Notes
    -----
    Weights (IPCW from :func:`radsem.compare.binary.horizon_labels`) are rescaled to mean 1
    over the patients with positive weight, so the penalty has the same meaning as for n
    unweighted patients. Ridge and plain fits by scikit-learn's Newton-Cholesky solver
    (:func:`ridge_logistic`; checked against statsmodels' weighted GLM in the tests); the
    elastic net by scikit-learn (saga).
    """

    def __init__(self, family, penalizer: float | None = None, max_iter: int = 2000):
        self.family = family
        self.penalizer = penalizer
        self.max_iter = max_iter

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.design_based_:
            return self.family_._design(frame)
        return self.family_.predict_risk(frame).to_frame("risk")

    def fit(self, train: pd.DataFrame, y, sample_weight, time: str, event: str) -> Logistic:
        """Fit on the training rows: labels ``y`` (0/1, NaN where undetermined), weights."""
        fam = copy.deepcopy(self.family)
        if not hasattr(fam, "fit"):
            raise ModelSpecificationError("Logistic needs a model family with fit()")
        self.design_based_ = isinstance(fam, CoxFamily)
        if self.design_based_:
            fam._fit_design(train, time, event)
        else:
            fam.fit(train, time, event)
        self.family_ = fam
        X = self._features(train)
        y = np.asarray(y, dtype=float)
        w = np.asarray(sample_weight, dtype=float)
        keep = w > 0
        if not keep.any() or len(np.unique(y[keep])) < 2:
            raise DataError("the training fold needs both cases and controls at the horizon")
        w = w[keep] / w[keep].mean()
        theta = self.penalizer
        if theta is None:
            theta = float(getattr(fam, "penalizer", 0.0) or 0.0)
        if theta < 0:
            raise ModelSpecificationError(f"penalizer must be >= 0, got {theta}")
        l1 = float(getattr(fam, "l1_ratio", 0.0) or 0.0) if self.design_based_ else 0.0
        self.columns_ = list(X.columns)
        Xk, yk = X.to_numpy(dtype=float)[keep], y[keep]
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
        return self

    def predict_proba(self, test: pd.DataFrame) -> pd.Series:
        """Predicted probability of the event by the horizon, indexed like ``test``."""
        from scipy.special import expit

        X = self._features(test).to_numpy(dtype=float)
        p = expit(self.params_.iloc[0] + X @ self.params_.iloc[1:].to_numpy())
        return pd.Series(p, index=test.index, name="probability")


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
