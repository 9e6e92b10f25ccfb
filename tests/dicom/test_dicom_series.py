"""DICOM series reading: voxels and geometry against SimpleITK and pydicom; every refusal."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from dicom_synthetic import CT_ORIGIN, CT_SPACING, write_ct

from radsem.errors import ImageError
from radsem.io.dicom_series import read_dicom_series
from radsem.radiomics import read_volume


def test_series_matches_the_known_volume_and_simpleitk(ct_case):
    import SimpleITK as sitk

    series = read_dicom_series(ct_case["series"])
    arr = sitk.GetArrayFromImage(series.image)
    np.testing.assert_array_equal(arr, ct_case["hu"])
    assert series.modality == "CT"
    assert series.n_slices == ct_case["hu"].shape[0]
    assert series.image.GetSpacing() == pytest.approx(tuple(reversed(CT_SPACING)))
    assert series.image.GetOrigin() == pytest.approx(tuple(reversed(CT_ORIGIN)))
    reader = sitk.ImageSeriesReader()  # independent reader (GDCM)
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(ct_case["series"])))
    itk = reader.Execute()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(itk), arr)
    assert itk.GetOrigin() == pytest.approx(series.image.GetOrigin())
    assert itk.GetSpacing() == pytest.approx(series.image.GetSpacing())
    assert itk.GetDirection() == pytest.approx(series.image.GetDirection())
    assert not series.image.GetMetaDataKeys()


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_pydicom_test_files(tmp_path, name):
    import pydicom
    import SimpleITK as sitk
    from pydicom.data import get_testdata_file

    src = get_testdata_file(name, download=False)
    assert src is not None, f"{name} ships with pydicom"
    (tmp_path / "s").mkdir()
    shutil.copy(src, tmp_path / "s" / name)
    series = read_dicom_series(tmp_path / "s")
    ds = pydicom.dcmread(src)
    want = ds.pixel_array * float(getattr(ds, "RescaleSlope", 1)) + float(
        getattr(ds, "RescaleIntercept", 0)
    )
    np.testing.assert_array_equal(sitk.GetArrayFromImage(series.image)[0], want)
    spacing = series.image.GetSpacing()
    assert spacing[:2] == pytest.approx([float(ds.PixelSpacing[1]), float(ds.PixelSpacing[0])])
    assert spacing[2] == pytest.approx(float(ds.SliceThickness))
    assert series.image.GetOrigin() == pytest.approx([float(v) for v in ds.ImagePositionPatient])
    assert series.modality == ds.Modality


def test_missing_slice(ct_case, tmp_path):
    write_ct(tmp_path / "gap", ct_case["hu"], skip=(4,))
    with pytest.raises(ImageError, match=r"1 missing slice\(s\).*2.5 mm apart"):
        read_dicom_series(tmp_path / "gap")
    with pytest.raises(ImageError, match="missing slice"):  # the MRI route reads them too
        read_volume(tmp_path / "gap")


def test_uneven_spacing(ct_case, tmp_path):
    z = [30.0 + 2.5 * k for k in range(10)]
    z[6] += 0.9
    write_ct(tmp_path / "uneven", ct_case["hu"], z_positions=z)
    with pytest.raises(ImageError, match="uneven slice spacing from 1.6 to 3.4 mm"):
        read_dicom_series(tmp_path / "uneven")


def test_shared_positions(ct_case, tmp_path):
    z = [30.0 + 2.5 * k for k in range(10)]
    z[3] = z[2]
    write_ct(tmp_path / "dup", ct_case["hu"], z_positions=z)
    with pytest.raises(ImageError, match="1 slice\\(s\\) share a position"):
        read_dicom_series(tmp_path / "dup")


def test_mixed_series(ct_case, tmp_path):
    folder = write_ct(tmp_path / "mixed", ct_case["hu"])
    other = write_ct(tmp_path / "other", ct_case["hu"][:3], series="ct2", modality="MR")
    for f in other.iterdir():
        shutil.copy(f, folder / f"B{f.name}")
    with pytest.raises(
        ImageError,
        match=r"mixed series in one folder: 2 image series "
        r"\[CT \(10 files\), MR \(3 files\)\]",
    ):
        read_dicom_series(folder)


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not DICOM")
    with pytest.raises(ImageError, match="no DICOM image series"):
        read_dicom_series(tmp_path / "empty")
    with pytest.raises(ImageError, match="not found"):
        read_dicom_series(tmp_path / "nowhere")


def test_non_image_objects_are_ignored(ct_case, copy_series):
    folder = copy_series(ct_case["series"])
    shutil.copy(ct_case["rtstruct"], folder / "zz_rtstruct.dcm")
    import SimpleITK as sitk

    arr = sitk.GetArrayFromImage(read_dicom_series(folder).image)
    np.testing.assert_array_equal(arr, ct_case["hu"])
