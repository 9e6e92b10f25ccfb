"""Full-information maximum likelihood (``missing = "ml"``) as a moment-level estimator.

:class:`FIML` has the interface of the estimators in :mod:`radsem.estimation.core.objective`
(``value``, ``gradient``, ``weight`` per group), so :class:`SemProblem` and the optimiser use
it unchanged: ``SemProblem(spec, stats, estimator=FIML())``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning, EstimationError
from radsem.estimation.missing.em import SaturatedMoments, em_saturated
from radsem.estimation.missing.likelihood import (
    MissingPatterns,
    fiml_gradient,
    fiml_information_expected,
    fiml_information_firstorder,
    fiml_information_observed,
    fiml_loglik,
    fiml_scores,
    missing_patterns,
)

__all__ = ["FIML", "drop_missing_covariates", "resolve_missing"]

#: lavaan's other spellings of the ``missing`` options radsem has
_MISSING_ALIASES = {
    "fiml": "ml",
    "direct": "ml",
    "default": "listwise",
    "fiml.x": "ml.x",
    "direct.x": "ml.x",
}


def resolve_missing(missing) -> str:
    """lavaan's ``missing`` option in radsem: ``"listwise"`` or ``"ml"``.

    ``"fiml"`` and ``"direct"`` are lavaan's aliases of ``"ml"`` and ``"default"`` means
    listwise deletion (lavaan's default unless ``mimic = "Mplus"``); case is ignored, as in
    lavaan. ``"ml.x"`` (and its aliases ``"fiml.x"``, ``"direct.x"``) and anything else raise
    :class:`EstimationError`.
    """
    key = str(missing).lower()
    key = _MISSING_ALIASES.get(key, key)
    if key == "ml.x":
        raise EstimationError(
            "missing='ml.x' (FIML that keeps the cases with a missing exogenous covariate "
            "while the covariates' moments stay fixed) is not available in radsem yet; use "
            "missing='ml' with fixed_x=False (the covariates become random: the same cases "
            "are used, but their moments are free parameters, so npar, df and logl differ "
            "from lavaan's ml.x) or missing='ml' (cases with a missing covariate are "
            "removed, as lavaan does)"
        )
    if key not in ("listwise", "ml"):
        raise EstimationError(
            f"missing must be 'listwise' or 'ml' (lavaan's aliases 'fiml', "
            f"'direct'), got {missing!r}"
        )
    return key


class FIML:
    """Casewise normal likelihood of the observed values (lavaan's ``missing = "ml"``).

    Parameters
    ----------
    em_max_iter, em_tol : int, float
        Settings of the EM algorithm for the saturated model (lavaan's ``em.h1.iter.max``
        and ``em.h1.tol``).

    Notes
    -----
    Per group ``F_g = (l_h1,g - l_g(mu, Sigma)) / n_g`` with ``l`` the FIML log-likelihood
    and ``l_h1`` its maximum over unrestricted ``(mu, Sigma)`` (EM). Hence
    ``fmin = sum_g (n_g/N) F_g`` and the test statistic ``2 N fmin = 2 (l_h1 - l)`` is
    lavaan's likelihood-ratio chi-square for missing data. ``weight`` is the expected h1
    information with missing data (for Fisher scoring and ``information = "expected"``);
    lavaan's default for ``missing = "ml"`` is the observed information, i.e. the Hessian
    of ``fmin`` (``SemProblem.hessian``). A mean structure is always used.
    """

    name = "ML"
    meanstructure = True
    #: :meth:`observed_h1` is the exact moment-level Hessian of :meth:`value`
    moment_hessian = True

    def __init__(self, em_max_iter: int = 500, em_tol: float = 1e-5) -> None:
        self.em_max_iter = em_max_iter
        self.em_tol = em_tol
        # keyed by id(stats); the stats object is kept so that an id is never reused
        self._patterns: dict[int, tuple[object, MissingPatterns]] = {}
        self._h1: dict[int, tuple[object, SaturatedMoments]] = {}
        # the last h1 matrix of each kind, keyed by the group and the moments it was
        # computed at (standard errors, the robust test and the fit measures ask again)
        self._last: dict[tuple[str, int], tuple[object, np.ndarray, np.ndarray, np.ndarray]] = {}

    # -- cached per-group pieces ----------------------------------------------------------
    def patterns(self, st) -> MissingPatterns:
        """Missing-data patterns of a group's data (``st.data``, NaN for missing)."""
        hit = self._patterns.get(id(st))
        if hit is None or hit[0] is not st:
            hit = (st, missing_patterns(st.data))
            self._patterns[id(st)] = hit
        return hit[1]

    def h1(self, st) -> SaturatedMoments:
        """EM estimates and log-likelihood of the saturated model of a group."""
        hit = self._h1.get(id(st))
        if hit is None or hit[0] is not st:
            hit = (st, em_saturated(self.patterns(st), self.em_max_iter, self.em_tol))
            self._h1[id(st)] = hit
        return hit[1]

    # -- estimator interface --------------------------------------------------------------
    def value(self, st, mu: np.ndarray, sigma: np.ndarray) -> float:
        """``(l_h1 - l(mu, Sigma)) / n``; ``inf`` when a covariance block is not PD."""
        mp = self.patterns(st)
        try:
            logl = fiml_loglik(mp, mu, sigma)
        except EstimationError:
            return np.inf
        return (self.h1(st).logl - logl) / mp.nobs

    def gradient(self, st, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Derivative of :meth:`value` w.r.t. ``(mu, vech Sigma)``."""
        mp = self.patterns(st)
        return -fiml_gradient(mp, mu, sigma) / mp.nobs

    def _remembered(self, kind: str, compute, st, mu: np.ndarray, sigma: np.ndarray):
        hit = self._last.get((kind, id(st)))
        if (
            hit is not None
            and hit[0] is st
            and np.array_equal(hit[1], mu)
            and np.array_equal(hit[2], sigma)
        ):
            return hit[3].copy()
        value = compute(self.patterns(st), mu, sigma)
        self._last[(kind, id(st))] = (
            st,
            np.array(mu, copy=True),
            np.array(sigma, copy=True),
            value,
        )
        return value.copy()

    def weight(self, st, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Expected (per case) h1 information with missing data at ``(mu, Sigma)``."""
        return self._remembered("expected", fiml_information_expected, st, mu, sigma)

    # -- extras used by the robust and diagnostic code ------------------------------------
    def loglik(self, st, mu: np.ndarray, sigma: np.ndarray) -> float:
        """FIML log-likelihood of a group (with the ``2 pi`` constant, as lavaan's ``logl``)."""
        return fiml_loglik(self.patterns(st), mu, sigma)

    def observed_h1(self, st, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Observed (per case) h1 information at ``(mu, Sigma)``."""
        return self._remembered("observed", fiml_information_observed, st, mu, sigma)

    def firstorder_h1(self, st, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """First-order (casewise scores) h1 information at ``(mu, Sigma)``."""
        return self._remembered("firstorder", fiml_information_firstorder, st, mu, sigma)

    def scores(self, st, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Casewise scores w.r.t. ``(mu, vech Sigma)``."""
        return fiml_scores(self.patterns(st), mu, sigma)


def drop_missing_covariates(stats: list, x_idx: Sequence[int], names: Sequence[str] = ()) -> list:
    """Remove the cases with a missing value on a fixed exogenous covariate (``fixed.x``).

    Parameters
    ----------
    stats : list of SampleStats
        Per group statistics of ``missing = "ml"`` (``data`` may hold NaN).
    x_idx : sequence of int
        Columns of the fixed exogenous covariates.
    names : sequence of str, optional
        Their names, for the warning.

    Returns
    -------
    list of SampleStats
        The same objects where nothing is missing on the covariates, else new ones without
        those rows (available-case means and pairwise ``/N`` covariances, as
        :func:`~radsem.estimation.core.samplestats.sample_stats`).

    Warns
    -----
    DataWarning
        When cases are removed.

    Notes
    -----
    With ``fixed.x = TRUE`` the likelihood is conditional on the covariates, which must
    therefore be observed; lavaan 0.6-14's ``missing = "ml"`` deletes these cases with a
    warning. ``fixed_x=False`` keeps them by treating the covariates as random (lavaan's
    ``missing = "ml.x"`` is not implemented).
    """
    from radsem.estimation.core.samplestats import SampleStats

    xi = np.asarray(list(x_idx), dtype=int)
    if xi.size == 0:
        return list(stats)
    out = []
    for st in stats:
        arr = np.asarray(st.data, float)
        keep = ~np.isnan(arr[:, xi]).any(axis=1)
        if keep.all():
            out.append(st)
            continue
        hit = np.isnan(arr[:, xi]).any(axis=0)
        label = (
            ", ".join(n for n, h in zip(names, hit, strict=True) if h)
            if len(names) == xi.size
            else "among the exogenous covariates"
        )
        warnings.warn(
            f"{int((~keep).sum())} case(s) with missing values on the fixed exogenous "
            f"covariate(s) {label} were removed (fixed_x=True conditions on them; use "
            "fixed_x=False to keep these cases)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
        arr = arr[keep]
        n = arr.shape[0]
        if n < 2:
            raise DataError(f"too few cases with observed exogenous covariates: {n}")
        cov = pd.DataFrame(arr).cov(min_periods=1).to_numpy() * (n - 1) / n
        out.append(SampleStats(arr, n, np.nanmean(arr, axis=0), cov))
    return out
