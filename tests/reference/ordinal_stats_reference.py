"""Ordinal sample-statistics cases of issue 4 and the lavaan results stored for them.

Each case (data, variable order, ordinal variables) is defined once here and shared by
``make_ordinal_stats_references.py`` (which runs lavaan 0.6-14 through rpy2 and writes
``ordinal_stats/<case>.json``), ``tests/estimation/test_ordinal_samplestats.py`` and
``benchmarks/bench_ordinal_stats.py``. The simulated data sets are built from fixed seeds and
also written as CSV next to the JSON files, so the stored numbers can be checked without R.

Nothing here imports R.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.datasets import load
from radsem.estimation.families.ordinal import cut_into_categories

__all__ = [
    "ORDINAL_CASES",
    "OrdinalCase",
    "case_frame",
    "load_ordinal_reference",
    "lavaan_sample_stats",
]

HERE = Path(__file__).resolve().parent / "ordinal_stats"
HS_ITEMS = [f"x{i}" for i in range(1, 10)]


@dataclass(frozen=True)
class OrdinalCase:
    description: str
    variables: tuple[str, ...]
    ordered: tuple[str, ...]
    missing: str = "listwise"


def _hs3() -> pd.DataFrame:
    return cut_into_categories(load("HolzingerSwineford1939")[HS_ITEMS], 3)


def _hs_binary() -> pd.DataFrame:
    return cut_into_categories(load("HolzingerSwineford1939")[HS_ITEMS], 2)


def _hs_mixed() -> pd.DataFrame:
    hs = load("HolzingerSwineford1939")
    frame = cut_into_categories(hs[HS_ITEMS], 3)
    frame[["x4", "x5", "x6", "x8", "x9"]] = hs[["x4", "x5", "x6", "x8", "x9"]]
    frame["x7"] = cut_into_categories(hs[["x7"]], 2)["x7"]
    return frame


def _sparse5() -> pd.DataFrame:
    """Five 5-category items, n = 150, skewed thresholds: several tables have empty cells."""
    rng = np.random.default_rng(20261123)
    n, p = 150, 5
    loadings = np.array([0.8, 0.7, 0.75, 0.6, 0.65])
    eta = rng.standard_normal(n)
    ystar = eta[:, None] * loadings + rng.standard_normal((n, p)) * np.sqrt(1 - loadings**2)
    cuts = np.array([-1.6, -0.9, 0.2, 1.4])
    return pd.DataFrame(np.digitize(ystar, cuts) + 1, columns=[f"y{j + 1}" for j in range(p)])


def _binary_special() -> pd.DataFrame:
    """Binary items of n = 40 built to hit lavaan's 2 x 2 special cases.

    ``a`` and ``b`` are split 20/20 (thresholds exactly 0: closed-form correlation), ``c`` has
    one empty cell with ``a`` (0.5 added, margins kept), ``d`` and ``e`` are random.
    """
    rng = np.random.default_rng(4)
    a = np.repeat([0, 1], 20)
    b = np.concatenate([np.repeat([0, 1], [14, 6]), np.repeat([0, 1], [6, 14])])
    c = np.where(a == 0, 0, rng.integers(0, 2, 40))
    c[a == 1] = np.r_[np.zeros(5, int), np.ones(15, int)]
    d = (rng.standard_normal(40) + a > 0.5).astype(int)
    e = (rng.standard_normal(40) - 0.8 * b > 0.0).astype(int)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": d, "e": e})


def _hs3_missing() -> pd.DataFrame:
    frame = _hs3()
    rng = np.random.default_rng(11)
    out = frame.astype(float)
    for col in ["x2", "x5", "x9"]:
        rows = rng.choice(len(frame), size=15, replace=False)
        out.loc[rows, col] = np.nan
    return out


def _hs_mixed_missing() -> pd.DataFrame:
    frame = _hs_mixed()
    rng = np.random.default_rng(3)
    for col in ["x1", "x4", "x7", "x8"]:
        frame.loc[rng.choice(len(frame), size=20, replace=False), col] = np.nan
    return frame


ORDINAL_CASES: dict[str, OrdinalCase] = {
    "hs3": OrdinalCase(
        "HolzingerSwineford1939 x1-x9 cut at the 1/3 and 2/3 quantiles",
        tuple(HS_ITEMS),
        tuple(HS_ITEMS),
    ),
    "hs_binary": OrdinalCase(
        "HolzingerSwineford1939 x1-x9 cut at the median", tuple(HS_ITEMS), tuple(HS_ITEMS)
    ),
    "hs_mixed": OrdinalCase(
        "x1-x3 in 3 categories, x7 binary, x4-x6, x8, x9 continuous",
        tuple(HS_ITEMS),
        ("x1", "x2", "x3", "x7"),
    ),
    "sparse5": OrdinalCase(
        "five 5-category items, n = 150, empty cells",
        tuple(f"y{j}" for j in range(1, 6)),
        tuple(f"y{j}" for j in range(1, 6)),
    ),
    "binary_special": OrdinalCase(
        "binary items with equal margins and a one-empty-cell 2 x 2 table",
        ("a", "b", "c", "d", "e"),
        ("a", "b", "c", "d", "e"),
    ),
    "hs3_missing": OrdinalCase(
        "hs3 with 15 missing values in each of x2, x5, x9 (listwise)",
        tuple(HS_ITEMS),
        tuple(HS_ITEMS),
    ),
    "hs3_pairwise": OrdinalCase(
        "hs3 with 15 missing values in each of x2, x5, x9, missing = 'pairwise'",
        tuple(HS_ITEMS),
        tuple(HS_ITEMS),
        "pairwise",
    ),
    "hs_mixed_pairwise": OrdinalCase(
        "hs_mixed with 20 missing values in each of x1, x4, x7, x8, missing = 'pairwise'",
        tuple(HS_ITEMS),
        ("x1", "x2", "x3", "x7"),
        "pairwise",
    ),
}

_BUILDERS = {
    "hs3": _hs3,
    "hs_binary": _hs_binary,
    "hs_mixed": _hs_mixed,
    "sparse5": _sparse5,
    "binary_special": _binary_special,
    "hs3_missing": _hs3_missing,
    "hs3_pairwise": _hs3_missing,
    "hs_mixed_pairwise": _hs_mixed_missing,
}


def case_frame(name: str) -> pd.DataFrame:
    """The data of a case (rebuilt from the seed / the bundled HolzingerSwineford1939)."""
    return _BUILDERS[name]()


def one_factor_model(variables) -> str:
    """A one-factor model over the variables (lavaan needs a model; only the order matters)."""
    return "f =~ " + " + ".join(variables)


# Fixed R code: no user text is pasted; model, data and names are passed as R objects.
LAVAAN_SAMPLESTATS = """
function(model, data, ordered, missing) {
  fit <- lavaan::cfa(model = model, data = data, ordered = ordered,
                     estimator = "WLSMV", missing = missing, do.fit = FALSE)
  ss <- lavaan::lavInspect(fit, "sampstat")
  wls.obs <- lavaan::lavInspect(fit, "wls.obs")
  list(cov = unclass(ss$cov), mean = if (is.null(ss$mean)) numeric(0) else unclass(ss$mean),
       th = unclass(ss$th), th.names = names(ss$th),
       wls.obs = unname(wls.obs), wls.names = names(wls.obs),
       gamma = unclass(lavaan::lavInspect(fit, "gamma")),
       wls.v = diag(lavaan::lavInspect(fit, "wls.v")),
       nobs = lavaan::lavInspect(fit, "nobs"),
       ov.names = lavaan::lavNames(fit, "ov"))
}
"""


def lavaan_sample_stats(frame: pd.DataFrame, variables, ordered, missing="listwise") -> dict:
    """Run lavaan 0.6-14 through rpy2 and return its categorical sample statistics."""
    import rpy2.robjects as ro

    from radsem._r import require_r, to_r_dataframe

    require_r("lavaan")
    function = ro.r(LAVAAN_SAMPLESTATS)
    out = function(
        one_factor_model(variables),
        to_r_dataframe(frame),
        ro.StrVector(list(ordered)),
        ro.StrVector([missing]),
    )

    def arr(key):
        return np.asarray(out.rx2(key), dtype=float)

    return {
        "cov": arr("cov").tolist(),
        "mean": arr("mean").tolist(),
        "th": arr("th").tolist(),
        "th_names": [str(s) for s in out.rx2("th.names")],
        "wls_obs": arr("wls.obs").tolist(),
        "wls_names": [str(s) for s in out.rx2("wls.names")],
        "gamma": arr("gamma").tolist(),
        "wls_v": arr("wls.v").tolist(),
        "nobs": int(arr("nobs")[0]),
        "ov_names": [str(s) for s in out.rx2("ov.names")],
    }


@lru_cache(maxsize=None)
def load_ordinal_reference(name: str) -> dict:
    """The stored lavaan results of a case (``ordinal_stats/<name>.json``) as numpy arrays."""
    payload = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    ref = payload["lavaan"]
    for key in ("cov", "mean", "th", "wls_obs", "gamma", "wls_v"):
        ref[key] = np.asarray(ref[key], dtype=float)
    payload["lavaan"] = ref
    return payload
