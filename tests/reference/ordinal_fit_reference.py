"""Ordinal (WLSMV) parity cases of issue 4 and the lavaan results stored for machines without R.

Shared by ``make_ordinal_fit_references.py`` (fits every case with lavaan 0.6-14 through rpy2 and
writes ``ordinal_fit/<case>.json``) and ``tests/estimation/test_ordinal_fit.py``. Data: the
nine HolzingerSwineford1939 indicators cut into ordered categories at their sample quantiles
(:func:`radsem.estimation.families.ordinal.cut_into_categories`). Nothing here imports R.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA
from radsem.estimation.families.ordinal import cut_into_categories

__all__ = [
    "ORDINAL_CASES",
    "DIFF_PAIRS",
    "MI_CASES",
    "SCORE_CASES",
    "OrdinalCase",
    "case_data",
    "case_options",
    "load_ordinal_reference",
    "load_difference_tests",
    "load_factor_scores",
    "load_modindices",
    "HERE",
]

HERE = Path(__file__).resolve().parent / "ordinal_fit"
ITEMS = [f"x{i}" for i in range(1, 10)]


@dataclass(frozen=True)
class OrdinalCase:
    """One parity case: model, lavaan function, options (Python spelling) and data recipe."""

    model: str
    function: str
    options: dict[str, Any] = field(default_factory=dict)
    categories: int = 3
    continuous: tuple[str, ...] = ()  # indicators kept continuous
    extra: tuple[str, ...] = ()  # other HolzingerSwineford1939 columns added to the data
    missing_rate: float = 0.0  # share of item values set missing (seeded, per item)


_ALL = {"ordered": ITEMS}
_STRUCT = HOLZINGER_SWINEFORD_CFA + "\nspeed ~ visual + textual\n"

ORDINAL_CASES: dict[str, OrdinalCase] = {
    "hs3_wlsmv": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", _ALL),
    "hs3_stdlv": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "std_lv": True}),
    "hs3_theta": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "parameterization": "theta"}),
    "hs2_binary": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", _ALL, categories=2),
    "hs3_struct": OrdinalCase(_STRUCT, "sem", _ALL),
    "hs3_mixed": OrdinalCase(
        HOLZINGER_SWINEFORD_CFA,
        "cfa",
        {"ordered": ["x1", "x2", "x3", "x7", "x8", "x9"]},
        continuous=("x4", "x5", "x6"),
    ),
    "hs3_covariate_joint": OrdinalCase(
        HOLZINGER_SWINEFORD_CFA + "\nvisual ~ ageyr\n",
        "sem",
        {**_ALL, "fixed_x": False, "conditional_x": False},
        extra=("ageyr",),
    ),
    "hs3_ordered_mediator_theta": OrdinalCase(
        "visual =~ x1 + x2 + x3\nx4 ~ visual\nx5 ~ x4 + visual\n",
        "sem",
        {"ordered": ["x1", "x2", "x3", "x4", "x5"], "parameterization": "theta"},
    ),
    "hs3_pairwise": OrdinalCase(
        HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "missing": "pairwise"}, missing_rate=0.1
    ),
    "hs3_wls": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "estimator": "WLS"}),
    "hs3_dwls": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "estimator": "DWLS"}),
    "hs3_uls": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "estimator": "ULS"}),
    "hs3_ulsmv": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "estimator": "ULSMV"}),
    "hs3_groups": OrdinalCase(
        HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "group": "school"}, extra=("school",)
    ),
    "hs3_groups_equal": OrdinalCase(
        HOLZINGER_SWINEFORD_CFA,
        "cfa",
        {**_ALL, "group": "school", "group_equal": ["thresholds", "loadings"]},
        extra=("school",),
    ),
}


#: cases whose lavaan modification indices are stored
MI_CASES = ("hs3_wlsmv", "hs3_theta", "hs3_groups_equal", "hs3_mixed")

#: cases whose lavaan factor scores (lavPredict, EBM) are stored
SCORE_CASES = ("hs3_wlsmv", "hs3_pairwise")

#: nested pairs (restricted, less restricted) for the WLSMV difference test (lavTestLRT)
DIFF_PAIRS: dict[str, tuple[str, str]] = {
    "orthogonal_vs_oblique": ("hs3_orthogonal", "hs3_wlsmv"),
    "metric_thresholds_vs_configural": ("hs3_groups_equal", "hs3_groups"),
}
_EXTRA_CASES = {
    "hs3_orthogonal": OrdinalCase(HOLZINGER_SWINEFORD_CFA, "cfa", {**_ALL, "orthogonal": True}),
}


def case_data(name: str) -> pd.DataFrame:
    """The data of one case (a fresh copy)."""
    case = ORDINAL_CASES.get(name) or _EXTRA_CASES[name]
    hs = load("HolzingerSwineford1939")
    ordinal = [v for v in ITEMS if v not in case.continuous]
    data = cut_into_categories(hs[ordinal], case.categories)
    for v in case.continuous:
        data[v] = hs[v].astype(float)
    for v in case.extra:
        data[v] = hs[v].astype(float) if v != "school" else hs[v].astype(str)
    data = data[[*ITEMS, *case.extra]].copy()
    if case.missing_rate:
        rng = np.random.default_rng(5)
        data[ITEMS] = data[ITEMS].astype("Float64")
        for v in ITEMS:
            data.loc[rng.random(len(data)) < case.missing_rate, v] = pd.NA
    return data


@dataclass(frozen=True)
class OrdinalReference:
    """lavaan's results for one case."""

    parameters: pd.DataFrame
    fit_measures: pd.Series
    versions: dict[str, str]


@lru_cache(maxsize=None)
def _load(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def load_ordinal_reference(name: str) -> OrdinalReference:
    """The stored lavaan results of case ``name``."""
    raw = _load(name)
    fm = pd.Series(
        {k: (float("nan") if v is None else v) for k, v in raw["fit_measures"].items()}, dtype=float
    )
    return OrdinalReference(pd.DataFrame(raw["parameters"]), fm, dict(raw["versions"]))


def case_options(name: str) -> OrdinalCase:
    """The case (model, function, options) of ``name``, pair members included."""
    return ORDINAL_CASES.get(name) or _EXTRA_CASES[name]


def load_difference_tests() -> dict:
    """lavTestLRT results of :data:`DIFF_PAIRS`: ``{pair: {"chisq_diff", "df_diff", "pvalue"}}``."""
    return json.loads((HERE / "difftests.json").read_text(encoding="utf-8"))["tests"]


def load_factor_scores(name: str = "hs3_wlsmv") -> np.ndarray:
    """lavaan's ``lavPredict()`` (EBM) scores of a case of ``SCORE_CASES`` (cases x factors)."""
    raw = json.loads((HERE / f"scores_{name}.json").read_text(encoding="utf-8"))
    return np.array(raw["scores"], dtype=float)


def load_modindices(name: str) -> pd.DataFrame:
    """lavaan's ``modindices()`` of case ``name`` (one of :data:`MI_CASES`)."""
    return pd.DataFrame(_load(name)["modindices"])
