"""lavaan reference helpers shared by the spec tests and the reference generator."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from radsem._r import from_r_dataframe, to_r_dataframe

COMPARED = (
    "lhs",
    "op",
    "rhs",
    "user",
    "block",
    "group",
    "free",
    "ustart",
    "exo",
    "label",
    "plabel",
)

_DATASETS = {
    "HolzingerSwineford1939": "lavaan::HolzingerSwineford1939",
    "PoliticalDemocracy": "lavaan::PoliticalDemocracy",
    "Demo.growth": "lavaan::Demo.growth",
}


def dataset(name: str):
    """One of lavaan's example data sets as an R object (fixed code, no user input)."""
    import rpy2.robjects as ro

    return ro.r(_DATASETS[name])


def dataset_frame(name: str) -> pd.DataFrame:
    return from_r_dataframe(dataset(name))


_WRAPPERS = {
    "sem": "function(...) lavaan::sem(...)",
    "cfa": "function(...) lavaan::cfa(...)",
    "growth": "function(...) lavaan::growth(...)",
    "lavaan": "function(...) lavaan::lavaan(...)",
}


def _r_args(options: dict) -> dict:
    import rpy2.robjects as ro

    out = {}
    for key, val in options.items():
        if isinstance(val, dict):
            vec = ro.IntVector(list(val.values()))
            vec.names = ro.StrVector(list(val.keys()))
            out[key] = vec
        elif isinstance(val, (list, tuple)):
            out[key] = ro.StrVector(list(val))
        else:
            out[key] = val
    return out


def lavaanify(r_lavaan, model: str, **options) -> pd.DataFrame:
    """``lavaanify(model, ...)``; option names with ``_`` for ``.``."""
    res = r_lavaan.lavaanify(model=model, **_r_args(options))
    return _clean(from_r_dataframe(res))


def fitted_partable(r_lavaan, fun: str, model: str, data, **options) -> pd.DataFrame:
    """``parTable(fun(model, data, do.fit = FALSE, ...))`` for fun in sem/cfa/growth/lavaan."""
    import rpy2.robjects as ro

    if fun not in _WRAPPERS:
        raise ValueError(fun)
    # a fixed R closure, so that sem()'s match.call() sees the name lavaan::sem
    wrapper = ro.r(_WRAPPERS[fun])
    args = {k.replace("_", "."): v for k, v in _r_args(options).items()}
    rdata = dataset(data) if isinstance(data, str) else to_r_dataframe(data)
    fit = wrapper(model=model, data=rdata, **{"do.fit": False}, **args)
    return _clean(from_r_dataframe(r_lavaan.parTable(fit)))


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    for c in ("id", "user", "block", "group", "free", "exo"):
        if c in df:
            df[c] = df[c].astype("int64")
    df["ustart"] = df["ustart"].astype("float64")
    for c in ("lhs", "op", "rhs", "label", "plabel"):
        df[c] = df[c].astype(str)
    return df


def assert_same_table(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Row-by-row equality of the compared columns, with a readable diff on failure."""
    if len(ours) != len(ref):
        a = set(zip(ours.lhs, ours.op, ours.rhs, ours.group, strict=True))
        b = set(zip(ref.lhs, ref.op, ref.rhs, ref.group, strict=True))
        raise AssertionError(
            f"{len(ours)} rows vs lavaan {len(ref)}; only radsem: {sorted(a - b)}; "
            f"only lavaan: {sorted(b - a)}"
        )
    problems = []
    for i in range(len(ref)):
        for c in COMPARED:
            x, y = ours[c].iloc[i], ref[c].iloc[i]
            if c == "ustart":
                same = (math.isnan(x) and math.isnan(y)) or np.isclose(x, y, rtol=0, atol=1e-12)
            else:
                same = x == y
            if not same:
                problems.append(
                    f"row {i + 1} {ref.lhs.iloc[i]} {ref.op.iloc[i]} "
                    f"{ref.rhs.iloc[i]} [{c}]: radsem {x!r}, lavaan {y!r}"
                )
    if problems:
        raise AssertionError("\n".join(problems[:30]))
