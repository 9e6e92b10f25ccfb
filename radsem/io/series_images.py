"""One declared series and its tumour mask, read for a cohort with ``series.csv``.

A series is a NIfTI file or a DICOM folder (read with the checks of
:func:`radsem.io.dicom_series.read_dicom_series`, its ``Modality`` compared with the declared
one, PET converted to SUVbw by :mod:`radsem.io.suv`); a mask is NIfTI, RTSTRUCT or SEG, put on
the reference series' grid.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from radsem.errors import ImageError
from radsem.io.grid import describe_grid, same_grid
from radsem.io.images import read_image

__all__ = ["load_series", "load_mask"]

_DICOM_MODALITY = {"MR": "MR", "CT": "CT", "PT": "PT"}


def load_series(
    path: str | os.PathLike, modality: str, units: str | None, where: str
) -> tuple[object, object | None, float]:
    """Read one series in its modality's scale: ``(image, DicomSeries or None, suv_factor)``.

    Raises
    ------
    ImageError
        Unreadable input, a DICOM series whose Modality differs from the declared one, a PET
        NIfTI not declared as SUVbw, PET headers insufficient for SUVbw.
    """
    from radsem.io.dicom_series import read_dicom_series
    from radsem.io.suv import suv_factor, to_suv

    path = Path(path)
    if path.is_dir():
        series = read_dicom_series(path, name=where)
        if series.modality != _DICOM_MODALITY[modality]:
            raise ImageError(
                f"{where}: declared {modality} in series.csv, but the DICOM series "
                f"has Modality {series.modality or 'missing'!r}"
            )
        if modality == "PT":
            factor = suv_factor(series.header, where=where)
            return to_suv(series.image, series.header, where=where), series, factor
        return series.image, series, float("nan")
    image = read_image(path)
    if modality == "PT":
        if units != "SUVbw":
            raise ImageError(
                f"{where}: a PET image given as a file has no DICOM header to "
                "compute SUVbw from; give the DICOM series, or declare units SUVbw "
                "in series.csv if the file already holds SUVbw"
            )
        return image, None, 1.0
    return image, None, float("nan")


def load_mask(path: str | os.PathLike, reference, dicom, roi: str | None, label: int, where: str):
    """The tumour mask (uint8, 1 = tumour) on the reference grid, from NIfTI, RTSTRUCT or SEG."""
    import pydicom
    import SimpleITK as sitk
    from pydicom.errors import InvalidDicomError

    from radsem.io.rtstruct import is_rtstruct, rasterize_rtstruct
    from radsem.io.seg import is_seg, read_seg

    path = Path(path)
    if path.suffix.lower() == ".dcm":
        try:
            head = pydicom.dcmread(str(path), stop_before_pixels=True, force=True)
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            raise ImageError(f"{where}: mask {path.name} cannot be read as DICOM") from exc
        uids = None
        if dicom is not None:
            uids = {
                "series_uid": dicom.series_uid,
                "frame_of_reference_uid": dicom.frame_of_reference_uid,
            }
        if is_rtstruct(head):
            mask = rasterize_rtstruct(path, reference, roi, reference_uids=uids, where=where)
        elif is_seg(head):
            mask = read_seg(path, reference, dicom, roi, where=where)
        else:
            raise ImageError(
                f"{where}: mask {path.name} is DICOM but neither an RTSTRUCT nor a "
                f"SEG (Modality {str(getattr(head, 'Modality', '?'))!r})"
            )
        arr = sitk.GetArrayViewFromImage(mask)
        if not arr.any():
            raise ImageError(f"{where}: the mask is empty (no tumour voxel)")
        return mask
    mask = read_image(path)
    if not same_grid(mask, reference):
        raise ImageError(
            f"{where}: the mask is not on the reference series' grid (mask "
            f"{describe_grid(mask)}; reference {describe_grid(reference)})"
        )
    arr = sitk.GetArrayViewFromImage(mask)
    if not np.any(arr == label):
        present = sorted(np.unique(arr).tolist())[:10]
        raise ImageError(
            f"{where}: the mask is empty (no voxel with label {label}; labels present: {present})"
        )
    binary = sitk.GetImageFromArray((arr == label).astype(np.uint8))
    binary.CopyInformation(reference)
    return binary
