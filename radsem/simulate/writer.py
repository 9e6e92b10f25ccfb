"""Write a simulated cohort as a cohort folder, atomically and byte-reproducibly."""

from __future__ import annotations

import json
import os
from pathlib import Path

from radsem.errors import DataError
from radsem.io.cohort import IMAGE_FILES
from radsem.io.images import write_image
from radsem.io.staging import clean_stale_temporaries, staged_folder
from radsem.io.tables import atomic_write_bytes, write_table
from radsem.simulate.in_memory import SimulatedCohort, simulate_cohort

__all__ = ["write_cohort", "simulate", "clean_stale_temporaries"]


def _prepare_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not path.is_dir():
        raise DataError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise DataError(
                f"{path}: folder exists and is not empty (use overwrite=True, "
                "or --overwrite on the command line, to replace it)"
            )
        if not (path / "clinical.csv").is_file():
            raise DataError(
                f"{path}: refusing to overwrite a non-empty folder that is not a "
                "cohort folder (it has no clinical.csv)"
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{path.parent}: cannot create the output folder ({exc.strerror})") from exc
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DataError(f"{path.parent}: folder is not writable")


def _write_contents(cohort: SimulatedCohort, folder: Path, progress: bool) -> None:
    from tqdm.auto import tqdm

    write_table(cohort.clinical, folder / "clinical.csv")
    write_table(cohort.expression, folder / "expression.csv")
    write_table(cohort.protocol, folder / "protocol.csv")
    text = json.dumps(cohort.truth, indent=1, allow_nan=False) + "\n"
    atomic_write_bytes(text.encode("utf-8"), folder / "truth.json")
    if not cohort.images:
        return
    (folder / "images").mkdir()
    patients = cohort.truth["patients"]
    unlabelled = {
        pid
        for pid, lab in zip(
            patients["patient_id"], patients.get("labelled", [True] * len(patients))
        )
        if not lab
    }
    for pid, img in tqdm(
        cohort.images.items(), total=len(cohort.images), desc="writing images", disable=not progress
    ):
        sub = folder / "images" / pid
        sub.mkdir()
        arrays = {
            "t2": (img.t2, img.t2_spacing),
            "dwi": (img.dwi, img.dwi_spacing),
            "adc": (img.adc, img.dwi_spacing),
            "mask": (img.mask, img.t2_spacing),
        }
        for key, name in IMAGE_FILES.items():
            if key == "mask" and pid in unlabelled:
                continue
            array, spacing = arrays[key]
            write_image(array, sub / name, spacing)


def write_cohort(
    cohort: SimulatedCohort,
    path: str | os.PathLike,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write a :class:`SimulatedCohort` as a cohort folder (see ``docs/cohort-folder.md``).

    Parameters
    ----------
    cohort : SimulatedCohort
    path : str or path-like
        Target folder; created with its parents.
    overwrite : bool
        Replace an existing non-empty cohort folder (a folder without ``clinical.csv`` is never
        replaced).
    progress : bool
        Progress bar while writing images.

    Returns
    -------
    Path
        The folder written.

    Notes
    -----
    Everything is written into a hidden temporary sibling folder that is renamed into place at
    the end, so an interrupted run leaves no half-written cohort; the temporary folder a killed
    run left behind is removed by the next run (:func:`clean_stale_temporaries`). Files contain
    no time stamps, so the same cohort gives byte-identical files.
    """
    if not isinstance(cohort, SimulatedCohort):
        raise DataError(f"write_cohort expects a SimulatedCohort, got {type(cohort).__name__}")
    path = Path(path).absolute()
    _prepare_target(path, overwrite)
    with staged_folder(path) as tmp:
        _write_contents(cohort, tmp, progress)
    return path


def simulate(
    n: int,
    seed: int,
    out: str | os.PathLike,
    overwrite: bool = False,
    images: bool = True,
    progress: bool = False,
    **kwargs,
) -> Path:
    """Simulate a cohort and write it as a cohort folder in one step.

    Parameters
    ----------
    n, seed : int
        Number of patients and seed (see :func:`simulate_cohort`).
    out : str or path-like
        Target folder.
    overwrite, images, progress
        See :func:`write_cohort` and :func:`simulate_cohort`.
    **kwargs
        Passed to :func:`simulate_cohort` (``image_shape``, ``missing_expression``, ...).

    Returns
    -------
    Path
        The cohort folder; read it with :func:`radsem.io.read_cohort`.
    """
    path = Path(out).absolute()
    _prepare_target(path, overwrite)  # fail before the (slow) simulation
    cohort = simulate_cohort(n, seed, images=images, progress=progress, **kwargs)
    return write_cohort(cohort, path, overwrite=overwrite, progress=progress)
