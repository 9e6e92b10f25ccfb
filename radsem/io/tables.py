"""Reading and atomically writing tables (CSV and Parquet)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from radsem.errors import DataError

__all__ = ["read_table", "write_table", "atomic_write_bytes"]

_CSV = (".csv", ".txt")
_TSV = (".tsv", ".tab")
_PARQUET = (".parquet", ".pq")


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CSV:
        return "csv"
    if suffix in _TSV:
        return "tsv"
    if suffix in _PARQUET:
        return "parquet"
    raise DataError(f"{path}: unknown table format {suffix!r} (use .csv, .tsv or .parquet)")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet table.

    Parameters
    ----------
    path : str or path-like
        File ending in ``.csv``, ``.tsv`` or ``.parquet``.

    Returns
    -------
    DataFrame
        A ``patient_id`` column, when present, is read as text (so ``007`` stays ``007``).

    Raises
    ------
    DataError
        If the file is missing, empty, unreadable or of an unknown format.
    """
    path = Path(path)
    kind = _kind(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
            if "patient_id" in frame.columns:
                frame["patient_id"] = frame["patient_id"].astype("string").astype(object)
            return frame
        sep = "\t" if kind == "tsv" else ","
        return pd.read_csv(path, sep=sep, dtype={"patient_id": str}, keep_default_na=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot be read as a {kind} table: {exc}") from exc


def file_mode(folder: bool = False) -> int:
    """Permissions of a new file (or folder) under the current umask; ``mkstemp`` and
    ``mkdtemp`` would give 0600 / 0700."""
    mask = os.umask(0o022)
    os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


def atomic_write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write bytes to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_table(frame: pd.DataFrame, path: str | os.PathLike, *,
                float_format: str | None = None) -> None:
    """Write a DataFrame to CSV, TSV or Parquet atomically, without its index.

    Parameters
    ----------
    frame : DataFrame
        The table (not modified).
    path : str or path-like
        Target file; the format follows the extension (``.csv``, ``.tsv``, ``.parquet``).
    float_format : str, optional
        printf-style format of floats in CSV/TSV (default: shortest round-trip repr).

    Notes
    -----
    The table is written to a temporary file in the target folder and renamed over the target,
    so a reader never sees a half-written file. Output is byte-identical for identical input.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"write_table expects a DataFrame, got {type(frame).__name__}")
    path = Path(path)
    kind = _kind(path)
    if not path.parent.is_dir():
        raise DataError(f"{path}: the folder {path.parent} does not exist")
    if kind == "parquet":
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(buffer.getvalue(), path)
        return
    text = frame.to_csv(index=False, sep="\t" if kind == "tsv" else ",",
                        float_format=float_format, lineterminator="\n")
    atomic_write_bytes(text.encode("utf-8"), path)
