"""The FIML observed information through the moment-level Hessian equals the Hessian from
differencing the analytic gradient (the slow route it replaces)."""

import numpy as np
import pytest

import radsem
from radsem.datasets import load

MODEL = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
"""


def _with_holes(seed: int):
    data = load("HolzingerSwineford1939")
    cols = [f"x{i}" for i in range(1, 10)]
    holes = np.random.default_rng(seed).uniform(size=(len(data), 9)) < 0.15
    data[cols] = data[cols].mask(holes)
    return data


@pytest.mark.parametrize("group", [None, "school"])
def test_moment_hessian_equals_differenced_gradient(group):
    fit = radsem.cfa(MODEL, _with_holes(3), missing="ml", group=group)
    problem, theta = fit._problem, fit._theta
    fast = problem.hessian(theta)
    assert getattr(problem.estimator, "moment_hessian", False)
    slow = _differenced(problem, theta)
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-8 * np.abs(slow).max())


def _differenced(problem, theta, eps=1e-5):
    n = theta.size
    hess = np.zeros((n, n))
    for k in range(n):
        h = eps * max(1.0, abs(theta[k]))
        e = np.zeros(n)
        e[k] = h
        hess[:, k] = (problem.gradient(theta + e) - problem.gradient(theta - e)) / (2 * h)
    return 0.5 * (hess + hess.T)
