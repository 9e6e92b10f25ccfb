"""One DICOM image series read from a folder, with checks of its geometry.

pydicom reads the headers and the pixel data; the volume is assembled here so that every
slice's own ``RescaleSlope``/``RescaleIntercept`` is applied (PET series often carry one per
slice). Checked before any voxel is read: one image series per folder, no two slices at the same
position, slices along one line (no gantry tilt), even slice spacing (a gap of a whole multiple
of the usual spacing is reported as missing slices), one orientation, one pixel grid.

Identifying header fields (names, ids, dates, UIDs) are never copied into the returned image;
the few needed later (UIDs to match RTSTRUCT/SEG references, PET dose and times for SUV) are kept
in private attributes of :class:`DicomSeries` in memory and never written by radsem.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from radsem.errors import ImageError

__all__ = ["DicomSeries", "read_dicom_series", "scan_dicom_files", "NON_IMAGE_MODALITIES"]

#: Modalities of DICOM objects that are not image slices (ignored when reading a series).
NON_IMAGE_MODALITIES = ("RTSTRUCT", "SEG", "RTPLAN", "RTDOSE", "RTRECORD", "PR", "SR", "KO", "REG")
#: Relative tolerance on slice spacing (1 %) and absolute one in mm for positions.
SPACING_RTOL = 0.01
POSITION_ATOL = 1e-3

#: Header fields kept in memory for the SUV conversion of PET series (never written out).
_PET_FIELDS = (
    "Units",
    "DecayCorrection",
    "CorrectedImage",
    "PatientWeight",
    "SeriesDate",
    "SeriesTime",
    "AcquisitionDate",
    "AcquisitionTime",
    "AcquisitionDateTime",
)


@dataclass(frozen=True)
class DicomSeries:
    """A DICOM series read into a ``SimpleITK.Image``.

    Attributes
    ----------
    image : SimpleITK.Image
        Voxels after each slice's rescale (HU for CT, Bq/ml for most PET), geometry from the
        headers; no metadata.
    modality : str
        The DICOM ``Modality`` (``CT``, ``MR``, ``PT``, ...).
    n_slices : int
        Number of slices.
    """

    image: Any
    modality: str
    n_slices: int
    series_uid: str = field(repr=False, default="")
    frame_of_reference_uid: str = field(repr=False, default="")
    sop_uids: tuple[str, ...] = field(repr=False, default=())
    header: dict = field(repr=False, default_factory=dict)


def _dcmread(path: Path, stop_before_pixels: bool = True):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels, force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError):
        return None
    except Exception:  # noqa: BLE001 - forced reads of non-DICOM files fail in assorted ways
        return None


def scan_dicom_files(folder: str | os.PathLike) -> list[tuple[Path, Any]]:
    """Every DICOM file under ``folder`` (recursively, hidden names skipped) with its header.

    Files that are not DICOM are skipped. Headers are read without pixel data.
    """
    folder = Path(folder)
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    out = []
    for path in files:
        ds = _dcmread(path)
        if ds is not None and ("SOPClassUID" in ds or "Modality" in ds):
            out.append((path, ds))
    return out


def _is_image(ds) -> bool:
    modality = str(getattr(ds, "Modality", "")).upper()
    return modality not in NON_IMAGE_MODALITIES and "Rows" in ds and "Columns" in ds


def _floats(ds, keyword: str, n: int, where: str) -> np.ndarray:
    value = getattr(ds, keyword, None)
    if value is None:
        raise ImageError(f"{where}: a slice lacks {keyword}; the series geometry is unknown")
    try:
        arr = np.asarray([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        raise ImageError(f"{where}: {keyword} is not numeric") from None
    if arr.size != n:
        raise ImageError(f"{where}: {keyword} has {arr.size} values, expected {n}")
    return arr


def _group(images: list[tuple[Path, Any]], where: str) -> list[tuple[Path, Any]]:
    uids = Counter(str(getattr(ds, "SeriesInstanceUID", "")) for _, ds in images)
    if len(uids) > 1:
        parts = []
        for uid, count in uids.items():
            mods = {
                str(getattr(ds, "Modality", "?"))
                for _, ds in images
                if str(getattr(ds, "SeriesInstanceUID", "")) == uid
            }
            parts.append(f"{'/'.join(sorted(mods))} ({count} files)")
        raise ImageError(
            f"{where}: mixed series in one folder: {len(uids)} image series "
            f"[{', '.join(sorted(parts))}]; give each series its own folder"
        )
    return images


def _check_grid(images: list[tuple[Path, Any]], where: str) -> tuple[np.ndarray, np.ndarray]:
    first = images[0][1]
    frames = int(getattr(first, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageError(
            f"{where}: multi-frame (enhanced) DICOM with {frames} frames in one "
            "file is not supported; convert it to NIfTI (e.g. dcm2niix) first"
        )
    orient = _floats(first, "ImageOrientationPatient", 6, where)
    spacing = _floats(first, "PixelSpacing", 2, where)
    shape = (int(first.Rows), int(first.Columns))
    for _, ds in images[1:]:
        if (int(ds.Rows), int(ds.Columns)) != shape:
            raise ImageError(
                f"{where}: slices of different sizes ({shape} and "
                f"{(int(ds.Rows), int(ds.Columns))})"
            )
        if not np.allclose(_floats(ds, "ImageOrientationPatient", 6, where), orient, atol=1e-4):
            raise ImageError(f"{where}: slices with different orientations in one series")
        if not np.allclose(_floats(ds, "PixelSpacing", 2, where), spacing, rtol=1e-4):
            raise ImageError(f"{where}: slices with different pixel spacings in one series")
    return orient, spacing


def _order(images, orient: np.ndarray, where: str) -> tuple[list, np.ndarray, float]:
    """Sort slices along the normal; check positions and spacing; return (slices, pos, dz)."""
    normal = np.cross(orient[:3], orient[3:])
    positions = np.array([_floats(ds, "ImagePositionPatient", 3, where) for _, ds in images])
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    images = [images[i] for i in order]
    positions, along = positions[order], along[order]
    if len(images) == 1:
        thick = getattr(images[0][1], "SpacingBetweenSlices", None) or getattr(
            images[0][1], "SliceThickness", None
        )
        if thick is None or float(thick) <= 0:
            raise ImageError(
                f"{where}: a single slice without SliceThickness; its 3D spacing is unknown"
            )
        return images, positions, float(thick)
    steps = np.diff(along)
    dup = int(np.sum(steps < POSITION_ATOL))
    if dup:
        raise ImageError(
            f"{where}: {dup} slice(s) share a position with another slice (several "
            "echoes, phases, b-values or a repeated file in one series?)"
        )
    offsets = positions - np.outer(along - along[0], normal)
    drift = float(np.max(np.linalg.norm(offsets - offsets[0], axis=1)))
    if drift > max(POSITION_ATOL, 0.01 * float(np.min(steps))):
        raise ImageError(
            f"{where}: slice positions do not lie along the slice normal (drift "
            f"{drift:.3g} mm; gantry tilt or a mixed stack?)"
        )
    usual = float(np.median(steps))
    off = np.abs(steps - usual) > SPACING_RTOL * usual
    if off.any():
        ratio = steps[off] / usual
        whole = np.abs(ratio - np.round(ratio)) <= SPACING_RTOL * np.round(ratio)
        if whole.all() and (np.round(ratio) >= 2).all():
            missing = int(np.sum(np.round(ratio) - 1))
            first_gap = int(np.flatnonzero(off)[0]) + 1
            raise ImageError(
                f"{where}: {missing} missing slice(s): the series has gaps of "
                f"{', '.join(f'{s:.4g}' for s in steps[off][:5])} mm where slices "
                f"are {usual:.4g} mm apart (first after slice {first_gap} of "
                f"{len(images)})"
            )
        raise ImageError(
            f"{where}: uneven slice spacing from {steps.min():.4g} to "
            f"{steps.max():.4g} mm (usual {usual:.4g} mm); resample the series or "
            "give it as NIfTI"
        )
    return images, positions, float((along[-1] - along[0]) / (len(images) - 1))


def _pixels(path: Path, where: str) -> tuple[np.ndarray, float, float]:
    ds = _dcmread(path, stop_before_pixels=False)
    if ds is None:
        raise ImageError(f"{where}: a slice cannot be re-read ({path.name})")
    try:
        arr = np.asarray(ds.pixel_array)
    except Exception as exc:  # noqa: BLE001 - pydicom's decoders raise assorted types
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", str(syntax))
        raise ImageError(
            f"{where}: pixel data of {path.name} cannot be decoded (transfer "
            f"syntax {name}): {str(exc).splitlines()[0][:200]}"
        ) from exc
    if arr.ndim != 2:
        raise ImageError(
            f"{where}: {path.name} is not a single grey-level slice "
            f"(pixel array of shape {arr.shape})"
        )
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    return arr, slope, intercept


def _header(images) -> dict:
    first = images[0][1]
    header = {key: getattr(first, key, None) for key in _PET_FIELDS}
    seq = getattr(first, "RadiopharmaceuticalInformationSequence", None)
    if seq:
        item = seq[0]
        for key in (
            "RadionuclideTotalDose",
            "RadionuclideHalfLife",
            "RadiopharmaceuticalStartTime",
            "RadiopharmaceuticalStartDateTime",
        ):
            header[key] = getattr(item, key, None)
    header["acquisition_times"] = [
        (
            getattr(ds, "AcquisitionDate", None),
            getattr(ds, "AcquisitionTime", None),
            getattr(ds, "AcquisitionDateTime", None),
        )
        for _, ds in images
    ]
    return header


def read_dicom_series(folder: str | os.PathLike, *, name: str | None = None) -> DicomSeries:
    """Read the one DICOM image series held in ``folder``.

    Parameters
    ----------
    folder : path
        Folder (searched recursively) holding the slices of one series; non-DICOM files and
        non-image DICOM objects (RTSTRUCT, SEG, ...) are ignored.
    name : str, optional
        Label for error messages (default: the folder path).

    Returns
    -------
    DicomSeries

    Raises
    ------
    ImageError
        No image series, several series (mixed series), slices sharing a position, missing
        slices, uneven spacing, slices off the normal line (gantry tilt), differing grids, a
        multi-frame file, pixel data that cannot be decoded. The message gives the reason.
    """
    import SimpleITK as sitk

    folder = Path(folder)
    where = name or str(folder)
    if not folder.is_dir():
        raise ImageError(f"{where}: DICOM series folder not found")
    images = [(p, ds) for p, ds in scan_dicom_files(folder) if _is_image(ds)]
    if not images:
        raise ImageError(f"{where}: folder holds no DICOM image series")
    images = _group(images, where)
    orient, pixel_spacing = _check_grid(images, where)
    images, positions, dz = _order(images, orient, where)
    slices, slopes, intercepts = [], [], []
    for path, _ in images:
        arr, slope, intercept = _pixels(path, where)
        slices.append(arr)
        slopes.append(slope)
        intercepts.append(intercept)
    raw = np.stack(slices)
    integral = all(float(s).is_integer() for s in slopes + intercepts)
    if integral:
        values = np.stack(
            [a.astype(np.int64) * int(s) + int(i) for a, s, i in zip(slices, slopes, intercepts)]
        )
        dtype = np.int16 if (values.min() >= -32768 and values.max() <= 32767) else np.int32
        volume = values.astype(dtype)
    else:
        volume = np.stack(
            [a.astype(np.float64) * s + i for a, s, i in zip(raw, slopes, intercepts)]
        ).astype(np.float32)
    image = sitk.GetImageFromArray(volume)
    image.SetOrigin(tuple(float(v) for v in positions[0]))
    image.SetSpacing((float(pixel_spacing[1]), float(pixel_spacing[0]), float(dz)))
    normal = np.cross(orient[:3], orient[3:])
    direction = np.column_stack([orient[:3], orient[3:], normal])
    image.SetDirection(tuple(float(v) for v in direction.ravel()))
    first = images[0][1]
    return DicomSeries(
        image=image,
        modality=str(getattr(first, "Modality", "")).upper(),
        n_slices=len(images),
        series_uid=str(getattr(first, "SeriesInstanceUID", "")),
        frame_of_reference_uid=str(getattr(first, "FrameOfReferenceUID", "")),
        sop_uids=tuple(str(getattr(ds, "SOPInstanceUID", "")) for _, ds in images),
        header=_header(images),
    )
