"""NIfTI volumes through SimpleITK (imported only when an image is read or written)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from radsem._optional import require
from radsem.errors import ImageError
from radsem.io.tables import file_mode

__all__ = ["read_image", "write_image", "image_array"]


def read_image(path: str | os.PathLike):
    """Read a medical image (NIfTI, NRRD, MHA, a DICOM file) as a ``SimpleITK.Image``.

    Raises
    ------
    ImageError
        If the file is missing or cannot be read.
    """
    sitk = require("SimpleITK", "reading and writing images")

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: image file not found")
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        raise ImageError(f"{path}: cannot be read as an image ({first})") from exc


def image_array(path: str | os.PathLike) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Read an image as a numpy array in ``(z, y, x)`` order and its spacing ``(sz, sy, sx)``."""
    sitk = require("SimpleITK", "reading and writing images")

    image = read_image(path)
    return sitk.GetArrayFromImage(image), tuple(float(s) for s in reversed(image.GetSpacing()))


def write_image(array: np.ndarray, path: str | os.PathLike, spacing: Sequence[float],
                origin: Sequence[float] | None = None) -> None:
    """Write a 3D array as a NIfTI (or other ITK format) file, atomically and deterministically.

    Parameters
    ----------
    array : ndarray, shape (z, y, x)
        Voxel values; the dtype is kept (use int16 / uint8 / float32).
    path : str or path-like
        Target, e.g. ``t2.nii.gz`` (gzip-compressed NIfTI).
    spacing : sequence of 3 floats
        Voxel size ``(sz, sy, sx)`` in mm (numpy order, like ``array``).
    origin : sequence of 3 floats, optional
        Physical position ``(z, y, x)`` of the first voxel; default: the grid is centred on 0.

    Notes
    -----
    ITK's NIfTI writer stores no time stamp (the gzip header has mtime 0), so identical arrays
    give identical bytes; the file is written under a temporary name and renamed.
    """
    sitk = require("SimpleITK", "reading and writing images")

    array = np.asarray(array)
    if array.ndim != 3:
        raise ImageError(f"{path}: expected a 3D array, got shape {array.shape}")
    spacing = [float(s) for s in spacing]
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ImageError(f"{path}: spacing must be 3 positive numbers, got {spacing}")
    if origin is None:
        origin = [-(n - 1) / 2.0 * s for n, s in zip(array.shape, spacing)]
    path = Path(path)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(reversed(spacing)))
    image.SetOrigin(tuple(float(o) for o in reversed(list(origin))))
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        sitk.WriteImage(image, tmp, True)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except RuntimeError as exc:
        raise ImageError(f"{path}: cannot be written ({exc})") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
