"""Extraction of one patient: feature counts, naming, normalisation, settings, parity."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError, ImageError
from radsem.radiomics import extract_patient, resolve_settings
from radsem.radiomics.extract import extract_series, read_volume

#: Per-class counts of Halle et al. (METHODS.md section 2); pyradiomics 3.0.1 defaults agree.
PAPER_COUNTS = {
    "shape": 14,
    "firstorder": 18,
    "glcm": 24,
    "glrlm": 16,
    "glszm": 16,
    "gldm": 14,
    "ngtdm": 5,
}


@pytest.fixture(scope="module")
def one(patients):
    row = patients.iloc[0]
    return extract_patient(row.t2, row.dwi, row.adc, row["mask"], name="P0")


def test_293_features_with_the_papers_per_class_counts(one):
    features, _ = one
    assert features.shape == (293,)
    counts = Counter((c.split("_")[0], c.split("_")[2]) for c in features.index)
    for series in ("t2", "dwi", "adc"):
        for cls, n in PAPER_COUNTS.items():
            expected = n if (cls != "shape" or series == "t2") else 0
            assert counts.get((series, cls), 0) == expected, (series, cls)
    assert "t2_original_glcm_Contrast" in features.index
    assert features.index[0].startswith("t2_original_shape_")
    assert np.isfinite(features.to_numpy()).all()


def test_diagnostics_report_voxels_spacing_bins(one, patients):
    _, diag = one
    assert set(diag) == {"t2", "dwi", "adc"}
    assert diag["t2"]["voxels"] == diag["dwi"]["voxels"] > 0  # the same mask for all three
    assert diag["dwi"]["spacing_x"] == 2.0
    assert diag["t2"]["spacing_x"] == 1.0
    assert all(d["bins"] >= 1 for d in diag.values())
    # normalised intensities: whole-volume mean 100, so the ROI mean is near 100 * ratio
    assert 90 < diag["adc"]["roi_mean"] < 110


def test_matches_pyradiomics_on_the_prepared_images(one, patients):
    """radsem's per-series values equal pyradiomics run directly on the same prepared image."""
    import SimpleITK as sitk
    from radiomics import featureextractor

    row = patients.iloc[0]
    t2, mask = read_volume(row.t2), read_volume(row["mask"])
    dwi = sitk.Cast(read_volume(row.dwi), sitk.sitkFloat32)
    mean = sitk.GetArrayViewFromImage(dwi).mean()
    dwi = sitk.Resample(
        dwi * float(100.0 / mean), t2, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32
    )
    ex = featureextractor.RadiomicsFeatureExtractor(binWidth=10)
    ex.disableAllFeatures()
    ex.enableFeatureClassByName("glcm")
    ex.enableFeatureClassByName("firstorder")
    direct = {k: float(v) for k, v in ex.execute(dwi, mask).items() if k.startswith("original")}
    features, _ = one
    ours = features[[f"dwi_{k}" for k in direct]].to_numpy()
    np.testing.assert_allclose(ours, list(direct.values()), rtol=1e-5, atol=1e-8)


def test_intensity_scale_invariance(tmp_path, patients):
    """Dividing by the volume mean makes features invariant to a global intensity factor."""
    import SimpleITK as sitk

    row = patients.iloc[1]
    scaled = {}
    for s in ("t2", "dwi", "adc"):
        img = sitk.ReadImage(row[s])
        out = tmp_path / f"{s}.nii.gz"
        sitk.WriteImage(sitk.Cast(img, sitk.sitkFloat32) * 3.7, str(out))
        scaled[s] = str(out)
    a, _ = extract_patient(row.t2, row.dwi, row.adc, row["mask"])
    b, _ = extract_patient(scaled["t2"], scaled["dwi"], scaled["adc"], row["mask"])
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-4, atol=1e-6)


def test_deterministic(one, patients):
    row = patients.iloc[0]
    again, _ = extract_patient(row.t2, row.dwi, row.adc, row["mask"], name="P0")
    pd.testing.assert_series_equal(one[0], again)


def test_settings_override_dict_and_yaml(tmp_path, patients):
    row = patients.iloc[0]
    params = tmp_path / "params.yaml"
    params.write_text(
        "setting:\n  binWidth: 25\nfeatureClass:\n  firstorder: []\n  glcm:\n"
        "    - Contrast\nradsem:\n  normalize: true\n"
    )
    f_yaml, d_yaml = extract_patient(row.t2, row.dwi, row.adc, row["mask"], settings=params)
    assert len(f_yaml) == 3 * 19
    f_dict, d_dict = extract_patient(
        row.t2,
        row.dwi,
        row.adc,
        row["mask"],
        settings={"binWidth": 25, "featureClass": {"firstorder": [], "glcm": ["Contrast"]}},
    )
    pd.testing.assert_series_equal(f_yaml, f_dict)
    _, d_default = extract_patient(
        row.t2, row.dwi, row.adc, row["mask"], settings={"featureClass": {"firstorder": []}}
    )
    assert d_yaml["t2"]["bins"] < d_default["t2"]["bins"]  # wider bins, fewer of them


def test_settings_errors(tmp_path):
    with pytest.raises(DataError, match="unknown radsem setting"):
        resolve_settings({"radsem": {"normalise": True}})
    with pytest.raises(DataError, match="parameter file not found"):
        resolve_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("setting: [1, 2\n")
    with pytest.raises(DataError, match="not a valid YAML"):
        resolve_settings(bad)
    with pytest.raises(DataError, match="scale must be positive"):
        resolve_settings({"scale": -1})
    with pytest.raises(DataError, match="shape_series"):
        resolve_settings({"shape_series": "pet"})


def test_resolve_does_not_modify_input():
    user = {"setting": {"binWidth": 5}, "normalize": False}
    copy = {"setting": {"binWidth": 5}, "normalize": False}
    out = resolve_settings(user)
    assert user == copy
    assert out["setting"]["binWidth"] == 5
    assert out["radsem"]["normalize"] is False


def test_image_errors(tmp_path, patients, write_image):
    write = write_image
    row = patients.iloc[0]
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"not an image at all")
    with pytest.raises(ImageError, match="cannot be read as an image"):
        extract_patient(broken, row.dwi, row.adc, row["mask"])
    with pytest.raises(ImageError, match="image file not found"):
        extract_patient(tmp_path / "missing.nii.gz", row.dwi, row.adc, row["mask"])
    empty = write(np.zeros((8, 24, 24), np.uint8), tmp_path / "empty.nii.gz")
    with pytest.raises(ImageError, match="the mask is empty"):
        extract_patient(row.t2, row.dwi, row.adc, empty)
    shifted = write(
        np.ones((8, 24, 24), np.uint8), tmp_path / "shifted.nii.gz", origin=(0.0, 3.0, 0.0)
    )
    with pytest.raises(ImageError, match="not on the T2 grid"):
        extract_patient(row.t2, row.dwi, row.adc, shifted)
    one_voxel = np.zeros((8, 24, 24), np.uint8)
    one_voxel[4, 12, 12] = 1
    tiny = write(one_voxel, tmp_path / "tiny.nii.gz")
    with pytest.raises(ImageError, match="too small"):
        extract_patient(row.t2, row.dwi, row.adc, tiny)
    zero = write(np.zeros((8, 24, 24), np.float32), tmp_path / "zero.nii.gz")
    with pytest.raises(ImageError, match="mean is 0"):
        extract_patient(zero, row.dwi, row.adc, row["mask"])


def test_shape_only_settings_give_t2_shape(patients):
    row = patients.iloc[2]
    f, d = extract_patient(
        row.t2, row.dwi, row.adc, row["mask"], settings={"featureClass": {"shape": []}}
    )
    assert len(f) == 14
    assert all(c.startswith("t2_original_shape_") for c in f.index)
    assert d["dwi"]["bins"] == 0


def test_extract_series_without_normalisation_matches_pyradiomics(tmp_path, patient_factory):
    """The unnormalised path hands the image to pyradiomics unchanged."""
    from radiomics import featureextractor

    p = patient_factory(tmp_path / "x", seed=9)
    img, mask = read_volume(p["t2"]), read_volume(p["mask"])
    feats, _ = extract_series(img, mask, resolve_settings({"normalize": False}), True, "x")
    direct = featureextractor.RadiomicsFeatureExtractor(binWidth=10).execute(img, mask)
    assert feats["original_firstorder_Mean"] == pytest.approx(
        float(direct["original_firstorder_Mean"])
    )
    assert feats["original_shape_MeshVolume"] == pytest.approx(
        float(direct["original_shape_MeshVolume"])
    )


def test_diffusion_volume_outside_the_tumour(tmp_path, patients, write_image):
    """A DWI that does not overlap the tumour is refused; a partial overlap is a warning."""
    row = patients.iloc[0]
    far = write_image(
        np.full((8, 12, 12), 50.0, np.float32),
        tmp_path / "far.nii.gz",
        spacing=(4.0, 2.0, 2.0),
        origin=(0.0, 500.0, 0.0),
    )
    with pytest.raises(ImageError, match="does not overlap the tumour"):
        extract_patient(row.t2, far, row.adc, row["mask"])
    rng = np.random.default_rng(1)
    half = write_image(
        (50 + rng.gamma(4, 10, (8, 12, 6))).astype(np.float32),
        tmp_path / "half.nii.gz",
        spacing=(4.0, 2.0, 2.0),
        origin=(0.0, 0.5, 0.5),
    )
    _, diag = extract_patient(row.t2, half, row.adc, row["mask"])
    assert "outside the DWI field of view" in diag["dwi"]["warnings"]
    assert "outside" not in diag["adc"]["warnings"]
