"""One patient's inputs to segmentation: T2, DWI and ADC on the T2 grid, and the mask if any.

DWI and ADC are resampled (linear interpolation) onto the T2 grid, the grid of extraction, so
the network sees the three channels voxel by voxel and a predicted mask lands on T2's geometry.
Each channel is scaled robustly per volume (median 0, 1st-99th percentile range 1), which takes
out the scanner's gain without looking at the tumour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from radsem.errors import DataError, ImageError

__all__ = ["Case", "read_case", "cohort_images", "CHANNELS"]

#: The input channels, in order.
CHANNELS = ("t2", "dwi", "adc")
_MIN_SIZE = 4


@dataclass(frozen=True)
class Case:
    """One patient ready for segmentation.

    Attributes
    ----------
    patient_id : str
    channels : ndarray, float32, shape (3, Z, Y, X)
        T2, DWI and ADC on the T2 grid, robustly scaled.
    mask : ndarray of bool, shape (Z, Y, X), or None
        The reference mask when the patient has one.
    reference : SimpleITK.Image
        The T2 image (its geometry is copied to predicted masks).
    spacing : tuple of float
        Voxel size ``(sz, sy, sx)`` in mm.
    """

    patient_id: str
    channels: np.ndarray
    mask: np.ndarray | None
    reference: Any
    spacing: tuple[float, float, float]


def _scale(arr: np.ndarray) -> np.ndarray:
    lo, mid, hi = np.percentile(arr, [1.0, 50.0, 99.0])
    return ((arr - mid) / max(hi - lo, 1e-6)).astype(np.float32)


def read_case(
    patient_id: str,
    t2: str | os.PathLike,
    dwi: str | os.PathLike,
    adc: str | os.PathLike,
    mask: str | os.PathLike | None = None,
) -> Case:
    """Read one patient's volumes onto the T2 grid.

    Raises
    ------
    ImageError
        Unreadable or non-3D volume, a volume smaller than 4 voxels along an axis, a DWI/ADC
        volume that does not overlap T2, a mask not on the T2 grid.
    """
    import SimpleITK as sitk

    from radsem.io.grid import describe_grid as _describe
    from radsem.io.grid import same_grid as _same_grid
    from radsem.radiomics.extract import _resample, read_volume

    name = f"patient {patient_id}"
    ref = read_volume(t2)
    if min(ref.GetSize()) < _MIN_SIZE:
        raise ImageError(
            f"{name}: T2 volume {ref.GetSize()} is smaller than {_MIN_SIZE} voxels along an axis"
        )
    arrays = [sitk.GetArrayFromImage(ref).astype(np.float32)]
    for label, path in (("DWI", dwi), ("ADC", adc)):
        image = read_volume(path)
        on_t2 = sitk.GetArrayFromImage(_resample(image, ref, "linear"))
        if not np.any(on_t2):
            raise ImageError(
                f"{name}: the {label} volume does not overlap the T2 volume "
                f"({label} {_describe(image)}; T2 {_describe(ref)})"
            )
        arrays.append(on_t2)
    channels = np.stack([_scale(a) for a in arrays])
    reference_mask = None
    if mask is not None and not (isinstance(mask, float) and np.isnan(mask)):
        m = read_volume(mask)
        if not _same_grid(m, ref):
            raise ImageError(
                f"{name}: the mask is not on the T2 grid (mask {_describe(m)}; T2 {_describe(ref)})"
            )
        reference_mask = sitk.GetArrayFromImage(m) > 0
    spacing = tuple(float(s) for s in reversed(ref.GetSpacing()))
    return Case(str(patient_id), channels, reference_mask, ref, spacing)


def cohort_images(source: Any) -> pd.DataFrame:
    """The ``patient_id, t2, dwi, adc, mask`` table of a cohort folder, Cohort or DataFrame
    (``mask`` may be missing: None/NaN)."""
    if isinstance(source, (str, os.PathLike)):
        from radsem.io import read_cohort

        source = read_cohort(source)
    table = getattr(source, "images", source)
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            "expected a cohort folder, a Cohort or a DataFrame of image paths "
            f"(patient_id, t2, dwi, adc[, mask]); got {type(source).__name__}"
        )
    missing = [c for c in ("patient_id", *CHANNELS) if c not in table.columns]
    if missing:
        raise DataError(f"the images table lacks column(s) {missing}")
    table = table.copy()
    if "mask" not in table.columns:
        table["mask"] = None
    table["patient_id"] = table["patient_id"].astype(str)
    dup = table["patient_id"][table["patient_id"].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"patient_id values repeated in the images table: {dup[:5]}")
    table["mask"] = table["mask"].astype(object).where(table["mask"].notna(), None)
    return table.loc[:, ["patient_id", *CHANNELS, "mask"]].reset_index(drop=True)
