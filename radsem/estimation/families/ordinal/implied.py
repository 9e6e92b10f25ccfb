"""Model-implied thresholds and correlations of ordered indicators (delta / theta parameterisation).

Every ordered variable ``y`` is the discretised version of a normal latent response ``y*``
with thresholds ``tau``. The structural model (loadings, regressions, (co)variances, latent
means) gives the mean ``mu*`` and covariance ``Sigma*`` of the latent responses (RAM form, see
:mod:`radsem.estimation.core.matrices`). What the data identify are the thresholds and the
correlations of the standardised responses, so with ``s = sqrt(diag Sigma*)``::

    implied thresholds    tau_k(y) = (tau_k - mu*_y) / s_y
    implied correlations  rho_ij   = Sigma*_ij / (s_i s_j)

*Delta parameterisation* (lavaan's default): the scaling parameters ``delta_y`` (``y ~*~ y``,
fixed to 1 in a single group) set the total variance of ``y*`` to ``1 / delta_y^2``; the
residual variances of the ordered variables are not parameters but what is left over,
``theta_y = 1/delta_y^2 - (Lambda Psi Lambda')_yy`` (generally: the solution of
``diag Sigma*(theta) = 1/delta^2`` on the ordered variables). *Theta parameterisation*: the
residual variances are parameters (fixed to 1 in a single group) and ``s`` follows from them.

The sample counterpart (lavaan's ``WLS.obs``) stacks per group the thresholds of each
variable in variable order (minus the mean for a continuous variable), then the variances of
the continuous variables, then the correlations (covariances for continuous variables, which
are not rescaled) ``vech`` without the diagonal (lower triangle column by column).
:meth:`OrdinalModel.jacobian` gives the derivative of that vector with respect to all free
parameters (lavaan's ``Delta``), analytically. In the delta parameterisation ordered responses
may not predict other variables (see :meth:`OrdinalModel._check_delta_paths`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import EstimationError, ModelSpecificationError
from radsem.estimation.core.matrices import RamModel, vech_indices

__all__ = ["OrdinalModel", "GroupImplied"]

_RAM_OPS = ("=~", "~", "~~", "~1")


@dataclass(frozen=True)
class GroupImplied:
    """Implied moments of one group.

    Attributes
    ----------
    wls : ndarray
        ``(thresholds / -means, variances of continuous variables, correlations)`` in
        lavaan's ``WLS.est`` order.
    sigma : ndarray
        Covariance of the latent responses ``Sigma*`` (residual variances included).
    mu : ndarray
        Means of the latent responses.
    scale : ndarray
        ``sqrt(diag Sigma*)`` (``1 / delta`` in the delta parameterisation).
    residual : ndarray
        Residual variances of the ordered responses (computed in the delta parameterisation).
    """

    wls: np.ndarray
    sigma: np.ndarray
    mu: np.ndarray
    scale: np.ndarray
    residual: np.ndarray


class OrdinalModel:
    """A parameter table with thresholds, evaluated for categorical data (ordered variables,
    possibly with continuous ones).

    Parameters
    ----------
    spec : ModelSpec
        From :func:`radsem.syntax.build_partable` with ``ordered=`` (``|`` and ``~*~`` rows).
    ngroups : int
    parameterization : {"delta", "theta"}

    Attributes
    ----------
    par : pandas.DataFrame
        All parameter rows (no ``==``/``<``/``>``/``:=``), in table order.
    nfree : int
    free_rows : ndarray of int
        Parameter row of free parameter ``k``.
    ram : RamModel
        The structural part (rows ``=~ ~ ~~ ~1``), renumbered.
    """

    def __init__(self, spec, ngroups: int, parameterization: str = "delta") -> None:
        if parameterization not in ("delta", "theta"):
            raise ModelSpecificationError(
                f"parameterization must be 'delta' or 'theta', got {parameterization!r}"
            )
        self.spec = spec
        self.parameterization = parameterization
        self.observed = tuple(spec.observed)
        self.latent = tuple(spec.latent)
        self.ordered = tuple(spec.ordered)
        self.ngroups = int(ngroups)
        pt = spec.partable
        par = pt[~pt["op"].isin(["==", "<", ">", ":="])].reset_index(drop=True)
        self.par = par
        free = par["free"].to_numpy(int)
        self.nfree = int(free.max()) if len(par) else 0
        self.free_rows = np.full(self.nfree, -1, dtype=int)
        for pos in np.flatnonzero(free > 0):
            self.free_rows[free[pos] - 1] = pos
        self.fixed_values = par["ustart"].to_numpy(float).copy()
        self.fixed_values[~np.isfinite(self.fixed_values)] = 0.0
        self._setup_ram(par)
        self._setup_groups(par)
        self._check_delta_paths()

    # -- construction ---------------------------------------------------------------------
    def _setup_ram(self, par: pd.DataFrame) -> None:
        ram_mask = par["op"].isin(_RAM_OPS).to_numpy()
        self.ram_rows = np.flatnonzero(ram_mask)
        sub = par.loc[ram_mask].copy()
        old = sub["free"].to_numpy(int)
        used = np.unique(old[old > 0])
        renum = {int(f): k + 1 for k, f in enumerate(used)}
        sub["free"] = [renum.get(int(f), 0) for f in old]
        # theta (full numbering) -> theta of the RAM part
        self.ram_free = np.array([int(f) - 1 for f in used], dtype=int)
        self.ram = RamModel(
            sub.reset_index(drop=True), self.observed, self.latent, self.ngroups, True
        )
        ordv = set(self.ordered)
        lhs, op, rhs = par["lhs"].to_numpy(), par["op"].to_numpy(), par["rhs"].to_numpy()
        # delta parameterisation: the residual variances of ordered responses are computed
        self.resid_rows = np.flatnonzero((op == "~~") & (lhs == rhs) & np.isin(lhs, list(ordv)))
        free = par["free"].to_numpy(int)
        if self.parameterization == "delta" and (free[self.resid_rows] > 0).any():
            raise ModelSpecificationError(
                "residual variances of ordered variables cannot be free parameters in the "
                "delta parameterization; use parameterization='theta'"
            )

    def _index_univariate(self, par: pd.DataFrame, names) -> None:
        """Slots of the univariate statistics of ``names`` (in their order): the thresholds of
        ordered variables (table order) and one "-mean" slot per continuous one; per group
        the threshold rows, variables and slots, and the rows of the scale factors."""
        obs = {v: k for k, v in enumerate(self.observed)}
        lhs, op, grp = par["lhs"].to_numpy(), par["op"].to_numpy(), par["group"].to_numpy(int)
        ordv = set(self.ordered)
        self.th_rows, self.th_var, self.th_slot, self.scale_rows = [], [], [], []
        # continuous variables: one "-mean" slot among the thresholds, one variance slot
        self.num = np.array([obs[v] for v in names if v not in ordv], int)
        for g in range(1, self.ngroups + 1):
            rows, var, slot, mean_slot = [], [], [], []
            pos = 0
            for v in names:  # thresholds in table order
                if v in ordv:
                    sel = np.flatnonzero((op == "|") & (lhs == v) & (grp == g))
                    rows += list(sel)
                    var += [obs[v]] * len(sel)
                    slot += list(range(pos, pos + len(sel)))
                    pos += len(sel)
                else:
                    mean_slot.append(pos)
                    pos += 1
            self.th_rows.append(np.array(rows, int))
            self.th_var.append(np.array(var, int))
            self.th_slot.append(np.array(slot, int))
            if g == 1:
                self.mean_slot = np.array(mean_slot, int)
                self.n_uni = pos
            sc = np.full(len(self.observed), -1, int)
            for r in np.flatnonzero((op == "~*~") & (grp == g)):
                sc[obs[lhs[r]]] = r
            self.scale_rows.append(sc)

    def _setup_groups(self, par: pd.DataFrame) -> None:
        self._index_univariate(par, self.observed)
        p = len(self.observed)
        self.cor_r, self.cor_c = np.tril_indices(p, -1)
        order = np.lexsort((self.cor_r, self.cor_c))  # column by column
        self.cor_r, self.cor_c = self.cor_r[order], self.cor_c[order]
        self.n_marginal = self.n_uni + self.num.size  # thresholds/means, then variances

    def _check_delta_paths(self) -> None:
        """Delta parameterisation: refuse ordered responses that predict other variables.

        There lavaan 0.6-14 reports the residual variance of the outcome without the part
        explained through the ordered predictor's residual, and its standard errors differ from
        the exact derivatives used here (measured: 0.086 vs 0.063 for ``x5 ~ x4``); the theta
        parameterisation agrees with lavaan and is the one to use for such models.
        """
        if self.parameterization != "delta":
            return
        par = self.ram.par
        paths = par[(par["op"] == "~") & par["rhs"].isin(list(self.ordered))]
        if len(paths):
            names = ", ".join(sorted(set(paths["lhs"] + " ~ " + paths["rhs"])))
            raise EstimationError(
                f"ordered variables predict other variables ({names}); with the delta "
                "parameterization radsem's standard errors would not reproduce lavaan's, so "
                "this is refused: fit the model with parameterization='theta' (checked "
                "against lavaan)"
            )

    # -- values ---------------------------------------------------------------------------
    def values(self, theta: np.ndarray) -> np.ndarray:
        """Values of all parameter rows for free ``theta`` as lavaan reports them: in the delta
        parameterisation the residual variances of the ordered variables are the computed
        ones; in the theta parameterisation the scaling rows ``~*~`` hold ``1 / sqrt(diag
        Sigma*)``."""
        out = self.fixed_values.copy()
        out[self.free_rows] = theta
        obs = {v: k for k, v in enumerate(self.observed)}
        grp, lhs = self.par["group"].to_numpy(int), self.par["lhs"].to_numpy()
        for g, imp in enumerate(self.implied(theta)):
            if self.parameterization == "delta":
                for pos in self.resid_rows[grp[self.resid_rows] == g + 1]:
                    out[pos] = imp.residual[obs[lhs[pos]]]
            else:
                sc = self.scale_rows[g]
                for k in np.flatnonzero(sc >= 0):
                    out[sc[k]] = 1.0 / imp.scale[k]
        return out

    def _raw_values(self, theta: np.ndarray) -> np.ndarray:
        out = self.fixed_values.copy()
        out[self.free_rows] = theta
        if self.parameterization == "delta":
            out[self.resid_rows] = 0.0
        return out

    def theta_from_values(self, values: np.ndarray) -> np.ndarray:
        """The free-parameter vector contained in row ``values``."""
        return np.asarray(values, float)[self.free_rows].copy()

    def ram_model(self, theta: np.ndarray) -> tuple[RamModel, np.ndarray]:
        """A :class:`RamModel` whose fixed rows hold the values at ``theta`` (computed residual
        variances included) and the RAM parameter vector: for standardisation."""
        vals = self.values(theta)
        ram = RamModel(self.ram.par, self.observed, self.latent, self.ngroups, True)
        ram.set_fixed_values(vals[self.ram_rows])
        return ram, theta[self.ram_free]

    # -- implied moments ------------------------------------------------------------------
    def implied(self, theta: np.ndarray) -> list[GroupImplied]:
        """Implied thresholds and correlations per group."""
        vals = self._raw_values(theta)
        ram_vals = vals[self.ram_rows]
        ordered = np.array([v in self.ordered for v in self.observed])
        p = len(self.observed)
        out = []
        for g in range(self.ngroups):
            b, omega, nu = self.ram._pieces(ram_vals, g)
            sigma, mu = omega[:p, :p].copy(), nu[:p].copy()
            resid = np.zeros(p)
            if self.parameterization == "delta":
                delta = self._deltas(vals, g)
                bo = b[:p, :p][np.ix_(ordered, ordered)]
                target = 1.0 / delta[ordered] ** 2 - np.diag(sigma)[ordered]
                c = np.linalg.solve(bo**2, target)
                resid[ordered] = c
                bcol = b[:p, :p][:, ordered]
                sigma = sigma + (bcol * c) @ bcol.T
            else:
                resid[ordered] = np.diag(self.ram.matrices(ram_vals, g)[1])[:p][ordered]
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(ordered, np.sqrt(np.diag(sigma)), 1.0)
            tv = self.th_var[g]
            uni = np.zeros(self.n_uni)
            uni[self.th_slot[g]] = (vals[self.th_rows[g]] - mu[tv]) / scale[tv]
            uni[self.mean_slot] = -mu[self.num]
            cor = sigma[self.cor_r, self.cor_c] / (scale[self.cor_r] * scale[self.cor_c])
            wls = np.concatenate([uni, np.diag(sigma)[self.num], cor])
            out.append(GroupImplied(wls, sigma, mu, scale, resid))
        return out

    def _deltas(self, vals: np.ndarray, g: int) -> np.ndarray:
        rows = self.scale_rows[g]
        return np.where(rows >= 0, vals[np.maximum(rows, 0)], 1.0)

    def wls_est(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group the implied ``WLS.est`` vector."""
        return [imp.wls for imp in self.implied(theta)]

    # -- Jacobian -------------------------------------------------------------------------
    def jacobian(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group ``d WLS.est / d theta`` (one column per free parameter)."""
        dram = self.ram.delta(theta[self.ram_free])
        imps = self.implied(theta)
        p = len(self.observed)
        vr, vc = vech_indices(p)  # the rows of RamModel.delta after the means
        ordered = np.array([v in self.ordered for v in self.observed])
        free = self.par["free"].to_numpy(int)
        out = []
        for g, imp in enumerate(imps):
            q = self.nfree
            # dSigma (p, p, q) and dmu (p, q) in the full numbering
            dsig = np.zeros((p, p, q))
            dmu = np.zeros((p, q))
            dg = dram[g]
            dmu[:, self.ram_free] = dg[:p]
            vs = dg[p:]
            tmp = np.zeros((p, p, len(self.ram_free)))
            tmp[vr, vc] = vs
            tmp[vc, vr] = vs
            dsig[:, :, self.ram_free] = tmp
            scale = imp.scale
            if self.parameterization == "delta":
                # diag(Sigma*) of ordered responses = 1/delta^2, whatever the other parameters
                idx = np.flatnonzero(ordered)
                dsig[idx, idx, :] = 0.0
                rows = self.scale_rows[g]
                for k in idx:
                    if rows[k] >= 0 and free[rows[k]] > 0:
                        dsig[k, k, free[rows[k]] - 1] = -2.0 * scale[k] ** 3
            dscale = np.zeros((p, q))
            dscale[ordered] = dsig[ordered, ordered, :] / (2.0 * scale[ordered, None])
            tv = self.th_var[g]
            th = imp.wls[self.th_slot[g]]
            dtau = np.zeros((len(tv), q))
            fr = free[self.th_rows[g]]
            dtau[np.flatnonzero(fr > 0), fr[fr > 0] - 1] = 1.0
            duni = np.zeros((self.n_uni, q))
            duni[self.th_slot[g]] = (dtau - dmu[tv]) / scale[tv, None] - th[:, None] * dscale[
                tv
            ] / scale[tv, None]
            duni[self.mean_slot] = -dmu[self.num]
            cr, cc = self.cor_r, self.cor_c
            cor = imp.wls[self.n_marginal :]
            dcor = dsig[cr, cc] / (scale[cr] * scale[cc])[:, None] - cor[:, None] * (
                dscale[cr] / scale[cr, None] + dscale[cc] / scale[cc, None]
            )
            dvar = dsig[self.num, self.num]
            out.append(np.vstack([duni, dvar, dcor]))
        return out

    def _numeric_jacobian(self, theta: np.ndarray, eps: float = 1e-6) -> list[np.ndarray]:
        cols = [[] for _ in range(self.ngroups)]
        for k in range(self.nfree):
            h = eps * max(1.0, abs(theta[k]))
            up, dn = theta.copy(), theta.copy()
            up[k] += h
            dn[k] -= h
            for g, (a, b) in enumerate(zip(self.wls_est(up), self.wls_est(dn), strict=True)):
                cols[g].append((a - b) / (2 * h))
        return [np.column_stack(c) if c else np.zeros((0, 0)) for c in cols]
