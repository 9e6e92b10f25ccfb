"""radsem's DICOM route on the public IBSI data sets (https://github.com/theibsi/data_sets).

The data are not shipped with radsem (the CT phantom is CC BY-NC 3.0) and never downloaded by
the tests: set ``RADSEM_IBSI_DATA`` to a local copy of the repository (holding
``ibsi_1_ct_radiomics_phantom/`` and ``ibsi_validation/``); without it these tests are skipped.
``benchmarks/ibsi_validation.py`` prints the figures.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main

_DATA = os.environ.get("RADSEM_IBSI_DATA", "")
ROOT = Path(_DATA) if _DATA else None
PHANTOM = ROOT / "ibsi_1_ct_radiomics_phantom" if ROOT else None
VALIDATION = ROOT / "ibsi_validation" if ROOT else None

pytestmark = pytest.mark.skipif(
    ROOT is None or not (PHANTOM.is_dir() and VALIDATION.is_dir()),
    reason="IBSI public data not available: set RADSEM_IBSI_DATA to an extracted copy of "
    "https://github.com/theibsi/data_sets (not shipped with radsem)",
)

PATIENTS = ("STS_001", "STS_002")
RULES = (
    "- {series: ct, modality: CT, description: ['*']}\n"
    "- {series: pet, modality: PT, description: ['*']}\n"
    "- {series: t1, modality: MR, description: ['*t1*']}\n"
)
IDENTIFYING = (
    "PatientID",
    "PatientName",
    "StudyDate",
    "SeriesDate",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "FrameOfReferenceUID",
    "SOPInstanceUID",
    "SeriesDescription",
)


def _array(image) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(image)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2.0 * np.sum(a & b) / (np.sum(a) + np.sum(b)))


@pytest.fixture(scope="module")
def phantom():
    import SimpleITK as sitk

    from radsem.io.dicom_series import read_dicom_series
    from radsem.io.rtstruct import rasterize_rtstruct

    series = read_dicom_series(PHANTOM / "dicom" / "image")
    rs = PHANTOM / "dicom" / "mask" / "DCM_RS_00060.dcm"
    mask = rasterize_rtstruct(
        rs,
        series.image,
        reference_uids={
            "series_uid": series.series_uid,
            "frame_of_reference_uid": series.frame_of_reference_uid,
        },
    )
    return {
        "series": series,
        "rtstruct": rs,
        "mask": mask,
        "nifti": sitk.ReadImage(str(PHANTOM / "nifti" / "image" / "phantom.nii.gz")),
        "published": sitk.ReadImage(str(PHANTOM / "nifti" / "mask" / "mask.nii.gz")),
    }


def test_phantom_dicom_series_equals_published_nifti(phantom):
    image, nifti = phantom["series"].image, phantom["nifti"]
    assert phantom["series"].modality == "CT"
    assert phantom["series"].n_slices == 60
    np.testing.assert_array_equal(_array(image).astype(np.float64), _array(nifti))
    # NIfTI stores the geometry in float32: equal to that precision
    np.testing.assert_allclose(image.GetOrigin(), nifti.GetOrigin(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(image.GetSpacing(), nifti.GetSpacing(), rtol=1e-6)
    np.testing.assert_array_equal(image.GetDirection(), nifti.GetDirection())


def test_phantom_rtstruct_agrees_with_published_mask(phantom):
    """The only voxels on which radsem's rasterisation and IBSI's NIfTI mask differ are voxels
    whose centre lies on a contour edge (within the documented 1e-3 voxel), which radsem keeps."""
    import pydicom

    from radsem.io.rtstruct import _ON_EDGE, _to_index

    ours = _array(phantom["mask"]).astype(bool)
    theirs = _array(phantom["published"]) > 0
    assert not np.any(theirs & ~ours)
    extra = np.argwhere(ours & ~theirs)
    assert len(extra) <= 10
    assert _dice(ours, theirs) > 0.9999
    ds = pydicom.dcmread(str(phantom["rtstruct"]))
    contours = [
        _to_index(np.asarray(c.ContourData, float).reshape(-1, 3), phantom["series"].image)
        for c in ds.ROIContourSequence[0].ContourSequence
    ]
    for z, y, x in extra:
        best = np.inf
        for c in contours:
            if int(round(float(np.mean(c[:, 2])))) != z:
                continue
            a, d = c[:, :2], np.roll(c[:, :2], -1, axis=0) - c[:, :2]
            t = np.clip(
                ((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1])
                / np.maximum(np.sum(d * d, axis=1), 1e-300),
                0,
                1,
            )
            near = a + t[:, None] * d
            best = min(best, float(np.min(np.hypot(near[:, 0] - x, near[:, 1] - y))))
        assert best <= _ON_EDGE, (z, y, x, best)


def test_phantom_features_dicom_route_equals_nifti_route(phantom):
    from radsem.radiomics import extract_cohort

    dicom_dir = PHANTOM / "dicom" / "image"
    nifti = PHANTOM / "nifti" / "image" / "phantom.nii.gz"
    table = pd.DataFrame(
        {
            "patient_id": ["dicom", "nifti", "published"],
            "ct": [dicom_dir, nifti, nifti],
            "mask": [
                phantom["rtstruct"],
                phantom["rtstruct"],
                PHANTOM / "nifti" / "mask" / "mask.nii.gz",
            ],
        }
    )
    res = extract_cohort(table, series={"ct": "CT"}, progress=False)
    assert res.failures.empty
    f = res.features
    assert f.shape == (3, 107)
    # same voxels, same mask; the slice spacing is 2.9999999999998 mm in DICOM, 3 in NIfTI
    np.testing.assert_allclose(f.loc["dicom"], f.loc["nifti"], rtol=1e-12)
    # the published mask has a handful fewer voxels: features agree to 1e-3
    np.testing.assert_allclose(f.loc["nifti"], f.loc["published"], rtol=1e-3)


@pytest.fixture(scope="module")
def validation_tree(tmp_path_factory):
    """Two patients (CT, PET, MR T1, one RTSTRUCT per series) and a copy of the second whose
    PET lacks decay information (Units BQML, no DecayCorrection)."""
    import pydicom

    root = tmp_path_factory.mktemp("ibsi")
    tree = root / "src"
    for pid in PATIENTS:
        shutil.copytree(VALIDATION / "dicom" / pid, tree / pid)
    damaged = tree / "STS_900"
    shutil.copytree(VALIDATION / "dicom" / PATIENTS[-1], damaged)
    for f in damaged.rglob("*.dcm"):
        ds = pydicom.dcmread(f)
        ds.PatientID = "STS_900"
        if ds.Modality == "PT":
            ds.Units = "BQML"
            del ds.DecayCorrection
        ds.save_as(f)
    return root, tree


def test_validation_patients_through_the_command_line(validation_tree, capsys):
    import SimpleITK as sitk

    from radsem.io.dicom_series import scan_dicom_files

    root, tree = validation_tree
    rules = root / "rules.yaml"
    rules.write_text(RULES)
    (root / "private").mkdir()
    cohort, ids = root / "cohort", root / "private" / "ids.csv"
    args = ["import-dicom", str(tree), "--out", str(cohort), "--mapping", str(ids)]
    assert main(args + ["--rules", str(rules), "--roi", "GTV*", "--quiet"]) == 0
    mapping = pd.read_csv(ids, dtype=str, keep_default_na=False)
    assert mapping["original_patient_id"].tolist() == [*PATIENTS, "STS_900"]
    assert mapping["status"].tolist() == ["imported", "imported", "skipped"]
    assert "PET DecayCorrection is missing" in mapping["reason"].iloc[2]
    spec = pd.read_csv(cohort / "series.csv", dtype=str, keep_default_na=False)
    assert spec["series"].tolist() == ["ct", "pet", "t1"]
    assert spec["reference"].tolist() == ["1", "0", "0"]
    # imported voxels = IBSI's published NIfTI (PET within one float32 rounding)
    published = VALIDATION / "nifti"
    for original, pseudo in zip(PATIENTS, ("P001", "P002")):
        for name, prefix, rtol in (("ct", "CT", 0), ("t1", "MR_T1", 0), ("pet", "PET", 2.4e-7)):
            reference = published / original / f"{prefix}_image.nii.gz"
            if not reference.is_file():
                continue
            a = sitk.ReadImage(str(cohort / "images" / pseudo / f"{name}.nii.gz"))
            b = sitk.ReadImage(str(reference))
            np.testing.assert_allclose(_array(a), _array(b), rtol=rtol, atol=0)
            np.testing.assert_allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-4)
        ours = _array(sitk.ReadImage(str(cohort / "images" / pseudo / "mask.nii.gz"))) > 0
        theirs = _array(sitk.ReadImage(str(published / original / "CT_mask.nii.gz"))) > 0
        assert _dice(ours, theirs) == 1.0
    out = root / "features" / "features.csv"
    out.parent.mkdir()
    assert main(["extract", str(cohort), "--out", str(out), "--quiet"]) == 0
    feats = pd.read_csv(out, dtype={"patient_id": str})
    assert feats["patient_id"].tolist() == ["P001", "P002"]
    assert feats.shape == (2, 1 + 14 + 3 * 93)
    diag = pd.read_csv(out.parent / "features.diagnostics.csv", dtype={"patient_id": str})
    # the IBSI PET series are stored in GML (already SUVbw): factor 1
    assert diag.loc[diag["series"] == "pet", "suv_factor"].tolist() == [1.0, 1.0]
    assert pd.read_csv(out.parent / "features.failures.csv").empty
    secrets = {str(tree), str(VALIDATION)}
    for _, ds in scan_dicom_files(tree):
        secrets |= {str(getattr(ds, k, "") or "") for k in IDENTIFYING} - {""}
    secrets = {s for s in secrets if len(s) >= 6}
    files = [p for p in cohort.rglob("*") if p.is_file()] + list(out.parent.iterdir())
    for path in files:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        for secret in secrets:
            assert secret.encode() not in data, (path.name, secret)
    capsys.readouterr()


def test_validation_dicom_cohort_records_pet_failure(validation_tree):
    """The same patients read straight from DICOM folders: the PET without decay information
    fails that patient only, with the reason; the other is extracted."""
    root, tree = validation_tree
    cohort = root / "direct"
    for pid, target in (("STS_001", "A"), ("STS_900", "B")):
        folder = cohort / "images" / target
        folder.mkdir(parents=True)
        shutil.copytree(tree / pid / "CT" / "image", folder / "ct")
        shutil.copytree(tree / pid / "PET" / "image", folder / "pet")
        shutil.copyfile(tree / pid / "CT" / "mask" / "RS.dcm", folder / "mask.dcm")
    (cohort / "series.csv").write_text("series,modality,reference,roi\nct,CT,1,GTV*\npet,PT,0,\n")
    (cohort / "clinical.csv").write_text("patient_id\nA\nB\n")
    out = root / "direct_features.csv"
    assert main(["extract", str(cohort), "--out", str(out), "--quiet"]) == 0
    assert pd.read_csv(out, dtype={"patient_id": str})["patient_id"].tolist() == ["A"]
    failures = pd.read_csv(root / "direct_features.failures.csv", dtype=str)
    assert failures["patient_id"].tolist() == ["B"]
    assert "PET DecayCorrection is missing" in failures["reason"].iloc[0]
