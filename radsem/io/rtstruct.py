"""DICOM RTSTRUCT contours rasterised onto a reference image grid (pydicom + numpy).

Polygon-to-voxel rule
---------------------
Each ``CLOSED_PLANAR`` contour is mapped into the continuous voxel index space of the reference
image (origin, spacing and direction, so any orientation works). Its slice is the nearest slice
centre; the contour must lie within a quarter of the slice spacing of it. A voxel of that slice
belongs to the ROI when its **centre** is inside the polygon by the even-odd rule, or lies on
the polygon's boundary (within 1e-3 voxel). All contours of the ROI on one slice are combined
by the even-odd rule as well, so a contour drawn inside another is a hole. This matches the
usual convention of treatment-planning systems (voxel centre inside the contour) and keeps the
voxels whose centres the contour passes through, as with contours traced along voxel centres.

Refused (:class:`radsem.errors.ImageError`, one patient): an ROI name or pattern that matches
no ROI (the message lists the ROIs present) or several; an ROI without closed planar contours;
a contour whose points are not in one slice plane; a contour outside the image (beyond the
first or last slice, or a point beyond the in-plane field of view, i.e. more than half a voxel
beyond the outermost voxel centres);
an RTSTRUCT that references another series or frame of reference than the image.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import numpy as np

from radsem.errors import ImageError

__all__ = ["roi_names", "rasterize_rtstruct", "select_roi", "is_rtstruct"]

RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
_ON_EDGE = 1e-3  # voxel units
_PLANE_TOL = 0.25  # slices


def is_rtstruct(ds) -> bool:
    """Whether a pydicom dataset is an RT Structure Set."""
    return (
        str(getattr(ds, "SOPClassUID", "")) == RTSTRUCT_SOP_CLASS
        or str(getattr(ds, "Modality", "")).upper() == "RTSTRUCT"
    )


def _read(path: str | os.PathLike, where: str):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(str(path), force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise ImageError(f"{where}: cannot be read as DICOM ({type(exc).__name__})") from exc
    if not is_rtstruct(ds):
        raise ImageError(
            f"{where}: not a DICOM RTSTRUCT (Modality {str(getattr(ds, 'Modality', '?'))!r})"
        )
    return ds


def roi_names(path_or_ds) -> list[str]:
    """ROI names of an RTSTRUCT file (or dataset), in the file's order."""
    ds = (
        path_or_ds
        if hasattr(path_or_ds, "StructureSetROISequence") or hasattr(path_or_ds, "Modality")
        else _read(path_or_ds, str(path_or_ds))
    )
    return [
        str(getattr(item, "ROIName", "")) for item in getattr(ds, "StructureSetROISequence", [])
    ]


def select_roi(names: list[str], roi: str | None, where: str) -> str:
    """The one ROI name matching ``roi`` (exact, else case-insensitive glob pattern).

    With ``roi=None`` the structure set must hold exactly one ROI.
    """
    shown = ", ".join(repr(n) for n in names) or "none"
    if roi is None:
        if len(names) == 1:
            return names[0]
        raise ImageError(
            f"{where}: the structure set holds {len(names)} ROIs ({shown}); "
            "choose one by name or pattern (roi)"
        )
    if roi in names:
        return roi
    hits = [n for n in names if fnmatch.fnmatchcase(n.lower(), roi.lower())]
    if not hits:
        raise ImageError(f"{where}: ROI {roi!r} not found; ROIs present: {shown}")
    if len(hits) > 1:
        raise ImageError(
            f"{where}: ROI pattern {roi!r} matches several ROIs "
            f"({', '.join(repr(h) for h in hits)}); give a narrower one"
        )
    return hits[0]


def _geometry(reference):
    origin = np.asarray(reference.GetOrigin(), dtype=float)
    spacing = np.asarray(reference.GetSpacing(), dtype=float)
    direction = np.asarray(reference.GetDirection(), dtype=float).reshape(3, 3)
    return origin, spacing, direction


def _to_index(points: np.ndarray, reference) -> np.ndarray:
    """Physical points (n, 3) to continuous voxel indices (n, 3) in (x, y, z) order."""
    origin, spacing, direction = _geometry(reference)
    return (np.linalg.solve(direction, (points - origin).T).T) / spacing


def _crossings(poly: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Per grid point (len(ys), len(xs)): the number of polygon edges crossed to the right."""
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    counts = np.zeros((ys.size, xs.size), dtype=np.int64)
    for row, y in enumerate(ys):
        spans = ((y0 <= y) & (y < y1)) | ((y1 <= y) & (y < y0))
        if not spans.any():
            continue
        xi = np.sort(
            x0[spans] + (y - y0[spans]) * (x1[spans] - x0[spans]) / (y1[spans] - y0[spans])
        )
        counts[row] = xi.size - np.searchsorted(xi, xs, side="right")
    return counts


def _on_boundary(poly: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    gx, gy = np.meshgrid(xs, ys)
    near = np.zeros(gx.shape, dtype=bool)
    nxt = np.roll(poly, -1, axis=0)
    for (ax, ay), (bx, by) in zip(poly, nxt):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        if length2 == 0:
            t = np.zeros_like(gx)
        else:
            t = np.clip(((gx - ax) * dx + (gy - ay) * dy) / length2, 0.0, 1.0)
        near |= np.hypot(gx - (ax + t * dx), gy - (ay + t * dy)) <= _ON_EDGE
    return near


def _contours(ds, roi: str, where: str) -> list[np.ndarray]:
    number = next(
        int(item.ROINumber)
        for item in ds.StructureSetROISequence
        if str(getattr(item, "ROIName", "")) == roi
    )
    entry = next(
        (
            item
            for item in getattr(ds, "ROIContourSequence", [])
            if int(getattr(item, "ReferencedROINumber", -1)) == number
        ),
        None,
    )
    out, kinds = [], set()
    for contour in getattr(entry, "ContourSequence", []) if entry is not None else []:
        kind = str(getattr(contour, "ContourGeometricType", "CLOSED_PLANAR")).upper()
        data = getattr(contour, "ContourData", None)
        if kind != "CLOSED_PLANAR" or not data:
            kinds.add(kind)
            continue
        points = np.asarray([float(v) for v in data], dtype=float)
        if points.size % 3 or points.size < 9:
            raise ImageError(
                f"{where}: ROI {roi!r} has a contour with {points.size} "
                "coordinates (needs at least 3 points of x, y, z)"
            )
        out.append(points.reshape(-1, 3))
    if not out:
        other = f" (only {', '.join(sorted(kinds))} contours)" if kinds else ""
        raise ImageError(f"{where}: ROI {roi!r} has no closed planar contour{other}")
    return out


def _check_reference(ds, reference_uids: dict | None, where: str) -> None:
    if not reference_uids:
        return
    frames = list(getattr(ds, "ReferencedFrameOfReferenceSequence", []))
    frame_uids = {str(getattr(f, "FrameOfReferenceUID", "")) for f in frames} - {""}
    want_frame = reference_uids.get("frame_of_reference_uid")
    if want_frame and frame_uids and want_frame not in frame_uids:
        raise ImageError(
            f"{where}: the RTSTRUCT was drawn in another frame of reference than "
            "the image series it is used with"
        )
    series = set()
    for frame in frames:
        for study in getattr(frame, "RTReferencedStudySequence", []):
            for ref in getattr(study, "RTReferencedSeriesSequence", []):
                series.add(str(getattr(ref, "SeriesInstanceUID", "")))
    series -= {""}
    want = reference_uids.get("series_uid")
    if want and series and want not in series:
        raise ImageError(
            f"{where}: the RTSTRUCT references another image series than the one it is used with"
        )


def rasterize_rtstruct(
    path: str | os.PathLike,
    reference,
    roi: str | None = None,
    *,
    reference_uids: dict | None = None,
    where: str | None = None,
):
    """Rasterise one ROI of an RTSTRUCT onto the grid of ``reference``.

    Parameters
    ----------
    path : path
        The RTSTRUCT file.
    reference : SimpleITK.Image
        The image the contours were drawn on (its grid is the mask's grid).
    roi : str, optional
        ROI name, or a case-insensitive glob pattern (``GTV*``) matching exactly one ROI;
        None when the structure set holds a single ROI.
    reference_uids : dict, optional
        ``series_uid`` and ``frame_of_reference_uid`` of a DICOM reference series; the RTSTRUCT
        must reference them (checked when both sides carry them).
    where : str, optional
        Label for error messages.

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 = ROI) on the reference grid.

    Raises
    ------
    ImageError
        See the module documentation.
    """
    import SimpleITK as sitk

    where = where or str(Path(path))
    ds = _read(path, where)
    _check_reference(ds, reference_uids, where)
    name = select_roi(roi_names(ds), roi, where)
    size = np.asarray(reference.GetSize())  # x, y, z
    mask = np.zeros(tuple(int(s) for s in size[::-1]), dtype=np.int64)  # z, y, x
    outside = 0
    for points in _contours(ds, name, where):
        index = _to_index(points, reference)
        k = float(np.mean(index[:, 2]))
        if np.ptp(index[:, 2]) > 2 * _PLANE_TOL:
            raise ImageError(
                f"{where}: ROI {name!r} has a contour that is not in one slice "
                "plane of the image (contours must be drawn on its slices)"
            )
        slice_k = int(round(k))
        if abs(k - slice_k) > _PLANE_TOL or not 0 <= slice_k < size[2]:
            outside += 1
            continue
        lo, hi = -0.5, size[:2] - 0.5
        if (index[:, :2] < lo - _ON_EDGE).any() or (index[:, :2] > hi + _ON_EDGE).any():
            outside += 1
            continue
        poly = index[:, :2]
        x_lo, y_lo = np.maximum(np.ceil(poly.min(axis=0) - _ON_EDGE), 0).astype(int)
        x_hi, y_hi = np.minimum(np.floor(poly.max(axis=0) + _ON_EDGE), size[:2] - 1).astype(int)
        xs, ys = np.arange(x_lo, x_hi + 1, dtype=float), np.arange(y_lo, y_hi + 1, dtype=float)
        inside = (_crossings(poly, ys, xs) % 2 == 1) | _on_boundary(poly, ys, xs)
        mask[slice_k, y_lo : y_hi + 1, x_lo : x_hi + 1] += inside
    if outside:
        raise ImageError(
            f"{where}: {outside} contour(s) of ROI {name!r} lie outside the image "
            "(beyond its slices or field of view, or between slices)"
        )
    out = sitk.GetImageFromArray((mask % 2 == 1).astype(np.uint8))
    out.CopyInformation(reference)
    return out
