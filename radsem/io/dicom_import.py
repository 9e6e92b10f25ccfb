"""A cohort folder from a DICOM tree: series matched by rules, de-identified, written as NIfTI.

Every DICOM file under the source folder is read (headers only) and grouped by ``PatientID``
and ``SeriesInstanceUID``. Each image series is given the name of the first rule it matches
(modality and a case-insensitive glob pattern on ``SeriesDescription``); unmatched series are
ignored. The patient's RTSTRUCT or SEG objects must reference matched series; the cohort's
reference series (the mask's grid) is the one carrying a mask in most patients (or the one
asked for), and a patient with one mask per series (CT, PET, MR contours) uses the one drawn
on it. Per patient, every series is read with the checks of
:func:`radsem.io.dicom_series.read_dicom_series`, PET converted to SUVbw, the mask rasterised
onto the reference series, and all written as gzipped NIfTI: the cohort holds no DICOM header,
so no name, id, date, UID or institution can reach it. Patients get pseudonyms ``P001``,
``P002``, ... in the order of their original ``PatientID``; the mapping (original id,
pseudonym, status, reason) is written to a separate file that must lie outside the cohort.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radsem.errors import DataError, ImageError, RadsemError

__all__ = ["DEFAULT_RULES", "read_rules", "import_dicom", "ImportResult"]

#: Default rules, first match wins: ``(series, modality, description patterns)``.
DEFAULT_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("adc", "MR", ("*adc*", "*apparent*")),
    ("dwi", "MR", ("*dwi*", "*diff*", "*trace*")),
    ("t2", "MR", ("*t2*",)),
    ("ct", "CT", ("*",)),
    ("pet", "PT", ("*",)),
)


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_dicom` wrote: the cohort folder, its series table, the mapping."""

    cohort: Path
    series: pd.DataFrame
    mapping: pd.DataFrame = field(repr=False)

    @property
    def n_imported(self) -> int:
        return int((self.mapping["status"] == "imported").sum())


def read_rules(path: str | os.PathLike) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Rules from a YAML list (``- {series: ct, modality: CT, description: ["*thorax*"]}``) or a
    CSV (``series,modality,description`` with patterns separated by ``|``)."""
    from radsem.io.series import MODALITIES
    from radsem.io.tables import read_table

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: rules file not found")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataError(f"{path}: not valid YAML ({exc})") from exc
        entries = loaded.get("rules", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(entries, list):
            raise DataError(f"{path}: expected a list of rules (series, modality, description)")
    else:
        entries = read_table(path).to_dict(orient="records")
    rules = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "series" not in entry or "modality" not in entry:
            raise DataError(f"{path}, rule {i}: needs 'series' and 'modality'")
        modality = str(entry["modality"]).strip().upper()
        if modality not in MODALITIES:
            raise DataError(
                f"{path}, rule {i}: modality {entry['modality']!r} is not one of {list(MODALITIES)}"
            )
        patterns = entry.get("description")
        if patterns is None or (isinstance(patterns, float) and pd.isna(patterns)):
            patterns = ["*"]
        elif isinstance(patterns, str):
            patterns = [p.strip() for p in patterns.split("|") if p.strip()]
        rules.append(
            (str(entry["series"]).strip(), modality, tuple(str(p).lower() for p in patterns))
        )
    if not rules:
        raise DataError(f"{path}: no rules")
    return tuple(rules)


def _match(rules, modality: str, description: str) -> str | None:
    text = description.lower()
    for name, mod, patterns in rules:
        if mod == modality and any(fnmatch.fnmatchcase(text, p) for p in patterns):
            return name
    return None


def _referenced_series(ds) -> set[str]:
    out = set()
    for item in getattr(ds, "ReferencedSeriesSequence", []):  # SEG
        out.add(str(getattr(item, "SeriesInstanceUID", "")))
    for frame in getattr(ds, "ReferencedFrameOfReferenceSequence", []):  # RTSTRUCT
        for study in getattr(frame, "RTReferencedStudySequence", []):
            for ref in getattr(study, "RTReferencedSeriesSequence", []):
                out.add(str(getattr(ref, "SeriesInstanceUID", "")))
    return out - {""}


def _survey(source: Path, rules) -> dict[str, dict]:
    """Per original PatientID: matched series (name -> list of folders' files) and masks."""
    from radsem.io.dicom_series import NON_IMAGE_MODALITIES, scan_dicom_files

    patients: dict[str, dict] = {}
    for path, ds in scan_dicom_files(source):
        pid = str(getattr(ds, "PatientID", "") or "").strip()
        entry = patients.setdefault(pid, {"series": {}, "masks": [], "ignored": 0})
        modality = str(getattr(ds, "Modality", "")).upper()
        if modality in ("RTSTRUCT", "SEG"):
            entry["masks"].append((path, _referenced_series(ds)))
            continue
        if modality in NON_IMAGE_MODALITIES or "Rows" not in ds:
            continue
        uid = str(getattr(ds, "SeriesInstanceUID", ""))
        record = entry["series"].setdefault(
            uid,
            {
                "modality": modality,
                "files": [],
                "description": str(getattr(ds, "SeriesDescription", "")),
            },
        )
        record["files"].append(path)
    for entry in patients.values():
        named: dict[str, list[str]] = {}
        for uid, record in entry["series"].items():
            name = _match(rules, record["modality"], record["description"])
            if name is None:
                entry["ignored"] += 1
            else:
                named.setdefault(name, []).append(uid)
        entry["named"] = named
    return patients


def _plan(entry: dict) -> tuple[dict[str, str], dict[str, list[Path]]]:
    """Matched series (name -> uid) of one patient and its masks per referenced series name.

    A patient may carry one RTSTRUCT/SEG per series (e.g. a contour drawn on the CT, one on
    the PET and one on the MR, as in the IBSI validation data); the cohort's reference series
    decides which one is used.
    """
    several = {n: len(u) for n, u in entry["named"].items() if len(u) > 1}
    if several:
        raise ImageError(
            "several series match one rule ("
            + ", ".join(f"{n}: {k}" for n, k in several.items())
            + "); narrow the rules"
        )
    named = {n: u[0] for n, u in entry["named"].items()}
    if not named:
        raise ImageError("no series matches the rules")
    by_uid = {u: n for n, u in named.items()}
    masks: dict[str, list[Path]] = {}
    for path, refs in entry["masks"]:
        for uid in sorted(refs & set(by_uid)):
            masks.setdefault(by_uid[uid], []).append(path)
    if not masks:
        raise ImageError(
            f"no RTSTRUCT or SEG referencing one of the matched series "
            f"({', '.join(sorted(named))}); {len(entry['masks'])} mask object(s) "
            "found"
        )
    return named, masks


def _mask_for(masks: dict[str, list[Path]], reference: str) -> Path:
    """The one mask object drawn on the reference series of one patient."""
    found = masks.get(reference, [])
    if not found:
        raise ImageError(
            f"no RTSTRUCT or SEG on the cohort's reference series {reference!r} "
            f"(masks drawn on: {', '.join(sorted(masks))})"
        )
    if len(found) > 1:
        raise ImageError(
            f"{len(found)} RTSTRUCT/SEG objects reference the series {reference!r}; "
            "keep one per series"
        )
    return found[0]


def _choose_reference(plans: dict, wanted: list[str], rules, asked: str | None) -> str | None:
    """The series asked for, else the one carrying a mask in most patients (ties: earlier rule)."""
    if asked is not None:
        if asked not in wanted:
            raise DataError(
                f"--reference {asked!r}: not one of the cohort's series ({', '.join(wanted)})"
            )
        return asked
    counts = Counter(n for _, masks in plans.values() for n in masks if n in wanted)
    if not counts:
        return None
    order = {name: i for i, (name, _, _) in enumerate(rules)}
    return min(counts, key=lambda n: (-counts[n], order.get(n, len(order))))


def _write_image(image, path: Path) -> None:
    import SimpleITK as sitk

    image = sitk.Image(image)
    for key in image.GetMetaDataKeys():
        image.EraseMetaData(key)
    sitk.WriteImage(image, str(path), True)


def _check_new_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(
            f"{out}: the output folder exists and is not empty; radsem import-dicom "
            "writes a new cohort folder"
        )
    if not out.parent.is_dir():
        raise DataError(f"{out}: the folder {out.parent} does not exist")


def _inside(child: Path, parent: Path) -> bool:
    child, parent = child.resolve(), parent.resolve()
    return child == parent or parent in child.parents


def import_dicom(
    source: str | os.PathLike,
    out: str | os.PathLike,
    mapping: str | os.PathLike,
    *,
    rules=None,
    series: list[str] | None = None,
    roi: str | None = None,
    clinical: str | os.PathLike | None = None,
    reference: str | None = None,
) -> ImportResult:
    """Build a cohort folder from a DICOM tree (see the module documentation).

    Parameters
    ----------
    source : path
        Folder searched recursively for DICOM files (never written to).
    out : path
        New cohort folder (must not exist, or be empty).
    mapping : path
        CSV/TSV/Parquet written with ``original_patient_id, patient_id, status, reason``; must
        lie outside ``out`` and ``source``.
    rules : path or tuple, optional
        A rules file (:func:`read_rules`) or rules; default :data:`DEFAULT_RULES`.
    series : list of str, optional
        The series the cohort must have (default: every rule name matched in some patient);
        a patient lacking one is skipped.
    roi : str, optional
        RTSTRUCT ROI / SEG segment name or glob pattern (needed when there are several).
    clinical : path, optional
        A table keyed by the original ``PatientID`` (column ``patient_id``); its other columns
        are copied to the cohort's ``clinical.csv`` under the pseudonyms.
    reference : str, optional
        The series whose RTSTRUCT/SEG gives the mask (its grid is the mask's grid). Default:
        the series carrying a mask in most patients, ties going to the earlier rule. Patients
        with masks on several series (one per series) use the one on this series.

    Returns
    -------
    ImportResult

    Raises
    ------
    DataError
        Bad paths (mapping inside the cohort or the source, output not empty), no DICOM
        files, no patient imported. Per-patient problems are recorded in the mapping instead.
    """
    from radsem.io.guard import check_outputs
    from radsem.io.staging import staged_folder
    from radsem.io.tables import read_table, write_table

    source, out, mapping = Path(source), Path(out), Path(mapping)
    if not source.is_dir():
        raise DataError(f"{source}: DICOM source folder not found")
    if _inside(mapping, out) or _inside(mapping, source):
        raise DataError(
            f"{mapping}: the patient id mapping must be written outside the cohort "
            "folder and the DICOM source (the input folder): it re-identifies the patients"
        )
    check_outputs([source], files=[mapping], folders=[out])
    if _inside(source, out):
        raise DataError(f"{out}: the cohort folder must not contain the DICOM source")
    if not mapping.parent.is_dir():
        raise DataError(f"{mapping}: the folder {mapping.parent} does not exist")
    rules = (
        DEFAULT_RULES
        if rules is None
        else (read_rules(rules) if isinstance(rules, (str, os.PathLike)) else tuple(rules))
    )
    patients = _survey(source, rules)
    if not patients:
        raise DataError(f"{source}: no DICOM files found")
    modality_of = {name: mod for name, mod, _ in rules}
    plans, rows = {}, []
    for original in sorted(patients):
        try:
            if not original:
                raise ImageError("DICOM files without PatientID")
            plans[original] = _plan(patients[original])
        except ImageError as exc:
            rows.append(
                {
                    "original_patient_id": original,
                    "patient_id": "",
                    "status": "skipped",
                    "reason": str(exc),
                }
            )
    if series is None:
        wanted = [n for n, _, _ in rules if any(n in p[0] for p in plans.values())]
    else:
        unknown = [s for s in series if s not in modality_of]
        if unknown:
            raise DataError(f"--series {unknown}: no rule of that name ({list(modality_of)})")
        wanted = list(series)
    reference = _choose_reference(plans, wanted, rules, reference)
    _check_new_folder(out)
    with staged_folder(out) as staging:
        kept = _import_patients(patients, plans, wanted, reference, modality_of, roi, staging, rows)
        table = pd.DataFrame(
            rows, columns=["original_patient_id", "patient_id", "status", "reason"]
        )
        table = table.sort_values("original_patient_id", kind="stable").reset_index(drop=True)
        write_table(table, mapping)  # also when nothing was imported: it holds the reasons
        if not kept:
            reasons = Counter(r["reason"] for r in rows)
            raise DataError(
                f"{source}: no patient could be imported ("
                + "; ".join(f"{n} x {r}" for r, n in reasons.most_common(3))
                + f"); the reasons per patient are in {mapping}"
            )
        spec = pd.DataFrame(
            {
                "series": wanted,
                "modality": [modality_of[s] for s in wanted],
                "reference": [int(s == reference) for s in wanted],
                "units": ["SUVbw" if modality_of[s] == "PT" else "" for s in wanted],
            }
        )
        shutil.rmtree(staging / ".series", ignore_errors=True)
        write_table(spec, staging / "series.csv")
        write_table(_clinical(kept, clinical, read_table), staging / "clinical.csv")
    return ImportResult(cohort=out, series=spec, mapping=table)


def _import_patients(
    patients, plans, wanted, reference, modality_of, roi, staging: Path, rows: list[dict]
) -> list[tuple[str, str]]:
    """Convert every planned patient; append its mapping row; return (original, pseudonym)."""
    from radsem.io.series_images import load_mask, load_series

    kept: list[tuple[str, str]] = []
    for original, (named, masks) in plans.items():
        lacking = [s for s in wanted if s not in named]
        reason, ref, mask_path = None, reference, None
        if lacking:
            reason = f"series {lacking} not found"
        else:
            try:
                mask_path = _mask_for(masks, reference)
            except ImageError as exc:
                reason = str(exc)
        pseudonym = f"P{len(kept) + 1:03d}"
        if reason is None:
            reason = _convert(
                patients[original],
                named,
                wanted,
                modality_of,
                ref,
                mask_path,
                roi,
                staging / "images" / pseudonym,
                load_series,
                load_mask,
            )
        if reason is None:
            kept.append((original, pseudonym))
        rows.append(
            {
                "original_patient_id": original,
                "patient_id": pseudonym if reason is None else "",
                "status": "imported" if reason is None else "skipped",
                "reason": reason or "",
            }
        )
    return kept


def _convert(
    entry, named, wanted, modality_of, ref, mask_path, roi, folder: Path, load_series, load_mask
) -> str | None:
    """Write one patient's series and mask as NIfTI; the reason when it cannot be done."""
    folder.mkdir(parents=True)
    try:
        images = {}
        for name in [ref, *[s for s in wanted if s != ref]]:
            files = entry["series"][named[name]]["files"]
            src = _series_folder(files, folder.parent.parent / ".series" / name)
            image, dicom, _ = load_series(src, modality_of[name], None, f"series {name}")
            images[name] = (image, dicom)
            shutil.rmtree(src, ignore_errors=True)
        reference, dicom = images[ref]
        mask = load_mask(mask_path, reference, dicom, roi, 1, "mask")
        for name, (image, _) in images.items():
            _write_image(image, folder / f"{name}.nii.gz")
        _write_image(mask, folder / "mask.nii.gz")
    except RadsemError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return str(exc)
    return None


def _series_folder(files: list[Path], target: Path) -> Path:
    """A private folder of links (or copies) to one series' files, so that a DICOM tree with
    several series in one folder can be read series by series."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for i, f in enumerate(files):
        link = target / f"{i:05d}.dcm"
        try:
            os.symlink(f.resolve(), link)
        except OSError:
            shutil.copyfile(f, link)
    return target


def _clinical(kept: list[tuple[str, str]], clinical, read_table) -> pd.DataFrame:
    ids = pd.DataFrame({"original": [o for o, _ in kept], "patient_id": [p for _, p in kept]})
    if clinical is None:
        return ids[["patient_id"]]
    table = read_table(clinical)
    if "patient_id" not in table.columns:
        raise DataError(f"{clinical}: needs a patient_id column holding the DICOM PatientID")
    table = table.rename(columns={"patient_id": "original"})
    table["original"] = table["original"].astype(str)
    merged = ids.merge(table, on="original", how="left").drop(columns="original")
    return merged
