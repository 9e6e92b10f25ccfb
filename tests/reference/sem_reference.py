"""Parity models of issue 3 and the lavaan results stored for machines without R.

The cases (model, lavaan function, options, data) are defined here once and shared by
``make_sem_references.py`` (which fits them with lavaan through rpy2 and writes
``sem/<case>.json``) and by any parity test::

    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))
    from sem_reference import SEM_CASES, case_data, load_sem_reference

    ref = load_sem_reference("hs_cfa_mlr")
    fit = radsem.cfa(ref.model, case_data("hs_cfa_mlr"), **ref.options)
    # compare fit.parameter_estimates() with ref.parameters, ref.fit_measures, ref.modindices

Nothing here imports R.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from radsem.datasets import load
from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA, POLITICAL_DEMOCRACY_SEM  # noqa: E402

__all__ = ["SEM_CASES", "SemCase", "SemReference", "case_data", "load_sem_reference"]

HERE = Path(__file__).resolve().parent / "sem"

PARAMETER_COLUMNS = [
    "lhs",
    "op",
    "rhs",
    "group",
    "label",
    "est",
    "se",
    "z",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "std_lv",
    "std_all",
]
MODINDEX_COLUMNS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]

HS_MODEL = HOLZINGER_SWINEFORD_CFA
# Bollen (1989) political democracy; equal loadings through shared labels
POLDEM_LABELS = POLITICAL_DEMOCRACY_SEM

POLDEM_CONSTRAINT = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ p1*ind60
dem65 ~ p2*ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
p1 == 2*p2
"""

GROWTH_MODEL = """
i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
i ~ x1 + x2
s ~ x1 + x2
t1 ~ c1
t2 ~ c2
t3 ~ c3
t4 ~ c4
"""

MEDIATION_MODEL = """
M ~ a*X
Y ~ b*M + c*X
indirect := a*b
total := c + a*b
"""


@dataclass(frozen=True)
class SemCase:
    """One parity model: lavaan function, model text, options (Python spelling), data."""

    name: str
    description: str
    function: str
    model: str
    data: str  # a radsem.datasets name or a file in sem/
    options: dict[str, Any] = field(default_factory=dict)


SEM_CASES: dict[str, SemCase] = {
    case.name: case
    for case in [
        SemCase("hs_cfa_ml", "HS three-factor CFA, ML", "cfa", HS_MODEL, "HolzingerSwineford1939"),
        SemCase(
            "hs_cfa_mlr",
            "HS CFA, MLR (robust SEs, Yuan-Bentler scaled test)",
            "cfa",
            HS_MODEL,
            "HolzingerSwineford1939",
            {"estimator": "MLR"},
        ),
        SemCase(
            "hs_cfa_gls",
            "HS CFA, GLS",
            "cfa",
            HS_MODEL,
            "HolzingerSwineford1939",
            {"estimator": "GLS"},
        ),
        SemCase(
            "hs_cfa_uls",
            "HS CFA, ULS",
            "cfa",
            HS_MODEL,
            "HolzingerSwineford1939",
            {"estimator": "ULS"},
        ),
        SemCase(
            "hs_cfa_stdlv",
            "HS CFA, ML, std.lv = TRUE",
            "cfa",
            HS_MODEL,
            "HolzingerSwineford1939",
            {"std_lv": True},
        ),
        SemCase(
            "poldem_labels",
            "Political democracy SEM, equal loadings via labels, correlated residuals",
            "sem",
            POLDEM_LABELS,
            "PoliticalDemocracy",
        ),
        SemCase(
            "poldem_constraint",
            "Political democracy SEM with the constraint p1 == 2*p2",
            "sem",
            POLDEM_CONSTRAINT,
            "PoliticalDemocracy",
        ),
        SemCase(
            "hs_multigroup",
            "HS CFA by school, group.equal = loadings + intercepts",
            "cfa",
            HS_MODEL,
            "HolzingerSwineford1939",
            {"group": "school", "group_equal": ["loadings", "intercepts"]},
        ),
        SemCase(
            "demo_growth",
            "Linear growth model with covariates (lavaan's Demo.growth)",
            "growth",
            GROWTH_MODEL,
            "Demo.growth",
        ),
        SemCase(
            "mediation",
            "Simple mediation with := indirect and total effects (seeded simulated data)",
            "sem",
            MEDIATION_MODEL,
            "mediation_data.csv",
        ),
        SemCase(
            "hs_missing_ml",
            "HS CFA with 20% MAR missing values, FIML (missing = 'ml')",
            "cfa",
            HS_MODEL,
            "hs_missing20.csv",
            {"missing": "ml"},
        ),
        SemCase(
            "hs_missing_mlr",
            "HS CFA with 20% MAR missing values, FIML with MLR",
            "cfa",
            HS_MODEL,
            "hs_missing20.csv",
            {"missing": "ml", "estimator": "MLR"},
        ),
    ]
}


def make_mediation_data(seed: int = 20261123, n: int = 200) -> pd.DataFrame:
    """X -> M -> Y with a direct effect: a = 0.5, b = 0.4, c = 0.2, unit normal errors."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.2 * x + rng.normal(size=n)
    return pd.DataFrame({"X": x, "M": m, "Y": y})


def make_hs_missing(seed: int = 20261123, rate: float = 0.2) -> pd.DataFrame:
    """HolzingerSwineford1939 with MAR missingness on x2, x3, x5, x6, x8, x9.

    The probability that a value is missing rises with the (always observed) marker of its
    factor (x1, x4, x7) through a logistic curve whose intercept is solved so that the mean
    probability is ``rate``; x1, x4 and x7 stay complete.
    """
    rng = np.random.default_rng(seed)
    data = load("HolzingerSwineford1939")
    pairs = {"x1": ("x2", "x3"), "x4": ("x5", "x6"), "x7": ("x8", "x9")}
    for marker, targets in pairs.items():
        z = (data[marker] - data[marker].mean()) / data[marker].std()
        shift = brentq(lambda b, z=z: np.mean(1 / (1 + np.exp(-(b + z)))) - rate, -20, 20)
        prob = 1 / (1 + np.exp(-(shift + z)))
        for target in targets:
            drop = rng.uniform(size=len(data)) < prob
            data.loc[drop, target] = np.nan
    return data


def case_data(name: str) -> pd.DataFrame:
    """The data of a case (a fresh DataFrame)."""
    source = SEM_CASES[name].data
    if source.endswith(".csv"):
        return pd.read_csv(HERE / source, float_precision="round_trip")
    return load(source)


@dataclass
class SemReference:
    """lavaan's results for one case, as stored."""

    case: SemCase
    parameters: pd.DataFrame
    fit_measures: pd.Series
    modindices: pd.DataFrame | None
    converged: bool
    versions: dict[str, str]

    @property
    def model(self) -> str:
        return self.case.model

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.case.options)


def _frame(records: list[dict[str, Any]] | None, columns: list[str]) -> pd.DataFrame | None:
    if records is None:
        return None
    table = pd.DataFrame.from_records(records, columns=columns)
    return table.apply(lambda col: col.fillna(np.nan) if col.dtype == object else col)


@lru_cache(maxsize=None)
def _read(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text("utf-8"))


def load_sem_reference(name: str) -> SemReference:
    """Stored lavaan results of case ``name`` (see :data:`SEM_CASES`)."""
    raw = _read(name)
    params = _frame(raw["parameters"], PARAMETER_COLUMNS)
    for col in ("est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_lv", "std_all"):
        params[col] = pd.to_numeric(params[col], errors="coerce").astype(float)
    fit = pd.Series(
        {k: np.nan if v is None else float(v) for k, v in raw["fit_measures"].items()},
        name="lavaan",
    )
    mi = _frame(raw["modindices"], MODINDEX_COLUMNS)
    if mi is not None:
        for col in ("mi", "epc", "sepc_lv", "sepc_all"):
            mi[col] = pd.to_numeric(mi[col], errors="coerce").astype(float)
    return SemReference(SEM_CASES[name], params, fit, mi, raw["converged"], raw["versions"])
