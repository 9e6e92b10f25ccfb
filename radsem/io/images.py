"""Medical images through SimpleITK: radsem's one image reader, and the NIfTI writer.

Every image radsem reads goes through :func:`read_image`, which checks that the whole volume was
decoded before any voxel is used: ITK fills the voxels of a truncated ``.nii.gz`` (or ``.nii``)
with zeros without an error, and reads NaN in NIfTI files as 0. SimpleITK is imported only when
an image is read or written.
"""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from radsem._optional import require
from radsem.errors import ImageError
from radsem.io.tables import file_mode, fsync_folder

__all__ = ["read_image", "write_image", "image_array", "check_plausible"]

#: Bytes per voxel of the NIfTI datatype codes (NIfTI-1/-2 standard, ``nifti1.h``).
_NIFTI_SIZES = {
    2: 1,
    4: 2,
    8: 4,
    16: 4,
    32: 8,
    64: 8,
    128: 3,
    256: 1,
    512: 2,
    768: 4,
    1024: 8,
    1280: 8,
    1536: 16,
    1792: 16,
    2048: 32,
    2304: 4,
}
#: Floating-point NIfTI datatypes (whose NaN ITK turns into 0) and their numpy types.
_NIFTI_FLOATS = {16: "f4", 64: "f8"}


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith((".nii", ".nii.gz"))


def _nifti_header(head: bytes) -> tuple[str, int, list[int], int, bool] | None:
    """``(byte order, datatype, dims, vox_offset, single file)`` of a NIfTI-1/-2 header, or
    None when ``head`` is not one (ITK then decides what the file is)."""
    for order in ("<", ">"):
        size = struct.unpack(order + "i", head[:4])[0] if len(head) >= 4 else 0
        if size == 348 and len(head) >= 348:
            datatype = struct.unpack(order + "h", head[70:72])[0]
            dims = list(struct.unpack(order + "8h", head[40:56]))
            offset = int(struct.unpack(order + "f", head[108:112])[0])
            single = head[344:347] == b"n+1"
            return order, datatype, dims, offset, single
        if size == 540 and len(head) >= 540:
            datatype = struct.unpack(order + "h", head[12:14])[0]
            dims = list(struct.unpack(order + "8q", head[16:80]))
            offset = int(struct.unpack(order + "q", head[168:176])[0])
            single = head[4:7] == b"n+2"
            return order, datatype, dims, offset, single
    return None


def _scan_nifti(path: Path) -> int:
    """Decompress and count the whole voxel block of a NIfTI file; return its non-finite voxels.

    Raises :class:`ImageError` when the gzip stream is incomplete or corrupt, or when the file
    holds fewer voxel bytes than its header announces (header dimensions x datatype size).
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(540)
            header = _nifti_header(head)
            if header is None:
                if path.name.lower().endswith(".gz"):
                    handle.read()  # a gzip file that is not NIfTI: still decompress it fully
                return 0
            order, datatype, dims, offset, single = header
            if not single:
                return 0  # a .hdr/.img pair: the voxels are in the other file
            ndim = dims[0]
            if not 1 <= ndim <= 7 or min(dims[1 : ndim + 1]) < 0:
                raise ImageError(f"{path}: the NIfTI header has invalid dimensions {dims}")
            count = int(np.prod([int(d) for d in dims[1 : ndim + 1]], dtype=object))
            size = _NIFTI_SIZES.get(datatype)
            if size is None:
                return 0  # an unknown datatype: ITK refuses the file itself
            expected = count * size
            dtype = np.dtype(order + _NIFTI_FLOATS[datatype]) if datatype in _NIFTI_FLOATS else None
            skip = max(offset - len(head), 0)
            rest = head[offset:] if offset < len(head) else b""
            while skip:
                chunk = handle.read(min(skip, 1 << 20))
                if not chunk:
                    break
                skip -= len(chunk)
            got, bad, carry = 0, 0, b""
            block = rest
            while True:
                if block:
                    got += len(block)
                    if dtype is not None:
                        data = carry + block
                        usable = len(data) - len(data) % dtype.itemsize
                        values = np.frombuffer(data[:usable], dtype)
                        bad += int(np.count_nonzero(~np.isfinite(values)))
                        carry = data[usable:]
                block = handle.read(1 << 22)
                if not block:
                    break
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ImageError(
            f"{path}: cannot be read as an image: the file is truncated or "
            f"corrupted (incomplete gzip stream: {exc})"
        ) from exc
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read as an image ({exc})") from exc
    if skip > 0 or got < expected:
        raise ImageError(
            f"{path}: the file is truncated: it holds {max(got, 0)} of the "
            f"{expected} bytes of voxel data its header announces "
            f"({' x '.join(str(d) for d in dims[1 : ndim + 1])} voxels of "
            f"{size} byte(s)); ITK would fill the rest with zeros"
        )
    return bad


def _read_dicom_series(path: Path):
    """One DICOM series, checked (one series, no missing slices, even spacing, ...)."""
    from radsem.io.dicom_series import read_dicom_series

    return read_dicom_series(path).image


def read_image(path: str | os.PathLike, *, dimension: int | None = 3):
    """Read a medical image and check that all of it was decoded: radsem's one image reader.

    Parameters
    ----------
    path : str or path-like
        A NIfTI (``.nii``, ``.nii.gz``), NRRD or MHA file, or a folder holding one DICOM series.
    dimension : int or None
        Required number of dimensions (default 3); None accepts any.

    Returns
    -------
    SimpleITK.Image
        Voxels and geometry only: no metadata (no DICOM header field such as a patient name,
        id or date) is kept.

    Raises
    ------
    ImageError
        A missing or unreadable file; a NIfTI file whose gzip stream is incomplete or which
        holds fewer voxel bytes than its header announces (header dimensions x datatype size:
        a truncated file that ITK would silently zero-fill); NaN or infinite voxels (ITK reads
        NaN in NIfTI files as 0); the wrong number of dimensions; a folder without exactly one
        DICOM series.
    """
    sitk = require("SimpleITK", "reading and writing images")

    path = Path(path)
    if path.is_dir():
        image = _read_dicom_series(path)
        stored_bad = 0
    else:
        if not path.is_file():
            raise ImageError(f"{path}: image file not found")
        stored_bad = _scan_nifti(path) if _is_nifti(path) else 0
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            raise ImageError(
                f"{path}: cannot be read as an image (corrupted or unknown format: {first[:200]})"
            ) from exc
    if dimension is not None and image.GetDimension() != dimension:
        raise ImageError(f"{path}: expected a {dimension}D volume, got {image.GetDimension()}D")
    array = sitk.GetArrayViewFromImage(image)
    bad = stored_bad or (
        int(np.count_nonzero(~np.isfinite(array))) if array.dtype.kind in "fc" else 0
    )
    if bad:
        raise ImageError(
            f"{path}: {bad} voxel(s) are NaN or infinite; replace them (e.g. by 0 "
            "outside the body) before use - ITK would read NaN in NIfTI files as "
            "0 without notice"
        )
    clean = sitk.Image(image)  # a copy without the reader's metadata dictionary
    for key in clean.GetMetaDataKeys():
        clean.EraseMetaData(key)
    return clean


def check_plausible(values: np.ndarray, mask: np.ndarray, name: str) -> None:
    """Refuse an image whose voxels inside a mask are not finite or all equal.

    Parameters
    ----------
    values : ndarray
        The image on the mask's grid.
    mask : ndarray of bool
        The region (tumour); a region of fewer than 2 voxels is not checked for constancy.
    name : str
        Label for the message (patient and series).

    Raises
    ------
    ImageError
        Non-finite values, or a single value throughout the region (an empty, zero-filled or
        wrongly exported volume gives no texture to measure).
    """
    inside = np.asarray(values)[np.asarray(mask, dtype=bool)]
    if inside.size and not np.all(np.isfinite(inside)):
        raise ImageError(
            f"{name}: {int(np.count_nonzero(~np.isfinite(inside)))} voxel(s) "
            "inside the mask are NaN or infinite"
        )
    if inside.size > 1 and float(np.min(inside)) == float(np.max(inside)):
        raise ImageError(
            f"{name}: every voxel inside the mask has the value "
            f"{float(inside.flat[0]):g}; an empty, zero-filled or wrongly exported "
            "volume cannot be measured"
        )


def image_array(path: str | os.PathLike) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Read an image (:func:`read_image`) as a numpy array in ``(z, y, x)`` order and its
    spacing ``(sz, sy, sx)``."""
    sitk = require("SimpleITK", "reading and writing images")

    image = read_image(path)
    return sitk.GetArrayFromImage(image), tuple(float(s) for s in reversed(image.GetSpacing()))


def write_image(
    array: np.ndarray,
    path: str | os.PathLike,
    spacing: Sequence[float],
    origin: Sequence[float] | None = None,
) -> None:
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
    give identical bytes; the file is written under a temporary name, flushed to disk (fsync)
    and renamed.
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
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_folder(path.parent)
    except RuntimeError as exc:
        raise ImageError(f"{path}: cannot be written ({exc})") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
