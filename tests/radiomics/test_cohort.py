"""Cohort extraction: fault tolerance, cache resume, processes, Dask, DICOM without identifiers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError
from radsem.radiomics import extract_cohort, extract_patient


@pytest.fixture(scope="module")
def bad_cohort(patients, tmp_path_factory, write_image) -> pd.DataFrame:
    """The 3 good patients plus one each: corrupted file, empty mask, shifted mask, 1-voxel ROI."""
    root = tmp_path_factory.mktemp("bad")
    good = patients.iloc[0]
    corrupt = root / "corrupt.nii.gz"
    corrupt.write_bytes(b"\x1f\x8b garbage")
    empty = write_image(np.zeros((8, 24, 24), np.uint8), root / "empty.nii.gz")
    shifted = write_image(
        np.ones((8, 24, 24), np.uint8), root / "shifted.nii.gz", spacing=(4.0, 1.1, 1.0)
    )
    single = np.zeros((8, 24, 24), np.uint8)
    single[4, 12, 12] = 1
    tiny = write_image(single, root / "tiny.nii.gz")
    extra = [
        {
            "patient_id": "BADFILE",
            "t2": str(corrupt),
            "dwi": good.dwi,
            "adc": good.adc,
            "mask": good["mask"],
        },
        {"patient_id": "EMPTY", "t2": good.t2, "dwi": good.dwi, "adc": good.adc, "mask": empty},
        {"patient_id": "GRID", "t2": good.t2, "dwi": good.dwi, "adc": good.adc, "mask": shifted},
        {"patient_id": "TINY", "t2": good.t2, "dwi": good.dwi, "adc": good.adc, "mask": tiny},
    ]
    return pd.concat([patients.iloc[:1], pd.DataFrame(extra), patients.iloc[1:]], ignore_index=True)


def test_bad_patients_are_reported_and_skipped(bad_cohort, patients):
    """With 2 worker processes: completion order differs, the table keeps the input order."""
    res = extract_cohort(bad_cohort, n_jobs=2, progress=False)
    assert res.features.index.tolist() == patients["patient_id"].tolist()
    assert res.features.shape == (3, 293)
    reasons = dict(zip(res.failures["patient_id"], res.failures["reason"]))
    assert list(reasons) == ["BADFILE", "EMPTY", "GRID", "TINY"]
    assert "cannot be read as an image" in reasons["BADFILE"]
    assert "mask is empty" in reasons["EMPTY"]
    assert "not on the T2 grid" in reasons["GRID"]
    assert "too small" in reasons["TINY"]
    assert set(res.diagnostics["patient_id"]) == set(patients["patient_id"])
    assert len(res.diagnostics) == 9
    row = patients.iloc[0]
    single, _ = extract_patient(row.t2, row.dwi, row.adc, row["mask"])
    np.testing.assert_array_equal(res.features.loc["P0"].to_numpy(), single.to_numpy())


def test_cache_resume_atomic_and_keyed_by_content(patients, tmp_path):
    cache = tmp_path / "cache"
    first = extract_cohort(patients, cache_dir=cache, progress=False)
    files = sorted(cache.iterdir())
    assert len(files) == 3
    assert all(f.suffix == ".json" and not f.name.startswith(".") for f in files)
    json.loads(files[0].read_text())
    second = extract_cohort(patients, cache_dir=cache, progress=False)
    assert second.diagnostics["cached"].all()
    assert not first.diagnostics["cached"].any()
    pd.testing.assert_frame_equal(first.features, second.features)
    # other settings: new cache entries; a changed file: a new key for that patient only
    extract_cohort(patients.iloc[:1], settings={"binWidth": 20}, cache_dir=cache, progress=False)
    assert len(list(cache.iterdir())) == 4
    copy = patients.copy()
    moved = tmp_path / "t2_copy.nii.gz"
    shutil.copy(patients.loc[0, "t2"], moved)
    copy.loc[0, "t2"] = str(moved)  # same bytes, another path: still cached
    third = extract_cohort(copy, cache_dir=cache, progress=False)
    assert third.diagnostics["cached"].all()


def test_dask_local_cluster(bad_cohort, patients):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = extract_cohort(bad_cohort, client=client, progress=False)
        by_address = extract_cohort(
            patients.iloc[:1], dask_client=cluster.scheduler_address, progress=False
        )
    serial = extract_cohort(patients, progress=False)
    pd.testing.assert_frame_equal(res.features, serial.features)  # bit-identical to serial
    assert res.failures["patient_id"].tolist() == ["BADFILE", "EMPTY", "GRID", "TINY"]
    pd.testing.assert_frame_equal(by_address.features, serial.features.iloc[:1])


def test_bad_arguments(patients):
    with pytest.raises(DataError, match="lacks column"):
        extract_cohort(patients.drop(columns="adc"), progress=False)
    with pytest.raises(DataError, match="n_jobs"):
        extract_cohort(patients, n_jobs=0, progress=False)
    with pytest.raises(DataError, match="repeated"):
        extract_cohort(pd.concat([patients, patients.iloc[:1]]), progress=False)
    with pytest.raises(DataError, match="pyradiomics rejects"):
        extract_cohort(patients, settings={"featureClass": {"nosuchclass": []}}, progress=False)
    with pytest.raises(DataError, match="dask_client"):
        extract_cohort(patients, dask_client=42, progress=False)


def _write_dicom_series(image, folder, name: str, pid: str) -> None:
    import locale

    # ITK's GDCM writer switches the process locale to "C" (Python's default text encoding then
    # becomes ASCII for every later test): put it back when the slices are written
    saved = locale.setlocale(locale.LC_ALL)
    try:
        _write_slices(image, folder, name, pid)
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def _write_slices(image, folder, name: str, pid: str) -> None:
    import SimpleITK as sitk

    folder.mkdir()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(image.GetDepth()):
        sl = sitk.Cast(image[:, :, k], sitk.sitkInt16)
        tags = {
            "0010|0010": name,
            "0010|0020": pid,
            "0008|0060": "MR",
            "0020|000d": "1.2.826.0.1.3680043.2.1125.1",
            "0020|000e": "1.2.826.0.1.3680043.2.1125.2." + folder.name[-1:].encode().hex(),
            "0020|0032": "\\".join(str(v) for v in image.TransformIndexToPhysicalPoint((0, 0, k))),
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0028|0030": "1\\1",
            "0018|0050": "4",
            "0020|0013": str(k + 1),
        }
        for key, value in tags.items():
            sl.SetMetaData(key, value)
        writer.SetFileName(str(folder / f"slice{k:03d}.dcm"))
        writer.Execute(sl)


def test_dicom_series_input_leaks_no_identifier(patients, tmp_path):
    import SimpleITK as sitk

    row = patients.iloc[0]
    name, pid = "Doe^Jane", "MRN123456789"
    folders = {}
    for series in ("t2", "dwi", "adc"):
        img = sitk.ReadImage(row[series])
        img = sitk.Cast(sitk.RescaleIntensity(img, 1, 2000), sitk.sitkInt16)
        folders[series] = tmp_path / f"dcm_{series}"
        _write_dicom_series(img, folders[series], name, pid)
    table = pd.DataFrame(
        [{"patient_id": "anon1", **{s: str(f) for s, f in folders.items()}, "mask": row["mask"]}]
    )
    cache = tmp_path / "cache"
    res = extract_cohort(table, cache_dir=cache, progress=False)
    assert res.features.shape == (1, 293), res.failures
    text = (
        res.features.to_csv()
        + res.diagnostics.to_csv()
        + res.failures.to_csv()
        + "".join(f.read_text() for f in cache.iterdir())
    )
    for secret in (name, pid, "Doe", "123456789"):
        assert secret not in text
