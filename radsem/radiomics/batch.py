"""Cohort-scale extraction: parallel (processes or Dask), fault tolerant, resumable from a cache."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from radsem._optional import require
from radsem._workers import die_with_parent
from radsem.errors import DataError, RadsemError
from radsem.radiomics.extract import build_extractor
from radsem.radiomics.settings import resolve_settings, settings_hash

__all__ = ["ExtractionResult", "extract_cohort", "images_table"]

_COLUMNS = ("patient_id", "t2", "dwi", "adc", "mask")


@dataclass(frozen=True)
class ExtractionResult:
    """Result of :func:`extract_cohort`.

    Attributes
    ----------
    features : DataFrame
        One row per successfully extracted patient (index ``patient_id``), one column per feature.
    diagnostics : DataFrame
        One row per patient and series: ``patient_id, series, voxels, bins, spacing_x,
        spacing_y, spacing_z, volume_mean, roi_mean, warnings, cached``.
    failures : DataFrame
        ``patient_id, reason`` for every skipped patient.
    settings : dict
        The resolved settings used (for a cohort with ``series.csv``:
        ``{"modality": {"CT": resolved, ...}}``, one per modality present).
    """

    features: pd.DataFrame
    diagnostics: pd.DataFrame
    failures: pd.DataFrame
    settings: dict

    def __repr__(self) -> str:
        return (
            f"ExtractionResult({self.features.shape[0]} patients x "
            f"{self.features.shape[1]} features, {len(self.failures)} failed)"
        )


def _source(source: Any) -> Any:
    if isinstance(source, (str, os.PathLike)):
        from radsem.io import read_cohort

        return read_cohort(source, require_outcome=False)
    return source


def _spec(source: Any, series: Any) -> pd.DataFrame:
    """The series table: given, the cohort's, or the MRI default."""
    from radsem.io.series import DEFAULT_SERIES, check_series

    if series is None:
        found = None if isinstance(source, pd.DataFrame) else getattr(source, "series", None)
        return DEFAULT_SERIES.copy() if found is None else found.copy()
    if isinstance(series, Mapping):
        series = pd.DataFrame({"series": list(series), "modality": list(series.values())})
    if not isinstance(series, pd.DataFrame):
        raise DataError(
            "series must be a DataFrame (series, modality, ...) or a mapping of "
            f"series name to modality; got {type(series).__name__}"
        )
    return check_series(Path("series"), series)


def images_table(source: Any, series: Any = None) -> pd.DataFrame:
    """The ``patient_id, <series...>, mask`` table of a cohort, cohort folder or DataFrame.

    The series are ``t2, dwi, adc`` unless the cohort has a ``series.csv`` or ``series`` is
    given (a table like ``series.csv`` or a mapping name -> modality).
    """
    source = _source(source)
    spec = _spec(source, series)
    columns = ("patient_id", *spec["series"], "mask")
    table = getattr(source, "images", source)
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            "expected a DataFrame of image paths (patient_id, t2, dwi, adc, mask), "
            f"a Cohort or a cohort folder; got {type(source).__name__}"
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"the images table lacks column(s) {missing}; needs {list(columns)}")
    table = table.loc[:, list(columns)].copy()
    table["patient_id"] = table["patient_id"].astype(str)
    dup = table["patient_id"][table["patient_id"].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"patient_id values repeated in the images table: {dup[:5]}")
    # a missing path (NaN) is that patient's failure, reported by extract_cohort
    return table.reset_index(drop=True)


def _hash_path(path: Path, digest) -> None:
    """Content hash: a file's bytes; a folder's files by relative path and bytes."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if f != path:
            digest.update(str(f.relative_to(path)).encode("utf-8"))
        with open(f, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)


def _cache_key(row: Mapping, settings: Mapping, spec: list | None = None) -> str:
    radiomics = require("radiomics", "radiomic feature extraction")

    from radsem import __version__

    digest = hashlib.sha256()
    for col in _COLUMNS[1:] if spec is None else [k for k in row if k != "patient_id"]:
        digest.update(col.encode())
        _hash_path(Path(row[col]), digest)
    if spec is not None:
        digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
    digest.update(settings_hash(settings).encode())
    digest.update(f"radsem={__version__};pyradiomics={radiomics.__version__}".encode())
    return digest.hexdigest()


def _short_paths(reason: str, row: dict) -> str:
    """Input paths in a failure reason shortened to ``<patient folder>/<name>``."""
    for key, value in row.items():
        if key != "patient_id" and value:
            path = Path(value)
            reason = reason.replace(str(path), f"{path.parent.name}/{path.name}")
    return reason


def _work(
    row: dict,
    settings: dict,
    cache_dir: str | None,
    spec: list | None = None,
    absolute_paths: bool = False,
) -> dict:
    """Extract one patient; never raises for a bad patient (the reason is returned)."""
    out = _work_inner(row, settings, cache_dir, spec)
    if "failure" in out and not absolute_paths:
        out["failure"] = _short_paths(out["failure"], row)
    return out


def _work_inner(row: dict, settings: dict, cache_dir: str | None, spec: list | None) -> dict:
    from radsem.io import atomic_write_bytes
    from radsem.radiomics.extract import extract_patient
    from radsem.radiomics.multiseries import extract_series_patient

    pid = row["patient_id"]
    cache_file = None
    columns = [c for c in row if c != "patient_id"]
    absent = [c for c in columns if not row[c]]
    if absent:
        return {"patient_id": pid, "failure": f"patient {pid}: no {absent[0]} image given"}
    missing = [row[c] for c in columns if not Path(row[c]).exists()]
    if missing:
        return {"patient_id": pid, "failure": f"patient {pid}: {missing[0]}: image file not found"}
    try:
        if cache_dir is not None:
            cache_file = Path(cache_dir) / f"{_cache_key(row, settings, spec)}.json"
            if cache_file.is_file():
                try:
                    cached = json.loads(cache_file.read_text(encoding="utf-8"))
                    return {**cached, "patient_id": pid, "cached": True}
                except (OSError, ValueError):
                    pass  # unreadable cache entry: recompute and overwrite it
        if spec is None:
            features, diag = extract_patient(
                row["t2"], row["dwi"], row["adc"], row["mask"], settings, name=f"patient {pid}"
            )
        else:
            features, diag = extract_series_patient(
                {r["series"]: row[r["series"]] for r in spec},
                row["mask"],
                pd.DataFrame(spec),
                settings["modality"],
                name=f"patient {pid}",
            )
    except RadsemError as exc:
        text = str(exc) if str(exc).startswith(f"patient {pid}") else f"patient {pid}: {exc}"
        return {"patient_id": pid, "failure": text}
    except OSError as exc:
        return {"patient_id": pid, "failure": f"patient {pid}: cannot read input ({exc})"}
    except Exception as exc:  # noqa: BLE001 - one patient must never stop the cohort
        return {
            "patient_id": pid,
            "failure": f"patient {pid}: unexpected {type(exc).__name__}: {exc}",
        }
    out = {
        "features": {k: float(v) for k, v in features.items()},
        "order": list(features.index),
        "diagnostics": diag,
    }
    if cache_file is not None:
        atomic_write_bytes(json.dumps(out).encode("utf-8"), cache_file)
    return {**out, "patient_id": pid, "cached": False}


def _progress(total: int, enabled: bool):
    from radsem._progress import progress_bar

    return progress_bar(total=total, enabled=enabled, desc="radiomics", unit="patient")


def _run_local(
    rows: list[dict],
    settings: dict,
    cache_dir: str | None,
    n_jobs: int,
    progress: bool,
    spec: list | None = None,
    absolute_paths: bool = False,
) -> Iterable[dict]:
    bar = _progress(len(rows), progress)
    try:
        if n_jobs == 1:
            for row in rows:
                yield _work(row, settings, cache_dir, spec, absolute_paths)
                bar.update()
            return
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=n_jobs, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = [
                pool.submit(_work, row, settings, cache_dir, spec, absolute_paths) for row in rows
            ]
            for fut in as_completed(futures):
                yield fut.result()
                bar.update()
    finally:
        bar.close()


def _run_dask(
    rows: list[dict],
    settings: dict,
    cache_dir: str | None,
    client: Any,
    progress: bool,
    spec: list | None = None,
    absolute_paths: bool = False,
) -> Iterable[dict]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        from radsem.errors import EngineUnavailableError

        raise EngineUnavailableError("a Dask run needs the 'distributed' package") from exc
    own = isinstance(client, str)
    if own:
        try:
            client = Client(client)
        except (OSError, TimeoutError) as exc:
            raise DataError(
                f"cannot connect to the Dask scheduler at {client!r} "
                f"({' '.join(str(exc).split())[:200]})"
            ) from exc
    elif not isinstance(client, Client):
        raise DataError(
            "dask_client must be a distributed.Client or a scheduler address, got "
            f"{type(client).__name__}"
        )
    bar = _progress(len(rows), progress)
    try:
        futures = [
            client.submit(_work, row, settings, cache_dir, spec, absolute_paths, pure=False)
            for row in rows
        ]
        for fut in as_completed(futures):
            yield fut.result()
            bar.update()
    finally:
        bar.close()
        if own:
            client.close()


def _assemble(results: list[dict], order: list[str], settings: dict) -> ExtractionResult:
    by_id = {r["patient_id"]: r for r in results}
    feats, diags, fails = {}, [], []
    columns: list[str] | None = None
    for pid in order:
        r = by_id[pid]
        if "failure" in r:
            fails.append({"patient_id": pid, "reason": r["failure"]})
            continue
        if columns is None:
            columns = r["order"]
        feats[pid] = r["features"]
        for series in r["diagnostics"]:
            diags.append(
                {
                    "patient_id": pid,
                    "series": series,
                    **r["diagnostics"][series],
                    "cached": bool(r["cached"]),
                }
            )
    features = pd.DataFrame.from_dict(feats, orient="index", columns=columns, dtype=float)
    features.index = pd.Index(features.index, name="patient_id", dtype=object)
    diag_cols = [
        "patient_id",
        "series",
        "voxels",
        "bins",
        "spacing_x",
        "spacing_y",
        "spacing_z",
        "volume_mean",
        "roi_mean",
        "warnings",
        "cached",
    ]
    extra = [k for k in ("modality", "suv_factor") if any(k in d for d in diags)]
    diag_cols[2:2] = extra
    diagnostics = pd.DataFrame(diags, columns=diag_cols)
    failures = pd.DataFrame(fails, columns=["patient_id", "reason"])
    return ExtractionResult(
        features=features, diagnostics=diagnostics, failures=failures, settings=settings
    )


def extract_cohort(
    images: Any,
    settings: Mapping | str | os.PathLike | None = None,
    n_jobs: int = 1,
    cache_dir: str | os.PathLike | None = None,
    dask_client: Any = None,
    progress: bool = True,
    *,
    series: Any = None,
    roi: str | None = None,
    absolute_paths: bool = False,
    client: Any = None,
) -> ExtractionResult:
    """Extract every patient's multi-sequence radiomic profile.

    Parameters
    ----------
    images : DataFrame, Cohort or cohort folder
        Image paths ``patient_id, t2, dwi, adc, mask`` (NIfTI files or DICOM series folders);
        a :class:`radsem.io.Cohort` or its folder uses ``cohort.images``.
    settings : dict, YAML parameter file, or None
        Extraction settings, see :func:`radsem.radiomics.resolve_settings`.
    n_jobs : int
        Local worker processes (1: in this process; -1: all cores).
    cache_dir : path, optional
        Folder of per-patient results keyed by the SHA-256 of the input files' bytes, the
        resolved settings and the radsem and pyradiomics versions; a re-run reuses them (resume).
        Entries are written atomically.
    dask_client : distributed.Client or str, optional
        Former name of ``client``.
    progress : bool
        Show a tqdm progress bar on stderr (on a terminal).
    series : DataFrame or mapping, optional
        The cohort's series (like ``series.csv``: ``series, modality``, optional ``reference``,
        ``roi``, ``units``; or ``{"ct": "CT", "pet": "PT"}``); default: the cohort's own
        ``series.csv``, else T2/DWI/ADC (MR).
    roi : str, optional
        RTSTRUCT ROI / SEG segment name or pattern, overriding ``series.csv``.
    absolute_paths : bool
        Keep absolute input paths in the failure reasons (default: ``<patient>/<file>``).
    client : distributed.Client or str, optional
        Run on a Dask cluster (a client, or a scheduler address such as ``--scheduler``
        passes) instead of local processes; the same name as in every other parallel step.

    Returns
    -------
    ExtractionResult
        ``features`` (index ``patient_id``, input order), ``diagnostics`` and ``failures``.

    Notes
    -----
    A patient whose images cannot be used (a missing, unreadable or truncated file, empty mask,
    mask not on the T2 grid, a series constant inside the mask, tumour too small for texture
    matrices) is listed in ``failures`` with the reason and skipped. No DICOM header value is
    read into any output. Local worker processes end with the process that started them (also
    when it is killed). When the images table has a ``mask_source`` column
    (:func:`radsem.segment.with_predicted_masks`), the diagnostics repeat it per patient and
    series.
    """
    require("SimpleITK", "radiomic feature extraction")
    require("radiomics.featureextractor", "radiomic feature extraction")
    if client is not None and dask_client is not None:
        raise DataError("give the Dask cluster once: client= (dask_client is its former name)")
    dask_client = client if client is not None else dask_client
    source = _source(images)
    spec = _spec(source, series)
    table = images_table(source, spec)
    from radsem.io.series import is_default_series
    from radsem.radiomics.modality import has_modality_section, resolve_modality_settings

    if roi is not None:
        spec.loc[spec["reference"], "roi"] = str(roi)
    general = not is_default_series(spec) or has_modality_section(settings)
    if general:
        by_modality = resolve_modality_settings(settings)
        used = list(dict.fromkeys(spec["modality"]))
        resolved = {"modality": {m: by_modality[m] for m in used}}
        for m in used:
            build_extractor(by_modality[m])
    else:
        resolved = resolve_settings(settings)
        build_extractor(resolved)  # reject bad settings once, before any patient
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise DataError(f"n_jobs must be a positive whole number or -1, got {n_jobs!r}")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    cache = None
    if cache_dir is not None:
        cache_path = Path(cache_dir)
        if cache_path.exists() and not cache_path.is_dir():
            raise DataError(f"{cache_path}: the cache must be a folder, and this is a file")
        try:
            cache_path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(
                f"{cache_path}: cannot create the cache folder ({exc.strerror})"
            ) from exc
        cache = str(cache_path.resolve())
    unmasked = table["mask"].isna() if "mask" in table.columns else table["patient_id"].isna()
    results = [
        {
            "patient_id": pid,
            "failure": f"patient {pid}: no tumour mask (mask.nii.gz "
            "absent; predict one with radsem segment predict)",
        }
        for pid in table.loc[unmasked, "patient_id"]
    ]
    rows = table.loc[~unmasked].to_dict(orient="records")
    rows = [
        {k: (v if k == "patient_id" else "" if pd.isna(v) else str(v)) for k, v in row.items()}
        for row in rows
    ]
    spec_rows = (
        spec.astype(object).where(spec.notna(), None).to_dict(orient="records") if general else None
    )
    if dask_client is not None:
        results += list(
            _run_dask(rows, resolved, cache, dask_client, progress, spec_rows, absolute_paths)
        )
    else:
        results += list(
            _run_local(
                rows,
                resolved,
                cache,
                min(n_jobs, max(len(rows), 1)),
                progress,
                spec_rows,
                absolute_paths,
            )
        )
    result = _assemble(results, table["patient_id"].tolist(), resolved)
    source = getattr(images, "images", images)
    if isinstance(source, pd.DataFrame) and "mask_source" in source.columns:
        # where each mask came from (reference, or predicted by radsem.segment + model hash)
        sources = dict(zip(source["patient_id"].astype(str), source["mask_source"]))
        result.diagnostics["mask_source"] = result.diagnostics["patient_id"].map(sources)
    return result
