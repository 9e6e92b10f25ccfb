"""FIML moments: patterns, log-likelihood, gradient, scores, information, EM.

Parity with lavaan 0.6-14 (live through rpy2): ``logl``, ``unrestricted.logl``,
``lavInspect(fit, "sampstat.h1")``, ``coverage`` and lavaan's internal h1 information
matrices of a ``cfa(HS model, missing = "ml", estimator = "MLR")`` fit on
HolzingerSwineford1939 with 20% MAR missing values.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_missing_fixtures import hs_mar, lavaan_hs

from radsem.errors import ConvergenceWarning, DataError, DataWarning, EstimationError
from radsem.estimation.missing.em import em_saturated
from radsem.estimation.missing.likelihood import (
    dup_quadratic,
    fiml_gradient,
    fiml_information_expected,
    fiml_information_firstorder,
    fiml_information_observed,
    fiml_loglik,
    fiml_scores,
    missing_patterns,
    vech_indices,
)


@pytest.fixture(scope="module")
def hs_missing():
    return hs_mar()


@pytest.fixture(scope="module")
def mp(hs_missing):
    return missing_patterns(hs_missing.to_numpy())


@pytest.fixture
def lav_fiml(r_lavaan):
    """lavaan's FIML fit (MLR: same estimates, logl and h1 matrices as ML)."""
    return lavaan_hs("mar20-MLR")


def _moments(p, rng):
    a = rng.normal(size=(p, p))
    return rng.normal(size=p), a @ a.T / p + np.eye(p)


def _unvech(v, p):
    r, c = vech_indices(p)
    s = np.zeros((p, p))
    s[r, c] = v
    s[c, r] = v
    return s


# ---------------------------------------------------------------------------- lavaan parity
def test_loglik_and_em_match_lavaan(lav_fiml, mp):
    fm = lav_fiml.fit_measures()
    mu, sigma = lav_fiml.implied()
    assert fiml_loglik(mp, mu, sigma) == pytest.approx(fm["logl"], abs=1e-8)
    em = em_saturated(mp)
    h1_mu, h1_sigma = lav_fiml.h1()
    np.testing.assert_allclose(em.mean, h1_mu, atol=1e-10)
    np.testing.assert_allclose(em.cov, h1_sigma, atol=1e-10)
    assert em.logl == pytest.approx(fm["unrestricted.logl"], abs=1e-8)
    assert em.converged


def test_h1_information_matches_lavaan(lav_fiml, mp):
    mu, sigma = lav_fiml.implied()
    for name, ours in (
        ("lav_model_h1_information_observed", fiml_information_observed),
        ("lav_model_h1_information_expected", fiml_information_expected),
        ("lav_model_h1_information_firstorder", fiml_information_firstorder),
    ):
        ref = np.array(lav_fiml.internal(name, lav_fiml.fit)[0])
        np.testing.assert_allclose(ours(mp, mu, sigma), ref, atol=1e-11, err_msg=name)


def test_coverage_matches_lavaan(lav_fiml, mp):
    np.testing.assert_allclose(mp.coverage, np.array(lav_fiml.inspect("coverage")), atol=1e-14)


# ---------------------------------------------------------------------------- properties
def test_gradient_is_derivative_of_loglik(mp, rng):
    mu, sigma = _moments(9, rng)
    r, c = vech_indices(9)
    v0 = np.concatenate([mu, sigma[r, c]])
    grad = fiml_gradient(mp, mu, sigma)
    h = 1e-5
    num = np.array(
        [
            (
                fiml_loglik(mp, (v0 + h * e)[:9], _unvech((v0 + h * e)[9:], 9))
                - fiml_loglik(mp, (v0 - h * e)[:9], _unvech((v0 - h * e)[9:], 9))
            )
            / (2 * h)
            for e in np.eye(v0.size)
        ]
    )
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(fiml_scores(mp, mu, sigma).sum(axis=0), grad, atol=1e-9)


def test_observed_information_is_minus_hessian(mp, rng):
    mu, sigma = _moments(9, rng)
    r, c = vech_indices(9)
    v0 = np.concatenate([mu, sigma[r, c]])

    def grad(v):
        return fiml_gradient(mp, v[:9], _unvech(v[9:], 9))

    h = 1e-6
    hess = np.array([(grad(v0 + h * e) - grad(v0 - h * e)) / (2 * h) for e in np.eye(v0.size)])
    np.testing.assert_allclose(fiml_information_observed(mp, mu, sigma), -hess / mp.nobs, atol=1e-6)


def test_complete_data_reduces_to_sample_moments(rng):
    x = rng.normal(size=(200, 4)) @ np.array(
        [[1, 0.5, 0, 0], [0, 1, 0.3, 0], [0, 0, 1, 0], [0.2, 0, 0, 1.0]]
    )
    mp = missing_patterns(x)
    assert mp.complete
    assert mp.npatterns == 1
    em = em_saturated(mp)
    np.testing.assert_allclose(em.mean, x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(em.cov, np.cov(x.T, bias=True), atol=1e-12)
    # at the sample moments the observed and expected information coincide
    obs = fiml_information_observed(mp, em.mean, em.cov)
    np.testing.assert_allclose(obs, fiml_information_expected(mp, em.mean, em.cov), atol=1e-10)
    n, p = x.shape
    s = np.cov(x.T, bias=True)
    ref = -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(s)[1] + p)
    assert em.logl == pytest.approx(ref, rel=1e-12)


def test_dup_quadratic_matches_explicit_duplication_matrix(rng):
    p = 4
    a = _moments(p, rng)[1]
    b = _moments(p, rng)[1]
    r, c = vech_indices(p)
    dup = np.zeros((p * p, r.size))
    for k, (i, j) in enumerate(zip(r, c, strict=True)):
        dup[i + j * p, k] = 1
        dup[j + i * p, k] = 1
    np.testing.assert_allclose(dup_quadratic(a, b), dup.T @ np.kron(a, b) @ dup, atol=1e-12)


def test_em_is_reproducible_and_warns_when_stopped_early(mp):
    a, b = em_saturated(mp), em_saturated(mp)
    np.testing.assert_array_equal(a.cov, b.cov)
    with pytest.warns(ConvergenceWarning, match="did not converge in 2 iterations"):
        em_saturated(mp, max_iter=2)


# ---------------------------------------------------------------------------- bad inputs
def test_all_missing_rows_are_dropped_with_warning():
    x = np.array([[1.0, 2.0], [np.nan, np.nan], [2.0, np.nan], [3.0, 1.0]])
    with pytest.warns(DataWarning, match="1 case\\(s\\) with every variable missing"):
        mp = missing_patterns(x)
    assert mp.nobs == 3
    np.testing.assert_array_equal(mp.empty, [1])
    np.testing.assert_array_equal(x[1], [np.nan, np.nan])  # input untouched


def test_all_missing_column_is_an_error():
    x = np.array([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(DataError, match="every value missing: b"):
        missing_patterns(x, names=["a", "b"])


@pytest.mark.parametrize(
    ("data", "message"),
    [(np.ones(3), "2-d"), (np.zeros((0, 2)), "2-d"), (np.array([[1.0, np.inf]]), "infinite")],
)
def test_bad_data_shapes(data, message):
    with pytest.raises(DataError, match=message):
        missing_patterns(data)


def test_non_positive_definite_sigma_is_an_estimation_error(mp):
    with pytest.raises(EstimationError, match="not positive definite"):
        fiml_loglik(mp, np.zeros(9), -np.eye(9))
