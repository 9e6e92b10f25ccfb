"""One bootstrap replicate: resampled rows -> sample statistics -> refit from the estimate.

A :class:`RefitContext` holds what every replicate needs (the fitted problem, the data of each
group, the estimate to warm-start from). :meth:`RefitContext.refit` turns the row indices of
one replicate into sample statistics exactly as :func:`radsem.sem` does for the full sample
(biased covariance for ML, unbiased for GLS/ULS, EM moments for FIML, fixed.x covariate
moments from the resample), minimises the same fit function starting at the full-sample
estimate and returns a :class:`Replicate`. As lavaan's ``bootstrapLavaan``, warnings inside a
replicate are silenced; a replicate whose statistics cannot be computed, whose fit raises, or
whose optimiser does not converge is *failed*; a converged replicate with a negative variance
or a non-positive-definite residual or latent covariance matrix is *not admissible* (kept, as
lavaan keeps them, but counted).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import RadsemError
from radsem.estimation.core.optimize import minimize
from radsem.estimation.core.samplestats import SampleStats

_LEAST_SQUARES = ("GLS", "ULS", "WLS", "DWLS")

__all__ = ["Replicate", "RefitContext"]

_PD_TOL = -1e-10


@dataclass(frozen=True)
class Replicate:
    """Outcome of one bootstrap refit.

    Attributes
    ----------
    theta : ndarray or None
        All ``nfree`` free parameters (None when the replicate failed).
    values : ndarray or None
        Values of all parameter rows (fixed.x covariate moments from the resample).
    chisq : float
        Standard test statistic ``2 N fmin`` of the refit (NaN when failed).
    status : {"ok", "failed", "nonconverged"}
    admissible : bool
        No negative variance, residual and latent covariance matrices positive semi-definite.
    message : str
    """

    theta: np.ndarray | None
    values: np.ndarray | None
    chisq: float
    status: str
    admissible: bool
    message: str


class _ReplicateFailed(Exception):
    """The replicate's sample statistics cannot be computed."""


class RefitContext:
    """The pieces of a fitted model that a bootstrap refit needs (picklable).

    Parameters
    ----------
    problem : SemProblem
        The problem of the full-sample fit (``fit.problem``).
    data : list of ndarray
        Per group the rows to resample (``n_g x p``; NaN allowed with FIML). For the
        Bollen-Stine bootstrap these are the transformed data.
    theta : ndarray
        Full-sample estimate (warm start).
    estimator : str
        ``"ML"``, ``"MLR"``, ``"GLS"`` or ``"ULS"`` (the fit's option).
    fiml : bool
        Whether the fit used ``missing="ml"``.
    """

    def __init__(
        self, problem, data: list[np.ndarray], theta: np.ndarray, estimator: str, fiml: bool
    ) -> None:
        self.problem = problem
        self.data = [np.asarray(d, float) for d in data]
        self.theta = np.asarray(theta, float).copy()
        # the discrepancy actually minimised (MLM, MLF, ... are ML; WLSM is DWLS)
        self.estimator = getattr(problem.estimator, "name", estimator)
        self.fiml = bool(fiml)
        par = problem.model.par
        self._has_exo = bool(
            ((par["exo"].to_numpy(int) == 1) & (par["free"].to_numpy(int) == 0)).any()
        )

    # -- sample statistics ----------------------------------------------------------------
    def new_estimator(self):
        """A fresh estimator object (they cache per-sample quantities)."""
        base = self.problem.estimator
        if self.fiml:
            from radsem.estimation.missing.fiml import FIML

            return FIML(base.em_max_iter, base.em_tol)
        if hasattr(base, "x_idx"):  # WLS / DWLS with fixed covariates
            return type(base)(self.problem.meanstructure, base.x_idx)
        return type(base)(self.problem.meanstructure)

    def group_stats(self, arr: np.ndarray, fiml=None) -> SampleStats:
        """Sample statistics of one group's rows (EM moments through ``fiml`` with FIML)."""
        n, p = arr.shape
        if fiml is not None:
            arr = arr[~np.isnan(arr).all(axis=1)]
            if np.isnan(arr).all(axis=0).any():
                raise _ReplicateFailed("a variable has no observed value in the resample")
            n = arr.shape[0]
            pair = pd.DataFrame(arr).cov(min_periods=1).to_numpy() * (n - 1) / n
            h1 = fiml.h1(SampleStats(arr, n, np.nanmean(arr, axis=0), pair))
            return SampleStats(arr, n, h1.mean, h1.cov)
        mean = arr.mean(axis=0)
        cov = np.cov(arr, rowvar=False, bias=True).reshape(p, p)
        var = np.diag(cov)
        if not (var > 0).all():
            raise _ReplicateFailed("a variable has zero variance in the resample")
        if np.linalg.eigvalsh(cov / np.sqrt(np.outer(var, var))).min() <= 1e-10:
            raise _ReplicateFailed("the resampled covariance matrix is not positive definite")
        if self.estimator in _LEAST_SQUARES:  # as radsem.sem: unbiased S for least squares
            cov = cov * n / (n - 1)
        return SampleStats(arr, n, mean, cov)

    def problem_for(self, stats: list, estimator) -> object:
        """A copy of the fitted problem bound to other sample statistics."""
        base = self.problem
        prob = copy.copy(base)
        prob.stats = stats
        prob.nobs = np.array([st.nobs for st in stats], dtype=float)
        prob.ntotal = float(prob.nobs.sum())
        prob.weights = prob.nobs / prob.ntotal
        if self.estimator in _LEAST_SQUARES:
            prob.weights = (prob.nobs - 1.0) / prob.ntotal
        prob.estimator = estimator
        if self._has_exo:  # fixed.x: covariate moments of this resample
            prob.model = copy.copy(base.model)
            prob._set_exogenous()
        return prob

    # -- one replicate --------------------------------------------------------------------
    def refit(self, rows: list[np.ndarray]) -> Replicate:
        """Refit on ``data[g][rows[g]]`` for every group ``g``."""
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                est = self.new_estimator()
                fiml = est if self.fiml else None
                stats = [
                    self.group_stats(arr[idx], fiml)
                    for arr, idx in zip(self.data, rows, strict=True)
                ]
                prob = self.problem_for(stats, est)
                res = minimize(prob, self.theta)
            except (
                _ReplicateFailed,
                RadsemError,
                np.linalg.LinAlgError,
                ValueError,
                FloatingPointError,
                ZeroDivisionError,
            ) as exc:
                return Replicate(None, None, np.nan, "failed", False, str(exc))
        if not res.converged:
            return Replicate(None, None, np.nan, "nonconverged", False, res.message)
        values = prob.model.values(res.theta)
        ok, why = admissible(prob.model, res.theta)
        return Replicate(
            res.theta.copy(), values, 2.0 * prob.ntotal * float(res.fmin), "ok", ok, why
        )

    def refit_many(self, indices: list[np.ndarray], which: np.ndarray) -> list[Replicate]:
        """Refit the replicates ``which`` (``indices[g][b]`` are the rows of replicate ``b``)."""
        return [self.refit([idx[b] for idx in indices]) for b in which]

    def refit_subsets(self, subsets: list[list[np.ndarray]]) -> list[Replicate]:
        """Refit on arbitrary row subsets (one list of per-group rows each; jackknife)."""
        return [self.refit(rows) for rows in subsets]


def admissible(model, theta: np.ndarray) -> tuple[bool, str]:
    """lavaan's post-check: variances >= 0 and residual / latent covariance matrices PSD."""
    values = model.values(theta)
    p = len(model.observed)
    for g in range(len(model.groups)):
        _, s, _ = model.matrices(values, g)
        if (np.diag(s) < 0).any():
            return False, f"negative variance (group {g + 1})"
        if p and np.linalg.eigvalsh(s[:p, :p]).min() < _PD_TOL * max(1.0, np.abs(s).max()):
            return False, f"residual covariance matrix not positive definite (group {g + 1})"
        _, omega, _ = model.implied_full(theta, g)
        lat = omega[p:, p:]
        if lat.size and np.linalg.eigvalsh(lat).min() < _PD_TOL * max(1.0, np.abs(lat).max()):
            return False, f"latent covariance matrix not positive definite (group {g + 1})"
    return True, ""
