"""Unit and property checks of the robust building blocks (no R needed)."""

from __future__ import annotations

import numpy as np
import pytest

from radsem.errors import DataError, EstimationError
from radsem.estimation.measures.indices import cfi, rmsea, rmsea_ci, rmsea_pvalue, tli
from radsem.estimation.missing.likelihood import dup_quadratic, missing_patterns
from radsem.estimation.robust.baseline import baseline_fit
from radsem.estimation.robust.fiml_correction import fiml_corrected, normal_information
from radsem.estimation.robust.sandwich import gamma_adf, gamma_nt, sandwich, scaled_test


def test_gamma_nt_inverts_the_normal_information(rng):
    a = rng.normal(size=(4, 4))
    sigma = a @ a.T + 4 * np.eye(4)
    w = np.linalg.inv(sigma)
    np.testing.assert_allclose(
        gamma_nt(sigma, meanstructure=False) @ (0.5 * dup_quadratic(w, w)), np.eye(10), atol=1e-10
    )
    np.testing.assert_allclose(gamma_nt(sigma) @ normal_information(sigma), np.eye(14), atol=1e-10)


def test_gamma_adf_approaches_gamma_nt_for_normal_data(rng):
    sigma = np.array([[1.0, 0.5, 0.2], [0.5, 2.0, 0.3], [0.2, 0.3, 1.5]])
    x = rng.multivariate_normal(np.zeros(3), sigma, size=40_000)
    np.testing.assert_allclose(gamma_adf(x), gamma_nt(sigma), rtol=0.05, atol=0.05)


def test_gamma_adf_rejects_missing_values():
    with pytest.raises(DataError, match="no missing values"):
        gamma_adf(np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]))


def test_sandwich_is_symmetric_and_checks_shapes(rng):
    a = rng.normal(size=(3, 3))
    out = sandwich(a @ a.T, np.eye(3))
    np.testing.assert_allclose(out, out.T)
    with pytest.raises(EstimationError, match="equal square"):
        sandwich(np.eye(3), np.eye(2))


def test_scaled_test_edge_cases():
    t = scaled_test(30.0, 10, 12.0)
    assert t.scaling_factor == pytest.approx(1.2)
    assert t.stat == pytest.approx(25.0)
    assert np.isnan(scaled_test(30.0, 0, 12.0).scaling_factor)  # saturated model
    assert np.isnan(scaled_test(30.0, 10, -1.0).scaling_factor)  # negative trace


def test_incremental_indices_and_rmsea_edge_cases():
    assert cfi(5.0, 10, 500.0, 20) == 1.0  # chisq below df: perfect
    assert cfi(50.0, 10, 500.0, 20) == pytest.approx(1 - 40 / 480)
    assert tli(50.0, 10, 500.0, 20) == pytest.approx(1 - (40 * 20) / (480 * 10))
    assert np.isnan(cfi(np.nan, 10, 500.0, 20))
    assert rmsea(5.0, 10, 300) == 0.0
    assert rmsea(30.0, 0, 300) == 0.0
    assert rmsea(50.0, 10, 301) == pytest.approx(np.sqrt((50 / 301) / 10 - 1 / 301))
    lo, hi = rmsea_ci(50.0, 10, 301)
    assert 0 < lo < rmsea(50.0, 10, 301) < hi
    assert rmsea_ci(2.0, 10, 301) == (0.0, 0.0)
    assert 0 < rmsea_pvalue(50.0, 10, 301) < 1


def test_robust_cfi_with_scaling_factor():
    val = cfi(50.0, 10, 500.0, 20, c_hat=1.2, c_hat_null=1.5)
    assert val == pytest.approx(1 - (50 - 12) / (500 - 30))


def test_baseline_is_the_exact_fiml_independence_model(rng):
    x = rng.normal(size=(120, 3)) * [1.0, 2.0, 3.0]
    x[rng.random(x.shape) < 0.2] = np.nan
    mp = missing_patterns(x)
    base = baseline_fit(mp)
    np.testing.assert_allclose(base.mean, np.nanmean(x, axis=0))
    np.testing.assert_allclose(np.diag(base.cov), np.nanvar(x, axis=0))
    assert base.npar == 6
    # the FIML gradient of the independence model's free moments vanishes at its estimates
    from radsem.estimation.missing.likelihood import fiml_gradient

    grad = fiml_gradient(mp, base.mean, base.cov)
    np.testing.assert_allclose(base.delta.T @ grad, 0.0, atol=1e-9)


def test_fiml_corrected_rejects_unknown_version():
    with pytest.raises(EstimationError, match="V3"):
        fiml_corrected(1, 1, 1, 1, [], [], [], [], [], [1], version="V4")
