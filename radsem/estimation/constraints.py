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

from radsem.errors import ModelSpecificationError

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
        jac = self.jacobian(self.h, zero)
        h0 = self.h(zero)
        probe = np.random.default_rng(12345).normal(size=n)
        if not (
            np.allclose(self.jacobian(self.h, probe), jac, atol=1e-7)
            and np.allclose(self.h(probe), h0 + jac @ probe, atol=1e-7)
        ):
            self.linear = False
            return
        rank = np.linalg.matrix_rank(jac, tol=1e-9)
        sol, *_ = np.linalg.lstsq(jac, -h0, rcond=None)
        if not np.allclose(jac @ sol, -h0, atol=1e-8):
            raise ModelSpecificationError(
                "the equality constraints contradict each other: "
                + "; ".join(self.text["eq"])
            )
        self.theta0 = sol
        self.K = linalg.null_space(jac, rcond=1e-9) if rank else np.eye(n)
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
            rows.append(self.jacobian(self.h, theta))
        nact = 0
        if self._in:
            gv = self.g(theta)
            act = np.abs(gv) < tol * max(1.0, float(np.abs(theta).max()))
            nact = int(act.sum())
            if nact:
                rows.append(self.jacobian(self.g, theta)[act])
        if not rows:
            return np.eye(self.nfree), 0
        jac = np.vstack(rows)
        return linalg.null_space(jac, rcond=1e-9), nact
