"""``radsem import-dicom`` then ``radsem extract`` from the command line on a DICOM tree."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from dicom_synthetic import (
    BIRTH_DATE,
    CT_ORIGIN,
    CT_SPACING,
    INSTITUTION,
    PATIENT_ID,
    PATIENT_NAME,
    STUDY_DATE,
    uid,
    write_ct,
    write_pet,
    write_rtstruct,
)

from radsem.cli import main
from radsem.errors import DataError
from radsem.io.dicom_import import import_dicom, read_rules

SECRETS = (
    PATIENT_NAME,
    PATIENT_ID,
    INSTITUTION,
    BIRTH_DATE,
    STUDY_DATE,
    uid("study"),
    uid("ct"),
    uid("frame"),
)


@pytest.fixture(scope="module")
def tree(ct_case, tmp_path_factory):
    """A DICOM tree: one good PET/CT patient (RTSTRUCT on the CT), one with a missing CT slice,
    one without a mask; PatientIDs differ, the rest of the headers are identifying."""
    import pydicom

    root = tmp_path_factory.mktemp("tree") / "src"
    hu, mask = ct_case["hu"], ct_case["mask"]
    activity = np.where(mask.astype(bool), 8000.0, 1500.0) + np.random.default_rng(2).gamma(
        2, 200, hu.shape
    )
    for pid, skip in (("Z-99", ()), ("A-01", (5,)), ("M-07", ())):
        folder = root / pid
        write_ct(folder / "ct", hu, series=f"ct{pid}")
        write_pet(
            folder / "pet", activity, spacing=CT_SPACING, origin=CT_ORIGIN, series=f"pet{pid}"
        )
        if pid != "M-07":
            write_rtstruct(folder / "ct", {"GTV": mask}, folder / "rs.dcm")
        for k in skip:  # the slice is lost after contouring
            (folder / "ct" / f"IMG{hu.shape[0] - k:04d}.dcm").unlink()
        for f in folder.rglob("*.dcm"):
            ds = pydicom.dcmread(f)
            ds.PatientID = pid
            ds.save_as(f)
    return root


def test_import_then_extract_from_the_command_line(tree, tmp_path, ct_case, capsys):
    out, mapping = tmp_path / "cohort", tmp_path / "private" / "ids.csv"
    mapping.parent.mkdir()
    assert main(["import-dicom", str(tree), "--out", str(out), "--mapping", str(mapping)]) == 0
    table = pd.read_csv(mapping, dtype=str, keep_default_na=False)
    assert table["original_patient_id"].tolist() == ["A-01", "M-07", "Z-99"]
    assert table["status"].tolist() == ["skipped", "skipped", "imported"]
    assert "missing slice" in table["reason"].iloc[0]
    assert "no RTSTRUCT or SEG" in table["reason"].iloc[1]
    assert table["patient_id"].iloc[2] == "P001"
    series = pd.read_csv(out / "series.csv", dtype=str, keep_default_na=False)
    assert series.to_dict(orient="list") == {
        "series": ["ct", "pet"],
        "modality": ["CT", "PT"],
        "reference": ["1", "0"],
        "units": ["", "SUVbw"],
    }
    assert sorted(p.name for p in (out / "images" / "P001").iterdir()) == [
        "ct.nii.gz",
        "mask.nii.gz",
        "pet.nii.gz",
    ]
    assert "skipped mapping row 2" in capsys.readouterr().err
    features = tmp_path / "features.csv"
    assert (
        main(
            ["extract", str(out), "--out", str(features), "--quiet", "--hu-window", "-1000", "400"]
        )
        == 0
    )
    got = pd.read_csv(features, dtype={"patient_id": str})
    assert got["patient_id"].tolist() == ["P001"]
    assert got.shape[1] == 1 + 14 + 93 + 93
    # the imported NIfTI route equals extraction straight from the DICOM case
    import SimpleITK as sitk

    ct = sitk.ReadImage(str(out / "images" / "P001" / "ct.nii.gz"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(ct), ct_case["hu"])
    np.testing.assert_array_equal(
        sitk.GetArrayFromImage(sitk.ReadImage(str(out / "images" / "P001" / "mask.nii.gz"))),
        ct_case["mask"],
    )
    # no identifying DICOM value in any file of the cohort or in the extraction outputs
    outputs = [p for p in out.rglob("*") if p.is_file()] + list(tmp_path.glob("features*"))
    for path in outputs:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        for secret in SECRETS + ("Z-99", "A-01", str(tree)):
            assert secret.encode() not in data, (path.name, secret)


def test_same_input_same_bytes(tree, tmp_path):
    for run in ("a", "b"):
        import_dicom(tree, tmp_path / run, tmp_path / f"ids_{run}.csv", series=["ct"])
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert len(files) == 4
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_rules_file_and_clinical(tree, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("- {series: thorax, modality: CT, description: ['*thorax*']}\n")
    assert read_rules(rules) == (("thorax", "CT", ("*thorax*",)),)
    clinical = tmp_path / "clin.csv"
    clinical.write_text("patient_id,time,event,age\nZ-99,12.5,1,61\nA-01,3,0,50\n")
    res = import_dicom(tree, tmp_path / "c", tmp_path / "ids.csv", rules=rules, clinical=clinical)
    assert res.series["series"].tolist() == ["thorax"]
    clin = pd.read_csv(tmp_path / "c" / "clinical.csv", dtype={"patient_id": str})
    assert clin.to_dict(orient="list") == {
        "patient_id": ["P001"],
        "time": [12.5],
        "event": [1],
        "age": [61],
    }
    from radsem.io import read_cohort

    assert read_cohort(tmp_path / "c").clinical["time"].tolist() == [12.5]
    bad = tmp_path / "bad.csv"
    bad.write_text("series,modality,description\nct,XR,*\n")
    with pytest.raises(DataError, match="modality 'XR' is not one of"):
        read_rules(bad)


def test_refusals(tree, tmp_path):
    out = tmp_path / "cohort"
    with pytest.raises(DataError, match="outside the cohort folder and the DICOM source"):
        import_dicom(tree, out, out / "ids.csv")
    with pytest.raises(DataError, match="outside the cohort folder and the DICOM source"):
        import_dicom(tree, out, tree / "ids.csv")
    (out / "x").mkdir(parents=True)
    with pytest.raises(DataError, match="exists and is not empty"):
        import_dicom(tree, out, tmp_path / "ids.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no DICOM files"):
        import_dicom(empty, tmp_path / "c2", tmp_path / "ids.csv")
    with pytest.raises(DataError, match="no patient could be imported"):
        import_dicom(tree, tmp_path / "c3", tmp_path / "ids.csv", roi="CTV")
    assert not (tmp_path / "c3").exists()
    reasons = pd.read_csv(tmp_path / "ids.csv")["reason"].tolist()
    assert sum("ROI 'CTV' not found; ROIs present: 'GTV'" in r for r in reasons) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    code = main(
        [
            "import-dicom",
            str(tree),
            "--out",
            str(tmp_path / "c4"),
            "--mapping",
            str(tmp_path / "c4" / "ids.csv"),
        ]
    )
    assert code == 3


@pytest.fixture(scope="module")
def per_series_tree(ct_case, tmp_path_factory):
    """One RTSTRUCT per series (as in the IBSI validation data): patient B-02 has contours on
    its CT and on its PET, patient C-03 only on its PET."""
    import pydicom

    root = tmp_path_factory.mktemp("per_series") / "src"
    hu, mask = ct_case["hu"], ct_case["mask"]
    activity = np.where(mask.astype(bool), 8000.0, 1500.0)
    for pid, on in (("B-02", ("ct", "pet")), ("C-03", ("pet",))):
        folder = root / pid
        write_ct(folder / "ct", hu, series=f"ct{pid}")
        write_pet(
            folder / "pet", activity, spacing=CT_SPACING, origin=CT_ORIGIN, series=f"pet{pid}"
        )
        for name in on:
            write_rtstruct(folder / name, {f"GTV_{name}": mask}, folder / f"rs_{name}.dcm")
        for f in folder.rglob("*.dcm"):
            ds = pydicom.dcmread(f)
            ds.PatientID = pid
            ds.save_as(f)
    return root


def test_one_mask_per_series_uses_the_reference_series(per_series_tree, tmp_path, ct_case):
    """Regression (found on the IBSI validation data): a patient with an RTSTRUCT on each
    series was refused ("keep one per patient"); the mask drawn on the cohort's reference
    series (most patients', or ``reference=``) is now used."""
    import SimpleITK as sitk

    res = import_dicom(per_series_tree, tmp_path / "a", tmp_path / "ids_a.csv", roi="GTV*")
    # the PET carries a mask in both patients, the CT in one: the PET is the reference
    assert res.series.set_index("series")["reference"].to_dict() == {"ct": 0, "pet": 1}
    assert res.n_imported == 2
    for pid in ("P001", "P002"):
        got = sitk.ReadImage(str(tmp_path / "a" / "images" / pid / "mask.nii.gz"))
        np.testing.assert_array_equal(sitk.GetArrayFromImage(got), ct_case["mask"])
    res = import_dicom(
        per_series_tree, tmp_path / "b", tmp_path / "ids_b.csv", roi="GTV*", reference="ct"
    )
    assert res.series["reference"].tolist() == [1, 0]
    assert res.mapping["status"].tolist() == ["imported", "skipped"]
    assert res.mapping["reason"].iloc[1] == (
        "no RTSTRUCT or SEG on the cohort's reference series 'ct' (masks drawn on: pet)"
    )
    mask = sitk.ReadImage(str(tmp_path / "b" / "images" / "P001" / "mask.nii.gz"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mask), ct_case["mask"])
    with pytest.raises(DataError, match="--reference 't1': not one of the cohort's series"):
        import_dicom(per_series_tree, tmp_path / "c", tmp_path / "ids_c.csv", reference="t1")
    code = main(
        [
            "import-dicom",
            str(per_series_tree),
            "--out",
            str(tmp_path / "d"),
            "--mapping",
            str(tmp_path / "ids_d.csv"),
            "--roi",
            "GTV*",
            "--reference",
            "ct",
            "--quiet",
        ]
    )
    assert code == 0
    assert pd.read_csv(tmp_path / "ids_d.csv")["status"].tolist() == ["imported", "skipped"]
    assert pd.read_csv(tmp_path / "d" / "series.csv")["reference"].tolist() == [1, 0]
