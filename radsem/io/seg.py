"""DICOM SEG (segmentation objects) read with highdicom onto their DICOM reference series.

A SEG stores its frames against the source image instances it was drawn on. radsem maps them
back through those references (highdicom ``get_pixels_by_source_instance``), so the reference
must be the DICOM series the SEG was made from: a SEG whose ``ReferencedSeriesSequence`` names
another series, or a reference given as NIfTI, is refused with the reason. Fractional segments
are thresholded at 0.5.
"""

from __future__ import annotations

import os

import numpy as np

from radsem.errors import ImageError
from radsem.io.rtstruct import select_roi

__all__ = ["is_seg", "segment_labels", "read_seg"]

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def is_seg(ds) -> bool:
    """Whether a pydicom dataset is a DICOM Segmentation."""
    return (
        str(getattr(ds, "SOPClassUID", "")) == SEG_SOP_CLASS
        or str(getattr(ds, "Modality", "")).upper() == "SEG"
    )


def _read(path: str | os.PathLike, where: str):
    import highdicom as hd

    try:
        return hd.seg.segread(str(path))
    except Exception as exc:  # noqa: BLE001 - highdicom/pydicom raise assorted types
        raise ImageError(
            f"{where}: cannot be read as a DICOM SEG ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''})"
        ) from exc


def segment_labels(seg) -> dict[int, str]:
    """Segment number -> SegmentLabel of a highdicom ``Segmentation``."""
    return {
        int(n): str(seg.get_segment_description(n).SegmentLabel) for n in seg.get_segment_numbers()
    }


def read_seg(
    path: str | os.PathLike, reference, dicom, roi: str | None = None, *, where: str | None = None
):
    """One segment of a DICOM SEG as a uint8 mask on the reference grid.

    Parameters
    ----------
    path : path
        The SEG file.
    reference : SimpleITK.Image
        The reference image (its grid is the mask's grid).
    dicom : radsem.io.dicom_series.DicomSeries or None
        The reference series as read from DICOM (its UIDs locate the SEG frames); None when the
        reference is not DICOM, which is refused.
    roi : str, optional
        Segment label or case-insensitive glob pattern; None when there is one segment.
    where : str, optional
        Label for error messages.

    Raises
    ------
    ImageError
        Unreadable SEG, reference not DICOM, SEG referencing another series, segment label not
        found (the labels present are listed), empty segment.
    """
    import SimpleITK as sitk

    where = where or str(path)
    if dicom is None:
        raise ImageError(
            f"{where}: a DICOM SEG mask needs its reference series as DICOM (a "
            "folder), not NIfTI; convert the SEG to NIfTI or give the series"
        )
    seg = _read(path, where)
    referenced = {
        str(getattr(item, "SeriesInstanceUID", ""))
        for item in getattr(seg, "ReferencedSeriesSequence", [])
    } - {""}
    if referenced and dicom.series_uid not in referenced:
        raise ImageError(
            f"{where}: the SEG references another image series than the one it "
            "is used with (it was drawn on a different series)"
        )
    labels = segment_labels(seg)
    name = select_roi(list(labels.values()), roi, where)
    number = next(n for n, label in labels.items() if label == name)
    try:
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=list(dicom.sop_uids),
            segment_numbers=[number],
            combine_segments=False,
            assert_missing_frames_are_empty=True,
        )
    except (ValueError, KeyError, AttributeError) as exc:
        raise ImageError(
            f"{where}: the SEG frames cannot be placed on the reference series "
            f"({str(exc).splitlines()[0][:160]})"
        ) from exc
    arr = np.asarray(pixels)[..., 0].astype(np.float64)
    expected = tuple(int(s) for s in reversed(reference.GetSize()))
    if arr.shape != expected:
        raise ImageError(
            f"{where}: SEG frames of shape {arr.shape} do not fit the reference series {expected}"
        )
    out = sitk.GetImageFromArray((arr >= 0.5).astype(np.uint8))
    out.CopyInformation(reference)
    return out
