"""The MRI volumes carry the intended signal: scanner effects, tumour biology, geometry."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from radsem.io import image_array, read_cohort


def _summary(cohort) -> pd.DataFrame:
    rows = []
    for pid, img in cohort.images.items():
        mask = img.mask.astype(bool)
        rows.append(
            {
                "patient_id": pid,
                "t2_median": float(np.median(img.t2)),
                "t2_tumour": float(img.t2[mask].mean()),
                "mask_voxels": int(mask.sum()),
            }
        )
    table = pd.DataFrame(rows).merge(cohort.clinical, on="patient_id")
    return table.merge(pd.DataFrame(cohort.truth["patients"]), on="patient_id")


def test_scanner_shifts_raw_intensities(image_cohort):
    """Raw T2 intensities differ by scanner far more than between patients of one scanner."""
    table = _summary(image_cohort)
    groups = [g["t2_median"].to_numpy() for _, g in table.groupby("scanner")]
    assert len(groups) >= 4
    assert stats.kruskal(*groups).pvalue < 1e-3
    by_field = table.groupby(table["scanner"].str.endswith("3T"))["t2_median"].median()
    assert by_field[True] / by_field[False] > 1.5


def test_noise_falls_with_field_strength(image_cohort):
    """Background noise relative to signal is lower at 3 T (SNR grows with B0)."""
    cv = {}
    for pid, img in image_cohort.images.items():
        corner = img.t2[:, :4, :4].astype(float)  # fat, far from the tumour
        cv[pid] = corner.std() / corner.mean()
    table = image_cohort.clinical.assign(cv=image_cohort.clinical["patient_id"].map(cv))
    med = table.groupby(table["scanner"].str.endswith("3T"))["cv"].median()
    assert med[True] < med[False]


def test_tumour_size_follows_stage_and_truth(image_cohort):
    table = _summary(image_cohort)
    volume = table["mask_voxels"] * table["scanner"].map(
        {
            s: np.prod(v["t2_spacing"])
            for s, v in image_cohort.truth["parameters"]["scanners"].items()
        }
    )
    # the mask volume measures the true tumour size ...
    r = stats.spearmanr(volume, table["tumour_radius_mm"]).statistic
    assert r > 0.9
    # ... and the true size grows with stage
    stage = table["figo_stage"].map({"I": 0, "II": 1, "III": 2, "IV": 3})
    assert stats.spearmanr(stage, table["tumour_radius_mm"]).statistic > 0.3


def test_adc_in_tumour_tracks_true_diffusion(image_cohort):
    """Mean ADC in the tumour (DWI grid, nearest mask voxels) follows the true tumour ADC."""
    measured, true = [], []
    for pid, img in image_cohort.images.items():
        f = img.mask.shape[1] // img.adc.shape[1]
        mask = img.mask[:, ::f, ::f].astype(bool)[:, : img.adc.shape[1], : img.adc.shape[2]]
        if mask.sum() < 5:
            continue
        measured.append(img.adc[mask].mean())
        row = pd.DataFrame(image_cohort.truth["patients"]).set_index("patient_id").loc[pid]
        true.append(row["adc_tumour"])
    assert len(measured) >= 20
    assert stats.spearmanr(measured, true).statistic > 0.5
    assert 500 < np.median(measured) < 1500  # 1e-6 mm^2/s, restricted diffusion in tumour


def test_written_volumes_have_protocol_geometry(cohort_folder):
    cohort = read_cohort(cohort_folder)
    prot = cohort.protocol.set_index(["patient_id", "series"])
    for row in cohort.images.head(5).itertuples():
        t2, t2_sp = image_array(row.t2)
        adc, adc_sp = image_array(row.adc)
        mask, mask_sp = image_array(row.mask)
        assert mask.shape == t2.shape
        assert mask_sp == t2_sp
        assert set(np.unique(mask)) <= {0, 1}
        assert mask.sum() > 0
        p = prot.loc[(row.patient_id, "T2")]
        np.testing.assert_allclose(
            t2_sp, [p["spacing_z"], p["spacing_y"], p["spacing_x"]], rtol=1e-6
        )
        assert t2.shape == (p["size_z"], p["size_y"], p["size_x"])
        q = prot.loc[(row.patient_id, "ADC")]
        np.testing.assert_allclose(
            adc_sp, [q["spacing_z"], q["spacing_y"], q["spacing_x"]], rtol=1e-6
        )
        assert adc.dtype == np.int16
        assert t2.dtype == np.int16


def test_images_are_fast_enough(image_cohort_timed):
    """About 0.1 s per patient: 40 patients well under 20 s even on a loaded 2-core box."""
    _, seconds = image_cohort_timed
    assert seconds < 20.0


def test_measured_adc_falls_with_proliferation(image_cohort):
    """Diffusion restriction follows E7 activity in the raw ADC maps (n = 40: rho < -0.35)."""
    truth = pd.DataFrame(image_cohort.truth["patients"]).set_index("patient_id")
    scanners = image_cohort.clinical.set_index("patient_id")["scanner"]
    measured = {}
    for pid, img in image_cohort.images.items():
        f = img.mask.shape[1] // img.adc.shape[1]
        mask = img.mask[:, ::f, ::f].astype(bool)
        if mask.any():
            measured[pid] = img.adc[mask].mean()
    table = truth.assign(adc=pd.Series(measured), scanner=scanners).dropna(subset=["adc"])
    assert stats.spearmanr(table["E7"], table["adc"]).statistic < -0.35
