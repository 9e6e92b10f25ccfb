"""Folders written whole or not at all: work in a hidden sibling, rename into place at the end."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from radsem.errors import DataError
from radsem.io.tables import atomic_write_bytes, file_mode, fsync_folder

__all__ = ["staged_folder", "clean_stale_temporaries"]

#: Marker inside a temporary folder: ``<pid> <host>`` of the process writing it.
MARKER = ".radsem-writing"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or cannot tell: keep its folder
    return True


def clean_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove temporary folders that a killed earlier run left next to the folder ``path``.

    Only folders named as :func:`staged_folder` names them (``.<name>.<8 characters>.tmp``)
    that hold its marker file naming a process of this machine that no longer runs are
    removed; a folder of a run still in progress, of another machine, or without the marker is
    kept.

    Returns
    -------
    list of Path
        The folders removed.
    """
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp$")
    removed: list[Path] = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        if not pattern.match(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            pid_text, host = (entry / MARKER).read_text(encoding="utf-8").split(maxsplit=1)
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if host.strip() != socket.gethostname() or pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


@contextmanager
def staged_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Write a whole folder atomically: complete at ``path`` on success, absent on failure.

    The body writes into a hidden temporary sibling (``.<name>.<8 characters>.tmp``, holding a
    marker with this process's id) that replaces ``path`` when the body returns; an existing
    ``path`` is moved aside first and removed only after the new folder is in place. On an
    exception (or Ctrl-C) the temporary folder is removed and an earlier ``path`` is left as it
    was. Temporary folders that a killed run left behind are removed on the next call
    (:func:`clean_stale_temporaries`). Whether an existing ``path`` may be replaced is the
    caller's decision, made before.

    Yields
    ------
    Path
        The temporary folder to write into.
    """
    path = Path(path).absolute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise DataError(f"{path.parent}: cannot write there ({exc.strerror})") from exc
    old = None
    try:
        atomic_write_bytes(f"{os.getpid()} {socket.gethostname()}\n".encode(), tmp / MARKER)
        clean_stale_temporaries(path)
        os.chmod(tmp, file_mode(folder=True))
        yield tmp
        (tmp / MARKER).unlink()
        if path.exists():
            old = path.parent / f"{tmp.name}.old"
            os.replace(path, old)
        os.replace(tmp, path)
        fsync_folder(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not path.exists():
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
