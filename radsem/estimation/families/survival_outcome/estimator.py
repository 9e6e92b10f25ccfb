"""A model family for :func:`radsem.compare.compare_models`: the latent-variable
proportional-hazards model, fitted inside each training fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sksurv.base import SurvivalAnalysisMixin

from radsem.errors import DataError
from radsem.survival.target import survival_target

__all__ = ["LatentSurvivalModel"]


class LatentSurvivalModel(SurvivalAnalysisMixin, BaseEstimator):
    """A scikit-survival estimator around :func:`latent_survival`.

    ``fit(X, y)`` with ``y`` scikit-survival's structured outcome (or ``fit(X, "time",
    "event")`` naming columns of ``X``), ``predict(X)`` the risk score, ``score(X, y)``
    Harrell's C; ``sklearn.clone`` works.

    Parameters
    ----------
    model_syntax : str
        lavaan syntax of the measurement model plus the survival regression. The survival
        outcome is declared by the family from the ``time``/``event`` columns given to
        ``fit``: write its regression as ``surv ~ E6 + E7 + age`` with ``outcome="surv"``
        (a ``surv =~ Surv(...)`` line in the syntax is also accepted and then wins).
    method : str
        ``"joint"`` (default), ``"regression_calibration"``, ``"plausible_values"`` or
        ``"naive"``.
    outcome : str
        Name of the survival outcome in ``model_syntax``.
    seed : int
    options : dict, optional
        Further keyword arguments of :func:`latent_survival` (e.g. ``baseline_pieces``,
        ``std_lv``).

    Attributes
    ----------
    fit_ : LatentSurvivalFit
        The fit on the training rows.
    """

    def __init__(
        self,
        model_syntax: str,
        method: str = "joint",
        outcome: str = "surv",
        seed: int = 0,
        options: dict | None = None,
    ) -> None:
        self.model_syntax = model_syntax
        self.method = method
        self.outcome = outcome
        self.seed = seed
        self.options = options

    def fit(self, X: pd.DataFrame, y, event: str | None = None) -> LatentSurvivalModel:
        """Fit the model on the training rows.

        Parameters
        ----------
        X : DataFrame
        y : structured array or str
            scikit-survival's outcome (event bool, time float), or the time column of ``X``.
        event : str, optional
            The event column of ``X`` when ``y`` names the time column.
        """
        from radsem.estimation.families.survival_outcome.api import latent_survival
        from radsem.syntax.declaration import read_declaration

        times, events = survival_target(X, y, event)
        train = X
        if isinstance(y, str):
            time = y
        else:  # the outcome as two columns of the training frame
            time, event = "__time", "__event"
            train = X.assign(**{time: times, event: events.astype(int)})
        declared = read_declaration(self.model_syntax).survival
        survival = None if declared else {self.outcome: (time, event)}
        self.fit_ = latent_survival(
            self.model_syntax,
            train,
            survival=survival,
            method=self.method,
            seed=self.seed,
            **dict(self.options or {}),
        )
        return self

    def predict_risk(self, test: pd.DataFrame) -> pd.Series:
        """Posterior mean of the linear predictor given each test patient's observed data."""
        if not hasattr(self, "fit_"):
            raise DataError("LatentSurvivalModel: call fit() before predict_risk()")
        return self.fit_.predict_risk(test)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Risk score per row of ``X`` (higher = worse), in the order of ``X``."""
        risk = self.predict_risk(X)
        if not risk.index.equals(X.index):
            risk = risk.reindex(X.index)
        return risk.to_numpy(dtype=float)
