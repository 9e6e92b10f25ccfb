"""The one contract of the comparison's outcome models: scikit-learn estimators.

Survival models follow scikit-survival: ``fit(X, y)`` with ``y`` a structured array (event
bool, time float; ``sksurv.util.Surv.from_arrays(event, time)``), ``predict(X)`` the risk score
(higher = worse prognosis) and ``score(X, y)`` Harrell's C. Binary models are scikit-learn
classifiers: ``fit(X, y, sample_weight=None)``, ``classes_``, ``predict_proba(X)``,
``decision_function(X)``. Hyper-parameters live in ``__init__`` only and learned state in
trailing-underscore attributes, so ``sklearn.clone``, ``get_params``/``set_params`` and
``GridSearchCV`` work. ``X`` is a data frame (one row per patient, index = patient id) holding
every column the model needs.

Objects written for the older protocol (``fit(train, time, event)`` / ``predict_risk(test)``,
or ``fit(train, y, sample_weight, time, event)`` / ``predict_proba(test) -> Series``) still
work: :func:`as_survival_estimator` and
:func:`radsem.compare.logistic.as_binary_estimator` wrap them.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sksurv.base import SurvivalAnalysisMixin

from radsem.compare._align import align_rows
from radsem.errors import DataError, ModelSpecificationError
from radsem.survival.target import survival_target

__all__ = [
    "SurvivalEstimator",
    "LegacySurvivalFamily",
    "LegacyBinaryFamily",
    "as_survival_estimator",
    "accepts_survival",
    "fold_copy",
]


def _frame(X) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            f"X must be a pandas DataFrame (one row per patient, named columns), got "
            f"{type(X).__name__}"
        )
    return X


class SurvivalEstimator(SurvivalAnalysisMixin, BaseEstimator):
    """Base of radsem's survival models (scikit-survival's conventions).

    Subclasses implement ``_fit(X, time, event)`` (``time`` float and ``event`` bool arrays)
    and ``predict_risk(X) -> Series``; ``fit``, ``predict`` and ``score`` (Harrell's C, from
    scikit-survival's mixin) come from here.
    """

    def fit(self, X: pd.DataFrame, y, event: str | None = None) -> SurvivalEstimator:
        """Learn everything from the training rows.

        Parameters
        ----------
        X : DataFrame
            Training rows with every column the model uses.
        y : structured array or str
            The outcome, scikit-survival's way (event bool, time float; e.g.
            ``Surv.from_arrays(event, time)``), or the name of the time column of ``X``.
        event : str, optional
            The event column of ``X`` when ``y`` names the time column.

        Returns
        -------
        self
        """
        X = _frame(X)
        time, ev = survival_target(X, y, event)
        self._fit(X, time, ev)
        return self

    def _fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> None:
        raise NotImplementedError

    def predict_risk(self, X: pd.DataFrame) -> pd.Series:
        """Risk score per row (higher = worse prognosis), indexed like ``X``."""
        raise NotImplementedError

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Risk score per row of ``X`` (higher = worse prognosis), in the order of ``X``."""
        X = _frame(X)
        return align_rows(self.predict_risk(X), X).to_numpy(dtype=float)


def _legacy_frame(X: pd.DataFrame, time_col, event_col, time, event):
    """``X`` and the names of its outcome columns (added when ``X`` lacks them)."""
    if time_col is not None and event_col is not None:
        if time_col in X.columns and event_col in X.columns:
            return X, time_col, event_col
    tname, ename = "__time", "__event"
    return X.assign(**{tname: time, ename: event.astype(int)}), tname, ename


class LegacySurvivalFamily(SurvivalEstimator):
    """A family written as ``fit(train, time, event)`` / ``predict_risk(test)``, as an estimator.

    Parameters
    ----------
    family : object
        The unfitted family (deep-copied by ``sklearn.clone``).
    time, event : str, optional
        Its outcome columns in ``X``; when ``X`` lacks them the outcome of ``y`` is added as
        columns ``__time`` and ``__event``.
    """

    def __init__(self, family=None, time: str | None = None, event: str | None = None):
        self.family = family
        self.time = time
        self.event = event

    def _fit(self, X, time, event):
        frame, tcol, ecol = _legacy_frame(X, self.time, self.event, time, event)
        family = copy.deepcopy(self.family)  # the parameter itself is never fitted
        self.family_ = family.fit(frame, tcol, ecol) or family

    def predict_risk(self, X):
        return align_rows(self.family_.predict_risk(_frame(X)), X)

    @available_if(lambda self: hasattr(self.family, "predict_survival"))
    def predict_survival(self, X, times):
        """The family's ``predict_survival`` (only when it has one)."""
        return align_rows(self.family_.predict_survival(X, times), X, "predict_survival")

    @available_if(lambda self: hasattr(self.family, "check_data"))
    def check_data(self, data: pd.DataFrame) -> None:
        """The family's ``check_data`` (only when it has one)."""
        self.family.check_data(data)


class LegacyBinaryFamily(ClassifierMixin, BaseEstimator):
    """A binary family written as ``fit(train, y, sample_weight, time, event)`` /
    ``predict_proba(test) -> Series``, as a scikit-learn classifier.

    Labels of rows with weight 0 (censored before the horizon) are passed to the family as NaN,
    as the older protocol had them.
    """

    def __init__(self, family=None, time: str | None = None, event: str | None = None):
        self.family = family
        self.time = time
        self.event = event

    def fit(self, X, y, sample_weight=None, survival=None):
        """Fit the family on labels ``y``, weights and the survival outcome ``survival``."""
        X = _frame(X)
        y = np.asarray(y, dtype=float)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if survival is None:
            raise DataError(f"{type(self.family).__name__} needs the survival outcome (survival=)")
        time, ev = survival_target(X, survival)
        frame, tcol, ecol = _legacy_frame(X, self.time, self.event, time, ev)
        family = copy.deepcopy(self.family)  # the parameter itself is never fitted
        self.family_ = family.fit(frame, np.where(w > 0, y, np.nan), w, tcol, ecol) or family
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """``(n, 2)``: probabilities of class 0 and class 1."""
        p = align_rows(self.family_.predict_proba(_frame(X)), X, "predict_proba")
        p = np.asarray(p, dtype=float)
        if p.ndim == 2:
            p = p[:, -1]
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The more probable class (0 or 1) of each row."""
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def decision_function(self, X) -> np.ndarray:
        """The log-odds of class 1."""
        p = self.predict_proba(X)[:, 1]
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)


def _is_estimator(model) -> bool:
    return hasattr(model, "get_params") and hasattr(model, "set_params")


def _legacy_fit(model) -> bool:
    """Whether ``model.fit`` has the older signature ``fit(train, time, event)`` (three
    required arguments)."""
    try:
        params = inspect.signature(model.fit).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]
    return len(required) >= 3


def as_survival_estimator(model, time: str | None = None, event: str | None = None):
    """``model`` as a survival estimator: radsem's and scikit-survival's as they are, an
    older ``fit(train, time, event)`` / ``predict_risk`` family wrapped."""
    modern = _is_estimator(model) and hasattr(model, "predict") and hasattr(model, "fit")
    if modern and not _legacy_fit(model):
        return model
    if hasattr(model, "fit") and hasattr(model, "predict_risk"):
        return LegacySurvivalFamily(model, time, event)
    raise ModelSpecificationError(
        f"{type(model).__name__} has no fit/predict_risk methods (a survival model needs "
        "fit(X, y) and predict(X); see radsem.compare.SurvivalEstimator)"
    )


def accepts_survival(estimator) -> bool:
    """Whether ``estimator.fit`` takes the survival outcome as ``survival=``."""
    try:
        return "survival" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def fold_copy(model):
    """An unfitted copy of ``model`` for one fold: ``sklearn.clone``, or a deep copy of an
    object whose ``__init__`` does not store its arguments under their own names (a class
    written before the families became scikit-learn estimators)."""
    from sklearn.base import clone

    try:
        return clone(model)
    except (AttributeError, RuntimeError, TypeError):
        return copy.deepcopy(model)
