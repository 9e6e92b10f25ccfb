"""Invariants that hold for every seed and size (checked over a handful of seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from radsem.simulate import MECHANISMS, default_parameters, simulate_cohort


@pytest.mark.parametrize(("n", "seed"), [(1, 0), (7, 1), (50, 2), (200, 3), (400, 4)])
def test_invariants(n, seed):
    cohort = simulate_cohort(n, seed=seed, images=False)
    clin = cohort.clinical
    params = default_parameters()
    assert len(clin) == n
    assert clin["patient_id"].is_unique
    assert clin["time"].gt(0).all()
    assert clin["dss_time"].ge(clin["time"]).all()
    assert set(clin["event"]) <= {0, 1}
    assert clin["dss_event"].le(clin["event"]).all()
    assert clin["figo2018"].isin(list(params.figo_stages)).all()
    assert clin["histology"].isin(params.histology_levels).all()
    assert clin["age"].between(params.age["low"], params.age["high"]).all()
    assert clin["time"].le(params.censoring["study_end"]).all()
    assert cohort.expression["patient_id"].isin(clin["patient_id"]).all()
    assert list(cohort.latent.columns) == ["patient_id", *MECHANISMS]
    assert np.isfinite(cohort.expression.drop(columns="patient_id").to_numpy()).all()
    assert len(cohort.protocol) == 3 * n
    truth = cohort.truth["patients"]
    assert truth["patient_id"] == clin["patient_id"].tolist()
    np.testing.assert_allclose(truth["E6"], cohort.latent["E6"], atol=1e-6)


@pytest.mark.parametrize("share", [0.0, 0.2, 0.45, 0.7])
def test_missing_share_is_honoured(share):
    cohort = simulate_cohort(1500, seed=9, images=False, missing_expression=share)
    observed = 1 - len(cohort.expression) / 1500
    assert abs(observed - share) < 0.04  # binomial sd <= 0.013


def test_masks_never_empty_on_tiny_grids():
    cohort = simulate_cohort(12, seed=6, image_shape=(4, 8, 8))
    assert all(img.mask.sum() > 0 for img in cohort.images.values())
    assert all(img.adc.shape == (4, 4, 4) for img in cohort.images.values())
