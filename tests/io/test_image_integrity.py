"""radsem's one image reader refuses volumes that were not decoded completely (issue 13).

ITK reads a truncated ``.nii.gz`` (or ``.nii``) without an error and fills the missing voxels
with zeros; :func:`radsem.io.read_image` must refuse such a file.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from radsem.errors import ImageError
from radsem.io import check_plausible, image_array, read_image, write_image

sitk = pytest.importorskip("SimpleITK")


@pytest.fixture
def volume(tmp_path):
    rng = np.random.default_rng(3)
    arr = rng.normal(300, 40, (8, 20, 20)).astype(np.float32)
    path = tmp_path / "t2.nii.gz"
    write_image(arr, path, (4.0, 1.0, 1.0))
    return path, arr


def _itk_reads_silently(path) -> bool:
    """True when SimpleITK itself reads ``path`` without an error (the defect radsem guards)."""
    try:
        sitk.ReadImage(str(path))
    except RuntimeError:
        return False
    return True


def test_complete_volume_is_read(volume):
    path, arr = volume
    back, spacing = image_array(path)
    np.testing.assert_array_equal(back, arr)
    assert spacing == (4.0, 1.0, 1.0)


@pytest.mark.parametrize("cut", ["300 bytes", "half"])
def test_truncated_gzip_is_refused(volume, cut):
    path, _ = volume
    data = path.read_bytes()
    keep = 300 if cut == "300 bytes" else len(data) // 2
    path.write_bytes(data[:keep])
    with pytest.raises(ImageError, match="truncated"):
        read_image(path)


def test_half_gzip_is_what_itk_zero_fills(volume):
    """The reproducer: ITK returns an image (zeros where voxels are missing) for half a file."""
    path, arr = volume
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    if _itk_reads_silently(path):
        silent = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
        assert silent.shape == arr.shape
        assert np.count_nonzero(silent == 0) > 0
    with pytest.raises(ImageError, match="truncated"):
        read_image(path)


def test_complete_gzip_stream_with_too_few_voxels(volume, tmp_path):
    """A well-formed gzip stream whose NIfTI payload is shorter than the header announces."""
    path, _ = volume
    raw = gzip.decompress(path.read_bytes())
    short = tmp_path / "short.nii.gz"
    short.write_bytes(gzip.compress(raw[: len(raw) - 100], mtime=0))
    with pytest.raises(ImageError, match=r"holds \d+ of the \d+ bytes of voxel data"):
        read_image(short)
    plain = tmp_path / "short.nii"
    plain.write_bytes(raw[: len(raw) - 100])
    with pytest.raises(ImageError, match="truncated"):
        read_image(plain)
    whole = tmp_path / "whole.nii"
    whole.write_bytes(raw)
    assert read_image(whole).GetSize() == (20, 20, 8)


def test_nan_stored_in_nifti_is_refused(tmp_path):
    arr = np.ones((5, 9, 9), np.float32)
    arr[2, 3, 3] = np.nan
    write_image(arr, tmp_path / "nan.nii.gz", (1.0, 1.0, 1.0))
    with pytest.raises(ImageError, match="1 voxel"):
        read_image(tmp_path / "nan.nii.gz")


def test_check_plausible():
    mask = np.zeros((4, 4, 4), bool)
    mask[1:3, 1:3, 1:3] = True
    values = np.arange(64, dtype=float).reshape(4, 4, 4)
    check_plausible(values, mask, "P1 T2")
    with pytest.raises(ImageError, match="P1 T2: every voxel inside the mask has the value 0"):
        check_plausible(np.zeros((4, 4, 4)), mask, "P1 T2")
    values[1, 1, 1] = np.inf
    with pytest.raises(ImageError, match="NaN or infinite"):
        check_plausible(values, mask, "P1 T2")
    one = np.zeros((4, 4, 4), bool)
    one[0, 0, 0] = True
    check_plausible(np.zeros((4, 4, 4)), one, "single voxel: not judged")


def test_every_reader_is_radsem_io_read_image():
    """One image reader for the package: radiomics and deep crops call radsem.io.read_image."""
    import inspect

    from radsem.deep import crops
    from radsem.radiomics import extract, read_volume

    assert read_volume is read_image
    for module in (extract, crops):
        source = inspect.getsource(module)
        assert "ReadImage(" not in source
        assert "ImageSeriesReader" not in source
    assert "read_image" in inspect.getsource(crops._read_case)


def test_deep_crops_refuse_a_truncated_sequence(tmp_path):
    import pandas as pd

    from radsem.deep.crops import load_cases

    rng = np.random.default_rng(5)
    mask = np.zeros((6, 16, 16), np.uint8)
    mask[2:4, 5:10, 5:10] = 1
    row = {"patient_id": "P9", "mask": tmp_path / "mask.nii.gz"}
    write_image(mask, row["mask"], (3.0, 1.0, 1.0))
    for seq in ("t2", "dwi", "adc"):
        row[seq] = tmp_path / f"{seq}.nii.gz"
        write_image(rng.normal(100, 10, mask.shape).astype(np.float32), row[seq], (3.0, 1.0, 1.0))
    table = pd.DataFrame([{k: str(v) for k, v in row.items()}])
    assert load_cases(table)[0].image.shape == (3, 6, 16, 16)
    data = row["dwi"].read_bytes()
    row["dwi"].write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="patient P9: cannot read the dwi image: .*truncated"):
        load_cases(table)


@pytest.mark.parametrize(("ext", "compress"), [(".nrrd", True), (".nrrd", False), (".mha", True)])
def test_truncated_nrrd_and_mha_are_refused_too(tmp_path, ext, compress):
    """ITK itself notices short NRRD/MHA files; radsem passes that on as an ImageError."""
    arr = np.random.default_rng(0).normal(100, 10, (8, 20, 20)).astype(np.float32)
    path = tmp_path / f"t{ext}"
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(path), compress)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cannot be read as an image"):
        read_image(path)
