"""Counting NaN / infinite voxels, including those ITK's NIfTI reader silently turns into 0."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["nonfinite_voxels"]

# NIfTI-1 datatype codes of floating-point voxels and their numpy types
_FLOAT_CODES = {16: "f4", 64: "f8"}


def _nifti_nonfinite(path: Path) -> int:
    """Non-finite voxels stored in a NIfTI-1 file (0 for integer voxel types).

    ITK (and so SimpleITK) replaces NaN by 0 when it reads NIfTI, so an image's array cannot
    show them; this reads the stored voxels directly (header fields as in the NIfTI-1 standard:
    ``dim`` at byte 40, ``datatype`` at 70, ``vox_offset`` at 108).
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        header = handle.read(348)
        if len(header) < 348:
            return 0
        for order in ("<", ">"):
            if struct.unpack(order + "i", header[:4])[0] == 348:
                break
        else:
            return 0
        datatype = struct.unpack(order + "h", header[70:72])[0]
        if datatype not in _FLOAT_CODES:
            return 0
        offset = int(struct.unpack(order + "f", header[108:112])[0])
        handle.read(max(offset - 348, 0))
        dtype = np.dtype(order + _FLOAT_CODES[datatype])
        count = 0
        while chunk := handle.read(dtype.itemsize * (1 << 20)):
            usable = len(chunk) - len(chunk) % dtype.itemsize
            count += int(np.count_nonzero(~np.isfinite(np.frombuffer(chunk[:usable], dtype))))
        return count


def nonfinite_voxels(path: str | os.PathLike, array: np.ndarray) -> int:
    """Number of NaN / infinite voxels of an image read from ``path`` into ``array``."""
    count = int(np.count_nonzero(~np.isfinite(array))) if array.dtype.kind == "f" else 0
    p = Path(path)
    if count == 0 and p.is_file() and p.name.lower().endswith((".nii", ".nii.gz")):
        count = _nifti_nonfinite(p)
    return count
