"""From model syntax and data to the pieces every estimator needs: the survival outcome, the
measurement model fitted by FIML, the design of the survival regression."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem.errors import DataError, ModelSpecificationError
from radsem.estimation.families.survival_outcome.data import check_survival, complete_covariates
from radsem.estimation.families.survival_outcome.likelihood import MeasurementPart
from radsem.syntax.survival import SurvivalOutcome, split_survival

__all__ = ["LatentSurvivalProblem", "build_problem"]

_NOT_SUPPORTED = (
    "group",
    "estimator",
    "missing",
    "se",
    "information",
    "ordered",
    "group_equal",
    "group_partial",
)


@dataclass
class LatentSurvivalProblem:
    """Everything the estimators share.

    Attributes
    ----------
    outcome : SurvivalOutcome
    sem_syntax : str or None
    data : DataFrame
        The rows used (patients with complete covariates), original index kept.
    time, event : ndarray
    sem_fit : SemFit or None
        The measurement / structural model fitted alone by FIML (start values, two-step).
    measurement : MeasurementPart or None
    node_terms : list of int
        Node index of each SEM variable in the survival regression.
    node_names, covariate_names : list of str
    covariates : ndarray, shape (n, r)
    """

    outcome: SurvivalOutcome
    sem_syntax: str | None
    data: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    sem_fit: object
    measurement: MeasurementPart | None
    node_terms: list[int]
    node_names: list[str]
    covariate_names: list[str]
    covariates: np.ndarray
    sem_options: dict = field(default_factory=dict)

    @property
    def latent(self) -> list[str]:
        return [] if self.sem_fit is None else list(self.sem_fit.spec.latent)

    @property
    def observed(self) -> list[str]:
        return [] if self.sem_fit is None else list(self.sem_fit.spec.observed)

    def sem_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """The observed SEM variables of ``frame`` as a float array (``NaN`` = missing)."""
        missing = [v for v in self.observed if v not in frame.columns]
        if missing:
            raise DataError(f"the data lack the model's variable(s) {', '.join(missing)}")
        return frame[self.observed].apply(pd.to_numeric, errors="coerce").to_numpy(float)

    def covariate_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """The survival-only covariates of ``frame`` (must be complete)."""
        missing = [v for v in self.covariate_names if v not in frame.columns]
        if missing:
            raise DataError(f"the data lack the covariate(s) {', '.join(missing)}")
        arr = frame[self.covariate_names].to_numpy(float).reshape(len(frame), -1)
        if np.isnan(arr).any():
            raise DataError("covariates of the survival regression have missing values")
        return arr


def _fit_measurement(sem_syntax: str, frame: pd.DataFrame, options: dict):
    from radsem.estimation.families.continuous import fit_continuous

    return fit_continuous(sem_syntax, frame, "sem", estimator="ML", missing="ml", **options)


def build_problem(
    model: str,
    data: pd.DataFrame,
    survival: Mapping[str, tuple[str, str]] | None = None,
    **sem_options,
) -> LatentSurvivalProblem:
    """Parse, check and fit the measurement part (see :func:`latent_survival`).

    Raises
    ------
    ModelSyntaxError, ModelSpecificationError, DataError
    """
    from radsem.syntax import build_partable

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    bad = [k for k in sem_options if k in _NOT_SUPPORTED]
    if bad:
        raise ModelSpecificationError(
            f"option(s) {bad} are not available with a survival outcome (single group, "
            "continuous indicators, joint maximum likelihood with FIML)"
        )
    sem_syntax, outcome = split_survival(model, survival)
    if outcome is None:
        raise ModelSpecificationError(
            "the model declares no survival outcome; add 'name =~ Surv(time, event)' or pass "
            "survival={'name': ('time', 'event')}"
        )
    check_survival(data, outcome.time, outcome.event)
    latent, observed, exogenous = [], [], []
    if sem_syntax is not None:
        spec = build_partable(
            sem_syntax,
            list(data.columns),
            model_type="sem",
            meanstructure=True,
            missing="ml",
            estimator="ML",
            **{k: v for k, v in sem_options.items() if k in ("std_lv", "orthogonal", "fixed_x")},
        )
        latent, observed = list(spec.latent), list(spec.observed)
        exogenous = list(spec.exogenous) if spec.fixed_x else []
    nodes = observed + latent
    node_names = [v for v in outcome.predictors if v in nodes]
    covariate_names = [v for v in outcome.predictors if v not in nodes]
    unknown = [v for v in covariate_names if v not in data.columns]
    if unknown:
        raise DataError(
            f"predictor(s) {', '.join(map(repr, unknown))} of {outcome.name!r} are "
            "neither latent variables of the model nor columns of the data"
        )
    if outcome.time in outcome.predictors or outcome.event in outcome.predictors:
        raise ModelSpecificationError("the time and event columns cannot be predictors")
    keep = complete_covariates(data, covariate_names + exogenous)
    frame = data.loc[keep]
    if int(frame[outcome.event].sum()) == 0:
        raise DataError("no events remain after removing patients with missing covariates")
    time, event = check_survival(frame, outcome.time, outcome.event)
    needed = len(observed) + len(outcome.predictors) + 1
    if len(frame) < needed:
        raise DataError(
            f"{len(frame)} patients are too few for a model with {len(observed)} observed "
            f"variables and {len(outcome.predictors)} hazard predictors: the covariance matrix "
            f"and the hazard regression need at least {needed} patients"
        )
    sem_fit = measurement = None
    node_terms: list[int] = []
    if sem_syntax is not None:
        sem_fit = _fit_measurement(
            sem_syntax, frame[observed].reset_index(drop=True), dict(sem_options)
        )
        cons = sem_fit.problem.constraints
        if cons.n_ineq or not cons.linear:
            raise ModelSpecificationError(
                "inequality and nonlinear equality constraints are not supported with a "
                "survival outcome"
            )
        ram = sem_fit.problem.model
        values = frame[observed].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        measurement = MeasurementPart(
            ram, np.asarray(cons.theta0, float), np.asarray(cons.K, float), values
        )
        node_terms = [nodes.index(v) for v in node_names]
    covs = frame[covariate_names].to_numpy(float).reshape(len(frame), -1)
    return LatentSurvivalProblem(
        outcome,
        sem_syntax,
        frame,
        time,
        event,
        sem_fit,
        measurement,
        node_terms,
        node_names,
        covariate_names,
        covs,
        dict(sem_options),
    )
