"""The engine's fast paths give the same numbers as the slow ones they replaced: exact
constraint Jacobians vs central differences, the QR null-space basis, the Cholesky form of
``Delta' W Delta``, and the RMSEA interval from ``chndtrinc`` vs root finding."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from scipy import linalg, optimize, stats

import radsem
from radsem.estimation.core.objective import normal_quadratic, normal_weight
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.indices import rmsea_ci

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@functools.lru_cache(maxsize=None)
def _hs():
    from radsem.datasets import load

    return load("HolzingerSwineford1939")


@pytest.mark.parametrize(
    ("model", "options"),
    [
        (HS, {"group": "school", "group_equal": ("loadings", "intercepts")}),
        ("visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\na == 2*b^2", {}),
        ("visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nb < 0.9\na > 0", {}),
        ("visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nd := a*b\nd == 1.2", {}),
    ],
)
def test_exact_constraint_jacobians_equal_central_differences(model, options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = radsem.cfa(model, _hs(), **options)
    cons = fit._problem.constraints
    theta = fit._theta + 0.013
    if cons.n_eq:
        np.testing.assert_allclose(cons.jacobian_h(theta), cons.jacobian(cons.h, theta), atol=1e-8)
    if cons.n_ineq:
        np.testing.assert_allclose(cons.jacobian_g(theta), cons.jacobian(cons.g, theta), atol=1e-8)
    if cons.linear and cons.n_eq:
        jac = cons.jacobian_h(theta)
        np.testing.assert_allclose(jac @ cons.K, 0.0, atol=1e-10)  # K spans the null space
        np.testing.assert_allclose(cons.K.T @ cons.K, np.eye(cons.K.shape[1]), atol=1e-10)
        ref = linalg.null_space(jac, rcond=1e-9)
        assert ref.shape == cons.K.shape
        # same subspace as the SVD basis
        np.testing.assert_allclose(cons.K @ cons.K.T, ref @ ref.T, atol=1e-10)


@pytest.mark.parametrize(("p", "meanstructure"), [(4, False), (7, True)])
def test_normal_quadratic_equals_explicit_weight(p, meanstructure):
    rng = np.random.default_rng(p)
    a = rng.normal(size=(p, p))
    vinv = np.linalg.inv(a @ a.T + p * np.eye(p))
    d = rng.normal(size=((p if meanstructure else 0) + p * (p + 1) // 2, 11))
    d[:, [1, 4]] = 0.0  # parameters of another group
    want = d.T @ normal_weight(vinv, meanstructure) @ d
    np.testing.assert_allclose(
        normal_quadratic(vinv, d, meanstructure), want, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(
    ("x2", "df", "n"), [(85.3, 24, 301), (609.5, 186, 60), (5.0, 8, 100), (2000.0, 500, 2000)]
)
def test_rmsea_interval_equals_root_finding(x2, df, n):
    lo, hi = rmsea_ci(x2, df, n)

    def root(p):
        if stats.chi2.cdf(x2, df) < p:
            return 0.0
        lam = optimize.brentq(
            lambda v: stats.ncx2.cdf(x2, df, v) - p, 0.0, max(n, 4 * x2), xtol=1e-12
        )
        return np.sqrt(lam / (n * df))

    assert lo == pytest.approx(root(0.95), rel=1e-9, abs=1e-12)
    assert hi == pytest.approx(root(0.05), rel=1e-9, abs=1e-12)


def test_small_blas_is_transparent_and_nests():
    @small_blas
    def inner(x):
        return x @ x.T

    @small_blas
    def outer(x):
        return inner(x) + 1.0

    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(outer(x), x @ x.T + 1.0)
    assert inner.__name__ == "inner"
