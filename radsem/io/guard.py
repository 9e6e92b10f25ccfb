"""The shared guard of every command: no output may lie over or inside one of its inputs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from radsem.errors import DataError

__all__ = ["check_outputs"]


def _real(path: str | os.PathLike) -> Path:
    """Absolute path with ``~`` expanded and every symbolic link resolved."""
    return Path(os.path.realpath(Path(path).expanduser()))


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(
    inputs: Iterable[str | os.PathLike | None],
    *,
    files: Iterable[str | os.PathLike | None] = (),
    folders: Iterable[str | os.PathLike | None] = (),
) -> None:
    """Refuse outputs that would write over or inside an input.

    Paths are compared after resolving ``~`` and symbolic links (and hard links of existing
    files), so a link cannot smuggle an output into an input.

    Parameters
    ----------
    inputs : iterable of path
        Files and folders a command reads (None entries are ignored).
    files : iterable of path
        Files the command writes: none may be an input file or lie inside an input folder.
    folders : iterable of path
        Folders the command writes into: none may be an input folder, the folder of an input
        file, or lie inside an input folder.

    Raises
    ------
    DataError
        Naming the output and the input it would damage (the command line exits with 3).
    """
    sources = [(item, _real(item)) for item in inputs if item is not None]
    for out in (f for f in files if f is not None):
        target = _real(out)
        for item, real in sources:
            if target == real or _same_file(target, real):
                raise DataError(
                    f"{out}: this output would overwrite the input {item}; choose "
                    "another file name so that inputs are never modified"
                )
            if real.is_dir() and _inside(target, real):
                raise DataError(
                    f"{out}: this output lies inside the input folder {item}; "
                    "write it outside so that inputs are never modified"
                )
    for out in (f for f in folders if f is not None):
        target = _real(out)
        for item, real in sources:
            if real.is_dir():
                if _inside(target, real):
                    raise DataError(
                        f"output folder {out} is or lies inside the input folder "
                        f"{item}; choose a folder outside it so that inputs are "
                        "never modified"
                    )
            elif target == real or _same_file(target, real):
                raise DataError(f"output folder {out} is the input file {item}")
            elif target == real.parent:
                raise DataError(
                    f"output folder {out} is the folder of the input {item}; "
                    "choose another folder so that inputs are never overwritten"
                )
