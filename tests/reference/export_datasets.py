"""Export the classic SEM and survival data sets from R into radsem/datasets/data/.

Run once (needs R with lavaan and survival, and rpy2)::

    .venv/bin/python tests/reference/export_datasets.py

For every data set it writes ``<name>.csv`` (values written with Python's shortest round-trip
float representation, so no digits are lost) and records in ``datasets.json`` the R storage type
of each column (integer, double, logical, factor with its levels in R's order), the number of rows
and the R and package versions used.  ``radsem.datasets.load`` uses that schema to rebuild the
same dtypes (R integers -> int64, factors -> pandas categoricals with R's level order).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import rpy2.robjects as ro
from rpy2.robjects.packages import importr

OUT = Path(__file__).resolve().parents[2] / "radsem" / "datasets" / "data"

DATASETS = [
    ("HolzingerSwineford1939", "lavaan"),
    ("PoliticalDemocracy", "lavaan"),
    ("Demo.growth", "lavaan"),
    ("lung", "survival"),
    ("veteran", "survival"),
]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _column(vector) -> tuple[dict, list]:
    """Return the schema entry and a Python list of values (None for NA) of one R column."""
    rclass = list(ro.r["class"](vector))
    if "factor" in rclass:
        levels = list(ro.r["levels"](vector))
        codes = list(ro.r["as.integer"](vector))
        values = [None if c == ro.NA_Integer else levels[c - 1] for c in codes]
        return {"type": "factor", "levels": levels}, values
    rtype = str(ro.r["typeof"](vector)[0])
    isna = list(ro.r["is.na"](vector))
    if rtype == "integer":
        raw = list(vector)
        values = [None if na else int(v) for v, na in zip(raw, isna, strict=True)]
    elif rtype == "double":
        raw = list(vector)
        values = [None if na else float(v) for v, na in zip(raw, isna, strict=True)]
    elif rtype == "logical":
        raw = list(vector)
        values = [None if na else bool(v) for v, na in zip(raw, isna, strict=True)]
    else:
        raise TypeError(f"unsupported R column type {rtype}")
    return {"type": rtype}, values


def main() -> None:
    getdata = ro.r["get"]
    schema: dict = {
        "_r_version": str(ro.r("R.version.string")[0]),
        "_packages": {},
    }
    for name, package in DATASETS:
        importr(package)
        version = str(ro.r["as.character"](ro.r["packageVersion"](package))[0])
        schema["_packages"][package] = version
        env = ro.r["asNamespace"](package)
        try:
            frame = getdata(name, envir=env)
        except Exception:  # lazy data live in the package's data env, not its namespace
            attached = ro.r["as.environment"](f"package:{package}")
            frame = ro.r["eval"](ro.r["as.name"](name), attached)
        columns: dict = {}
        data: dict = {}
        for col in list(frame.names):
            entry, values = _column(frame.rx2(col))
            columns[col] = entry
            data[col] = values
        table = pd.DataFrame(
            {
                col: pd.array(values, dtype="Int64")
                if columns[col]["type"] == "integer"
                else pd.Series(values, dtype=object)
                for col, values in data.items()
            }
        )
        schema[name] = {
            "package": package,
            "package_version": version,
            "nrow": int(ro.r["nrow"](frame)[0]),
            "columns": columns,
        }
        # nullable Int64 keeps integers as integers; floats are written with their exact repr
        text = table.to_csv(index=False, na_rep="NA", lineterminator="\n")
        _atomic_write(OUT / f"{name}.csv", text)
        print(f"{name}: {table.shape[0]} rows x {table.shape[1]} columns from {package} {version}")
    _atomic_write(OUT / "datasets.json", json.dumps(schema, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
