"""Write a simulated cohort as a cohort folder, atomically and byte-reproducibly."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from radsem.errors import DataError
from radsem.io.cohort import IMAGE_FILES
from radsem.io.images import write_image
from radsem.io.tables import atomic_write_bytes, file_mode, write_table
from radsem.simulate.cohort import SimulatedCohort, simulate_cohort

__all__ = ["write_cohort", "simulate", "clean_stale_temporaries"]


def _prepare_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not path.is_dir():
        raise DataError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise DataError(f"{path}: folder exists and is not empty (use overwrite=True, "
                            "or --overwrite on the command line, to replace it)")
        if not (path / "clinical.csv").is_file():
            raise DataError(f"{path}: refusing to overwrite a non-empty folder that is not a "
                            "cohort folder (it has no clinical.csv)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{path.parent}: cannot create the output folder ({exc.strerror})"
                        ) from exc
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DataError(f"{path.parent}: folder is not writable")


#: Marker inside a temporary cohort folder: ``<pid> <host>`` of the process writing it.
_MARKER = ".radsem-writing"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or cannot tell: keep its folder
    return True


def clean_stale_temporaries(path: Path) -> list[Path]:
    """Remove temporary folders a killed earlier run left next to the cohort folder ``path``.

    Only folders named as :func:`write_cohort` names them (``.<name>.<8 characters>.tmp``) that
    hold its marker file naming a process of this machine that no longer runs are removed; a
    folder of a run still in progress, of another machine, or without the marker is kept.

    Returns
    -------
    list of Path
        The folders removed.
    """
    import re
    import socket

    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp$")
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        if not pattern.match(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            pid_text, host = (entry / _MARKER).read_text(encoding="utf-8").split(maxsplit=1)
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if host.strip() != socket.gethostname() or pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


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
    unlabelled = {pid for pid, lab in zip(patients["patient_id"],
                                          patients.get("labelled", [True] * len(patients)))
                  if not lab}
    for pid, img in tqdm(cohort.images.items(), total=len(cohort.images),
                         desc="writing images", disable=not progress):
        sub = folder / "images" / pid
        sub.mkdir()
        arrays = {"t2": (img.t2, img.t2_spacing), "dwi": (img.dwi, img.dwi_spacing),
                  "adc": (img.adc, img.dwi_spacing), "mask": (img.mask, img.t2_spacing)}
        for key, name in IMAGE_FILES.items():
            if key == "mask" and pid in unlabelled:
                continue
            array, spacing = arrays[key]
            write_image(array, sub / name, spacing)


def write_cohort(cohort: SimulatedCohort, path: str | os.PathLike, overwrite: bool = False,
                 progress: bool = False) -> Path:
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
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise DataError(f"{path.parent}: cannot write there ({exc.strerror})") from exc
    old = None
    try:
        import socket

        atomic_write_bytes(f"{os.getpid()} {socket.gethostname()}\n".encode(), tmp / _MARKER)
        clean_stale_temporaries(path)
        os.chmod(tmp, file_mode(folder=True))
        _write_contents(cohort, tmp, progress)
        (tmp / _MARKER).unlink()
        if path.exists():
            old = path.parent / f"{tmp.name}.old"
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not path.exists():
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path


def simulate(n: int, seed: int, out: str | os.PathLike, overwrite: bool = False,
             images: bool = True, progress: bool = False, **kwargs) -> Path:
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
