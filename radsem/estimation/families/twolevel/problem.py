"""A two-level model bound to its data: the parameters, the likelihood and its derivatives.

The two blocks of the parameter table are evaluated as two groups of the core's RAM model
(:class:`radsem.estimation.core.matrices.RamModel`) over the variables ``t = (level-1,
between-only)``: block 1 gives ``(mu_W, Sigma_W)``, block 2 ``(mu_B, Sigma_B)``; the
likelihood (:mod:`.likelihood`) needs ``Sigma_W``, ``Sigma_B`` and ``mu_W + mu_B``, and its
gradient reaches the parameters through the core's analytic Jacobian (``delta``) of each
block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.estimation.core.constraints import Constraints
from radsem.estimation.core.matrices import RamModel, vech_indices
from radsem.estimation.families.twolevel.data import ClusterData
from radsem.estimation.families.twolevel.likelihood import (
    cluster_gradients,
    loglik_x,
    minus2_gradient,
    minus2_loglik,
)

__all__ = ["TwoLevelProblem", "Moments"]


class Moments:
    """Within and between moments over ``t`` (each level's variables; zeros elsewhere)."""

    def __init__(self, mu_w, sigma_w, mu_b, sigma_b, p1: int) -> None:
        self.mu_w, self.sigma_w, self.mu_b, self.sigma_b = mu_w, sigma_w, mu_b, sigma_b
        self.p1 = p1

    @property
    def mu(self) -> np.ndarray:
        """``mu_W + mu_B``: the means the likelihood sees."""
        return self.mu_w + self.mu_b


class TwoLevelProblem:
    """Parameters of a two-level table and the log-likelihood of the data.

    Parameters
    ----------
    partable : pandas.DataFrame
        Stacked table whose ``group`` column holds the block (1 within, 2 between).
    variables : tuple of str
        ``t``: level-1 variables then between-only variables (the order of ``cd``).
    latent : tuple of str
    cd : ClusterData
    exo_values : callable, optional
        ``(block, lhs, op, rhs) -> value`` for the fixed exogenous rows (fixed.x).
    x_names : (tuple, tuple)
        Fixed covariates of each level (for lavaan's conditional log-likelihood).
    spec : ModelSpec, optional
        For the equality constraints (None: no constraints).
    """

    def __init__(
        self,
        partable: pd.DataFrame,
        variables,
        latent,
        cd: ClusterData,
        exo_values=None,
        x_names=((), ()),
        spec=None,
    ) -> None:
        self.cd = cd
        self.model = RamModel(partable, variables, latent, 2, True)
        self.nfree = self.model.nfree
        self.ntotal = float(cd.nobs)
        self.p1 = cd.p1
        if exo_values is not None:
            self._set_exogenous(exo_values)
        self.loglik_x = loglik_x(cd, *x_names)
        self.constraints = Constraints(spec, self.model.values, self.nfree) if spec else None
        # level-1 variables that also have a between part (rows with level-2 (co)variances)
        par = self.model.par
        lev2 = set(par.loc[par["group"] == 2, "lhs"]) | set(par.loc[par["group"] == 2, "rhs"])
        self.both = np.array([v in lev2 and k < cd.p1 for k, v in enumerate(variables)])

    def _set_exogenous(self, exo_values) -> None:
        par = self.model.par
        vals = self.model.fixed_values.copy()
        sel = (par["exo"].to_numpy(int) == 1) & (par["free"].to_numpy(int) == 0)
        sel &= ~np.isfinite(par["ustart"].to_numpy(float))
        for pos in np.flatnonzero(sel):
            r = par.iloc[pos]
            vals[pos] = exo_values(int(r["group"]), r["lhs"], r["op"], r["rhs"])
        vals[~np.isfinite(vals)] = 0.0
        self.model.set_fixed_values(vals)

    # -- moments --------------------------------------------------------------------------
    def moments(self, theta: np.ndarray) -> Moments:
        """The within and between moments at ``theta``."""
        (mu_w, s_w), (mu_b, s_b) = self.model.implied_moments(theta)
        return Moments(mu_w, s_w, mu_b, s_b, self.p1)

    # -- likelihood -----------------------------------------------------------------------
    def minus2(self, theta: np.ndarray) -> float:
        """``-2 log L`` of the full data (``inf`` outside the parameter space)."""
        m = self.moments(theta)
        with np.errstate(all="ignore"):
            return minus2_loglik(self.cd, m.sigma_w[: self.p1, : self.p1], m.sigma_b, m.mu)

    def loglik(self, theta: np.ndarray) -> float:
        """lavaan's log-likelihood (conditional on the fixed covariates)."""
        return -0.5 * self.minus2(theta) - self.loglik_x

    def lavaan_fmin(self, theta: np.ndarray) -> float:
        """lavaan's ``fmin`` of a two-level ML fit: ``-log L / N`` of the full data without
        the ``2 pi`` constant."""
        cd = self.cd
        const = (cd.nobs * cd.p1 + cd.nclusters * len(cd.between_only)) * np.log(2 * np.pi)
        return 0.5 * (self.minus2(theta) - const) / cd.nobs

    def fmin(self, theta: np.ndarray) -> float:
        """Objective for the optimiser: ``-log L / N`` (full-data likelihood)."""
        return 0.5 * self.minus2(theta) / self.cd.nobs

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Analytic gradient of :meth:`fmin`."""
        m = self.moments(theta)
        p1 = self.p1
        g_w, g_b, g_mu = minus2_gradient(self.cd, m.sigma_w[:p1, :p1], m.sigma_b, m.mu)
        pt = g_b.shape[0]
        g_w_full = np.zeros((pt, pt))
        g_w_full[:p1, :p1] = g_w
        r, c = vech_indices(pt)
        grad = np.zeros(self.nfree)
        for g, d in zip((g_w_full, g_b), self.model.delta(theta), strict=True):
            sym = 2.0 * g - np.diag(np.diag(g))
            grad += d.T @ np.concatenate([g_mu, sym[r, c]])
        return 0.5 * grad / self.cd.nobs

    def cluster_scores(self, theta: np.ndarray) -> np.ndarray:
        """Scores of the clusters' log-likelihoods, ``(J, nfree)``, as lavaan's first-order
        information uses them (see the comment on within means)."""
        m = self.moments(theta)
        p1 = self.p1
        g_w, g_b, g_mu = cluster_gradients(self.cd, m.sigma_w[:p1, :p1], m.sigma_b, m.mu)
        nclus, pt = g_b.shape[0], g_b.shape[1]
        g_w_full = np.zeros((nclus, pt, pt))
        g_w_full[:, :p1, :p1] = g_w
        r, c = vech_indices(pt)
        scores = np.zeros((nclus, self.nfree))
        eye = np.eye(pt, dtype=bool)
        # lavaan 0.6-14 drops the within-mean part of the scores of variables of both levels
        # (only the sum of the two means is identified); with within covariates of nonzero
        # mean that part is not zero, and lavaan's first-order information leaves it out
        g_mu_w = g_mu.copy()
        g_mu_w[:, self.both] = 0.0
        for g, gm, d in zip((g_w_full, g_b), (g_mu_w, g_mu), self.model.delta(theta), strict=True):
            sym = np.where(eye, g, 2.0 * g)
            scores += np.concatenate([gm, sym[:, r, c]], axis=1) @ d
        return -0.5 * scores

    def hessian(self, theta: np.ndarray, h: float = 1e-5, stencil: int = 3) -> np.ndarray:
        """Hessian of :meth:`fmin`: central (or, ``stencil=5``, five-point) differences of
        the analytic gradient (steps ``h * max(1, |theta_k|)``)."""
        n = self.nfree
        out = np.zeros((n, n))
        for k in range(n):
            e = np.zeros(n)
            e[k] = h * max(1.0, abs(theta[k]))
            if stencil == 3:
                out[:, k] = (self.gradient(theta + e) - self.gradient(theta - e)) / (2 * e[k])
                continue
            g = [self.gradient(theta + s * e) for s in (-2, -1, 1, 2)]
            out[:, k] = (g[0] - 8 * g[1] + 8 * g[2] - g[3]) / (12 * e[k])
        return 0.5 * (out + out.T)
