"""The deep models run on a cohort folder written by radsem.simulate and read by radsem.io."""

from __future__ import annotations

import numpy as np

from radsem.deep import CropSpec, cohort_expression, crop_cohort
from radsem.deep.cae import ConvAutoencoder


def test_simulated_cohort_folder(tmp_path):
    from radsem.io import read_cohort
    from radsem.simulate import simulate

    cohort = read_cohort(simulate(12, 0, tmp_path / "cohort"))
    crops = crop_cohort(cohort, CropSpec(shape=(8, 16, 16)), progress=False)
    assert crops.data.shape == (len(cohort.images), 3, 8, 16, 16)
    assert list(crops.patient_id) == list(cohort.images["patient_id"])
    assert np.isfinite(crops.data).all()
    cae = ConvAutoencoder(
        latent_dim=2,
        base_channels=4,
        n_blocks=2,
        epochs=2,
        batch_size=4,
        random_state=0,
        progress=False,
    ).fit(crops)
    latent = cae.transform(crops)
    assert list(latent.index) == list(crops.patient_id)
    expr, labels = cohort_expression(cohort, ("hpv_type", "hpv_clade"))
    assert len(expr) == len(labels) == len(cohort.expression)
    assert "patient_id" not in expr.columns
    assert list(labels.columns) == ["hpv_type", "hpv_clade"]
