"""Rotation criteria ``Q(L)`` and their gradients ``dQ/dL`` (Bernaards & Jennrich, 2005).

Each criterion takes a loading matrix ``L`` (variables x factors) and returns ``(value,
gradient)``; :func:`criterion` builds one from lavaan's ``rotation`` name and
``rotation.args``. The formulas follow Browne (2001), "An overview of analytic rotation in
exploratory factor analysis", Multivariate Behavioral Research 36, 111-150, and Bernaards &
Jennrich (2005), "Gradient projection algorithms and software for arbitrary rotation criteria
in factor analysis", Educational and Psychological Measurement 65, 676-696.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from radsem.errors import EstimationError

__all__ = [
    "Criterion",
    "criterion",
    "geomin",
    "oblimin",
    "quartimin",
    "orthomax",
    "crawford_ferguson",
    "target",
    "partial_target",
    "ORTHOGONAL_BY_DEFAULT",
]

#: ``Q(L) -> (value, dQ/dL)``
Criterion = Callable[[np.ndarray], tuple[float, np.ndarray]]

#: rotations lavaan runs orthogonally unless told otherwise
ORTHOGONAL_BY_DEFAULT = ("varimax", "quartimax", "orthomax")


def geomin(L: np.ndarray, epsilon: float = 0.01) -> tuple[float, np.ndarray]:
    """Geomin (Yates, 1987): the sum over rows of the geometric mean of ``L**2 + epsilon``."""
    k = L.shape[1]
    L2 = L * L + epsilon
    pro = np.exp(np.log(L2).sum(axis=1) / k)
    return float(pro.sum()), (2.0 / k) * L / L2 * pro[:, None]


def oblimin(L: np.ndarray, gamma: float = 0.0) -> tuple[float, np.ndarray]:
    """Direct oblimin (Jennrich & Sampson, 1966) with parameter ``gamma`` (0: quartimin)."""
    p, k = L.shape
    L2 = L * L
    X = L2 @ (np.ones((k, k)) - np.eye(k))
    if gamma != 0:
        X = X - (gamma / p) * X.sum(axis=0, keepdims=True)
    return float((L2 * X).sum() / 4.0), L * X


def quartimin(L: np.ndarray) -> tuple[float, np.ndarray]:
    """Quartimin (Carroll, 1953): oblimin with ``gamma = 0``."""
    return oblimin(L, 0.0)


def orthomax(L: np.ndarray, gamma: float = 1.0) -> tuple[float, np.ndarray]:
    """Orthomax family: ``-1/4 sum_j [sum_i l_ij^4 - gamma/p (sum_i l_ij^2)^2]``.

    ``gamma = 1`` is varimax (Kaiser, 1958), ``gamma = 0`` quartimax.
    """
    p = L.shape[0]
    L2 = L * L
    QL = L2 - (gamma / p) * L2.sum(axis=0, keepdims=True)
    return float(-(L2 * QL).sum() / 4.0), -L * QL


def crawford_ferguson(L: np.ndarray, kappa: float = 0.0) -> tuple[float, np.ndarray]:
    """Crawford-Ferguson family: ``(1-kappa)/4 * row complexity + kappa/4 * column
    complexity`` (kappa 0: quartimax, 1/p: varimax for orthogonal rotations)."""
    p, k = L.shape
    L2 = L * L
    X = L2 @ (np.ones((k, k)) - np.eye(k))
    Y = (np.ones((p, p)) - np.eye(p)) @ L2
    f = (1 - kappa) * (L2 * X).sum() / 4.0 + kappa * (L2 * Y).sum() / 4.0
    return float(f), (1 - kappa) * L * X + kappa * L * Y


def target(L: np.ndarray, goal: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares distance to a fully specified target matrix."""
    d = L - goal
    return float((d * d).sum()), 2.0 * d


def partial_target(L: np.ndarray, goal: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Partially specified target (Browne, 1972): only cells with ``mask == 1`` count."""
    d = mask * (L - goal)
    return float((d * d).sum()), 2.0 * mask * d


_CF = {
    "cf-quartimax": lambda p, k: 0.0,
    "cf-varimax": lambda p, k: 1.0 / p,
    "cf-equamax": lambda p, k: k / (2.0 * p),
    "cf-parsimax": lambda p, k: (k - 1.0) / (p + k - 2.0),
    "cf-facparsim": lambda p, k: 1.0,
}

#: rotation names :func:`criterion` knows (promax is not a criterion; see ``gpa.rotate``)
METHODS = (
    "geomin",
    "oblimin",
    "quartimin",
    "varimax",
    "quartimax",
    "orthomax",
    "crawford-ferguson",
    "target",
    "pst",
    *_CF,
)


def criterion(method: str, shape: tuple[int, int], args: dict) -> Criterion:
    """The criterion for lavaan's ``rotation = method`` with ``rotation.args`` ``args``.

    ``args`` uses lavaan's names with ``_``: ``geomin_epsilon``, ``oblimin_gamma``,
    ``orthomax_gamma``, ``cf_gamma``, ``target``, ``target_mask``. A ``target`` with NaN
    cells becomes a partially specified target (those cells are free), as lavaan.
    """
    p, k = shape
    m = method.lower()
    if m == "geomin":
        return partial(geomin, epsilon=float(args.get("geomin_epsilon", 0.001)))
    if m == "oblimin":
        return partial(oblimin, gamma=float(args.get("oblimin_gamma", 0.0)))
    if m == "quartimin":
        return quartimin
    if m == "varimax":
        return partial(orthomax, gamma=1.0)
    if m == "quartimax":
        return partial(orthomax, gamma=0.0)
    if m == "orthomax":
        return partial(orthomax, gamma=float(args.get("orthomax_gamma", 1.0)))
    if m in _CF:
        return partial(crawford_ferguson, kappa=_CF[m](p, k))
    if m == "crawford-ferguson":
        return partial(crawford_ferguson, kappa=float(args.get("cf_gamma", 0.0)))
    if m in ("target", "pst"):
        goal = _matrix(args.get("target"), shape, "target")
        if m == "pst":
            mask = _matrix(args.get("target_mask"), shape, "target_mask")
            return partial(partial_target, goal=np.nan_to_num(goal), mask=mask)
        if np.isnan(goal).any():
            mask = (~np.isnan(goal)).astype(float)
            return partial(partial_target, goal=np.nan_to_num(goal), mask=mask)
        return partial(target, goal=goal)
    raise EstimationError(
        f"rotation {method!r} is not available; choose one of {', '.join(METHODS)}, promax or none"
    )


def _matrix(value, shape: tuple[int, int], name: str) -> np.ndarray:
    if value is None:
        raise EstimationError(f"this rotation needs rotation_args['{name}'] (a {shape} matrix)")
    mat = np.asarray(value, dtype=float)
    if mat.shape != shape:
        raise EstimationError(
            f"rotation_args['{name}'] has shape {mat.shape}; the loadings are {shape} "
            "(variables x factors)"
        )
    return mat
