"""File helpers shared by the workflows: output folders that never touch the inputs, atomic
writes of tables, text and JSON."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["prepare_output", "output_folder", "write_json", "write_text", "write_csv", "plain"]


def prepare_output(
    out: str | os.PathLike,
    inputs: Iterable[str | os.PathLike],
    planned: Iterable[str],
    *,
    overwrite: bool = False,
    protected_folders: Iterable[str | os.PathLike] = (),
) -> Path:
    """Check an output folder that cannot overwrite any input (created later, by
    :func:`output_folder`, only when there is something to write).

    Parameters
    ----------
    out : path
        The output folder.
    inputs : iterable of path
        Input files and folders: the output folder may not be one of their folders (a file's
        folder, or a folder input itself), nor lie inside a folder input.
    planned : iterable of str
        File names the workflow will write in ``out``.
    overwrite : bool
        Allow replacing files of an earlier run (``planned`` names) in a non-empty folder.
    protected_folders : iterable of path
        Further folders that ``out`` may not be or lie inside (cohort folders).

    Returns
    -------
    Path
        The resolved output folder (not created yet).

    Raises
    ------
    DataError
        When ``out`` is an input's folder or an input file, lies inside a protected folder, or
        already holds files of an earlier run and ``overwrite`` is false.
    """
    from radsem.io.guard import check_outputs

    target = Path(out).expanduser().resolve()
    check_outputs([*inputs, *protected_folders], folders=[out])
    if target.exists() and not target.is_dir():
        raise DataError(f"output folder {out} exists and is not a folder")
    planned = list(planned)
    if target.is_dir() and not overwrite:
        clash = sorted(name for name in planned if (target / name).exists())
        if clash:
            raise DataError(
                f"output folder {out} already holds {', '.join(clash[:4])}"
                f"{' ...' if len(clash) > 4 else ''} from an earlier run; choose "
                "another folder or pass --overwrite (overwrite=True)"
            )
    return target


@contextlib.contextmanager
def output_folder(target: Path, planned: Iterable[str]) -> Iterator[Path]:
    """Create the output folder for the writing step; on failure leave nothing new behind.

    Folders created here are removed again if the block fails, and so are the ``planned`` files
    that did not exist before it (the files of an earlier run that were replaced cannot be
    restored, but no half-written set of new files remains).
    """
    target = Path(target)
    created = None
    for folder in (target, *target.parents):
        if folder.exists():
            break
        created = folder
    before = {name for name in planned if (target / name).exists()}
    target.mkdir(parents=True, exist_ok=True)
    try:
        yield target
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        else:
            for name in planned:
                if name not in before and (target / name).is_file():
                    (target / name).unlink()
        raise


def plain(value):
    """A JSON-safe copy of ``value`` (NaN and infinities become None)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [plain(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return Path(value).name
    return str(value)


def write_text(text: str, path: Path) -> Path:
    """Write UTF-8 text atomically."""
    from radsem.io import atomic_write_bytes

    atomic_write_bytes(text.encode("utf-8"), path)
    return path


def write_json(data, path: Path) -> Path:
    """Write JSON atomically (sorted keys are not imposed: insertion order is kept)."""
    return write_text(json.dumps(plain(data), indent=2, allow_nan=False) + "\n", path)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV atomically, without its index (use ``reset_index`` first)."""
    from radsem.io import write_table

    write_table(frame, path)
    return path
