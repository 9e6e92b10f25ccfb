"""The cohort contract with optional masks, and the simulator's unlabelled patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError
from radsem.io import read_cohort
from radsem.simulate import simulate_cohort


def test_unlabelled_patients_have_no_mask_file(cohort_dir):
    cohort = read_cohort(cohort_dir)
    truth = pd.DataFrame(cohort.truth["patients"]).set_index("patient_id")
    assert int((~truth["labelled"]).sum()) == 3
    images = cohort.images.set_index("patient_id")
    for pid, labelled in truth["labelled"].items():
        assert (images.at[pid, "mask"] is not None) == labelled
        assert (cohort_dir / "images" / pid / "mask.nii.gz").is_file() == labelled


def test_unlabelled_changes_nothing_else():
    a = simulate_cohort(12, seed=5, image_shape=(8, 16, 16))
    b = simulate_cohort(12, seed=5, image_shape=(8, 16, 16), unlabelled=0.5)
    pd.testing.assert_frame_equal(a.clinical, b.clinical)
    for pid in a.images:
        np.testing.assert_array_equal(a.images[pid].t2, b.images[pid].t2)
        np.testing.assert_array_equal(a.images[pid].mask, b.images[pid].mask)
    assert sum(b.truth["patients"]["labelled"]) == 6
    with pytest.raises(DataError, match="unlabelled"):
        simulate_cohort(5, seed=1, images=False, unlabelled=1.0)


def test_extraction_records_patients_without_mask(cohort_dir):
    from radsem.radiomics import extract_cohort

    cohort = read_cohort(cohort_dir)
    images = cohort.images.head(4).copy()
    images.loc[images.index[:2], "mask"] = None
    result = extract_cohort(images, progress=False)
    assert len(result.features) + len(result.failures) == 4
    no_mask = result.failures[result.failures["reason"].str.contains("no tumour mask")]
    expected = images.loc[images["mask"].isna(), "patient_id"]
    assert len(expected) >= 2
    assert sorted(no_mask["patient_id"]) == sorted(expected)


def test_organs_make_the_threshold_leak():
    """The simulated tumour-like organs sit next to the tumour: outside the mask, tumour-like
    on DWI (what makes a threshold + largest component imperfect)."""
    cohort = simulate_cohort(20, seed=8)
    ratios = []
    for img in cohort.images.values():
        f = img.t2.shape[1] // img.dwi.shape[1]
        dwi = np.repeat(np.repeat(img.dwi.astype(float), f, 1), f, 2)
        mask = img.mask.astype(bool)
        tumour = np.median(dwi[mask])
        ratios.append(np.mean(dwi[~mask] > 0.6 * tumour))
    # several percent of the non-tumour voxels are as bright as 60 % of the tumour's median
    assert np.median(ratios) > 0.01


def test_extraction_records_the_mask_source(cohort_dir, tmp_path):
    from radsem.radiomics import extract_cohort
    from radsem.segment import predict_masks, with_predicted_masks

    class Box:
        method, model_hash = "box", "h0"

        def predict_case(self, case):
            mask = np.zeros(case.channels.shape[1:], dtype=bool)
            mask[2:6, 8:16, 8:16] = True
            return mask

    predict_masks(Box(), cohort_dir, tmp_path / "p")
    cohort = with_predicted_masks(read_cohort(cohort_dir), tmp_path / "p")
    result = extract_cohort(cohort, progress=False)
    assert result.failures.empty
    source = result.diagnostics.groupby("patient_id")["mask_source"].first()
    assert (source == "predicted:box:h0").sum() == 3
    assert (source == "reference").sum() == 7
