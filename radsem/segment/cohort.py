"""Cohort-level segmentation: read the training cases, predict and write every patient's mask,
and hand a cohort on to extraction with predicted masks where the reference is missing."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsem.errors import DataError, ImageError, RadsemError
from radsem.segment.postprocess import touches_border
from radsem.segment.volumes import Case, cohort_images, read_case

__all__ = [
    "SegmentationResult",
    "predict_masks",
    "read_training_cases",
    "with_predicted_masks",
    "load_predictions",
    "write_mask",
    "TABLE_COLUMNS",
]

#: Columns of ``segmentation.csv``.
TABLE_COLUMNS = [
    "patient_id",
    "status",
    "voxels",
    "volume_ml",
    "touches_border",
    "method",
    "model_hash",
    "reason",
]


@dataclass
class SegmentationResult:
    """Predicted masks of a cohort.

    Attributes
    ----------
    table : DataFrame
        One row per patient with images (:data:`TABLE_COLUMNS`): ``status`` is ``ok``,
        ``flagged`` (mask touches the volume border: possibly truncated) or ``failed`` (empty
        prediction or unreadable images; no mask written), with the ``reason``.
    masks : dict of str to ndarray
        The predicted masks (bool, T2 grid) of the patients not failed.
    cases : dict of str to Case
        The cases read (their reference masks, where present, serve evaluation).
    out : Path or None
        Folder written (``<patient_id>/mask.nii.gz`` + ``segmentation.csv``).
    """

    table: pd.DataFrame
    masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    cases: dict[str, Case] = field(default_factory=dict, repr=False)
    out: Path | None = None


def _read(row: dict) -> Case:
    return read_case(row["patient_id"], row["t2"], row["dwi"], row["adc"], row.get("mask"))


def read_training_cases(
    cohort: Any, patients: Sequence[str] | None = None
) -> tuple[list[Case], list[tuple[str, str]]]:
    """The labelled patients as :class:`Case` objects, and the ones that could not be read.

    Raises
    ------
    DataError
        No patient with a mask, an unknown or unlabelled patient in ``patients``, or no
        labelled patient readable.
    """
    table = cohort_images(cohort)
    labelled = table[table["mask"].notna()]
    if patients is not None:
        wanted = [str(p) for p in patients]
        unknown = sorted(set(wanted) - set(labelled["patient_id"]))
        if unknown:
            raise DataError(f"patients without images or mask cannot be trained on: {unknown[:5]}")
        labelled = labelled.set_index("patient_id").loc[wanted].reset_index()
    if labelled.empty:
        raise DataError(
            "no patient with a tumour mask (images/<patient_id>/mask.nii.gz) to train on"
        )
    cases, failures = [], []
    for row in labelled.to_dict(orient="records"):
        try:
            case = _read(row)
        except RadsemError as exc:
            failures.append((row["patient_id"], str(exc)))
            continue
        if not case.mask.any():
            failures.append(
                (
                    row["patient_id"],
                    f"patient {row['patient_id']}: the mask is empty (no tumour voxel)",
                )
            )
            continue
        cases.append(case)
    if not cases:
        raise DataError(
            f"none of the {len(labelled)} labelled patients could be read; first "
            f"reason: {failures[0][1]}"
        )
    return cases, failures


def _check_out(out: Path, table: pd.DataFrame, overwrite: bool) -> None:
    inputs = {Path(p).resolve().parent for p in table["t2"]}
    roots = {p.parent.parent for p in inputs} | inputs
    target = out.resolve()
    for root in roots:
        if target == root or root in target.parents:
            raise DataError(
                f"{out}: the output folder is inside the cohort or its images ({root}); "
                "choose a folder outside the input"
            )
    if target.exists() and not target.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:
            raise DataError(f"{out}: folder exists and is not empty (use overwrite)")
        if not (target / "segmentation.csv").is_file():
            raise DataError(
                f"{out}: refusing to write into a non-empty folder that holds no segmentation.csv"
            )


def write_mask(mask: np.ndarray, reference: Any, path: Path) -> None:
    """Write a binary mask (uint8) with the reference image's geometry, atomically."""
    import SimpleITK as sitk

    from radsem.io.tables import file_mode

    image = sitk.GetImageFromArray(np.asarray(mask, dtype=np.uint8))
    image.CopyInformation(reference)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".nii.gz", dir=path.parent)
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


def _predict_one(row: dict, *, segmenter: Any, target: Path | None) -> tuple:
    """One patient: read, predict, check, write; ``(table row, mask or None, case or None)``.
    A task of :func:`radsem._dask.map_tasks` (runs in a worker process or on Dask)."""
    pid = row["patient_id"]
    base = {
        "patient_id": pid,
        "method": segmenter.method,
        "model_hash": segmenter.model_hash,
        "voxels": 0,
        "volume_ml": 0.0,
        "touches_border": False,
        "reason": "",
    }
    try:
        case = _read(row)
    except RadsemError as exc:
        return {**base, "status": "failed", "reason": str(exc)}, None, None
    mask = segmenter.predict_case(case)
    voxels = int(mask.sum())
    volume = voxels * float(np.prod(case.spacing)) / 1000.0
    if voxels == 0:
        reason = (
            f"patient {pid}: the predicted mask is empty (no voxel above the threshold); "
            "no mask written"
        )
        return {**base, "status": "failed", "reason": reason}, None, case
    border = touches_border(mask)
    status, reason = "ok", ""
    if border:
        status = "flagged"
        reason = (
            f"patient {pid}: the predicted mask touches the volume border (tumour may extend "
            "beyond the field of view; check it)"
        )
    if target is not None:
        write_mask(mask, case.reference, target / pid / "mask.nii.gz")
    row = {
        **base,
        "status": status,
        "voxels": voxels,
        "volume_ml": round(volume, 6),
        "touches_border": border,
        "reason": reason,
    }
    return row, mask, case


def predict_masks(
    segmenter: Any,
    cohort: Any,
    out: str | os.PathLike | None = None,
    *,
    patients: Sequence[str] | None = None,
    overwrite: bool = False,
    progress: bool = False,
    n_jobs: int = 1,
    client: Any = None,
) -> SegmentationResult:
    """Predict a tumour mask for every patient with images.

    Parameters
    ----------
    segmenter : UNetSegmenter or ThresholdSegmenter
        A fitted segmenter.
    cohort : cohort folder, Cohort or DataFrame
        Image paths; masks are not needed.
    out : path, optional
        Folder to write ``<patient_id>/mask.nii.gz`` (T2 geometry copied exactly) and
        ``segmentation.csv``; must lie outside the cohort.
    patients : sequence of str, optional
        Only these patients.
    overwrite : bool
        Replace the masks of an existing output folder of this command.
    progress : bool
        Progress bar (stderr, on a terminal).
    n_jobs : int
        Local worker processes (1: this process; -1: all cores).
    client : distributed.Client or str, optional
        Run the patients on this Dask cluster (a client or a scheduler address; the workers
        must see the cohort and ``out``). Every route gives the same masks
        (:func:`radsem._dask.map_tasks`); with several workers each runs torch with its share
        of the cores.

    Returns
    -------
    SegmentationResult
    """

    table = cohort_images(cohort)
    if table.empty:
        raise ImageError(
            "the cohort has no images to segment (images/<patient_id>/t2.nii.gz, "
            "dwi.nii.gz, adc.nii.gz)"
        )
    if patients is not None:
        wanted = [str(p) for p in patients]
        unknown = sorted(set(wanted) - set(table["patient_id"]))
        if unknown:
            raise DataError(f"patients without images: {unknown[:5]}")
        table = table.set_index("patient_id").loc[wanted].reset_index()
    target = None
    if out is not None:
        target = Path(out)
        _check_out(target, table, overwrite)
        target.mkdir(parents=True, exist_ok=True)
    from radsem._dask import map_tasks

    outputs = map_tasks(
        _predict_one,
        table.to_dict(orient="records"),
        client=client,
        n_jobs=n_jobs,
        shared={"segmenter": segmenter, "target": target},
        progress=progress,
        desc="segmenting",
        torch_threads=True,
    )
    rows, masks, cases = [], {}, {}
    for row, mask, case in outputs:
        rows.append(row)
        if case is not None:
            cases[row["patient_id"]] = case
        if mask is not None:
            masks[row["patient_id"]] = mask
    result = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if target is not None:
        from radsem.io import write_table

        write_table(result, target / "segmentation.csv")
    return SegmentationResult(table=result, masks=masks, cases=cases, out=target)


def with_predicted_masks(cohort: Any, predicted: str | os.PathLike) -> Any:
    """The cohort with a predicted mask for every patient that has no reference mask.

    Parameters
    ----------
    cohort : Cohort or DataFrame
        As read by :func:`radsem.io.read_cohort` (or its ``images`` table).
    predicted : path
        Output folder of :func:`predict_masks` / ``radsem segment predict``.

    Returns
    -------
    Cohort or DataFrame
        Same type as ``cohort``; the images table gains ``mask_source`` (``reference`` or
        ``predicted:<method>:<model hash>``); patients whose prediction failed keep no mask.
    """
    folder = Path(predicted)
    seg_path = folder / "segmentation.csv"
    if not seg_path.is_file():
        raise DataError(
            f"{seg_path}: not found; {folder} is not an output of radsem segment predict"
        )
    from radsem.io import read_table

    seg = read_table(seg_path).set_index("patient_id")
    table = cohort_images(cohort)
    source = pd.Series("reference", index=table.index, dtype=object)
    for i, row in table.iterrows():
        if row["mask"] is not None:
            continue
        pid = row["patient_id"]
        path = folder / pid / "mask.nii.gz"
        if pid in seg.index and seg.at[pid, "status"] != "failed" and path.is_file():
            table.at[i, "mask"] = str(path.resolve())
            source[i] = f"predicted:{seg.at[pid, 'method']}:{seg.at[pid, 'model_hash']}"
        else:
            source[i] = None
    table["mask_source"] = source
    if isinstance(cohort, pd.DataFrame):
        return table
    if dataclasses.is_dataclass(cohort) and hasattr(cohort, "images"):
        return dataclasses.replace(cohort, images=table)
    from radsem.io import read_cohort

    return dataclasses.replace(read_cohort(cohort), images=table)


def load_predictions(cohort: Any, predicted: str | os.PathLike) -> SegmentationResult:
    """Read the output folder of :func:`predict_masks` back, with the cohort's cases (whose
    reference masks evaluation compares against).

    Raises
    ------
    DataError
        No ``segmentation.csv`` in the folder.
    ImageError
        A predicted mask not on its patient's T2 grid.
    """
    import SimpleITK as sitk

    from radsem.io import read_table
    from radsem.io.grid import same_grid as _same_grid
    from radsem.radiomics.extract import read_volume

    folder = Path(predicted)
    seg_path = folder / "segmentation.csv"
    if not seg_path.is_file():
        raise DataError(
            f"{seg_path}: not found; {folder} is not an output of radsem segment predict"
        )
    seg = read_table(seg_path)
    missing = [c for c in TABLE_COLUMNS if c not in seg.columns]
    if missing:
        raise DataError(f"{seg_path}: lacks column(s) {missing}")
    seg["patient_id"] = seg["patient_id"].astype(str)
    seg["reason"] = seg["reason"].fillna("")
    table = cohort_images(cohort).set_index("patient_id")
    masks, cases = {}, {}
    for row in seg.itertuples(index=False):
        pid = row.patient_id
        if pid not in table.index:
            raise DataError(f"{seg_path}: patient {pid!r} has no images in the cohort")
        try:
            case = _read({"patient_id": pid, **table.loc[pid].to_dict()})
        except RadsemError:
            continue
        cases[pid] = case
        if row.status == "failed":
            continue
        image = read_volume(folder / pid / "mask.nii.gz")
        if not _same_grid(image, case.reference):
            raise ImageError(
                f"{folder / pid / 'mask.nii.gz'}: predicted mask not on the T2 grid "
                f"of patient {pid}"
            )
        masks[pid] = sitk.GetArrayFromImage(image) > 0
    return SegmentationResult(table=seg.loc[:, TABLE_COLUMNS], masks=masks, cases=cases, out=folder)
