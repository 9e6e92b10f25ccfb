"""``radsem.sem(model, data, cluster=...)``: fitting a two-level model by ML.

Steps as lavaan 0.6-14: the stacked parameter table (:mod:`.spec`), the data's within and
between parts (:mod:`.data`), the saturated model (:mod:`.h1`, whose estimates fix the
covariates' moments), the model itself by ML (:mod:`.optimize`), standard errors from the
observed information (lavaan's default for two-level data).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import ConvergenceWarning, DataError, EstimationError
from radsem.estimation.core.inference import check_level, vcov_theta
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.core.samplestats import SampleStats
from radsem.estimation.core.start import start_values
from radsem.estimation.families.twolevel.data import cluster_data
from radsem.estimation.families.twolevel.fit import TwoLevelFit
from radsem.estimation.families.twolevel.h1 import exo_from_h1, fit_h1
from radsem.estimation.families.twolevel.optimize import minimise
from radsem.estimation.families.twolevel.problem import TwoLevelProblem
from radsem.estimation.families.twolevel.robust import robust_vcov
from radsem.estimation.families.twolevel.spec import build_twolevel_spec
from radsem.syntax.levels import has_levels

__all__ = ["fit_twolevel"]

_SPEC_OPTIONS = (
    "std_lv",
    "orthogonal",
    "fixed_x",
    "int_ov_free",
    "int_lv_free",
    "auto_fix_first",
    "auto_fix_single",
    "auto_var",
    "auto_cov_lv_x",
    "auto_cov_y",
    "orthogonal_x",
    "orthogonal_y",
)


@small_blas
def fit_twolevel(
    model: str,
    data: pd.DataFrame,
    model_type: str = "sem",
    *,
    cluster: str | None = None,
    estimator: str | None = None,
    missing: str = "listwise",
    se: str | None = None,
    information: str | None = None,
    level: float = 0.95,
    group: str | None = None,
    meanstructure: bool | str = "default",
    group_equal: Sequence[str] = (),
    **options,
) -> TwoLevelFit:
    """Fit a two-level model (``level: 1`` / ``level: 2`` blocks) by full-information ML.

    Parameters
    ----------
    model : str
        lavaan syntax with a ``level: 1`` (within) and a ``level: 2`` (between) block.
    data : pandas.DataFrame
        One row per level-1 unit; level-2-only variables constant within clusters.
    model_type : {"sem", "cfa", "lavaan"}
    cluster : str
        Column identifying the clusters.
    estimator : {"ML", "MLR"}
        ``"MLR"``: ML estimates, cluster-robust (Huber-White) standard errors and the
        Yuan-Bentler (Mplus) scaled test, as lavaan.
    se : {"standard", "robust.huber.white", "none"}
    information : {"observed"}
        lavaan's default for two-level data (the Hessian of the log-likelihood).
    level : float
        Confidence level of the intervals.
    **options
        ``std_lv``, ``orthogonal``, ``fixed_x``, ``auto_*``, ``int_*_free`` as for
        :func:`radsem.sem`.

    Returns
    -------
    TwoLevelFit

    Raises
    ------
    DataError
        Missing cluster column or variables, missing values, a single cluster, clusters of
        one row only, a level-2 variable varying within a cluster.
    EstimationError
        Options not supported with ``cluster=`` (see ``docs/sem-twolevel.md``).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    est, se, information = _check_options(
        model, cluster, estimator, missing, se, information, group, group_equal, meanstructure
    )
    check_level(level)
    unknown = sorted(set(options) - set(_SPEC_OPTIONS))
    if unknown:
        raise EstimationError(f"unknown option(s) {', '.join(map(repr, unknown))}")
    if cluster not in data.columns:
        raise DataError(f"cluster column {cluster!r} not found in the data")
    tl = build_twolevel_spec(
        model, [c for c in data.columns if c != cluster], model_type=model_type, **options
    )
    cd = cluster_data(data, tl.within, tl.between_only, cluster)
    h1 = fit_h1(cd, tl.within, tl.between, tl.loglik_x)
    names = cd.variables
    problem = TwoLevelProblem(
        tl.spec.partable,
        names,
        tl.spec.latent,
        cd,
        exo_from_h1(h1, names),
        tl.loglik_x,
        tl.spec,
    )
    m = h1.moments
    stats = [
        SampleStats(np.zeros((0, len(names))), cd.nobs, m.mu_w, _padded(m.sigma_w)),
        SampleStats(np.zeros((0, len(names))), cd.nclusters, m.mu_w + m.mu_b, _padded(m.sigma_b)),
    ]
    start = problem.model.theta_from_values(
        start_values(problem.model, stats, bool(options.get("std_lv", False)))
    )
    result = minimise(problem, start)
    if se == "none":
        vcov = np.full((problem.nfree, problem.nfree), np.nan)
    elif se == "robust.huber.white":
        vcov = robust_vcov(problem, result.theta)
    else:
        vcov = vcov_theta(problem, result.theta, "observed")
    opts = {
        "model_type": model_type,
        "estimator": est,
        "cluster": cluster,
        "missing": "listwise",
        "se": se,
        "information": "observed",
        "level": level,
        **options,
    }
    fit = TwoLevelFit(model, data, opts, tl, problem, result, vcov, h1)
    if not result.converged:
        warnings.warn(
            f"the optimiser did not converge: {result.message}; estimates are not trustworthy",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return fit


def _check_options(
    model, cluster, estimator, missing, se, information, group, group_equal, meanstructure
) -> tuple[str, str, str]:
    """Refuse what two-level models do not support yet; resolve the estimator, ``se`` and
    ``information``."""
    if cluster is None:
        raise EstimationError(
            "a two-level model ('level: 1' / 'level: 2' blocks) needs cluster='<column>'"
        )
    if not isinstance(cluster, str):
        raise EstimationError(
            "cluster must be one column name (more than two levels are not supported)"
        )
    if not has_levels(model):
        raise EstimationError(
            "cluster= needs a two-level model written with 'level: 1' / 'level: 2' blocks "
            "(lavaan's cluster-robust standard errors for single-level models are not "
            "supported)"
        )
    est = str("ML" if estimator is None else estimator).upper()
    if est not in ("ML", "MLR"):
        raise EstimationError(
            f"estimator {estimator!r} is not available for two-level models yet; use 'ML' or 'MLR'"
        )
    if str(missing).lower() not in ("listwise", "default"):
        raise EstimationError(
            "missing='ml' is not supported for two-level models yet; the data must be complete"
        )
    se = ("robust.huber.white" if est == "MLR" else "standard") if se is None else se
    se = "robust.huber.white" if se == "robust" else se
    if se not in ("standard", "robust.huber.white", "none"):
        raise EstimationError(
            f"se={se!r} is not available for two-level models "
            "('standard', 'robust.huber.white', 'none')"
        )
    information = "observed" if information is None else information
    if information != "observed":
        raise EstimationError(
            "two-level models use the observed information (information='observed')"
        )
    if group is not None:
        raise EstimationError("multi-group two-level models are not supported yet")
    if group_equal:
        raise EstimationError("group_equal needs groups; not supported with cluster=")
    if meanstructure is False:
        raise EstimationError("two-level models always have a mean structure")
    return est, se, information


def _padded(sigma: np.ndarray) -> np.ndarray:
    """Unit variances where a variable has none at this level (start values only)."""
    out = sigma.copy()
    zero = np.diag(out) <= 0
    out[zero, zero] = 1.0
    return out
