"""Rotation criteria and GPA against lavaan 0.6-14's ``lav_matrix_rotate`` (live via rpy2).

The unrotated loadings are the first three principal-component loadings of the
HolzingerSwineford1939 correlations; each rotation is compared with lavaan's rotated
loadings and factor correlations (lavaan with 30 random starts, radsem with its own seeded
starts and a polished best start), after lavaan's reflection and ordering.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_missing_fixtures import hs_frame

from radsem._r import r_available
from radsem.estimation.rotation.criteria import criterion, geomin, oblimin, orthomax, target
from radsem.estimation.rotation.gpa import gpa, rotate, varimax_svd

needs_r = pytest.mark.skipif(not r_available("lavaan"), reason="R with lavaan is not available")


def _loadings(m: int = 3) -> np.ndarray:
    R = np.corrcoef(hs_frame().to_numpy(), rowvar=False)
    val, vec = np.linalg.eigh(R)
    idx = np.argsort(val)[::-1][:m]
    return vec[:, idx] * np.sqrt(val[idx])


def _numeric_gradient(crit, L, h=1e-6):
    G = np.zeros_like(L)
    for i in np.ndindex(L.shape):
        e = np.zeros_like(L)
        e[i] = h
        G[i] = (crit(L + e)[0] - crit(L - e)[0]) / (2 * h)
    return G


@pytest.mark.parametrize(
    "crit",
    [
        lambda L: geomin(L, 0.01),
        lambda L: oblimin(L, 0.5),
        lambda L: orthomax(L, 1.0),
        lambda L: target(L, np.ones_like(L) * 0.3),
        criterion("cf-equamax", (9, 3), {}),
        criterion("target", (9, 3), {"target": np.where(np.eye(9, 3) > 0, np.nan, 0.0)}),
    ],
)
def test_criterion_gradients_match_finite_differences(crit):
    L = _loadings()
    np.testing.assert_allclose(crit(L)[1], _numeric_gradient(crit, L), atol=1e-6)


def test_gpa_reaches_a_stationary_point_and_keeps_phi_a_correlation_matrix():
    A = _loadings()
    res = gpa(A, criterion("geomin", A.shape, {"geomin_epsilon": 0.01}), tol=1e-7)
    assert res.converged
    phi = res.T.T @ res.T
    np.testing.assert_allclose(np.diag(phi), 1.0, atol=1e-12)
    # the rotated loadings reproduce A A' through Phi
    L = A @ np.linalg.inv(res.T).T
    np.testing.assert_allclose(L @ phi @ L.T, A @ A.T, atol=1e-10)


def test_rotation_does_not_depend_on_the_seed():
    A = _loadings()
    a = rotate(A, "geomin", method_args={"geomin_epsilon": 0.001}, seed=1)
    b = rotate(A, "geomin", method_args={"geomin_epsilon": 0.001}, seed=99)
    np.testing.assert_allclose(a.loadings, b.loadings, atol=1e-8)
    assert a.value == pytest.approx(b.value, abs=1e-12)


def _lavaan_rotate(A, method, orthogonal, row_weights, method_args):
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter

    fn = ro.r(
        "function(A, method, orthogonal, rw, args) { set.seed(1); "
        "r <- lavaan:::lav_matrix_rotate(A = A, orthogonal = orthogonal, method = method, "
        "method.args = args, rstarts = 30L, row.weights = rw); "
        "c(r$LAMBDA, r$PHI) }"
    )
    with localconverter(ro.default_converter + numpy2ri.converter):
        args = ro.ListVector({k.replace("_", "."): v for k, v in method_args.items()})
        out = fn(A, method, orthogonal, row_weights, args)
        flat = np.asarray(out, dtype=float)
    p, m = A.shape
    return flat[: p * m].reshape((p, m), order="F"), flat[p * m :].reshape((m, m), order="F")


TARGET = np.kron(np.eye(3), np.ones((3, 1)))

CASES = [
    ("geomin", False, "none", {"geomin_epsilon": 0.01}),
    ("geomin", False, "none", {"geomin_epsilon": 0.001}),
    ("oblimin", False, "none", {"oblimin_gamma": 0.0}),
    ("quartimin", False, "none", {}),
    ("varimax", True, "kaiser", {}),
    ("quartimax", True, "none", {}),
    ("geomin", True, "none", {"geomin_epsilon": 0.01}),
    ("target", False, "none", {"target": TARGET}),
    ("promax", False, "kaiser", {"promax_kappa": 4.0}),
]


@needs_r
@pytest.mark.parametrize(("method", "orthogonal", "row_weights", "args"), CASES)
def test_rotation_matches_lavaan(method, orthogonal, row_weights, args):
    A = _loadings()
    L_r, phi_r = _lavaan_rotate(A, method, orthogonal, row_weights, args)
    res = rotate(A, method, orthogonal=orthogonal, row_weights=row_weights, method_args=args)
    np.testing.assert_allclose(res.loadings, L_r, atol=1e-4)  # lavaan stops at gpa.tol 1e-5
    np.testing.assert_allclose(res.phi, phi_r, atol=1e-4)


def test_varimax_svd_is_kaisers_varimax():
    A = _loadings()
    L, TT = varimax_svd(A, normalize=False, eps=1e-12)
    g = rotate(A, "varimax", orthogonal=True, rstarts=5, reflect=False, order_lv_by="none")
    # same maximum of the varimax criterion
    assert orthomax(L)[0] == pytest.approx(orthomax(g.loadings)[0], abs=1e-9)
    np.testing.assert_allclose(TT.T @ TT, np.eye(3), atol=1e-12)
