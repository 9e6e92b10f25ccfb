"""``latent_survival()``: latent variables predicting a censored time, and the hook that makes
it reachable from ``radsem.sem(...)``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import EstimationError, ModelSpecificationError
from radsem.estimation.families.survival_outcome.joint import check_improper, fit_joint
from radsem.estimation.families.survival_outcome.problem import build_problem
from radsem.estimation.families.survival_outcome.result import LatentSurvivalFit
from radsem.estimation.families.survival_outcome.twostep import (
    naive,
    plausible_values,
    regression_calibration,
)

__all__ = ["latent_survival", "fit_problem", "METHODS", "fit_survival_model"]

METHODS = ("joint", "regression_calibration", "plausible_values", "naive")


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise EstimationError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def latent_survival(
    model: str,
    data: pd.DataFrame,
    *,
    survival: Mapping[str, tuple[str, str]] | None = None,
    method: str = "joint",
    seed: int | None = None,
    draws: int = 20,
    baseline_pieces: int = 6,
    baseline_cuts=None,
    quadrature_points: int = 15,
    level: float = 0.95,
    **sem_options,
) -> LatentSurvivalFit:
    """Proportional-hazards regression of a censored time on latent and observed variables.

    Parameters
    ----------
    model : str
        lavaan syntax with a survival outcome declared as ``name =~ Surv(time, event)`` and
        its regression ``name ~ predictors`` (latent variables of the model, observed SEM
        variables, or other numeric columns of ``data``). Labels (``b1*E6``) are allowed.
    data : pandas.DataFrame
        One row per patient; missing indicators are allowed (FIML: a patient without
        expression contributes its other data); survival columns and covariates of the
        survival regression must be complete (patients missing a covariate are removed
        with a ``DataWarning``).
    survival : mapping, optional
        ``{"recurrence": ("rfs_months", "rfs_event")}``, instead of the declaration.
    method : {"joint", "regression_calibration", "plausible_values", "naive"}
        Joint maximum likelihood (default) or a two-step method (see
        :mod:`radsem.estimation.families.survival_outcome.twostep`).
    seed : int, optional
        Seed of the parameter draws (regression calibration variance, plausible values).
    draws : int
        Number of draws (plausible values; first-step variance of regression calibration).
    baseline_pieces : int
        Intervals of the piecewise-constant baseline hazard of the joint fit (cut at
        event-time quantiles); or give ``baseline_cuts`` (inner cut points).
    quadrature_points : int
        Adaptive Gauss-Hermite nodes of the one-dimensional latent integral.
    level : float
        Confidence level.
    **sem_options
        ``std_lv``, ``orthogonal``, ``fixed_x`` and other :func:`radsem.sem` options of the
        measurement model (single group, continuous indicators).

    Returns
    -------
    LatentSurvivalFit

    Notes
    -----
    Joint likelihood (:mod:`radsem.estimation.families.survival_outcome.likelihood`): the Gaussian
    SEM for the
    observed variables times, for every patient, ``integral h0(t)^d exp(d u - H0(t) e^u)
    N(u; m_i, s2_i) du``, where ``u`` is the linear predictor, Gaussian given the patient's
    observed data. Baseline hazard piecewise constant. Standard errors from the observed
    information (autodiff Hessian). Validated by simulation with known truth
    (``benchmarks/sim_latent_survival.py``, ``docs/latent-survival.md``); the survival part
    with observed covariates only agrees with R ``survival::coxph`` to the precision a
    piecewise-constant baseline allows.

    Examples
    --------
    >>> import radsem
    >>> model = '''
    ... f =~ y1 + y2 + y3
    ... recurrence =~ Surv(time, event)
    ... recurrence ~ f + age
    ... '''
    >>> fit = radsem.sem(model, data)  # doctest: +SKIP
    >>> fit.hazard_ratios()  # doctest: +SKIP
    """
    if method not in METHODS:
        raise EstimationError(f"survival_method must be one of {METHODS}, got {method!r}")
    draws = _check_int(draws, "draws", 0)
    quadrature_points = _check_int(quadrature_points, "quadrature_points", 1)
    if not 0 < float(level) < 1:
        raise EstimationError(f"level must be in (0, 1), got {level!r}")
    if seed is not None:
        _check_int(seed, "seed", 0)
    problem = build_problem(model, data, survival, **sem_options)
    return fit_problem(
        problem,
        method,
        seed=seed,
        draws=draws,
        baseline_pieces=baseline_pieces,
        baseline_cuts=baseline_cuts,
        quadrature_points=quadrature_points,
        level=level,
    )


def fit_problem(
    problem,
    method: str = "joint",
    *,
    seed: int | None = None,
    draws: int = 20,
    baseline_pieces: int = 6,
    baseline_cuts=None,
    quadrature_points: int = 15,
    level: float = 0.95,
    start: np.ndarray | None = None,
) -> LatentSurvivalFit:
    """Estimate an already built :class:`LatentSurvivalProblem` (parameters as
    :func:`latent_survival`; ``start``: survival coefficients to start the joint fit from,
    default regression calibration). Lets several methods share one measurement fit."""
    if method not in METHODS:
        raise EstimationError(f"survival_method must be one of {METHODS}, got {method!r}")
    if (problem.measurement is None or not problem.node_terms) and method != "joint":
        raise ModelSpecificationError(
            f"method {method!r} needs latent (SEM) variables in the survival regression; "
            "without them use method='joint' or radsem.survival.cox"
        )
    if start is not None and method == "joint":
        rc_coef = np.asarray(start, float)
    elif problem.measurement is None or len(problem.node_terms) == 0:
        rc_coef = _cox_start(problem)
    else:
        rc = regression_calibration(
            problem, draws=draws if method == "regression_calibration" else 0, seed=seed
        )
        rc_coef = rc.coef
    if method == "joint":
        return _joint(problem, rc_coef, baseline_pieces, baseline_cuts, quadrature_points, level)
    if method == "regression_calibration":
        est = rc
    elif method == "plausible_values":
        est = plausible_values(problem, draws=max(draws, 2), seed=seed, start=rc)
    else:
        est = naive(problem)
    theta = problem.sem_fit.theta
    ntheta = len(theta)
    k = len(est.coef)
    vcov = np.zeros((ntheta + k, ntheta + k))
    vcov[:ntheta, :ntheta] = problem.sem_fit.vcov().to_numpy()
    vcov[ntheta:, ntheta:] = est.vcov
    npar = int(problem.sem_fit.fit_measures()["npar"]) + k
    return LatentSurvivalFit(
        problem,
        method,
        theta,
        vcov,
        est.coef,
        npar=npar,
        converged=bool(problem.sem_fit.converged),
        n_used=est.n_used,
        info=est.info,
        level=level,
    )


def _cox_start(problem) -> np.ndarray:
    from radsem.estimation.families.survival_outcome.twostep import _cox

    return _cox(problem, problem.covariates)[0]


def _joint(problem, start, pieces, cuts, points, level) -> LatentSurvivalFit:
    est = fit_joint(
        problem, start, baseline_pieces=pieces, baseline_cuts=cuts, quadrature_points=points
    )
    lik = est.likelihood
    z, c_nodes, gamma, alpha = lik.split(est.psi)
    nz = len(z)
    ncoef = len(c_nodes) + len(gamma)
    if problem.measurement is not None:
        meas = problem.measurement
        theta = meas.theta0 + meas.K @ z
        jac = np.zeros((len(theta) + ncoef, len(est.psi)))
        jac[: len(theta), :nz] = meas.K
    else:
        theta = np.zeros(0)
        jac = np.zeros((ncoef, len(est.psi)))
    jac[len(theta) :, nz : nz + ncoef] = np.eye(ncoef)
    vcov = jac @ est.vcov @ jac.T
    nalpha = len(alpha)
    se_alpha = np.sqrt(np.clip(np.diag(est.vcov)[-nalpha:], 0.0, None))
    check_improper(problem, theta, stacklevel=user_stacklevel())
    return LatentSurvivalFit(
        problem,
        "joint",
        theta,
        vcov,
        np.concatenate([c_nodes, gamma]),
        loglik=est.loglik,
        npar=len(est.psi),
        converged=est.converged,
        baseline=(lik.grid.cuts, alpha, se_alpha),
        info={"iterations": est.iterations, "message": est.message},
        level=level,
    )


def fit_survival_model(
    model: str,
    data: pd.DataFrame,
    *,
    model_type: str = "sem",
    estimator: str | None = None,
    group=None,
    missing: str | None = None,
    se: str | None = None,
    meanstructure="default",
    information=None,
    **options,
) -> LatentSurvivalFit:
    """What ``radsem.sem(model, data, survival_method=...)`` runs (see
    :func:`latent_survival`); ``survival_method`` defaults to ``"joint"``.

    Indicators are always handled by full-information ML (``missing`` is accepted for
    compatibility); the mean structure is always estimated.
    """
    if str(estimator or "ML").upper() != "ML":
        raise EstimationError(
            "a survival outcome is estimated by maximum likelihood "
            f"(estimator='ML'), got estimator={estimator!r}"
        )
    if group is not None:
        raise ModelSpecificationError(
            "multi-group models with a survival outcome are not supported"
        )
    if se not in (None, "standard"):
        raise EstimationError(
            "with a survival outcome se must be 'standard' (observed "
            "information, or Rubin's rules for plausible values)"
        )
    if information not in (None, "observed"):
        raise EstimationError(
            "with a survival outcome standard errors use the observed information"
        )
    if model_type not in ("sem", "cfa"):
        raise ModelSpecificationError(
            f"a survival outcome needs sem() or cfa(), not {model_type}()"
        )
    if missing not in (None, "listwise", "ml"):
        raise EstimationError(f"missing must be 'listwise' or 'ml', got {missing!r}")
    method = options.pop("survival_method", "joint")
    return latent_survival(model, data, method=method, **options)
