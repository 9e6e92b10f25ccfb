"""Adaptive Gauss-Hermite quadrature of the PH likelihood over a Gaussian linear predictor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from radsem.estimation.families.survival_outcome.quadrature import (
    log_integral,
    log_integral_numpy,
    posterior_mode,
)

CASES = [  # m, s2, d, H
    (0.0, 1.0, 1, 0.3),
    (0.5, 0.2, 0, 0.05),
    (-1.0, 2.5, 1, 4.0),
    (2.0, 0.05, 1, 0.8),
    (0.3, 1.5, 0, 12.0),
    (-2.0, 0.6, 1, 0.001),
]


def _quad(m, s2, d, h):
    s = np.sqrt(s2)
    f = lambda u: np.exp(d * u - h * np.exp(u)) * stats.norm.pdf(u, m, s)  # noqa: E731
    return np.log(integrate.quad(f, m - 12 * s, m + 12 * s, epsabs=0, epsrel=1e-12, limit=400)[0])


@pytest.mark.parametrize(("m", "s2", "d", "h"), CASES)
@pytest.mark.parametrize(("points", "tol"), [(15, 5e-6), (40, 1e-9)])
def test_matches_adaptive_scipy_quad(m, s2, d, h, points, tol):
    got = log_integral_numpy(
        np.array([m]), np.array([s2]), np.array([d], float), np.array([h]), points=points
    )[0]
    assert got == pytest.approx(_quad(m, s2, d, h), abs=tol)


def test_matches_brute_force_monte_carlo():
    rng = np.random.default_rng(5)
    m, s2, d, h = np.array(CASES, float).T
    got = log_integral_numpy(m, s2, d, h)
    u = m[:, None] + np.sqrt(s2)[:, None] * rng.standard_normal((len(m), 100_000))
    vals = np.exp(d[:, None] * u - h[:, None] * np.exp(u))
    mc = np.log(vals.mean(axis=1))
    se = vals.std(axis=1) / np.sqrt(u.shape[1]) / vals.mean(axis=1)
    assert np.all(np.abs(got - mc) < 4 * se + 1e-12)


def test_torch_equals_numpy_and_gradient_is_exact():
    m, s2, d, h = (torch.tensor(c, dtype=torch.float64) for c in np.array(CASES, float).T)
    m.requires_grad_(True)
    s2.requires_grad_(True)
    val = log_integral(m, s2, d, h, points=40)
    np.testing.assert_allclose(
        val.detach().numpy(),
        log_integral_numpy(*(t.detach().numpy() for t in (m, s2, d, h)), points=40),
        rtol=0,
        atol=1e-12,
    )
    val.sum().backward()
    eps = 1e-6
    for k, case in enumerate(CASES):
        mm, ss, dd, hh = case

        def f(a, b, dd=dd, hh=hh):
            return log_integral_numpy(
                np.array([a]), np.array([b]), np.array([dd]), np.array([hh]), points=40
            )[0]

        fd_m = (f(mm + eps, ss) - f(mm - eps, ss)) / (2 * eps)
        fd_s = (f(mm, ss + eps) - f(mm, ss - eps)) / (2 * eps)
        assert m.grad[k].item() == pytest.approx(fd_m, abs=1e-5)
        assert s2.grad[k].item() == pytest.approx(fd_s, abs=1e-5)


def test_degenerate_variance_gives_closed_form():
    m, d, h = np.array([0.4, -1.0]), np.array([1.0, 0.0]), np.array([0.7, 2.0])
    got = log_integral_numpy(m, np.zeros(2), d, h)
    np.testing.assert_allclose(got, d * m - h * np.exp(m), atol=1e-8)


def test_mode_solves_the_score_equation():
    rng = np.random.default_rng(2)
    m, s2 = rng.normal(0, 2, 200), rng.uniform(0.01, 5, 200)
    d, h = rng.integers(0, 2, 200).astype(float), np.exp(rng.normal(0, 3, 200))
    u, sig = posterior_mode(m, s2, d, h)
    assert np.max(np.abs(d - h * np.exp(u) - (u - m) / s2) * sig**2) < 1e-8
