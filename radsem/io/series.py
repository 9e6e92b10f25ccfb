"""The series of a cohort: ``series.csv`` (name, modality, reference, ROI) and files per patient.

Without ``series.csv`` a cohort has the MRI defaults ``t2``, ``dwi``, ``adc`` (modality MR,
the mask drawn on ``t2``), exactly as before. With it, each row names one series:

=============  ==========================================================================
column         meaning
=============  ==========================================================================
``series``     name: lower-case letters, digits, ``_``; starts with a letter; not ``mask``
``modality``   ``MR``, ``CT`` or ``PT``
``reference``  optional 1/0: the series the mask is drawn on (default: the first row)
``roi``        optional, reference row only: RTSTRUCT ROI / SEG segment name or pattern
``units``      optional, PT only: ``SUVbw`` when the file already holds SUVbw (NIfTI PET)
=============  ==========================================================================

Per patient, ``images/<patient_id>/`` holds ``<series>.nii.gz`` (or ``.nii``, ``.nrrd``,
``.mha``) or a folder ``<series>/`` with one DICOM series, and the mask as ``mask.nii.gz``
(or ``.nii``, ``.nrrd``, ``.mha``) or ``mask.dcm`` (a DICOM RTSTRUCT or SEG).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.errors import DataError, ImageError

__all__ = [
    "MODALITIES",
    "DEFAULT_SERIES",
    "check_series",
    "find_series_file",
    "find_mask_file",
    "is_default_series",
]

MODALITIES = ("MR", "CT", "PT")
_COLUMNS = ["series", "modality", "reference", "roi", "units"]
#: The MRI defaults (a cohort without ``series.csv``).
DEFAULT_SERIES = pd.DataFrame(
    {
        "series": ["t2", "dwi", "adc"],
        "modality": ["MR"] * 3,
        "reference": [True, False, False],
        "roi": [None] * 3,
        "units": [None] * 3,
    },
    columns=_COLUMNS,
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")
_UNITS = ("SUVBW",)


def is_default_series(spec: pd.DataFrame) -> bool:
    """Whether a series table is the MRI default (``t2``, ``dwi``, ``adc``; mask on ``t2``)."""
    return (
        spec["series"].tolist() == ["t2", "dwi", "adc"]
        and spec["modality"].tolist() == ["MR"] * 3
        and bool(spec["reference"].iloc[0])
        and spec["roi"].isna().all()
        and spec["units"].isna().all()
    )


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return None
    text = str(value).strip()
    return text or None


def check_series(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate ``series.csv`` and return the table ``series, modality, reference, roi, units``.

    Raises
    ------
    DataError
        Missing columns, empty table, bad or duplicated names, unknown modality, zero or several
        reference rows, ``roi`` off the reference row, ``units`` other than ``SUVbw`` or off a
        PT row. The message names the file, the CSV line and the column.
    """
    path = Path(path)
    missing = [c for c in ("series", "modality") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path.name}: required column(s) {missing} missing (found: {list(frame.columns)[:12]})"
        )
    if frame.empty:
        raise DataError(f"{path.name}: no series (the table has a header but no rows)")
    rows = []
    for pos, raw in enumerate(frame.to_dict(orient="records")):
        line = pos + 2
        name = _text(raw.get("series"))
        if name is None or not _NAME.match(name) or name == "mask":
            raise DataError(
                f"{path.name}, row {line}, column 'series': {name!r} is not a valid "
                "series name (lower-case letters, digits, _; starting with a "
                "letter; not 'mask')"
            )
        modality = (_text(raw.get("modality")) or "").upper()
        if modality not in MODALITIES:
            raise DataError(
                f"{path.name}, row {line}, column 'modality': "
                f"{raw.get('modality')!r} is not one of {list(MODALITIES)}"
            )
        ref = _text(raw.get("reference"))
        if ref is not None and ref.lower() not in ("0", "1", "true", "false", "0.0", "1.0"):
            raise DataError(f"{path.name}, row {line}, column 'reference': {ref!r} must be 1 or 0")
        units = _text(raw.get("units"))
        if units is not None and (units.upper() not in _UNITS or modality != "PT"):
            raise DataError(
                f"{path.name}, row {line}, column 'units': {units!r} is only allowed "
                "as 'SUVbw' on a PT series (a file already in SUVbw)"
            )
        rows.append(
            {
                "series": name,
                "modality": modality,
                "reference": ref is not None and ref.lower() in ("1", "true", "1.0"),
                "roi": _text(raw.get("roi")),
                "units": "SUVbw" if units else None,
            }
        )
    spec = pd.DataFrame(rows, columns=_COLUMNS)
    dup = spec["series"][spec["series"].duplicated()].tolist()
    if dup:
        raise DataError(f"{path.name}: duplicated series {dup}")
    n_ref = int(spec["reference"].sum())
    if n_ref > 1:
        raise DataError(
            f"{path.name}, column 'reference': {n_ref} reference series; the mask "
            "is drawn on exactly one"
        )
    if n_ref == 0:
        spec.loc[0, "reference"] = True
    off = spec[~spec["reference"] & spec["roi"].notna()]
    if len(off):
        raise DataError(
            f"{path.name}, row {int(off.index[0]) + 2}, column 'roi': the ROI belongs "
            "on the reference row (the series the mask is drawn on)"
        )
    return spec


def find_series_file(folder: Path, name: str) -> Path | None:
    """``<name>.nii.gz`` (``.nii``, ``.nrrd``, ``.mha``) or a DICOM folder ``<name>/``."""
    for suffix in _IMAGE_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    candidate = folder / name
    return candidate if candidate.is_dir() else None


def find_mask_file(folder: Path) -> Path | None:
    """``mask.nii.gz`` (``.nii``, ``.nrrd``, ``.mha``) or ``mask.dcm`` (RTSTRUCT or SEG)."""
    found = [
        p
        for p in (*(folder / f"mask{s}" for s in _IMAGE_SUFFIXES), folder / "mask.dcm")
        if p.is_file()
    ]
    if len(found) > 1:
        raise ImageError(f"{folder}: several masks ({', '.join(p.name for p in found)}); keep one")
    return found[0] if found else None
