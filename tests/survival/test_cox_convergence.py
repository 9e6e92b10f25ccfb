"""Convergence reporting of the Cox fit."""

from __future__ import annotations

import warnings

import pytest

from radsem.simulate import simulate_cohort
from radsem.survival import cox


def test_solved_fit_with_unscaled_age_is_reported_converged():
    """On this simulated cohort (age in years, unscaled) the log-likelihood became flat at machine
    precision one iteration before the step-size test could pass, and a fit whose coefficients
    equal R's coxph (1.23893426, 0.04854005) was reported as not converged, with a warning."""
    clinical = simulate_cohort(n=60, seed=2026, images=False).clinical
    data = clinical.assign(advanced=clinical["figo_stage"].isin(["III", "IV"]).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cox(data, time="dss_time", event="dss_event", covariates=["advanced", "age"])
    assert result.converged
    # R 4.2.2, survival 3.5-3: coef(coxph(Surv(dss_time, dss_event) ~ advanced + age, data))
    assert result.params["advanced"] == pytest.approx(1.23893426, rel=1e-7)
    assert result.params["age"] == pytest.approx(0.04854005, rel=1e-6)
