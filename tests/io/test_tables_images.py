"""read_table / write_table and the NIfTI helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.errors import DataError, ImageError
from radsem.io import image_array, read_image, read_table, write_image, write_table


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_round_trip(tmp_path, suffix):
    frame = pd.DataFrame({"patient_id": ["01", "02"], "x": [1.5, np.nan], "k": [1, 2]})
    path = tmp_path / f"t{suffix}"
    write_table(frame, path)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_write_table_is_deterministic_and_keeps_input(tmp_path):
    frame = pd.DataFrame({"a": [0.1, 1 / 3]})
    before = frame.copy()
    write_table(frame, tmp_path / "a.csv")
    write_table(frame, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    pd.testing.assert_frame_equal(frame, before)


def test_table_errors(tmp_path):
    with pytest.raises(DataError, match="unknown table format '.sav'"):
        read_table(tmp_path / "t.sav")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "t.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="the file is empty"):
        read_table(tmp_path / "empty.csv")
    with pytest.raises(DataError, match="does not exist"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "no" / "t.csv")
    with pytest.raises(DataError, match="expects a DataFrame"):
        write_table([1, 2], tmp_path / "t.csv")


def test_image_round_trip_is_deterministic(tmp_path):
    arr = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    write_image(arr, tmp_path / "a.nii.gz", (3.0, 1.0, 0.5))
    write_image(arr, tmp_path / "b.nii.gz", (3.0, 1.0, 0.5))
    assert (tmp_path / "a.nii.gz").read_bytes() == (tmp_path / "b.nii.gz").read_bytes()
    back, spacing = image_array(tmp_path / "a.nii.gz")
    np.testing.assert_array_equal(back, arr)
    assert spacing == (3.0, 1.0, 0.5)
    image = read_image(tmp_path / "a.nii.gz")
    assert image.GetOrigin() == pytest.approx((-1.25, -2.0, -4.5))  # centred grid, (x, y, z)


def test_image_errors(tmp_path):
    with pytest.raises(ImageError, match="image file not found"):
        read_image(tmp_path / "x.nii.gz")
    (tmp_path / "bad.nii.gz").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot be read as an image"):
        read_image(tmp_path / "bad.nii.gz")
    with pytest.raises(ImageError, match="3D array"):
        write_image(np.zeros((3, 3)), tmp_path / "x.nii.gz", (1, 1, 1))
    with pytest.raises(ImageError, match="positive"):
        write_image(np.zeros((3, 3, 3)), tmp_path / "x.nii.gz", (1, 0, 1))


def test_import_io_does_not_import_simpleitk():
    import subprocess
    import sys

    code = "import radsem.io, sys; print('SimpleITK' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_written_files_follow_umask(tmp_path):
    """Atomic writes go through mkstemp (mode 0600); the result gets the usual umask mode."""
    import os

    mask = os.umask(0o022)
    try:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        write_image(np.zeros((2, 2, 2), np.uint8), tmp_path / "m.nii.gz", (1, 1, 1))
    finally:
        os.umask(mask)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "m.nii.gz").stat().st_mode & 0o777 == 0o644
