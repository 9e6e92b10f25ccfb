"""The joint log-likelihood of a Gaussian SEM and a piecewise-exponential proportional-hazards
outcome on its latent (and observed) variables.

Notation. The SEM is in RAM form (:mod:`radsem.estimation.core.matrices`): nodes ``v`` (observed
then latent), ``v = A v + e``, ``Cov(e) = S``, ``E(e) = m``, so ``v ~ N(nu, Omega)`` with
``B = (I - A)^-1``, ``nu = B m``, ``Omega = B S B'``. The hazard of patient ``i`` is::

    h_i(t) = h0(t) exp(c' v_i + gamma' x_i),

``c`` holding the log hazard ratios of the nodes named in the survival regression (latent or
observed SEM variables) and ``x_i`` the covariates that appear only in the survival
regression. ``h0`` is constant, ``exp(alpha_k)``, on the intervals of a
:class:`~radsem.estimation.families.survival_outcome.data.PiecewiseGrid`.

Patient ``i`` observes the nodes ``O_i`` (FIML: a patient without expression observes only
its clinical / imaging nodes). Given them, ``v`` is Gaussian, so ``u_i = c' v_i + gamma' x_i``
is ``N(m_i, s2_i)`` with::

    m_i  = c' nu + a_i' Sigma_OO^-1 (y_O - nu_O) + gamma' x_i,     a_i = (Omega c)_O
    s2_i = c' Omega c - a_i' Sigma_OO^-1 a_i

and the log-likelihood is::

    sum_i  log N(y_O; nu_O, Sigma_OO) + d_i alpha_{k(i)} + log I(m_i, s2_i, d_i, H_i),

``H_i = sum_k exp(alpha_k) exposure_ik`` and ``I`` the one-dimensional integral of
:mod:`radsem.estimation.families.survival_outcome.quadrature`. With ``c = 0`` it is the FIML
log-likelihood of the
SEM plus an ordinary piecewise-exponential log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radsem.estimation.families.survival_outcome.data import PiecewiseGrid
from radsem.estimation.families.survival_outcome.quadrature import log_integral

__all__ = ["JointLikelihood", "MeasurementPart"]


@dataclass(frozen=True)
class MeasurementPart:
    """The SEM side: a :class:`~radsem.estimation.core.matrices.RamModel`, the map from reduced
    parameters ``z`` to lavaan's free parameters ``theta = theta0 + K z``, and the data.

    Attributes
    ----------
    ram : RamModel
    theta0, K : ndarray
    data : ndarray, shape (n, p)
        Observed SEM variables (``NaN`` = missing), columns in ``ram.observed`` order.
    """

    ram: object
    theta0: np.ndarray
    K: np.ndarray
    data: np.ndarray

    @property
    def nz(self) -> int:
        return int(self.K.shape[1])

    @property
    def nodes(self) -> list[str]:
        return list(self.ram.observed) + list(self.ram.latent)


def _patterns(data: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, observed columns) per missing-data pattern."""
    mask = ~np.isnan(data)
    keys, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    return [(np.flatnonzero(inverse == k), np.flatnonzero(key)) for k, key in enumerate(keys)]


class JointLikelihood:
    """Joint log-likelihood as a function of the packed parameter vector.

    Parameters
    ----------
    measurement : MeasurementPart or None
        ``None`` for a proportional-hazards model on observed covariates only.
    node_terms : sequence of int
        Node index (into ``measurement.nodes``) of each SEM variable in the survival
        regression.
    covariates : ndarray, shape (n, r)
        Covariates of the survival regression that are not SEM variables.
    event : ndarray
    grid : PiecewiseGrid
    points : int
        Gauss-Hermite nodes.

    Notes
    -----
    The packed vector is ``(z, c_nodes, gamma, alpha)``; :meth:`split` unpacks it.
    """

    def __init__(
        self,
        measurement: MeasurementPart | None,
        node_terms,
        covariates: np.ndarray,
        event: np.ndarray,
        grid: PiecewiseGrid,
        points: int = 15,
    ) -> None:
        from radsem._optional import require

        torch = require("torch", "the joint latent-survival model (method='joint')")

        self.measurement = measurement
        self.node_terms = np.asarray(list(node_terms), dtype=int)
        self.covariates = np.asarray(covariates, dtype=float).reshape(len(event), -1)
        self.event = np.asarray(event, dtype=float)
        self.grid = grid
        self.points = int(points)
        self.n = len(self.event)
        nz = measurement.nz if measurement is not None else 0
        self.sizes = (nz, len(self.node_terms), self.covariates.shape[1], grid.exposure.shape[1])
        t = torch.float64
        self._d = torch.as_tensor(self.event, dtype=t)
        self._x = torch.as_tensor(self.covariates, dtype=t)
        self._exp = torch.as_tensor(grid.exposure, dtype=t)
        self._k = torch.as_tensor(grid.interval, dtype=torch.long)
        if measurement is not None:
            ram = measurement.ram
            gm = ram.groups[0]
            self._gm = gm
            self._fixed = torch.as_tensor(ram.fixed_values, dtype=t)
            self._free_rows = torch.as_tensor(ram.free_rows, dtype=torch.long)
            self._theta0 = torch.as_tensor(measurement.theta0, dtype=t)
            self._K = torch.as_tensor(measurement.K, dtype=t)
            lng = torch.long
            self._pat = [
                (
                    torch.as_tensor(r, dtype=lng),
                    torch.as_tensor(o, dtype=lng),
                    torch.as_tensor(measurement.data[np.ix_(r, o)], dtype=t),
                )
                for r, o in _patterns(measurement.data)
            ]

    @property
    def npar(self) -> int:
        """Length of the packed parameter vector."""
        return int(sum(self.sizes))

    def split(self, psi):
        """``(z, c_nodes, gamma, alpha)`` views of a packed vector (numpy or torch)."""
        out, k = [], 0
        for size in self.sizes:
            out.append(psi[k : k + size])
            k += size
        return tuple(out)

    # -- SEM pieces ----------------------------------------------------------------------
    def moments(self, z):
        """``(nu, Omega)`` of all nodes for reduced parameters ``z`` (torch)."""
        import torch

        gm = self._gm
        theta = self._theta0 + self._K @ z
        values = self._fixed.index_put((self._free_rows,), theta)
        v = values[torch.as_tensor(gm.rows, dtype=torch.long)]
        kind = gm.kind
        nv = gm.nv
        a_sel, s_sel, m_sel = (np.flatnonzero(kind == k) for k in (0, 1, 2))
        zero = torch.zeros((nv, nv), dtype=values.dtype)
        a = zero.index_put((torch.as_tensor(gm.i[a_sel]), torch.as_tensor(gm.j[a_sel])), v[a_sel])
        si, sj = gm.i[s_sel], gm.j[s_sel]
        off = s_sel[si != sj]  # each covariance once more, transposed (no duplicate index:
        s = zero.index_put(
            (
                torch.as_tensor(np.concatenate([si, gm.j[off]])),  # index_put
                torch.as_tensor(np.concatenate([sj, gm.i[off]])),
            ),  # would double
            torch.cat([v[s_sel], v[off]]),
        )  # the gradient of a variance)
        m = torch.zeros(nv, dtype=values.dtype).index_put((torch.as_tensor(gm.i[m_sel]),), v[m_sel])
        eye = torch.eye(nv, dtype=values.dtype)
        b = torch.linalg.solve(eye - a, eye)
        return b @ m, b @ s @ b.T

    def _linear_predictor(self, z, c_nodes, gamma):
        """Measurement log-likelihood and ``(m_i, s2_i)`` for every patient."""
        import torch

        dt = torch.float64
        lp_x = self._x @ gamma if self._x.shape[1] else torch.zeros(self.n, dtype=dt)
        if self.measurement is None:
            return torch.zeros((), dtype=dt), lp_x, torch.zeros(self.n, dtype=dt)
        nu, omega = self.moments(z)
        nv = nu.shape[0]
        c = (
            torch.zeros(nv, dtype=dt).index_put((torch.as_tensor(self.node_terms),), c_nodes)
            if len(self.node_terms)
            else torch.zeros(nv, dtype=dt)
        )
        oc = omega @ c
        cvar = c @ oc
        cmean = c @ nu
        mean = torch.zeros(self.n, dtype=dt)
        var = torch.zeros(self.n, dtype=dt)
        meas = torch.zeros((), dtype=dt)
        for rows, obs, y in self._pat:
            k = len(rows)
            if len(obs) == 0:
                mean = mean.index_put((rows,), cmean.expand(k))
                var = var.index_put((rows,), cvar.expand(k))
                continue
            sig = omega[obs][:, obs]
            chol, info = torch.linalg.cholesky_ex(sig)
            if int(info) != 0:
                return None
            r = y - nu[obs]
            w = torch.cholesky_solve(r.T, chol)
            quad = (r * w.T).sum()
            logdet = 2.0 * torch.log(torch.diagonal(chol)).sum()
            meas = meas - 0.5 * (quad + k * logdet + k * len(obs) * np.log(2 * np.pi))
            a = oc[obs]
            sol = torch.cholesky_solve(a[:, None], chol)[:, 0]
            mean = mean.index_put((rows,), cmean + r @ sol)
            var = var.index_put((rows,), (cvar - a @ sol).expand(k))
        return meas, mean + lp_x, var

    def parts(self, psi):
        """Torch scalars ``(measurement loglik, survival loglik)``, or ``None`` outside the
        parameter space (a non-positive-definite implied covariance)."""
        import torch

        z, c_nodes, gamma, alpha = self.split(psi)
        out = self._linear_predictor(z, c_nodes, gamma)
        if out is None:
            return None
        meas, mean, var = out
        if bool((var < -1e-8 * (1 + var.detach().abs().max())).any()):
            return None
        cumhaz = self._exp @ torch.exp(alpha)
        surv = (self._d * alpha[self._k]).sum() + log_integral(
            mean, torch.clamp(var, min=0.0), self._d, cumhaz, self.points
        ).sum()
        return meas, surv

    def loglik(self, psi) -> float:
        """Total log-likelihood at a numpy parameter vector (``-inf`` outside the space)."""
        import torch

        with torch.no_grad():
            out = self.parts(torch.as_tensor(np.asarray(psi, float)))
        return -np.inf if out is None else float(out[0] + out[1])

    def objective(self, psi: np.ndarray) -> tuple[float, np.ndarray]:
        """``(-loglik / n, gradient)`` for scipy (``inf`` outside the parameter space)."""
        import torch

        p = torch.as_tensor(np.asarray(psi, float)).requires_grad_(True)
        out = self.parts(p)
        if out is None:
            return np.inf, np.zeros_like(psi)
        f = -(out[0] + out[1]) / self.n
        if not torch.isfinite(f):
            return np.inf, np.zeros_like(psi)
        f.backward()
        return float(f.detach()), p.grad.numpy().copy()

    def hessian(self, psi: np.ndarray) -> np.ndarray:
        """Hessian of the total log-likelihood (torch double backward)."""
        import torch

        def fn(p):
            out = self.parts(p)
            if out is None:
                from radsem.errors import EstimationError

                raise EstimationError(
                    "the joint likelihood is undefined at the solution (the implied covariance "
                    "matrix of the indicators is not positive definite); too few patients or "
                    "an unidentified measurement model?"
                )
            return out[0] + out[1]

        h = torch.autograd.functional.hessian(fn, torch.as_tensor(np.asarray(psi, float)))
        h = h.numpy()
        return 0.5 * (h + h.T)

    def linear_predictor_moments(self, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(m_i, s2_i)`` at a numpy parameter vector."""
        import torch

        with torch.no_grad():
            z, c_nodes, gamma, _ = self.split(torch.as_tensor(np.asarray(psi, float)))
            out = self._linear_predictor(z, c_nodes, gamma)
        if out is None:
            raise ValueError("the implied covariance matrix is not positive definite")
        return out[1].numpy(), np.clip(out[2].numpy(), 0.0, None)
