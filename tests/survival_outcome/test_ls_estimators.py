"""The estimators against known truth (radsem.simulate cohorts); the full study is
``benchmarks/sim_latent_survival.py``."""

from __future__ import annotations

import numpy as np
import pytest
from _ls_data import small_cohort

from radsem.estimation.families.survival_outcome.api import fit_problem
from radsem.estimation.families.survival_outcome.problem import build_problem


@pytest.fixture(scope="module")
def cohort():
    df, model, truth = small_cohort(500, 11)
    return build_problem(model, df), truth


@pytest.fixture(scope="module")
def joint(cohort):
    return fit_problem(cohort[0], "joint")


def test_joint_recovers_truth_within_three_se(cohort, joint):
    _, truth = cohort
    se = np.sqrt(np.diag(joint.vcov()))
    assert joint.converged
    for k, name in enumerate(joint.coef.index):
        if name in truth:
            assert abs(joint.coef[name] - truth[name]) < 3 * se[k], name


def test_naive_factor_scores_are_attenuated(cohort, joint):
    naive = fit_problem(cohort[0], "naive")
    for name in cohort[1]:
        assert abs(naive.coef[name]) < abs(joint.coef[name]), name
    # the naive fit drops the patients without expression
    assert naive.n_used < joint.n_used


def test_two_step_corrections_close_to_joint(cohort, joint):
    rc = fit_problem(cohort[0], "regression_calibration", draws=5, seed=3)
    pv = fit_problem(cohort[0], "plausible_values", draws=5, seed=3)
    for fit in (rc, pv):
        se = np.sqrt(np.diag(fit.vcov()))
        diff = np.abs(fit.coef - joint.coef).to_numpy()
        assert np.all(diff < se), fit.method
    # plausible values carry imputation variance: SE above the within-imputation SE
    within = np.sqrt(np.diag(pv.info["within"]))
    assert np.all(np.sqrt(np.diag(pv.vcov())) > within)


def test_plausible_values_reproducible(cohort):
    a = fit_problem(cohort[0], "plausible_values", draws=3, seed=9)
    b = fit_problem(cohort[0], "plausible_values", draws=3, seed=9)
    c = fit_problem(cohort[0], "plausible_values", draws=3, seed=10)
    np.testing.assert_array_equal(a.coef.to_numpy(), b.coef.to_numpy())
    assert not np.allclose(a.coef.to_numpy(), c.coef.to_numpy())


def test_joint_hazard_ratio_per_sd(joint):
    hr = joint.hazard_ratios()
    sd = hr.loc["E7", "sd"]
    assert hr.loc["E7", "scale"] == "per SD"
    assert hr.loc["E7", "log_hr"] == pytest.approx(joint.coef["E7"] * sd)
    assert hr.loc["advanced", "scale"] == "per unit"
    assert hr.loc["E7", "ci_lower"] < hr.loc["E7", "hr"] < hr.loc["E7", "ci_upper"]
    base = joint.baseline_hazard()
    assert len(base) == 6
    assert np.all(np.isfinite(base["se"]))
