"""Reading tables (CSV, TSV, Parquet, Excel) and writing them atomically (CSV, Parquet)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from radsem.errors import DataError

__all__ = [
    "read_table",
    "write_table",
    "atomic_write_bytes",
    "atomic_write_many",
    "table_bytes",
    "fsync_folder",
]

_CSV = (".csv", ".txt")
_TSV = (".tsv", ".tab")
_PARQUET = (".parquet", ".pq")
_EXCEL = (".xlsx", ".xlsm")


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CSV:
        return "csv"
    if suffix in _TSV:
        return "tsv"
    if suffix in _PARQUET:
        return "parquet"
    if suffix in _EXCEL:
        return "excel"
    raise DataError(f"{path}: unknown table format {suffix!r} (use .csv, .tsv, .parquet or .xlsx)")


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """One sheet of an Excel workbook (the first unless ``sheet`` names or numbers one)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a bad file
        raise DataError(f"{path}: cannot be read as an Excel workbook ({exc})") from exc
    try:
        names = list(book.sheetnames)
    finally:
        book.close()
    if sheet is None:
        chosen = names[0]
    elif isinstance(sheet, int) or (
        isinstance(sheet, str) and sheet not in names and sheet.isdigit()
    ):
        k = int(sheet)
        if not 1 <= k <= len(names):
            raise DataError(
                f"{path}: sheet number {k} does not exist (the workbook has "
                f"{len(names)}: {', '.join(names)})"
            )
        chosen = names[k - 1]
    elif sheet in names:
        chosen = sheet
    else:
        raise DataError(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(names)})")
    header = pd.read_excel(path, sheet_name=chosen, nrows=0, engine="openpyxl")
    names_in_header = [str(c) for c in header.columns]
    ids = {c: str for c in header.columns if str(c).strip() == "patient_id"}
    frame = pd.read_excel(path, sheet_name=chosen, dtype=ids or None, engine="openpyxl")
    if frame.empty and not len(frame.columns):
        raise DataError(f"{path}: sheet {chosen!r} is empty")
    dup = sorted({h for h in names_in_header if names_in_header.count(h) > 1})
    if dup or any(str(c).startswith("Unnamed: ") for c in frame.columns):
        problem = (
            f"duplicated column name(s) {', '.join(dup)}"
            if dup
            else "a column without a name in the header row"
        )
        raise DataError(
            f"{path}: sheet {chosen!r} has {problem}; the first row must name every column"
        )
    frame.columns = [c.strip() if isinstance(c, str) else c for c in frame.columns]
    if "patient_id" in frame.columns:
        frame["patient_id"] = frame["patient_id"].where(
            frame["patient_id"].isna(), frame["patient_id"].astype(str).str.strip()
        )
    return frame


def read_table(path: str | os.PathLike, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Excel table.

    Parameters
    ----------
    path : str or path-like
        File ending in ``.csv``, ``.tsv``, ``.parquet`` or ``.xlsx``.
    sheet : str or int, optional
        Excel only: the sheet to read, by name or number (1 = first); default the first sheet.

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
    if sheet is not None and kind != "excel":
        raise DataError(f"{path}: a sheet can only be chosen in an Excel (.xlsx) file")
    if kind == "excel":
        return _read_excel(path, sheet)
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
            if "patient_id" in frame.columns:
                frame["patient_id"] = frame["patient_id"].astype("string").astype(object)
            return frame
        sep = "\t" if kind == "tsv" else ","
        header = _header_names(path, sep)
        ids = {name: str for name in header if name.strip() == "patient_id"}
        frame = pd.read_csv(
            path, sep=sep, dtype=ids or None, keep_default_na=True, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it "
            "as UTF-8 (or Parquet)"
        ) from exc
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot be read as a {kind} table: {exc}") from exc
    return _check_csv_shape(path, frame, sep, [name.strip() for name in header])


def _check_csv_shape(path: Path, frame: pd.DataFrame, sep: str, header: list[str]) -> pd.DataFrame:
    """Problems pandas passes over silently: repeated or padded header names, extra fields."""
    if not isinstance(frame.index, pd.RangeIndex):
        raise DataError(
            f"{path}: some rows have more fields than the header line; check the "
            "separator and quoting"
        )
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataError(f"{path}: duplicated column name(s) in the header: {', '.join(dup)}")
    if len(frame.columns) == 1 and sep == "," and any(c in str(frame.columns[0]) for c in ";\t"):
        raise DataError(
            f"{path}: only one column, {str(frame.columns[0])[:40]!r}; the file "
            "seems to use ';' or tabs as separator (radsem reads comma-separated "
            ".csv and tab-separated .tsv)"
        )
    stripped = [c.strip() if isinstance(c, str) else c for c in frame.columns]
    if stripped != list(frame.columns):
        frame.columns = stripped
    if "patient_id" in frame.columns:  # ' P1 ' and 'P1' are the same patient
        frame["patient_id"] = frame["patient_id"].where(
            frame["patient_id"].isna(), frame["patient_id"].astype(str).str.strip()
        )
    return frame


def _header_names(path: Path, sep: str) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        row = next(csv.reader(handle, delimiter=sep), [])
    return row


def file_mode(folder: bool = False) -> int:
    """Permissions of a new file (or folder) under the current umask; ``mkstemp`` and
    ``mkdtemp`` would give 0600 / 0700."""
    mask = os.umask(0o022)
    os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


def fsync_folder(folder: str | os.PathLike) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be
    opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stage(data: bytes, path: Path) -> str:
    """Write ``data`` to a flushed (fsync) temporary file next to ``path``; return its name."""
    if path.is_dir():
        raise DataError(f"{path}: is a folder; give a file name to write to")
    if not path.parent.is_dir():
        raise DataError(f"{path}: the folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode())
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write bytes to ``path`` atomically: a temporary file in the same folder, flushed to disk
    (fsync), renamed over ``path``, then the folder flushed."""
    atomic_write_many({path: data})


def _discard(*names: str | None) -> None:
    for name in names:
        if name is not None and os.path.exists(name):
            os.unlink(name)


def atomic_write_many(files: dict[str | os.PathLike, bytes]) -> None:
    """Write several files as one unit: all of them, or none.

    Every file is first written in full to a flushed temporary file next to its target; only
    when all are staged are they renamed into place (in the given order) and their folders
    flushed. If staging fails, no target is touched; if a rename fails, the targets already
    renamed are put back as they were.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for target, data in files.items():
            staged.append((_stage(data, Path(target)), Path(target)))
    except BaseException:
        _discard(*(tmp for tmp, _ in staged))
        raise
    done: list[tuple[Path, str | None]] = []
    backup = None
    try:
        for tmp, path in staged:
            # with several files, keep each old file until all new ones are in place
            backup = _stage(path.read_bytes(), path) if len(staged) > 1 and path.is_file() else None
            os.replace(tmp, path)
            done.append((path, backup))
            backup = None
    except BaseException:
        _discard(backup, *(tmp for tmp, _ in staged))
        for path, old in reversed(done):  # put back what was there before
            if old is not None:
                os.replace(old, path)
            elif path.exists():
                path.unlink()
        raise
    _discard(*(old for _, old in done))
    for folder in dict.fromkeys(path.parent for _, path in staged):
        fsync_folder(folder)


def table_bytes(
    frame: pd.DataFrame, path: str | os.PathLike, *, float_format: str | None = None
) -> bytes:
    """The bytes :func:`write_table` would write for ``frame`` at ``path`` (format from the
    extension)."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"write_table expects a DataFrame, got {type(frame).__name__}")
    kind = _kind(Path(path))
    if kind == "parquet":
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    text = frame.to_csv(
        index=False,
        sep="\t" if kind == "tsv" else ",",
        float_format=float_format,
        lineterminator="\n",
    )
    return text.encode("utf-8")


def write_table(
    frame: pd.DataFrame, path: str | os.PathLike, *, float_format: str | None = None
) -> None:
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
    path = Path(path)
    data = table_bytes(frame, path, float_format=float_format)
    if not path.parent.is_dir():
        raise DataError(f"{path}: the folder {path.parent} does not exist")
    atomic_write_bytes(data, path)
