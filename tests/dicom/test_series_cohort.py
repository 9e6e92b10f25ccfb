"""Cohorts with series.csv: reading, per-modality settings, and extraction by every route."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from dicom_synthetic import CT_ORIGIN, CT_SPACING, write_ct, write_pet

from radsem.errors import DataError
from radsem.io import read_cohort
from radsem.radiomics import extract_cohort
from radsem.radiomics.modality import resolve_modality_settings


def _nifti(array, path, spacing=CT_SPACING, origin=CT_ORIGIN):
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(spacing)))
    image.SetOrigin(tuple(float(o) for o in reversed(origin)))
    sitk.WriteImage(image, str(path))


def _cohort(root, series: dict, patients: dict, **columns):
    """series: name -> modality; patients: id -> {file name: callable(path)}."""
    root.mkdir(parents=True)
    pd.DataFrame({"patient_id": list(patients)}).to_csv(root / "clinical.csv", index=False)
    pd.DataFrame({"series": list(series), "modality": list(series.values()), **columns}).to_csv(
        root / "series.csv", index=False
    )
    for pid, files in patients.items():
        folder = root / "images" / pid
        folder.mkdir(parents=True)
        for name, make in files.items():
            make(folder / name)
    return root


def _copy(src):
    def make(target):
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy(src, target)

    return make


@pytest.fixture(scope="module")
def routes(ct_case, tmp_path_factory):
    """The same CT case as DICOM + RTSTRUCT, DICOM + SEG and NIfTI + NIfTI mask."""
    root = tmp_path_factory.mktemp("routes")
    hu, mask = ct_case["hu"], ct_case["mask"]
    dicom = _cohort(
        root / "dicom",
        {"ct": "CT"},
        {"A1": {"ct": _copy(ct_case["series"]), "mask.dcm": _copy(ct_case["rtstruct"])}},
        roi=["GTV"],
    )
    seg = _cohort(
        root / "seg",
        {"ct": "CT"},
        {"A1": {"ct": _copy(ct_case["series"]), "mask.dcm": _copy(ct_case["seg"])}},
    )
    nifti = _cohort(
        root / "nifti",
        {"ct": "CT"},
        {"A1": {"ct.nii.gz": lambda p: _nifti(hu, p), "mask.nii.gz": lambda p: _nifti(mask, p)}},
    )
    return {"dicom": dicom, "seg": seg, "nifti": nifti}


def test_read_cohort_with_series_csv(routes):
    cohort = read_cohort(routes["dicom"], require_outcome=False)
    assert list(cohort.images.columns) == ["patient_id", "ct", "mask"]
    assert cohort.images["ct"].iloc[0].endswith("A1/ct")
    assert cohort.images["mask"].iloc[0].endswith("A1/mask.dcm")
    assert cohort.series.to_dict(orient="records") == [
        {"series": "ct", "modality": "CT", "reference": True, "roi": "GTV", "units": None}
    ]
    with pytest.raises(DataError, match="required column\\(s\\) \\['time', 'event'\\]"):
        read_cohort(routes["dicom"])  # outcome needed unless asked otherwise


def test_dicom_seg_and_nifti_routes_give_identical_features(routes, ct_case):
    results = {k: extract_cohort(v, progress=False) for k, v in routes.items()}
    for result in results.values():
        assert result.failures.empty
    base = results["nifti"].features
    assert base.shape == (1, 107)
    assert base.columns[0] == "ct_original_shape_Elongation"
    for key in ("dicom", "seg"):
        pd.testing.assert_frame_equal(results[key].features, base, check_exact=True)
    hu, mask = ct_case["hu"], ct_case["mask"].astype(bool)
    # CT in HU, not normalised: the first-order mean is the mean HU of the tumour
    assert base["ct_original_firstorder_Mean"].iloc[0] == pytest.approx(hu[mask].mean(), rel=1e-12)
    assert base["ct_original_shape_VoxelVolume"].iloc[0] == pytest.approx(
        mask.sum() * np.prod(CT_SPACING)
    )
    diag = results["dicom"].diagnostics.iloc[0]
    # fixed bin width 25 HU: grey levels floor(HU / 25); uniformity = sum of squared shares
    _, counts = np.unique(np.floor(hu[mask] / 25.0), return_counts=True)
    share = counts / counts.sum()
    assert base["ct_original_firstorder_Uniformity"].iloc[0] == pytest.approx(
        np.sum(share**2), rel=1e-12
    )
    assert diag["modality"] == "CT"


def test_hu_window_is_ibsi_resegmentation(routes, ct_case):
    settings = {"modality": {"CT": {"resegmentRange": [50, 120]}}}
    res = extract_cohort(routes["nifti"], settings=settings, progress=False)
    hu, mask = ct_case["hu"], ct_case["mask"].astype(bool)
    kept = hu[mask][(hu[mask] >= 50) & (hu[mask] <= 120)]
    assert 0 < kept.size < mask.sum()
    assert res.features["ct_original_firstorder_Mean"].iloc[0] == pytest.approx(kept.mean())
    assert res.features["ct_original_shape_VoxelVolume"].iloc[0] == pytest.approx(
        mask.sum() * np.prod(CT_SPACING)
    )  # shape from the drawn mask


def test_pet_ct_features_carry_the_series_name(ct_case, tmp_path):
    hu, mask = ct_case["hu"], ct_case["mask"].astype(bool)
    activity = np.where(mask, 9000.0, 2000.0) + np.random.default_rng(1).gamma(2, 300, hu.shape)

    def pet(path):
        write_pet(path, activity, spacing=CT_SPACING, origin=CT_ORIGIN)

    root = _cohort(
        tmp_path / "petct",
        {"ct": "CT", "pet": "PT"},
        {
            "A1": {
                "ct": _copy(ct_case["series"]),
                "pet": pet,
                "mask.dcm": _copy(ct_case["rtstruct"]),
            }
        },
        roi=["GTV", ""],
    )
    res = extract_cohort(root, progress=False)
    assert res.failures.empty, res.failures
    cols = res.features.columns
    assert cols.str.startswith("ct_original_shape").sum() == 14
    assert not cols.str.startswith("pet_original_shape").any()
    assert cols.str.startswith("pet_original_glcm").sum() == 24
    from dicom_synthetic import pet_values

    from radsem.io.dicom_series import read_dicom_series
    from radsem.io.suv import suv_factor

    factor = suv_factor(read_dicom_series(root / "images" / "A1" / "pet").header)
    suv = pet_values(root / "images" / "A1" / "pet") * factor
    assert res.features["pet_original_firstorder_Mean"].iloc[0] == pytest.approx(
        suv[mask].mean(), rel=1e-6
    )
    diag = res.diagnostics.set_index("series")
    assert diag.loc["pet", "suv_factor"] == pytest.approx(factor)
    assert diag.loc["pet", "modality"] == "PT"


def test_general_route_reproduces_the_mri_default(tmp_path):
    from radsem.simulate import simulate

    out = tmp_path / "mri"
    simulate(2, 3, out, image_shape=(6, 24, 24))
    legacy = extract_cohort(out, progress=False)
    general = extract_cohort(out, settings={"modality": {"MR": {}}}, progress=False)
    pd.testing.assert_frame_equal(general.features, legacy.features, check_exact=True)
    assert legacy.features.shape[1] == 293


def test_per_patient_failures(ct_case, tmp_path):
    hu, mask = ct_case["hu"], ct_case["mask"]
    root = _cohort(
        tmp_path / "bad",
        {"ct": "CT"},
        {
            "OK": {"ct": _copy(ct_case["series"]), "mask.dcm": _copy(ct_case["rtstruct"])},
            "GAP": {
                "ct": lambda p: write_ct(p, hu, skip=(3,)),
                "mask.nii.gz": lambda p: _nifti(mask, p),
            },
            "PT": {
                "ct": lambda p: write_ct(p, hu, modality="MR"),
                "mask.nii.gz": lambda p: _nifti(mask, p),
            },
        },
        roi=["GTV"],
    )
    res = extract_cohort(root, progress=False, roi="CTV")
    reasons = dict(zip(res.failures["patient_id"], res.failures["reason"]))
    assert "ROI 'CTV' not found; ROIs present: 'GTV', 'Body'" in reasons["OK"]
    assert "missing slice" in reasons["GAP"]
    assert "declared CT in series.csv, but the DICOM series has Modality 'MR'" in reasons["PT"]
    res = extract_cohort(root, progress=False)
    assert res.features.index.tolist() == ["OK"]
    assert str(tmp_path) not in " ".join(res.failures["reason"])  # no absolute paths


def test_pet_nifti_needs_units(ct_case, tmp_path):
    hu, mask = ct_case["hu"], ct_case["mask"]
    files = {
        "A1": {
            "pet.nii.gz": lambda p: _nifti(hu.astype(np.float32) + 1100, p),
            "mask.nii.gz": lambda p: _nifti(mask, p),
        }
    }
    res = extract_cohort(_cohort(tmp_path / "a", {"pet": "PT"}, files), progress=False)
    assert "declare units SUVbw" in res.failures["reason"].iloc[0]
    res = extract_cohort(
        _cohort(tmp_path / "b", {"pet": "PT"}, files, units=["SUVbw"]), progress=False
    )
    assert res.failures.empty
    assert res.features.shape == (1, 107)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"series": ["ct"], "modality": ["XR"]}, "'XR' is not one of"),
        ({"series": ["ct", "ct"], "modality": ["CT", "CT"]}, "duplicated series"),
        ({"series": ["Mask"], "modality": ["CT"]}, "not a valid series name"),
        (
            {"series": ["ct", "pet"], "modality": ["CT", "PT"], "reference": [1, 1]},
            "2 reference series",
        ),
        (
            {"series": ["ct", "pet"], "modality": ["CT", "PT"], "roi": ["", "GTV"]},
            "row 3, column 'roi'",
        ),
        ({"series": ["ct"], "modality": ["CT"], "units": ["SUVbw"]}, "only allowed"),
    ],
)
def test_bad_series_csv(tmp_path, table, message):
    root = tmp_path / "c"
    root.mkdir()
    pd.DataFrame({"patient_id": ["A"], "time": [1.0], "event": [0]}).to_csv(
        root / "clinical.csv", index=False
    )
    pd.DataFrame(table).to_csv(root / "series.csv", index=False)
    with pytest.raises(DataError, match=message):
        read_cohort(root)


def test_missing_series_file_and_protocol_series(routes, tmp_path):
    from radsem.errors import ImageError

    root = tmp_path / "c"
    shutil.copytree(routes["nifti"], root)
    (root / "protocol.csv").write_text("patient_id,series,TR\nA1,CT,1\n")
    assert read_cohort(root, require_outcome=False).protocol["series"].tolist() == ["CT"]
    (root / "protocol.csv").write_text("patient_id,series,TR\nA1,T2,1\n")
    with pytest.raises(DataError, match="'T2' is not one of \\['CT'\\]"):
        read_cohort(root, require_outcome=False)
    (root / "protocol.csv").unlink()
    (root / "images" / "A1" / "ct.nii.gz").unlink()
    with pytest.raises(ImageError, match="series 'ct' missing for patient 'A1'"):
        read_cohort(root, require_outcome=False)


def test_modality_settings_precedence():
    res = resolve_modality_settings({"binWidth": 5, "modality": {"PT": {"binWidth": 0.5}}})
    assert res["MR"]["setting"]["binWidth"] == 5
    assert res["CT"]["setting"]["binWidth"] == 5  # the user's general setting beats defaults
    assert res["PT"]["setting"]["binWidth"] == 0.5
    assert res["MR"]["radsem"]["normalize"] is True
    assert res["CT"]["radsem"]["normalize"] is False
    plain = resolve_modality_settings(None)
    assert [plain[m]["setting"]["binWidth"] for m in ("MR", "CT", "PT")] == [10, 25, 0.25]
    assert resolve_modality_settings({"normalize": True})["CT"]["radsem"]["normalize"] is False
    with pytest.raises(DataError, match="normalisation is an MR step"):
        resolve_modality_settings({"modality": {"CT": {"normalize": True}}})
    with pytest.raises(DataError, match="unknown modality \\['US'\\]"):
        resolve_modality_settings({"modality": {"US": {}}})


def test_pet_without_decay_information_fails_that_patient(ct_case, tmp_path):
    hu = ct_case["hu"]
    activity = np.full(hu.shape, 3000.0)

    def pet(decay):
        return lambda p: write_pet(p, activity, spacing=CT_SPACING, origin=CT_ORIGIN, decay=decay)

    patients = {
        pid: {
            "ct": _copy(ct_case["series"]),
            "pet": pet(decay),
            "mask.dcm": _copy(ct_case["rtstruct"]),
        }
        for pid, decay in (("GOOD", "START"), ("NODECAY", None))
    }
    res = extract_cohort(
        _cohort(tmp_path / "c", {"ct": "CT", "pet": "PT"}, patients, roi=["GTV", ""]),
        progress=False,
    )
    assert res.features.index.tolist() == ["GOOD"]
    assert res.failures["patient_id"].tolist() == ["NODECAY"]
    assert "PET DecayCorrection is missing" in res.failures["reason"].iloc[0]
