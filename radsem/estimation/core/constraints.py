"""Equality (``==``) and inequality (``<``, ``>``) constraints on the free parameters.

Constraints are written in terms of labels (``a == b``, ``.p2. == .p5.``, ``a + b == 1``,
``b1 > 0``, ``a == 2*b^2``). Each becomes a function of the free-parameter vector ``theta``:
``h(theta) = lhs - rhs`` (equalities, ``= 0``) and ``g(theta) >= 0`` (inequalities).

Linear equalities (the usual case: shared labels, ``group_equal``) are removed by
reparameterisation ``theta = theta0 + K z`` with ``K`` an orthonormal basis of the null space
of the constraint Jacobian; nonlinear equalities and inequalities go to SLSQP. At the
solution, standard errors use ``K`` built from the Jacobian of the equalities and the *active*
inequalities, which equals lavaan's bordered (augmented) information inverse.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import linalg

from radsem.errors import EstimationError, ModelSpecificationError

__all__ = ["Constraints"]


class Constraints:
    """The constraints of a model as functions of ``theta``.

    Parameters
    ----------
    spec : ModelSpec
        The model specification (gives compiled constraint expressions and labels).
    values_fn : callable
        ``theta -> values of all parameter rows`` (in the order of ``spec.parameters()``).
    nfree : int
    """

    def __init__(self, spec, values_fn: Callable[[np.ndarray], np.ndarray], nfree: int) -> None:
        self.nfree = nfree
        self._values = values_fn
        self._spec = spec
        self._label_rows = dict(spec._label_rows)  # label/plabel -> parameter row
        self._defined = spec.defined()
        con = spec.constraints()
        self._eq = [(r.lhs_expr, r.rhs_expr) for r in con.itertuples() if r.op == "=="]
        self._in = [(r.lhs_expr, r.rhs_expr, r.op) for r in con.itertuples() if r.op in "<>"]
        self.text = {
            "eq": [f"{r.lhs} == {r.rhs}" for r in con.itertuples() if r.op == "=="],
            "in": [f"{r.lhs} {r.op} {r.rhs}" for r in con.itertuples() if r.op in "<>"],
        }
        self.linear = True
        self.theta0 = np.zeros(nfree)
        self.K = np.eye(nfree)
        self._cols = self._row_columns() if (self._eq or self._in) else None
        if self._eq:
            self._setup_linear()

    @property
    def n_eq(self) -> int:
        """Number of equality constraints."""
        return len(self._eq)

    @property
    def n_ineq(self) -> int:
        """Number of inequality constraints."""
        return len(self._in)

    def _env(self, theta: np.ndarray) -> dict[str, float]:
        vals = self._values(theta)
        env = {name: float(vals[pos]) for name, pos in self._label_rows.items()}
        for name, expr in self._defined:
            env[name] = expr.evaluate(env)
        return env

    def h(self, theta: np.ndarray) -> np.ndarray:
        """Equality constraint values ``lhs - rhs``."""
        env = self._env(theta)
        return np.array([lhs.evaluate(env) - rhs.evaluate(env) for lhs, rhs in self._eq])

    def g(self, theta: np.ndarray) -> np.ndarray:
        """Inequality constraint values, ``>= 0`` when satisfied."""
        env = self._env(theta)
        out = []
        for lhs, rhs, op in self._in:
            d = lhs.evaluate(env) - rhs.evaluate(env)
            out.append(d if op == ">" else -d)
        return np.array(out)

    def _row_columns(self) -> np.ndarray | None:
        """For each parameter row, the free parameter (column of ``theta``) it copies, -1 for
        fixed rows; None when ``values_fn`` is not such a copy (then Jacobians are numeric)."""
        n = self.nfree
        base = self._values(np.zeros(n))
        probe = np.arange(1.0, n + 1.0)
        diff = self._values(probe) - base
        if not np.allclose(self._values(2.0 * probe) - base, 2.0 * diff, rtol=0, atol=1e-9):
            return None
        cols = np.rint(diff).astype(int) - 1
        if np.any(np.abs(diff - np.rint(diff)) > 1e-9) or np.any(cols >= n) or np.any(cols < -1):
            return None
        return cols

    def _exact_jacobian(self, items, theta: np.ndarray) -> np.ndarray | None:
        """Jacobian of ``lhs - rhs`` of ``items`` from the expressions' exact derivatives
        (chain rule through the copy of ``theta`` into the parameter rows); None when an
        expression uses a ``:=`` parameter or the row map is unknown."""
        defined = {name for name, _ in self._defined}
        if self._cols is None or any(set(e.names) & defined for item in items for e in item[:2]):
            return None
        env = self._env(theta)
        jac = np.zeros((len(items), self.nfree))
        for i, item in enumerate(items):
            for expr, sign in ((item[0], 1.0), (item[1], -1.0)):
                for name, der in expr.gradient(env).items():
                    col = self._cols[self._label_rows[name]]
                    if col >= 0:
                        jac[i, col] += sign * der
        return jac

    def jacobian_h(self, theta: np.ndarray) -> np.ndarray:
        """Jacobian of :meth:`h` (exact where possible, else central differences)."""
        jac = self._exact_jacobian(self._eq, theta)
        return self.jacobian(self.h, theta) if jac is None else jac

    def jacobian_g(self, theta: np.ndarray) -> np.ndarray:
        """Jacobian of :meth:`g` (exact where possible, else central differences)."""
        jac = self._exact_jacobian(self._in, theta)
        if jac is None:
            return self.jacobian(self.g, theta)
        flip = np.array([1.0 if op == ">" else -1.0 for _, _, op in self._in])
        return jac * flip[:, None]

    @staticmethod
    def jacobian(fn, theta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
        """Central-difference Jacobian of ``fn`` (exact for linear constraints)."""
        f0 = fn(theta)
        jac = np.zeros((f0.size, theta.size))
        for k in range(theta.size):
            e = np.zeros(theta.size)
            e[k] = eps
            jac[:, k] = (fn(theta + e) - fn(theta - e)) / (2 * eps)
        return jac

    def _setup_linear(self) -> None:
        n = self.nfree
        zero = np.zeros(n)
        jac = self.jacobian_h(zero)
        h0 = self.h(zero)
        probe = np.random.default_rng(12345).normal(size=n)
        if not (
            np.allclose(self.jacobian_h(probe), jac, atol=1e-7)
            and np.allclose(self.h(probe), h0 + jac @ probe, atol=1e-7)
        ):
            self.linear = False
            return
        rank = np.linalg.matrix_rank(jac, tol=1e-9)
        sol, *_ = np.linalg.lstsq(jac, -h0, rcond=None)
        if not np.allclose(jac @ sol, -h0, atol=1e-8):
            raise ModelSpecificationError(
                "the equality constraints contradict each other: " + "; ".join(self.text["eq"])
            )
        self.theta0 = sol
        self.K = _null_space(jac, rank) if rank else np.eye(n)
        self.rank_eq = rank

    # -- for the optimiser ------------------------------------------------------------------
    def to_theta(self, z: np.ndarray) -> np.ndarray:
        """``theta`` from the reduced parameters (identity without linear equalities)."""
        if self.linear:
            return self.theta0 + self.K @ z
        return z

    def to_z(self, theta: np.ndarray) -> np.ndarray:
        """Least-squares reduced parameters of ``theta`` (projection onto the constraints)."""
        if self.linear:
            return self.K.T @ (theta - self.theta0)
        return theta.copy()

    @property
    def needs_slsqp(self) -> bool:
        """Whether a constrained optimiser is needed (nonlinear equalities, inequalities)."""
        return bool(self._in) or not self.linear

    def slsqp_constraints(self) -> list[dict]:
        """Constraint dicts for ``scipy.optimize.minimize(method='SLSQP')`` in ``z`` space."""
        out = []
        if not self.linear:
            out.append({"type": "eq", "fun": lambda z: self.h(self.to_theta(z))})
        if self._in:
            out.append({"type": "ineq", "fun": lambda z: self.g(self.to_theta(z))})
        return out

    def active_basis(self, theta: np.ndarray, tol: float = 1e-6) -> tuple[np.ndarray, int]:
        """Null-space basis of the equalities and active inequalities at ``theta``.

        Returns ``(K, n_active_ineq)``.
        """
        rows = []
        if self._eq:
            rows.append(self.jacobian_h(theta))
        nact = 0
        if self._in:
            gv = self.g(theta)
            act = np.abs(gv) < tol * max(1.0, float(np.abs(theta).max()))
            nact = int(act.sum())
            if nact:
                rows.append(self.jacobian_g(theta)[act])
        if not rows:
            return np.eye(self.nfree), 0
        jac = np.vstack(rows)
        if not np.all(np.isfinite(jac)):
            raise EstimationError(
                "the derivatives of the constraints are not finite at the solution (a division "
                "by zero, a log or a root of a negative number, ... in a '==', '<' or '>' "
                "line); rewrite the constraint"
            )
        sv = np.linalg.svd(jac, compute_uv=False)
        rank = int(np.sum(sv > 1e-9 * sv.max())) if sv.size else 0
        return _null_space(jac, rank), nact


def _null_space(jac: np.ndarray, rank: int) -> np.ndarray:
    """Orthonormal basis of the null space of ``jac`` (rank ``rank``) from a pivoted QR of
    ``jac'``: the last ``n - rank`` columns of ``Q`` (much cheaper than a full SVD when there
    are hundreds of parameters)."""
    q, _, _ = linalg.qr(jac.T, pivoting=True, mode="full")
    return q[:, rank:]
