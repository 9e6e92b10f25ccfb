"""The cohort folder: reading and validating the data contract between radsem's steps."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radsem.errors import DataError, ImageError
from radsem.io.series import DEFAULT_SERIES, check_series, find_mask_file, find_series_file
from radsem.io.tables import read_table
from radsem.io.validate import check_clinical, check_expression, check_protocol

__all__ = ["Cohort", "read_cohort", "IMAGE_FILES"]

#: Files expected in ``images/<patient_id>/``, by column of :attr:`Cohort.images`.
IMAGE_FILES = {"t2": "t2.nii.gz", "dwi": "dwi.nii.gz", "adc": "adc.nii.gz", "mask": "mask.nii.gz"}
#: Files an image folder may lack: a patient without a mask can still be segmented.
OPTIONAL_IMAGES = frozenset({"mask"})
_IMAGE_COLUMNS = ("patient_id", *IMAGE_FILES)


@dataclass(frozen=True)
class Cohort:
    """A cohort folder read into memory (images stay on disk, listed by path).

    Attributes
    ----------
    clinical : DataFrame
        One row per patient: ``patient_id``, ``time``, ``event`` (recurrence, 0/1), and
        optionally ``age``, ``figo2018``, ``histology``, ``hpv_type``, ``dss_time``, ...
    expression : DataFrame
        ``patient_id`` + one log2 column per gene, only patients with expression (may be empty).
    protocol : DataFrame
        One row per patient and series (``T2``, ``DWI``, ``ADC``) with acquisition parameters
        (may be empty).
    images : DataFrame
        ``patient_id, t2, dwi, adc, mask``: absolute paths of the NIfTI files; patients without
        an image folder are absent. A file missing from an image folder keeps its expected path,
        so that readers report it for that patient only; ``mask`` is None for a patient without
        ``mask.nii.gz`` (unlabelled: ``radsem segment predict`` makes one).
    truth : dict or None
        The generating parameters of a simulated cohort (``truth.json``), else None.
    path : Path
        The cohort folder.
    series : DataFrame
        ``series, modality, reference, roi, units`` from ``series.csv``; without it the MRI
        defaults t2/dwi/adc (see :mod:`radsem.io.series`). ``images`` then has one column per
        series (a NIfTI file or a DICOM series folder) and ``mask``.
    """

    clinical: pd.DataFrame
    expression: pd.DataFrame
    protocol: pd.DataFrame
    images: pd.DataFrame
    truth: dict | None
    path: Path
    series: pd.DataFrame = field(default_factory=lambda: DEFAULT_SERIES.copy())

    @property
    def patient_ids(self) -> list[str]:
        """Patient ids in the order of ``clinical``."""
        return self.clinical["patient_id"].tolist()

    def __repr__(self) -> str:
        genes = max(self.expression.shape[1] - 1, 0)
        return (
            f"Cohort({str(self.path)!r}: {len(self.clinical)} patients, "
            f"{len(self.expression)} with expression ({genes} genes), "
            f"{len(self.images)} with images)"
        )


def _find(folder: Path, stem: str, required: bool) -> Path | None:
    for suffix in (".csv", ".parquet", ".tsv"):
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    if required:
        raise DataError(f"{folder}: required file {stem}.csv (or {stem}.parquet) not found")
    return None


def _read_images(folder: Path, order: list[str]) -> pd.DataFrame:
    known = set(order)
    root = folder / "images"
    if not root.exists():
        return pd.DataFrame(columns=list(_IMAGE_COLUMNS))
    if not root.is_dir():
        raise ImageError(f"{root}: expected a folder of per-patient image folders")
    rows = []
    for sub in sorted(p for p in root.iterdir() if not p.name.startswith(".")):
        if not sub.is_dir():
            continue
        if sub.name not in known:
            raise DataError(
                f"{sub}: image folder of patient {sub.name!r}, who is not in clinical.csv"
            )
        row = {"patient_id": sub.name}
        for column, name in IMAGE_FILES.items():
            path = sub / name
            if column in OPTIONAL_IMAGES and not path.is_file():
                row[column] = None  # no tumour mask yet: radsem segment predicts one
                continue
            # a missing file keeps its expected path: the reader reports it for this patient
            # (radsem.io.read_image: "image file not found"), the rest of the cohort goes on
            row[column] = str(path.resolve())
        rows.append(row)
    rank = {pid: i for i, pid in enumerate(order)}
    frame = pd.DataFrame(rows, columns=list(_IMAGE_COLUMNS))
    return frame.sort_values("patient_id", key=lambda s: s.map(rank)).reset_index(drop=True)


def _read_series_images(folder: Path, order: list[str], spec: pd.DataFrame) -> pd.DataFrame:
    names = spec["series"].tolist()
    columns = ["patient_id", *names, "mask"]
    root = folder / "images"
    if not root.is_dir():
        return pd.DataFrame(columns=columns)
    known, rows = set(order), []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name not in known:
            raise DataError(
                f"{sub}: image folder of patient {sub.name!r}, who is not in clinical.csv"
            )
        row = {"patient_id": sub.name}
        for name in names:
            found = find_series_file(sub, name)
            if found is None:
                raise ImageError(
                    f"{sub / name}: series {name!r} missing for patient "
                    f"{sub.name!r} (expected {name}.nii.gz or a DICOM folder "
                    f"{name}/, as declared in series.csv)"
                )
            row[name] = str(found.resolve())
        mask = find_mask_file(sub)
        if mask is None:
            raise ImageError(
                f"{sub / 'mask.nii.gz'}: mask missing for patient {sub.name!r} "
                "(mask.nii.gz, or mask.dcm holding an RTSTRUCT or SEG)"
            )
        row["mask"] = str(mask.resolve())
        rows.append(row)
    rank = {pid: i for i, pid in enumerate(order)}
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("patient_id", key=lambda s: s.map(rank)).reset_index(drop=True)


def read_cohort(path: str | os.PathLike, *, require_outcome: bool = True) -> Cohort:
    """Read and validate a cohort folder.

    Parameters
    ----------
    path : str or path-like
        Folder with ``clinical.csv`` (required), ``expression.csv``, ``protocol.csv``,
        ``images/<patient_id>/{t2,dwi,adc,mask}.nii.gz`` and ``truth.json`` (all optional;
        the mask may be absent: ``radsem segment predict`` makes one).
        Each table may be CSV or Parquet (``clinical.parquet`` ...). A ``series.csv``
        declares other series and modalities (see :mod:`radsem.io.series`).
    require_outcome : bool
        Whether ``clinical.csv`` must have ``time`` and ``event`` (radiomic extraction reads a
        cohort with ``require_outcome=False``, e.g. one made by ``radsem import-dicom``).

    Returns
    -------
    Cohort

    Raises
    ------
    DataError
        Missing folder or clinical table, missing required column, duplicated or unknown
        patient id, missing/negative time, event not 0/1, non-numeric expression, ...
        The message names the file, the row (CSV line number) and the column.
    ImageError
        ``images`` is not a folder.

    Examples
    --------
    >>> from radsem.simulate import simulate
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "cohort")
    >>> _ = simulate(12, seed=1, out=out, images=False)
    >>> read_cohort(out).clinical.shape[0]
    12
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"path must be a folder name, got {type(path).__name__}")
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder}: cohort folder not found")
    clin_path = _find(folder, "clinical", required=True)
    clinical = check_clinical(clin_path, read_table(clin_path), require_outcome=require_outcome)
    series_path = _find(folder, "series", required=False)
    spec = (
        DEFAULT_SERIES.copy()
        if series_path is None
        else check_series(series_path, read_table(series_path))
    )
    known = set(clinical["patient_id"])
    expr_path = _find(folder, "expression", required=False)
    if expr_path is None:
        expression = pd.DataFrame(columns=["patient_id"])
    else:
        expression = check_expression(expr_path, read_table(expr_path), known)
    prot_path = _find(folder, "protocol", required=False)
    if prot_path is None:
        protocol = pd.DataFrame(columns=["patient_id", "series"])
    else:
        allowed = None if series_path is None else tuple(spec["series"].str.upper())
        protocol = check_protocol(prot_path, read_table(prot_path), known, allowed)
    truth = None
    truth_path = folder / "truth.json"
    if truth_path.is_file():
        try:
            truth = json.loads(truth_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{truth_path}: not valid JSON ({exc})") from exc
    order = clinical["patient_id"].tolist()
    images = (
        _read_images(folder, order)
        if series_path is None
        else _read_series_images(folder, order, spec)
    )
    return Cohort(
        clinical=clinical,
        expression=expression,
        protocol=protocol,
        images=images,
        truth=truth,
        path=folder.resolve(),
        series=spec,
    )
