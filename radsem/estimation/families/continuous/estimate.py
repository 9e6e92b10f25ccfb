"""The continuous family: normal-theory estimators (ML, GLS, ULS, MLR) and FIML.

:func:`fit_continuous` turns lavaan syntax and a data frame into a :class:`SemFit` through the
shared core (parameter table, sample statistics, problem, optimiser) and the missing-data wing.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import ConvergenceWarning, DataError, EstimationError
from radsem.estimation.core.inference import check_level
from radsem.estimation.core.optimize import minimize, small_blas
from radsem.estimation.core.problem import SemProblem
from radsem.estimation.core.samplestats import group_split, sample_stats
from radsem.estimation.core.start import start_values
from radsem.estimation.families.continuous.fit import SemFit
from radsem.estimation.missing.fiml import resolve_missing
from radsem.estimation.robust.options import (
    ROBUST_ESTIMATORS,
    needs_robust_sem,
    robust_options,
)

__all__ = ["fit_continuous", "ESTIMATORS"]

ESTIMATORS = ("ML", "GLS", "ULS", "MLR", *ROBUST_ESTIMATORS)
_SE = ("standard", "robust.huber.white", "robust", "none", "bootstrap", "robust.sem")


@small_blas
def fit_continuous(
    model: str,
    data: pd.DataFrame,
    model_type: str = "sem",
    *,
    estimator: str | None = None,
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    std_lv: bool = False,
    meanstructure: bool | str = "default",
    fixed_x: bool | str = "default",
    orthogonal: bool = False,
    missing: str = "listwise",
    se: str | None = None,
    information: str | None = None,
    level: float = 0.95,
    bootstrap: int = 1000,
    seed=None,
    n_jobs: int = 1,
    test=None,
    likelihood: str = "default",
    spec_transform=lambda spec: spec,
    **spec_options,
) -> SemFit:
    """Fit a model written in lavaan syntax (the engine behind :func:`sem` and friends).

    See :func:`sem` for the parameters; ``spec_transform`` (ModelSpec -> ModelSpec) edits
    the built parameter table before fitting (e.g. the efa identification).
    """
    from radsem.syntax import build_partable

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    est = str("ML" if estimator is None else estimator).upper()
    if est not in ESTIMATORS:
        raise EstimationError(
            f"estimator {estimator!r} is not available here; choose one of {ESTIMATORS}"
        )
    missing = resolve_missing(missing)
    group_equal = (group_equal,) if isinstance(group_equal, str) else group_equal
    group_partial = (group_partial,) if isinstance(group_partial, str) else group_partial
    check_level(level)
    unknown = sorted(set(spec_options) - set(inspect.signature(build_partable).parameters))
    if unknown:
        raise EstimationError(f"unknown option(s) {', '.join(map(repr, unknown))}")
    core_est, se, information, test, missing = _resolve_options(est, se, information, test, missing)
    wishart = _wishart(likelihood, est, missing, se)
    labels, frames = group_split(data, group)
    spec = build_partable(
        model,
        [c for c in data.columns if c != group],
        model_type=model_type,
        ngroups=len(frames),
        group_labels=labels if group else None,
        meanstructure=meanstructure,
        std_lv=std_lv,
        orthogonal=orthogonal,
        fixed_x=fixed_x,
        group_equal=tuple(group_equal),
        group_partial=tuple(group_partial),
        estimator=est,
        missing=missing,
        **spec_options,
    )
    spec = spec_transform(spec)
    # lavaan: the unbiased covariance for GLS, ULS, WLS, DWLS and the Wishart likelihood
    unbiased = core_est in ("GLS", "ULS", "WLS", "DWLS") or wishart
    stats = _group_stats(labels, frames, spec.observed, missing, bool(group), unbiased)
    core = core_est
    if missing == "ml":
        from radsem.estimation.missing.fiml import drop_missing_covariates

        exo = list(spec.exogenous) if spec.fixed_x else []
        stats = drop_missing_covariates(stats, [spec.observed.index(v) for v in exo], exo)
        core, stats = _fiml(stats)
    if core in ("WLS", "DWLS"):
        from radsem.estimation.families.continuous import adf

        exo = list(spec.exogenous) if spec.fixed_x else []
        core = getattr(adf, core)(spec.meanstructure, [spec.observed.index(v) for v in exo])
    problem = SemProblem(spec, stats, core)
    if wishart:
        problem.likelihood = "wishart"
    result = _optimise(problem, stats, spec.std_lv)
    options = {
        "model_type": model_type,
        "estimator": est,
        "group": group,
        "group_equal": list(group_equal),
        "group_partial": list(group_partial),
        "std_lv": std_lv,
        "meanstructure": spec.meanstructure,
        "fixed_x": spec.fixed_x,
        "orthogonal": orthogonal,
        "missing": missing,
        "se": se,
        "information": information,
        "level": level,
        **spec_options,
    }
    if test is not None:
        options["test"] = list(test)
    if se == "bootstrap" or "bollen.stine" in (test or ()):
        if seed is None:  # drawn once and kept in the options, so the fit can be repeated
            seed = int(np.random.SeedSequence().entropy % (2**63))
        options.update(bootstrap=bootstrap, seed=seed, n_jobs=n_jobs)
    options.update({"likelihood": "wishart"} if wishart else {})
    fit = SemFit(model, data, options, spec, problem, result)
    if not result.converged:
        warnings.warn(
            f"the optimiser did not converge: {result.message}; estimates are not trustworthy",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    # user -> sem() -> fit_model() -> small_blas wrapper -> here -> _check_improper
    fit._check_improper(stacklevel=user_stacklevel())
    if needs_robust_sem(test, se, information):
        fit.scaled_tests  # noqa: B018 - robust tests now (errors and warnings at fit time, as lavaan)
    if "bollen.stine" in (test or ()):
        fit.bollen_stine  # noqa: B018 - the bootstrap test now, as lavaan
    if se == "bootstrap":
        fit.boot  # noqa: B018 - run the bootstrap now (lavaan does; warnings at fit time)
    return fit


def _resolve_options(est, se, information, test, missing):
    """lavaan 0.6-14's defaults and checks of ``se``, ``information``, ``test``, ``missing``."""
    core_est, se, information, test, missing = robust_options(est, se, information, test, missing)
    if missing == "ml" and core_est != "ML":
        raise EstimationError(f"missing='ml' needs estimator 'ML' or 'MLR', not {est!r}")
    # lavaan 0.6-14 defaults: MLR -> robust SEs; observed information for MLR, FIML and
    # robust (Huber-White) SEs
    if se is None:
        se = "robust.huber.white" if est == "MLR" else "standard"
    se = "robust.huber.white" if se == "robust" else se
    if se not in _SE:
        raise EstimationError(f"se must be one of {_SE}, got {se!r}")
    if information is None:
        robust = est == "MLR" or missing == "ml" or se == "robust.huber.white"
        information = "observed" if robust else "expected"
    if information not in ("expected", "observed", "first.order"):
        raise EstimationError(
            f"information must be 'expected', 'observed' or 'first.order', got {information!r}"
        )
    return core_est, se, information, test, missing


def _group_stats(labels, frames, observed, missing: str, grouped: bool, unbiased: bool):
    stats = []
    for lab, frame in zip(labels, frames, strict=True):
        st = sample_stats(frame, observed, missing, label=lab if grouped else "")
        if unbiased:
            st = type(st)(st.data, st.nobs, st.mean, st.cov * st.nobs / (st.nobs - 1))
        stats.append(st)
    return stats


def _wishart(likelihood, est: str, missing: str, se: str) -> bool:
    """lavaan's ``likelihood``: ``"normal"`` (default) or ``"wishart"`` (ML only: unbiased
    sample covariances, test statistics with ``n_g - 1``, standard errors with ``N - G``)."""
    value = "default" if likelihood is None else str(likelihood).lower()
    if value in ("default", "normal"):
        return False
    if value != "wishart":
        raise EstimationError(f"likelihood must be 'normal' or 'wishart', got {likelihood!r}")
    if est != "ML" or missing == "ml" or se not in ("standard", "none"):
        raise EstimationError(
            "likelihood='wishart' is available for estimator='ML' with complete data and "
            "standard errors only"
        )
    return True


def _optimise(problem, stats, std_lv: bool):
    """Minimise from the covariance-based starts; when that fails (e.g. the iterates ran
    along a ridge towards an improper solution at infinity), again from lavaan's simple
    starts (latent variances 0.05); the converged result with the lower minimum wins."""
    result = None
    for simple in (False, True):
        start = problem.model.theta_from_values(
            start_values(problem.model, stats, std_lv, simple=simple)
        )
        with np.errstate(all="ignore"):
            cand = minimize(problem, start)
        if result is None or (cand.converged, -cand.fmin) > (result.converged, -result.fmin):
            result = cand
        if result.converged:
            break
    return result


def _fiml(stats):
    """The FIML estimator and sample statistics holding the EM (h1) moments."""
    from radsem.estimation.core.samplestats import SampleStats
    from radsem.estimation.missing.fiml import FIML

    fiml = FIML()
    out = []
    for st in stats:
        h1 = fiml.h1(st)
        out.append(SampleStats(st.data, st.nobs, h1.mean, h1.cov))
    return FIML(), out
