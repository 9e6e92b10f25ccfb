"""Model matrices (RAM form) from lavaan's parameter table; implied moments and Jacobian.

Every variable of a group (observed first, in the order of :attr:`ModelSpec.observed`, then
latent) is a node. Directed paths go into ``A`` (``A[i, j]`` is the effect of ``j`` on
``i``: ``f =~ y`` puts the loading in ``A[y, f]``, ``y ~ x`` puts the slope in ``A[y, x]``),
(co)variances of the residuals (or of exogenous variables) into the symmetric ``S`` and
intercepts into ``m``. With ``B = (I - A)^-1``::

    Sigma_full = B S B',   nu_full = B m,   Sigma = F Sigma_full F',   mu = F nu_full

where ``F`` selects the observed nodes. Observed variables in regressions need no phantom
variables in this form.

Moment vectors follow lavaan: per group ``(mu, vech Sigma)`` (``mu`` only with a mean
structure), ``vech`` stacking the lower triangle column by column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from radsem.errors import ModelSpecificationError

__all__ = ["GroupMatrices", "RamModel", "vech_indices"]

_KIND = {"=~": 0, "~": 0, "~~": 1, "~1": 2}
_SUPPORTED = set(_KIND) | {"==", "<", ">", ":="}


@lru_cache(maxsize=64)
def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``vech`` (lower triangle, column by column, as lavaan).

    The arrays are cached and read-only."""
    cols, rows = np.triu_indices(p)
    rows.flags.writeable = False
    cols.flags.writeable = False
    return rows, cols


@dataclass(frozen=True)
class GroupMatrices:
    """Where each parameter row of one group goes.

    Attributes
    ----------
    rows : ndarray of int
        Positions (in the model's parameter-row order) of the rows of this group.
    kind : ndarray of int
        0 = ``A`` (loading or regression), 1 = ``S`` ((co)variance), 2 = ``m`` (intercept).
    i, j : ndarray of int
        Node indices (``j`` unused for intercepts).
    nv : int
        Number of nodes (observed + latent).
    p : int
        Number of observed variables.
    """

    rows: np.ndarray
    kind: np.ndarray
    i: np.ndarray
    j: np.ndarray
    nv: int
    p: int


class RamModel:
    """The structural model of a parameter table, evaluated as RAM matrices.

    Parameters
    ----------
    partable : pandas.DataFrame
        lavaan's parameter table (columns ``lhs, op, rhs, group, free, ustart, exo``, ...).
    observed : sequence of str
        Observed variables in the order used for the sample moments.
    latent : sequence of str
        Latent variables.
    ngroups : int
    meanstructure : bool

    Attributes
    ----------
    par : pandas.DataFrame
        The parameter rows of the table (no ``==``/``<``/``>``/``:=``), in table order.
    nfree : int
        Number of free parameters (``max(free)``; equality constraints not removed).
    free_rows : ndarray of int
        For free parameter ``k`` (0-based, ``free = k + 1``) the parameter row it fills.
    groups : list of GroupMatrices

    Notes
    -----
    ``theta`` below always means the vector of all ``nfree`` free parameters in lavaan's
    numbering; equality constraints are handled by the estimator (see
    :mod:`radsem.estimation.core.constraints`). Values of fixed rows come from ``ustart``; rows
    with ``exo = 1`` and no ``ustart`` (fixed.x covariates) are set from the sample by
    :meth:`set_fixed_values`.
    """

    def __init__(
        self, partable: pd.DataFrame, observed, latent, ngroups: int, meanstructure: bool
    ) -> None:
        bad = sorted(set(partable["op"]) - _SUPPORTED)
        if bad:
            raise ModelSpecificationError(
                f"operator(s) {bad} are not supported by the continuous-data engine "
                "(ordered indicators / thresholds need the categorical estimators)"
            )
        self.observed = tuple(observed)
        self.latent = tuple(latent)
        self.ngroups = int(ngroups)
        self.meanstructure = bool(meanstructure)
        par = partable[partable["op"].isin(list(_KIND))].reset_index(drop=True)
        self.par = par
        self.nfree = int(par["free"].max()) if len(par) else 0
        free = par["free"].to_numpy(int)
        self.free_rows = np.full(self.nfree, -1, dtype=int)
        for pos in np.flatnonzero(free > 0):
            self.free_rows[free[pos] - 1] = pos
        if (self.free_rows < 0).any():
            raise ModelSpecificationError("free parameter numbers are not 1..n")
        self.fixed_values = par["ustart"].to_numpy(float).copy()
        self.groups = [self._group(g) for g in range(1, self.ngroups + 1)]

    def _group(self, g: int) -> GroupMatrices:
        par = self.par
        nodes = {n: k for k, n in enumerate(self.observed + self.latent)}
        rows = np.flatnonzero(par["group"].to_numpy(int) == g)
        kind, ii, jj = [], [], []
        for pos in rows:
            lhs, op, rhs = par.at[pos, "lhs"], par.at[pos, "op"], par.at[pos, "rhs"]
            for name in (lhs,) if op == "~1" else (lhs, rhs):
                if name not in nodes:
                    raise ModelSpecificationError(f"unknown variable {name!r} in the model")
            if op == "=~":
                kind.append(0), ii.append(nodes[rhs]), jj.append(nodes[lhs])
            elif op == "~":
                kind.append(0), ii.append(nodes[lhs]), jj.append(nodes[rhs])
            elif op == "~~":
                kind.append(1), ii.append(nodes[lhs]), jj.append(nodes[rhs])
            else:
                kind.append(2), ii.append(nodes[lhs]), jj.append(0)
        return GroupMatrices(
            rows,
            np.array(kind, int),
            np.array(ii, int),
            np.array(jj, int),
            len(nodes),
            len(self.observed),
        )

    # -- values ---------------------------------------------------------------------------
    def set_fixed_values(self, values: np.ndarray) -> None:
        """Replace the values of the fixed rows (e.g. fixed.x covariates set from the
        sample); ``values`` has one entry per parameter row."""
        self.fixed_values = np.asarray(values, float).copy()

    def values(self, theta: np.ndarray) -> np.ndarray:
        """Values of all parameter rows (fixed ones from the table) for free ``theta``."""
        out = self.fixed_values.copy()
        out[self.free_rows] = theta
        return out

    def theta_from_values(self, values: np.ndarray) -> np.ndarray:
        """The free-parameter vector contained in row ``values``."""
        return np.asarray(values, float)[self.free_rows].copy()

    def matrices(self, values: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(A, S, m)`` of group ``g`` (0-based) from all row values."""
        gm = self.groups[g]
        a = np.zeros((gm.nv, gm.nv))
        s = np.zeros((gm.nv, gm.nv))
        m = np.zeros(gm.nv)
        v = values[gm.rows]
        k = gm.kind
        a[gm.i[k == 0], gm.j[k == 0]] = v[k == 0]
        s[gm.i[k == 1], gm.j[k == 1]] = v[k == 1]
        s[gm.j[k == 1], gm.i[k == 1]] = v[k == 1]
        m[gm.i[k == 2]] = v[k == 2]
        return a, s, m

    def _pieces(self, values: np.ndarray, g: int):
        a, s, m = self.matrices(values, g)
        nv = a.shape[0]
        try:
            b = np.linalg.inv(np.eye(nv) - a)
        except np.linalg.LinAlgError as exc:
            raise ModelSpecificationError("I - A is singular (non-recursive loop)") from exc
        omega = b @ s @ b.T
        nu = b @ m
        return b, omega, nu

    def implied_moments(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Model-implied ``(mu, Sigma)`` of the observed variables, one pair per group.

        ``mu`` is the implied mean vector (zeros when the model has no mean structure).
        """
        values = self.values(theta)
        out = []
        for g, gm in enumerate(self.groups):
            b, omega, nu = self._pieces(values, g)
            p = gm.p
            out.append((nu[:p].copy(), omega[:p, :p].copy()))
        return out

    def implied_full(self, theta: np.ndarray, g: int = 0):
        """``(B, Omega, nu)`` for all nodes (observed and latent) of group ``g``."""
        return self._pieces(self.values(theta), g)

    def delta(self, theta: np.ndarray) -> list[np.ndarray]:
        """Jacobian of the moments with respect to the ``nfree`` free parameters.

        Returns, per group, an array with one row per moment ``(mu, vech Sigma)`` (the
        ``mu`` rows only when the model has a mean structure) and one column per free
        parameter. Analytic: with ``Omega = B S B'`` and ``nu = B m``, a path ``A[i, j]``
        gives ``dSigma = B[:, i] Omega[j, :] + transpose`` and ``dmu = B[:, i] nu[j]``; a
        covariance ``S[i, j]`` gives ``B[:, i] B[:, j]' + transpose`` (once for ``i = j``)
        and an intercept ``m[i]`` gives ``dmu = B[:, i]`` (observed rows of ``B``).
        """
        values = self.values(theta)
        out = []
        free = self.par["free"].to_numpy(int)
        for g, gm in enumerate(self.groups):
            b, omega, nu = self._pieces(values, g)
            p = gm.p
            r, c = vech_indices(p)
            nmean = p if self.meanstructure else 0
            d = np.zeros((nmean + r.size, self.nfree))
            fr = free[gm.rows]
            sel = fr > 0
            cols = fr[sel] - 1
            kind, ii, jj = gm.kind[sel], gm.i[sel], gm.j[sel]
            bo = b[:p]
            # paths
            k0 = kind == 0
            if k0.any():
                gmat = bo[:, ii[k0]]
                hmat = omega[jj[k0]][:, :p].T
                d[nmean:, cols[k0]] = gmat[r] * hmat[c] + gmat[c] * hmat[r]
                if nmean:
                    d[:p, cols[k0]] = gmat * nu[jj[k0]][None, :]
            k1 = kind == 1
            if k1.any():
                gmat = bo[:, ii[k1]]
                hmat = bo[:, jj[k1]]
                block = gmat[r] * hmat[c] + gmat[c] * hmat[r]
                diag = ii[k1] == jj[k1]
                block[:, diag] *= 0.5
                d[nmean:, cols[k1]] = block
            k2 = kind == 2
            if k2.any() and nmean:
                d[:p, cols[k2]] = bo[:, ii[k2]]
            out.append(d)
        return out
