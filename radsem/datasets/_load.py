"""Loading the data sets shipped with radsem (classic SEM and survival examples)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import pandas as pd

from radsem.errors import DataError

__all__ = ["load", "available", "describe"]

_PACKAGE = "radsem.datasets"


@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files(_PACKAGE).joinpath("data", "datasets.json").read_text("utf-8")
    return json.loads(text)


def available() -> list[str]:
    """Names of the data sets that :func:`load` can return.

    Returns
    -------
    list of str
        Sorted names, spelled as in R (``"HolzingerSwineford1939"``, ``"Demo.growth"``, ...).
    """
    return sorted(name for name in _schema() if not name.startswith("_"))


def _resolve(name: str) -> str:
    if not isinstance(name, str):
        raise DataError(f"data set name must be a string, got {type(name).__name__}")
    names = available()
    if name in names:
        return name
    folded = {n.lower(): n for n in names}
    if name.lower() in folded:
        return folded[name.lower()]
    raise DataError(f"unknown data set {name!r}; available: {', '.join(names)}")


def describe(name: str) -> dict[str, Any]:
    """Provenance of one data set: R package and version, number of rows, column types.

    Parameters
    ----------
    name : str
        A name from :func:`available` (case-insensitive).

    Returns
    -------
    dict
        Keys ``package``, ``package_version``, ``nrow``, ``columns`` (R storage type of every
        column and, for factors, the levels in R's order) and ``r_version``.
    """
    schema = _schema()
    entry = dict(schema[_resolve(name)])
    entry["r_version"] = schema["_r_version"]
    return entry


def _number(text: Any) -> float:
    return float("nan") if pd.isna(text) else float(text)


def _convert(column: pd.Series, spec: dict[str, Any]) -> pd.Series:
    kind = spec["type"]
    if kind == "integer":
        if column.isna().any():
            return column.astype("Int64")
        return column.astype("int64")
    if kind == "double":
        return column.astype("float64")
    if kind == "logical":
        return column.astype("boolean")
    if kind == "factor":
        return pd.Categorical(column, categories=spec["levels"])
    raise DataError(f"unknown column type {kind!r} in the data set schema")


def load(name: str) -> pd.DataFrame:
    """Return one of the shipped data sets as a new DataFrame.

    Parameters
    ----------
    name : str
        ``"HolzingerSwineford1939"``, ``"PoliticalDemocracy"``, ``"Demo.growth"`` (from the R
        package lavaan) or ``"lung"``, ``"veteran"`` (from the R package survival).  Matching is
        case-insensitive.

    Returns
    -------
    pandas.DataFrame
        Column names exactly as in R.  R integer columns are ``int64`` (``Int64`` when they
        contain missing values), R doubles ``float64``, R factors pandas categoricals with R's
        level order; R's ``NA`` is missing.  Each call returns a fresh copy.

    Raises
    ------
    DataError
        If the name is unknown.

    Notes
    -----
    The CSV files were exported once from R by ``tests/reference/export_datasets.py`` with
    exact float representations; ``tests/datasets`` checks them value by value against R when R
    is available.  See ``radsem/datasets/data/PROVENANCE.md`` for sources and licences.

    Examples
    --------
    >>> from radsem.datasets import load
    >>> hs = load("HolzingerSwineford1939")
    >>> hs.shape
    (301, 15)
    >>> list(hs["school"].cat.categories)
    ['Grant-White', 'Pasteur']
    """
    key = _resolve(name)
    spec = _schema()[key]
    path = resources.files(_PACKAGE).joinpath("data", f"{key}.csv")
    with path.open("r", encoding="utf-8") as handle:
        raw = pd.read_csv(
            handle,
            na_values=["NA"],
            keep_default_na=False,
            dtype=object,
        )
    if list(raw.columns) != list(spec["columns"]) and set(raw.columns) != set(spec["columns"]):
        raise DataError(f"data set {key!r} does not match its schema (damaged installation?)")
    out = {}
    for col in raw.columns:
        entry = spec["columns"][col]
        # Python's float() parses the exact round-trip representation written by the exporter
        values = raw[col] if entry["type"] == "factor" else raw[col].map(_number)
        out[col] = _convert(values, entry)
    frame = pd.DataFrame(out)
    if len(frame) != spec["nrow"]:
        raise DataError(f"data set {key!r} has {len(frame)} rows, expected {spec['nrow']}")
    return frame
