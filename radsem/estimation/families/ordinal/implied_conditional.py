"""Model-implied reduced form of ordered outcomes given exogenous covariates (conditional.x).

With covariates ``x`` treated as fixed and conditioned on (lavaan's ``conditional.x = TRUE``)
the data identify, per group, the distribution of the latent responses ``y*`` *given* ``x``:
its thresholds, the regression slopes ``PI`` of ``y*`` on ``x`` and the residual correlations.
In RAM form the model holds ``x`` as exogenous observed nodes whose (co)variances and means are
fixed at their sample values; the joint implied moments ``Sigma``, ``mu`` then give the
reduced form by conditioning (which does not depend on the values chosen for ``Sigma_xx``
because nothing in the model points at ``x``)::

    PI        = Sigma_yx Sigma_xx^-1
    Sigma_res = Sigma_yy - PI Sigma_xy
    mu_res    = mu_y - PI mu_x

and, with ``s = sqrt(diag Sigma_res)`` on the ordered variables (1 for continuous ones),
lavaan's ``WLS.est``: thresholds ``(tau - mu_res) / s`` (``-mu_res`` for continuous
variables), slopes ``PI / s`` covariate by covariate, residual variances of the continuous
variables, residual correlations ``Sigma_res / (s s')``. In the delta parameterisation the
*residual* (conditional) variance of every ordered ``y*`` is ``1 / delta^2`` (lavaan's
``res.cov`` has a unit diagonal). The Jacobian follows from that of the joint moments
(``Sigma_xx`` is fixed): ``dPI = dSigma_yx Sigma_xx^-1``,
``dSigma_res = dSigma_yy - dPI Sigma_xy - PI dSigma_xy``, ``dmu_res = dmu_y - dPI mu_x``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.families.ordinal.implied import GroupImplied, OrdinalModel

__all__ = ["ConditionalOrdinalModel", "ConditionalImplied"]


@dataclass(frozen=True)
class ConditionalImplied(GroupImplied):
    """:class:`GroupImplied` plus the reduced form (endogenous variables only).

    ``sigma``, ``mu``, ``scale`` and ``residual`` are indexed by all observed variables
    (covariates included: their sample covariance and means, scale 1); ``sigma_res`` /
    ``mu_res`` are the residual covariance and intercepts of the endogenous latent responses,
    ``pi`` their slopes on the covariates (``p_endo x nx``), unscaled.
    """

    sigma_res: np.ndarray = None
    mu_res: np.ndarray = None
    pi: np.ndarray = None


class ConditionalOrdinalModel(OrdinalModel):
    """:class:`OrdinalModel` for the conditional (reduced-form) sample statistics.

    Parameters
    ----------
    spec : ModelSpec
        With ``conditional_x`` and exogenous covariates.
    ngroups : int
    parameterization : {"delta", "theta"}
    stats : list of ConditionalStats
        Per group: the covariates' sample means and covariances fill the fixed ``x ~~ x``
        and ``x ~1`` rows.
    free_slopes_baseline : bool
        lavaan's ``baseline.conditional.x.free.slopes``: whether the baseline model keeps the
        slopes free (they count among the marginal elements) or fixes them to zero.

    Attributes
    ----------
    endo : numpy.ndarray of int
        Positions of the endogenous variables among ``observed``.
    exo : numpy.ndarray of int
        Positions of the covariates among ``observed``.
    baseline_free : numpy.ndarray of int
        Elements of ``WLS.est`` that are free in the baseline model.
    cor_local : tuple of numpy.ndarray
        Row and column (among the endogenous variables) of each residual correlation.
    """

    def __init__(
        self,
        spec,
        ngroups: int,
        parameterization: str,
        stats: list,
        free_slopes_baseline: bool = True,
    ) -> None:
        self._xnames = tuple(spec.exogenous)
        self.free_slopes_baseline = bool(free_slopes_baseline)
        super().__init__(spec, ngroups, parameterization)
        self._fill_exogenous(stats)

    # -- construction ---------------------------------------------------------------------
    def _setup_groups(self, par) -> None:
        obs = {v: k for k, v in enumerate(self.observed)}
        xset = set(self._xnames)
        self.exo = np.array([obs[v] for v in self._xnames], int)
        self.endo = np.array([k for k, v in enumerate(self.observed) if v not in xset], int)
        self._index_univariate(par, [self.observed[k] for k in self.endo])
        pe, nx = self.endo.size, self.exo.size
        self.n_slopes = pe * nx
        lr, lc = np.tril_indices(pe, -1)
        order = np.lexsort((lr, lc))  # column by column
        self.cor_r, self.cor_c = self.endo[lr[order]], self.endo[lc[order]]
        self.cor_local = (lr[order], lc[order])
        self.n_marginal = self.n_uni + self.n_slopes + self.num.size
        slots = np.arange(self.n_marginal)
        if not self.free_slopes_baseline:
            slots = np.concatenate(
                [np.arange(self.n_uni), np.arange(self.n_uni + self.n_slopes, self.n_marginal)]
            )
        self.baseline_free = slots

    def _fill_exogenous(self, stats: list) -> None:
        """Fixed ``x ~~ x`` / ``x ~1`` rows at the sample covariances (divisor N - 1, as
        lavaan) and means."""
        par = self.par
        lhs, op, rhs = par["lhs"].to_numpy(), par["op"].to_numpy(), par["rhs"].to_numpy()
        grp, free = par["group"].to_numpy(int), par["free"].to_numpy(int)
        xpos = {v: k for k, v in enumerate(self._xnames)}
        for r in range(len(par)):
            if free[r] > 0 or lhs[r] not in xpos:
                continue
            st = stats[grp[r] - 1]
            if op[r] == "~~" and rhs[r] in xpos:
                self.fixed_values[r] = st.cov_x[xpos[lhs[r]], xpos[rhs[r]]]
            elif op[r] == "~1":
                self.fixed_values[r] = st.mean_x[xpos[lhs[r]]]
        self.ram.set_fixed_values(self.fixed_values[self.ram_rows])

    # -- implied moments ------------------------------------------------------------------
    def implied(self, theta: np.ndarray) -> list[ConditionalImplied]:
        """Reduced-form thresholds, slopes and residual correlations per group."""
        vals = self._raw_values(theta)
        ram_vals = vals[self.ram_rows]
        ordered = np.array([v in self.ordered for v in self.observed])
        e, x = self.endo, self.exo
        oe = ordered[e]
        p = len(self.observed)
        out = []
        for g in range(self.ngroups):
            b, omega, nu = self.ram._pieces(ram_vals, g)
            sig, mu = omega[:p, :p], nu[:p]
            pi = np.linalg.solve(sig[np.ix_(x, x)], sig[np.ix_(x, e)]).T
            sres = sig[np.ix_(e, e)] - pi @ sig[np.ix_(x, e)]
            mres = mu[e] - pi @ mu[x]
            resid = np.zeros(p)
            if self.parameterization == "delta":
                delta = self._deltas(vals, g)
                be = b[:p, :p][np.ix_(e, e)]
                target = 1.0 / delta[e][oe] ** 2 - np.diag(sres)[oe]
                c = np.linalg.solve(be[np.ix_(oe, oe)] ** 2, target)
                resid[e[oe]] = c
                bcol = be[:, oe]
                sres = sres + (bcol * c) @ bcol.T
            else:
                resid[ordered] = np.diag(self.ram.matrices(ram_vals, g)[1])[:p][ordered]
            with np.errstate(invalid="ignore", divide="ignore"):
                se = np.where(oe, np.sqrt(np.diag(sres)), 1.0)
            scale = np.ones(p)
            scale[e] = se
            wls = self._wls(g, vals, sres, mres, pi, se)
            full = np.zeros((p, p))
            full[np.ix_(e, e)] = sres
            full[np.ix_(x, x)] = sig[np.ix_(x, x)]
            mfull = mu.copy()
            mfull[e] = mres
            out.append(ConditionalImplied(wls, full, mfull, scale, resid, sres, mres, pi))
        return out

    def _wls(self, g, vals, sres, mres, pi, se) -> np.ndarray:
        loc = {int(k): i for i, k in enumerate(self.endo)}
        tv = np.array([loc[int(k)] for k in self.th_var[g]], int)
        num = np.array([loc[int(k)] for k in self.num], int)
        uni = np.zeros(self.n_uni)
        uni[self.th_slot[g]] = (vals[self.th_rows[g]] - mres[tv]) / se[tv]
        uni[self.mean_slot] = -mres[num]
        slopes = (pi / se[:, None]).T.reshape(-1)
        lr, lc = self.cor_local
        cor = sres[lr, lc] / (se[lr] * se[lc])
        return np.concatenate([uni, slopes, np.diag(sres)[num], cor])

    # -- Jacobian -------------------------------------------------------------------------
    def jacobian(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group ``d WLS.est / d theta`` (one column per free parameter)."""
        dram = self.ram.delta(theta[self.ram_free])
        imps = self.implied(theta)
        p = len(self.observed)
        e, x = self.endo, self.exo
        loc = {int(k): i for i, k in enumerate(e)}
        vr, vc = vech_indices(p)
        ordered = np.array([v in self.ordered for v in self.observed])
        oe = ordered[e]
        free = self.par["free"].to_numpy(int)
        q = self.nfree
        lr, lc = self.cor_local
        num = np.array([loc[int(k)] for k in self.num], int)
        out = []
        for g, imp in enumerate(imps):
            dsig = np.zeros((p, p, q))
            dmu = np.zeros((p, q))
            dg = dram[g]
            dmu[:, self.ram_free] = dg[:p]
            tmp = np.zeros((p, p, len(self.ram_free)))
            tmp[vr, vc] = dg[p:]
            tmp[vc, vr] = dg[p:]
            dsig[:, :, self.ram_free] = tmp
            sig = self._joint_sigma(imp)
            sxx_inv = np.linalg.inv(sig[np.ix_(x, x)])
            pi = imp.pi
            dpi = np.einsum("ekq,kl->elq", dsig[np.ix_(e, x)], sxx_inv)
            dsres = (
                dsig[np.ix_(e, e)]
                - np.einsum("ekq,kf->efq", dpi, sig[np.ix_(x, e)])
                - np.einsum("ek,kfq->efq", pi, dsig[np.ix_(x, e)])
            )
            dmres = dmu[e] - np.einsum("ekq,k->eq", dpi, imp.mu[x]) - pi @ dmu[x]
            se = imp.scale[e]
            if self.parameterization == "delta":
                idx = np.flatnonzero(oe)
                dsres[idx, idx, :] = 0.0
                rows = self.scale_rows[g]
                for k in idx:
                    r = rows[e[k]]
                    if r >= 0 and free[r] > 0:
                        dsres[k, k, free[r] - 1] = -2.0 * se[k] ** 3
            dse = np.zeros((e.size, q))
            dse[oe] = dsres[oe, oe, :] / (2.0 * se[oe, None])
            tv = np.array([loc[int(k)] for k in self.th_var[g]], int)
            th = imp.wls[self.th_slot[g]]
            dtau = np.zeros((tv.size, q))
            fr = free[self.th_rows[g]]
            dtau[np.flatnonzero(fr > 0), fr[fr > 0] - 1] = 1.0
            duni = np.zeros((self.n_uni, q))
            duni[self.th_slot[g]] = (dtau - dmres[tv]) / se[tv, None] - th[:, None] * dse[tv] / se[
                tv, None
            ]
            duni[self.mean_slot] = -dmres[num]
            dsl = dpi / se[:, None, None] - (pi / se[:, None] ** 2)[:, :, None] * dse[:, None, :]
            dslopes = dsl.transpose(1, 0, 2).reshape(self.n_slopes, q)
            cor = imp.wls[self.n_marginal :]
            dcor = dsres[lr, lc] / (se[lr] * se[lc])[:, None] - cor[:, None] * (
                dse[lr] / se[lr, None] + dse[lc] / se[lc, None]
            )
            dvar = dsres[num, num]
            out.append(np.vstack([duni, dslopes, dvar, dcor]))
        return out

    def _joint_sigma(self, imp: ConditionalImplied) -> np.ndarray:
        """Joint covariance of endogenous responses and covariates (for the Jacobian)."""
        e, x = self.endo, self.exo
        sxx = imp.sigma[np.ix_(x, x)]
        sig = imp.sigma.copy()
        sig[np.ix_(e, x)] = imp.pi @ sxx
        sig[np.ix_(x, e)] = sig[np.ix_(e, x)].T
        sig[np.ix_(e, e)] = imp.sigma_res + imp.pi @ sxx @ imp.pi.T
        return sig

    def sample_joint(self, st) -> tuple[np.ndarray, np.ndarray]:
        """Unconditional covariance and means of all observed variables implied by the
        conditional sample statistics ``st`` (for starting values): ``Sigma_yy = R + PI
        Sigma_xx PI'``, ``Sigma_yx = PI Sigma_xx``, ``mu_y = int + PI mu_x``."""
        p = len(self.observed)
        e, x = self.endo, self.exo
        sxx = np.asarray(st.cov_x, float)
        pi = np.asarray(st.slopes, float)
        cov = np.zeros((p, p))
        cov[np.ix_(e, e)] = np.asarray(st.cov, float) + pi @ sxx @ pi.T
        cov[np.ix_(e, x)] = pi @ sxx
        cov[np.ix_(x, e)] = cov[np.ix_(e, x)].T
        cov[np.ix_(x, x)] = sxx
        mean = np.zeros(p)
        mean[e] = np.asarray(st.mean, float) + pi @ st.mean_x
        mean[x] = st.mean_x
        return cov, mean
