"""Standard errors of rotated parameters (delta method).

The rotated parameters are a function ``r(theta)`` of the free parameters of the identified
(unrotated) model: the model values, then a GPA rotation started at the estimate's rotation
(no random starts, reflection or reordering, so the same stationary point is followed). Their
covariance is ``J V J'`` with ``J`` the Jacobian of ``r`` (central differences) and ``V`` the
covariance of the unrotated estimates. The rotated parameters are a one-to-one
reparameterisation of the identified model within the constraint set "the rotation criterion
is stationary", so this is the same matrix as lavaan's default ``rotation.se = "bordered"``
(the information bordered by the Jacobian of those stationarity constraints; Jennrich, 1973)
and its ``"delta"`` alternative.
"""

from __future__ import annotations

import numpy as np

from radsem.estimation.rotation.model import RotationOptions, rotate_values

__all__ = ["rotation_jacobian"]


def rotation_jacobian(
    model_unrot,
    model_rot,
    theta: np.ndarray,
    blocks: dict[str, list[str]],
    opts: RotationOptions,
    init: dict[str, np.ndarray],
    step: float = 1e-4,
) -> np.ndarray:
    """``d rotated free parameters / d unrotated free parameters`` at ``theta``."""

    def fn(th: np.ndarray) -> np.ndarray:
        values, _ = rotate_values(model_rot, model_unrot.values(th), blocks, opts, init)
        return model_rot.theta_from_values(values)

    J = np.zeros((model_rot.nfree, theta.size))
    for k in range(theta.size):
        h = step * max(1.0, abs(theta[k]))
        e = np.zeros(theta.size)
        e[k] = h
        # fourth-order central difference: truncation error O(h^4)
        J[:, k] = (
            -fn(theta + 2 * e) + 8 * fn(theta + e) - 8 * fn(theta - e) + fn(theta - 2 * e)
        ) / (12 * h)
    return J


def border_constraints(
    model_rot, values: np.ndarray, blocks: dict[str, list[str]], opts: RotationOptions
) -> np.ndarray:
    """The stationarity conditions of the rotation criterion at rotated ``values``.

    With ``L`` a block's loadings scaled as for the rotation (rows divided by
    ``sqrt(diag(L L' + Theta))`` when ``std_ov``, then by the row weights) and
    ``Z = L' dQ/dL``: orthogonal rotations need ``Z`` symmetric (``Z - Z'`` below the
    diagonal is zero; Jennrich, 2001), oblique ones ``Z = Phi diag(Z)`` off the diagonal
    (Jennrich, 2002). These are lavaan 0.6-14's conditions, including its scaling with
    ``L L' + Theta`` (the factor correlations left out) for oblique rotations.
    """
    from radsem.estimation.rotation.criteria import criterion
    from radsem.estimation.rotation.model import block_indices, method_args

    a_ram, s, _ = model_rot.matrices(values, 0)
    out = []
    for _, (ov, lv) in block_indices(model_rot, blocks).items():
        if len(lv) < 2:
            continue
        L = a_ram[np.ix_(ov, lv)]
        if opts.args["std_ov"]:
            L = L / np.sqrt((L * L).sum(axis=1) + np.diag(s)[ov])[:, None]
        if opts.args["row_weights"] == "kaiser":
            L = L / np.sqrt((L * L).sum(axis=1))[:, None]
        _, Gq = criterion(opts.method, L.shape, method_args(opts))(L)
        Z = L.T @ Gq
        m = len(lv)
        low = np.tril_indices(m, -1)
        if opts.orthogonal:
            out.append((Z - Z.T)[low])
        else:
            tmp = Z - s[np.ix_(lv, lv)] * np.diag(Z)[:, None]
            out.append(tmp[low])
            out.append(tmp.T[low])
    return np.concatenate(out) if out else np.zeros(0)


def bordered_basis(problem_rot, theta_rot: np.ndarray, blocks, opts: RotationOptions):
    """``K``: a basis of the null space of the Jacobian ``C`` of :func:`border_constraints`
    (and of the model's own active constraints) at ``theta_rot``."""
    from radsem.estimation.core.constraints import Constraints

    model = problem_rot.model

    def fn(th):
        return border_constraints(model, model.values(th), blocks, opts)

    C = Constraints.jacobian(fn, theta_rot, eps=1e-7)
    cons = problem_rot.constraints
    K0, _ = cons.active_basis(theta_rot) if cons is not None else (np.eye(theta_rot.size), 0)
    _, sv, Vt = np.linalg.svd(C @ K0)
    rank = int((sv > sv.max() * 1e-10).sum()) if sv.size else 0
    return K0 @ Vt[rank:].T


class _Bordered:
    """Constraints whose active basis is the bordered null space (for the SE code)."""

    def __init__(self, basis: np.ndarray) -> None:
        self.basis = basis
        self.n_eq = self.n_ineq = 0
        self.linear = True

    def active_basis(self, theta):
        return self.basis, 0


def bordered_problem(problem_rot, theta_rot: np.ndarray, blocks, opts: RotationOptions):
    """A shallow copy of ``problem_rot`` whose constraints are the rotation's stationarity
    conditions, so the engine's standard-error code (expected / observed / first-order
    information, ``robust.sem`` sandwiches) gives the bordered covariance."""
    import copy

    view = copy.copy(problem_rot)
    view.constraints = _Bordered(bordered_basis(problem_rot, theta_rot, blocks, opts))
    return view


def bordered_inverse(
    problem_rot, theta_rot: np.ndarray, information: str, blocks, opts: RotationOptions
) -> np.ndarray:
    """``K (K' I K)^-1 K'``: the (per case) information of the rotated parameterisation
    bordered by the Jacobian ``C`` of :func:`border_constraints` (and of the model's own
    equality constraints); ``K`` spans the null space of ``C``."""
    K = bordered_basis(problem_rot, theta_rot, blocks, opts)
    info = (
        problem_rot.information(theta_rot)
        if information == "expected"
        else problem_rot.hessian(theta_rot)
    )
    return K @ np.linalg.pinv(K.T @ info @ K, rcond=1e-12, hermitian=True) @ K.T


def bordered_vcov(
    problem_rot, theta_rot: np.ndarray, information: str, blocks, opts: RotationOptions
) -> np.ndarray:
    """Covariance of the rotated parameters, ``bordered_inverse / N`` (lavaan's
    ``rotation.se = "bordered"`` with standard errors ``"standard"``)."""
    inv = bordered_inverse(problem_rot, theta_rot, information, blocks, opts)
    return inv / problem_rot.ntotal


def bordered_robust_vcov(
    problem_rot, theta_rot: np.ndarray, information: str, blocks, opts: RotationOptions
) -> np.ndarray:
    """Huber-White sandwich of the rotated parameters with the bordered inverse as bread and
    the first-order information of the casewise scores at the implied moments as meat
    (lavaan's ``robust.huber.white`` with ``rotation.se = "bordered"``)."""
    from radsem.estimation.missing.likelihood import (
        fiml_information_firstorder,
        missing_patterns,
    )
    from radsem.estimation.robust.baseline import moment_block
    from radsem.estimation.robust.sandwich import robust_vcov

    bread = bordered_inverse(problem_rot, theta_rot, information, blocks, opts)
    spec = problem_rot.spec
    exo = tuple(spec.exogenous) if spec.fixed_x else ()
    x_idx = [list(spec.observed).index(v) for v in exo] or None
    est = problem_rot.estimator
    fiml = hasattr(est, "h1") and hasattr(est, "patterns")
    b1, nobs = [], []
    for st, (mu, sigma) in zip(
        problem_rot.stats, problem_rot.implied_moments(theta_rot), strict=True
    ):
        mp = est.patterns(st) if fiml else missing_patterns(st.data)
        rows = moment_block(mp.nvar, problem_rot.meanstructure)
        b1.append(fiml_information_firstorder(mp, mu, sigma, x_idx)[np.ix_(rows, rows)])
        nobs.append(mp.nobs)
    vcov, _ = robust_vcov(bread, problem_rot.delta(theta_rot), b1, nobs)
    return vcov
