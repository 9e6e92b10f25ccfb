"""The estimation problem: a model, its sample statistics and an estimator's discrepancy.

:class:`SemProblem` is the parameter-level object the optimiser and the inference code work
with. Its pieces are deliberately separate so that other estimators (FIML, robust) can reuse
them:

* :meth:`SemProblem.implied_moments` -- per group ``(mu, Sigma)`` at ``theta``;
* :meth:`SemProblem.delta` -- per group Jacobian of ``(mu, vech Sigma)`` w.r.t. ``theta``;
* :attr:`SemProblem.stats` -- per group :class:`SampleStats`;
* :meth:`SemProblem.h1_information` -- per group (per case) information of the saturated
  model that the estimator uses (``W_g``);
* :attr:`SemProblem.weights` -- ``n_g / N``;
* :attr:`SemProblem.estimator` -- object with ``value/gradient/weight`` at the moment level
  (see :mod:`radsem.estimation.core.objective`); replace it to plug in another discrepancy.
"""

from __future__ import annotations

import numpy as np

from radsem.estimation.core.constraints import Constraints
from radsem.estimation.core.matrices import RamModel
from radsem.estimation.core.objective import ESTIMATORS
from radsem.estimation.core.samplestats import SampleStats

__all__ = ["SemProblem"]


class SemProblem:
    """A parameter table bound to data.

    Parameters
    ----------
    spec : ModelSpec
    stats : list of SampleStats
        One per group, variables in the order of ``spec.observed``.
    estimator : str or estimator object
        ``"ML"``, ``"GLS"``, ``"ULS"`` or an object with ``value``, ``gradient``, ``weight``.
    partable : DataFrame, optional
        Use this table instead of ``spec.partable`` (e.g. a baseline model).
    """

    #: ``"normal"``, or lavaan's ``"wishart"``: test statistics with ``n_g - 1`` (set by the
    #: continuous family for ``likelihood="wishart"`` / ``mimic="EQS"``)
    likelihood = "normal"

    def __init__(self, spec, stats: list[SampleStats], estimator="ML", partable=None) -> None:
        self.spec = spec
        self.stats = stats
        self.meanstructure = bool(spec.meanstructure)
        pt = spec.partable if partable is None else partable
        self.model = RamModel(pt, spec.observed, spec.latent, len(stats), self.meanstructure)
        if isinstance(estimator, str):
            estimator = ESTIMATORS[estimator](self.meanstructure)
        self.estimator = estimator
        self.nobs = np.array([st.nobs for st in stats], dtype=float)
        self.ntotal = float(self.nobs.sum())
        self.weights = self.nobs / self.ntotal
        if getattr(estimator, "name", "") in ("GLS", "ULS", "WLS", "DWLS"):
            # lavaan: least-squares discrepancies are weighted by (n_g - 1) / N
            self.weights = (self.nobs - 1.0) / self.ntotal
        self._set_exogenous()
        self.constraints = (
            Constraints(spec, self.model.values, self.model.nfree) if partable is None else None
        )

    @property
    def nfree(self) -> int:
        """Number of free parameters (lavaan's numbering, before equality constraints)."""
        return self.model.nfree

    def _set_exogenous(self) -> None:
        """fixed.x: exogenous covariate (co)variances and means fixed at sample values."""
        par = self.model.par
        vals = self.model.fixed_values.copy()
        obs = {v: k for k, v in enumerate(self.model.observed)}
        sel = (par["exo"].to_numpy(int) == 1) & (par["free"].to_numpy(int) == 0)
        sel &= ~np.isfinite(par["ustart"].to_numpy(float))
        for pos in np.flatnonzero(sel):
            st = self.stats[int(par.at[pos, "group"]) - 1]
            lhs, op, rhs = par.at[pos, "lhs"], par.at[pos, "op"], par.at[pos, "rhs"]
            if op == "~~":
                vals[pos] = st.cov[obs[lhs], obs[rhs]]
            elif op == "~1":
                vals[pos] = st.mean[obs[lhs]]
        vals[~np.isfinite(vals)] = 0.0
        self.model.set_fixed_values(vals)

    # -- moment-level pieces --------------------------------------------------------------
    def implied_moments(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per group ``(mu, Sigma)``; without mean structure ``mu`` is the sample mean."""
        out = self.model.implied_moments(theta)
        if not self.meanstructure:
            out = [(st.mean.copy(), sig) for st, (_, sig) in zip(self.stats, out, strict=True)]
        return out

    def delta(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group Jacobian of ``(mu, vech Sigma)`` (``mu`` rows only with a mean structure)
        with respect to the ``nfree`` parameters; see :meth:`RamModel.delta`."""
        return self.model.delta(theta)

    def h1_information(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group, per case weight/information of the estimator at ``theta``."""
        return [
            self.estimator.weight(st, mu, sig)
            for st, (mu, sig) in zip(self.stats, self.implied_moments(theta), strict=True)
        ]

    def test_factors(self) -> np.ndarray:
        """Per group ``c_g`` of the test statistic ``2 sum_g c_g F_g``: ``n_g``, or
        ``n_g - 1`` with the Wishart likelihood (lavaan's ``NFAC``)."""
        return self.nobs - 1.0 if self.likelihood == "wishart" else self.nobs.copy()

    # -- parameter-level ------------------------------------------------------------------
    def fmin(self, theta: np.ndarray) -> float:
        """lavaan's fit function value ``sum_g (n_g/N) F_g`` (``inf`` outside the domain)."""
        total = 0.0
        for w, st, (mu, sig) in zip(
            self.weights, self.stats, self.implied_moments(theta), strict=True
        ):
            f = self.estimator.value(st, mu, sig)
            if not np.isfinite(f):
                return np.inf
            total += w * f
        return total

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Analytic gradient of :meth:`fmin` (chain rule through :meth:`delta`)."""
        grad = np.zeros(self.nfree)
        moments = self.implied_moments(theta)
        for w, st, (mu, sig), d in zip(
            self.weights, self.stats, moments, self.delta(theta), strict=True
        ):
            grad += w * (d.T @ self.estimator.gradient(st, mu, sig))
        return grad

    def information(self, theta: np.ndarray) -> np.ndarray:
        """Expected (per case) information ``sum_g (n_g/N) Delta_g' W_g Delta_g``."""
        info = np.zeros((self.nfree, self.nfree))
        quadratic = getattr(self.estimator, "quadratic", None)
        if quadratic is not None:  # fast path: the estimator forms Delta' W Delta itself
            for w, st, (mu, sig), d in zip(
                self.weights,
                self.stats,
                self.implied_moments(theta),
                self.delta(theta),
                strict=True,
            ):
                info += w * quadratic(st, mu, sig, d)
            return info
        for w, d, wg in zip(
            self.weights, self.delta(theta), self.h1_information(theta), strict=True
        ):
            info += w * (d.T @ wg @ d)
        return info

    def hessian(self, theta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
        """Hessian of :meth:`fmin` (lavaan's observed information, per case).

        Estimators that know their moment-level Hessian (``observed_h1``, e.g. FIML) give
        ``sum_g w_g [Delta_g' H_g Delta_g + sum_j g_gj d2m_gj/dtheta2]``, where only the
        curvature of the model's moments (no data) is differenced; the others difference
        the analytic gradient.
        """
        if getattr(self.estimator, "moment_hessian", False):
            return self._hessian_from_moments(theta, eps)
        n = self.nfree
        hess = np.zeros((n, n))
        for k in range(n):
            h = eps * max(1.0, abs(theta[k]))
            e = np.zeros(n)
            e[k] = h
            hess[:, k] = (self.gradient(theta + e) - self.gradient(theta - e)) / (2 * h)
        return 0.5 * (hess + hess.T)

    def _hessian_from_moments(self, theta: np.ndarray, eps: float) -> np.ndarray:
        """Hessian through the moment-level Hessian and the curvature of the moments.

        ``d2F/dtheta2 = Delta' H Delta + sum_j g_j d2m_j/dtheta2`` with ``H`` and ``g`` the
        estimator's Hessian and gradient at the implied moments; the second term differences
        the Jacobian ``Delta`` (model algebra only), so the data are visited once.
        """
        n = self.nfree
        hess = np.zeros((n, n))
        grads = []
        for w, st, (mu, sig), d in zip(
            self.weights, self.stats, self.implied_moments(theta), self.delta(theta), strict=True
        ):
            hess += w * (d.T @ self.estimator.observed_h1(st, mu, sig) @ d)
            grads.append(w * self.estimator.gradient(st, mu, sig))
        for k in range(n):
            h = eps * max(1.0, abs(theta[k]))
            e = np.zeros(n)
            e[k] = h
            ahead, behind = self.delta(theta + e), self.delta(theta - e)
            for g, a, b in zip(grads, ahead, behind, strict=True):
                hess[:, k] += (a - b).T @ g / (2 * h)
        return 0.5 * (hess + hess.T)
