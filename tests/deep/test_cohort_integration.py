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


def test_crops_record_the_mask_source(tmp_path):
    """A cohort completed with predicted masks: each crop says which mask it was cut with."""
    from radsem.io import read_cohort
    from radsem.segment import predict_masks, with_predicted_masks
    from radsem.simulate import simulate

    folder = simulate(8, 2, tmp_path / "cohort", image_shape=(8, 24, 24), unlabelled=0.3)
    cohort = read_cohort(folder)
    plain = crop_cohort(cohort, CropSpec(shape=(8, 16, 16)), progress=False)
    assert len(plain) == int(cohort.images["mask"].notna().sum())
    assert plain.mask_source.eq("reference").all()

    class Box:
        method, model_hash = "box", "ab" * 32

        def predict_case(self, case):
            mask = np.zeros(case.channels.shape[1:], dtype=bool)
            mask[3:6, 8:14, 8:14] = True
            return mask

    predict_masks(Box(), cohort, tmp_path / "pred")
    completed = with_predicted_masks(cohort, tmp_path / "pred")
    crops = crop_cohort(completed, CropSpec(shape=(8, 16, 16)), progress=False)
    assert len(crops) == 8
    assert list(crops.mask_source.index) == list(crops.patient_id)
    unlabelled = set(cohort.images.loc[cohort.images["mask"].isna(), "patient_id"])
    assert unlabelled
    for pid, source in crops.mask_source.items():
        expected = f"predicted:box:{'ab' * 32}" if pid in unlabelled else "reference"
        assert source == expected, pid
