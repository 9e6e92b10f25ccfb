"""Cohort-scale extraction: parallel (processes or Dask), fault tolerant, resumable from a cache."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from radsem.errors import DataError, RadsemError
from radsem.radiomics.extract import build_extractor
from radsem.radiomics.settings import SERIES, resolve_settings, settings_hash

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
        The resolved settings used.
    """

    features: pd.DataFrame
    diagnostics: pd.DataFrame
    failures: pd.DataFrame
    settings: dict

    def __repr__(self) -> str:
        return (f"ExtractionResult({self.features.shape[0]} patients x "
                f"{self.features.shape[1]} features, {len(self.failures)} failed)")


def images_table(source: Any) -> pd.DataFrame:
    """The ``patient_id, t2, dwi, adc, mask`` table of a cohort, cohort folder or DataFrame."""
    if isinstance(source, (str, os.PathLike)):
        from radsem.io import read_cohort

        source = read_cohort(source)
    table = getattr(source, "images", source)
    if not isinstance(table, pd.DataFrame):
        raise DataError("expected a DataFrame of image paths (patient_id, t2, dwi, adc, mask), "
                        f"a Cohort or a cohort folder; got {type(source).__name__}")
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"the images table lacks column(s) {missing}; needs {list(_COLUMNS)}")
    table = table.loc[:, list(_COLUMNS)].copy()
    table["patient_id"] = table["patient_id"].astype(str)
    dup = table["patient_id"][table["patient_id"].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"patient_id values repeated in the images table: {dup[:5]}")
    if table[list(_COLUMNS[1:4])].isna().any().any():  # a missing mask is a per-patient failure
        bad = table.loc[table[list(_COLUMNS[1:4])].isna().any(axis=1), "patient_id"].tolist()
        raise DataError(f"missing image paths for patient(s) {bad[:5]}")
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


def _cache_key(row: Mapping, settings: Mapping) -> str:
    import radiomics

    from radsem import __version__

    digest = hashlib.sha256()
    for col in _COLUMNS[1:]:
        digest.update(col.encode())
        _hash_path(Path(row[col]), digest)
    digest.update(settings_hash(settings).encode())
    digest.update(f"radsem={__version__};pyradiomics={radiomics.__version__}".encode())
    return digest.hexdigest()


def _work(row: dict, settings: dict, cache_dir: str | None) -> dict:
    """Extract one patient; never raises for a bad patient (the reason is returned)."""
    from radsem.io import atomic_write_bytes
    from radsem.radiomics.extract import extract_patient

    pid = row["patient_id"]
    cache_file = None
    try:
        if cache_dir is not None:
            cache_file = Path(cache_dir) / f"{_cache_key(row, settings)}.json"
            if cache_file.is_file():
                try:
                    cached = json.loads(cache_file.read_text(encoding="utf-8"))
                    return {**cached, "patient_id": pid, "cached": True}
                except (OSError, ValueError):
                    pass  # unreadable cache entry: recompute and overwrite it
        features, diag = extract_patient(row["t2"], row["dwi"], row["adc"], row["mask"],
                                         settings, name=f"patient {pid}")
    except RadsemError as exc:
        return {"patient_id": pid, "failure": str(exc)}
    except OSError as exc:
        return {"patient_id": pid, "failure": f"patient {pid}: cannot read input ({exc})"}
    except Exception as exc:  # noqa: BLE001 - one patient must never stop the cohort
        return {"patient_id": pid, "failure": f"patient {pid}: unexpected "
                                              f"{type(exc).__name__}: {exc}"}
    out = {"features": {k: float(v) for k, v in features.items()},
           "order": list(features.index), "diagnostics": diag}
    if cache_file is not None:
        atomic_write_bytes(json.dumps(out).encode("utf-8"), cache_file)
    return {**out, "patient_id": pid, "cached": False}


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="radiomics", unit="patient",
                file=sys.stderr)


def _run_local(rows: list[dict], settings: dict, cache_dir: str | None, n_jobs: int,
               progress: bool) -> Iterable[dict]:
    bar = _progress(len(rows), progress)
    try:
        if n_jobs == 1:
            for row in rows:
                yield _work(row, settings, cache_dir)
                bar.update()
            return
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            futures = [pool.submit(_work, row, settings, cache_dir) for row in rows]
            for fut in as_completed(futures):
                yield fut.result()
                bar.update()
    finally:
        bar.close()


def _run_dask(rows: list[dict], settings: dict, cache_dir: str | None, client: Any,
              progress: bool) -> Iterable[dict]:
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
            raise DataError(f"cannot connect to the Dask scheduler at {client!r} "
                            f"({' '.join(str(exc).split())[:200]})") from exc
    elif not isinstance(client, Client):
        raise DataError("dask_client must be a distributed.Client or a scheduler address, got "
                        f"{type(client).__name__}")
    bar = _progress(len(rows), progress)
    try:
        futures = [client.submit(_work, row, settings, cache_dir, pure=False) for row in rows]
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
        for series in SERIES:
            diags.append({"patient_id": pid, "series": series, **r["diagnostics"][series],
                          "cached": bool(r["cached"])})
    features = pd.DataFrame.from_dict(feats, orient="index", columns=columns, dtype=float)
    features.index = pd.Index(features.index, name="patient_id", dtype=object)
    diag_cols = ["patient_id", "series", "voxels", "bins", "spacing_x", "spacing_y", "spacing_z",
                 "volume_mean", "roi_mean", "warnings", "cached"]
    diagnostics = pd.DataFrame(diags, columns=diag_cols)
    failures = pd.DataFrame(fails, columns=["patient_id", "reason"])
    return ExtractionResult(features=features, diagnostics=diagnostics, failures=failures,
                            settings=settings)


def extract_cohort(images: Any, settings: Mapping | str | os.PathLike | None = None,
                   n_jobs: int = 1, cache_dir: str | os.PathLike | None = None,
                   dask_client: Any = None, progress: bool = True) -> ExtractionResult:
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
        Run on a Dask cluster (a client, or a scheduler address) instead of local processes.
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    ExtractionResult
        ``features`` (index ``patient_id``, input order), ``diagnostics`` and ``failures``.

    Notes
    -----
    A patient whose images cannot be used (unreadable file, empty mask, mask not on the T2 grid,
    tumour too small for texture matrices) is listed in ``failures`` with the reason and skipped.
    No DICOM header value is read into any output. When the images table has a
    ``mask_source`` column (:func:`radsem.segment.with_predicted_masks`), the diagnostics
    repeat it per patient and series.
    """
    table = images_table(images)
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
            raise DataError(f"{cache_path}: cannot create the cache folder ({exc.strerror})"
                            ) from exc
        cache = str(cache_path.resolve())
    unmasked = table["mask"].isna()
    results = [{"patient_id": pid, "failure": f"patient {pid}: no tumour mask (mask.nii.gz "
                "absent; predict one with radsem segment predict)"}
               for pid in table.loc[unmasked, "patient_id"]]
    rows = table.loc[~unmasked].to_dict(orient="records")
    rows = [{k: (str(v) if k != "patient_id" else v) for k, v in row.items()} for row in rows]
    if dask_client is not None:
        results += list(_run_dask(rows, resolved, cache, dask_client, progress))
    else:
        results += list(_run_local(rows, resolved, cache, min(n_jobs, max(len(rows), 1)),
                                   progress))
    result = _assemble(results, table["patient_id"].tolist(), resolved)
    source = getattr(images, "images", images)
    if isinstance(source, pd.DataFrame) and "mask_source" in source.columns:
        # where each mask came from (reference, or predicted by radsem.segment + model hash)
        sources = dict(zip(source["patient_id"].astype(str), source["mask_source"]))
        result.diagnostics["mask_source"] = result.diagnostics["patient_id"].map(sources)
    return result
