"""Regenerate the stored lavaan references of the ordinal (WLSMV) parity tests.

    .venv/bin/python tests/reference/make_ordinal_fit_references.py

Needs R + lavaan + rpy2. For every case of ``ordinal_fit_reference.ORDINAL_CASES`` writes
``ordinal_fit/<case>.json`` with lavaan's ``parameterEstimates(standardized = TRUE)``,
``fitMeasures()``, the convergence flag and the R / lavaan / rpy2 versions, and
``ordinal_fit/difftests.json`` with ``lavTestLRT()`` of the nested pairs ``DIFF_PAIRS``
(atomically).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ordinal_fit_reference import (  # noqa: E402
    DIFF_PAIRS,
    HERE,
    MI_CASES,
    ORDINAL_CASES,
    SCORE_CASES,
    case_data,
    case_options,
)
from reference_io import atomic_write_text, json_value, lavaan_versions  # noqa: E402

from radsem.engines.lavaan import fit_lavaan  # noqa: E402


def main() -> None:
    HERE.mkdir(exist_ok=True)
    versions = lavaan_versions()
    for name, case in ORDINAL_CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_lavaan(case.model, case_data(name), case.function, **case.options)
        pe = fit.parameter_estimates()
        cols = ["lhs", "op", "rhs", "group", "label", "est", "se", "std_lv", "std_all"]
        mi = None
        if name in MI_CASES:
            mi = [
                {k: json_value(v) for k, v in row.items()}
                for row in fit.modindices().to_dict("records")
            ]
        record = {
            "modindices": mi,
            "case": name,
            "model": case.model,
            "function": case.function,
            "options": case.options,
            "converged": bool(fit.converged),
            "versions": versions,
            "parameters": [
                {k: json_value(v) for k, v in row.items()} for row in pe[cols].to_dict("records")
            ],
            "fit_measures": {k: json_value(v) for k, v in fit.fit_measures().items()},
        }
        atomic_write_text(
            HERE / f"{name}.json", json.dumps(record, indent=1, sort_keys=False) + "\n"
        )
        print(f"  {name}: {len(pe)} parameters")
    difference_tests(versions)
    factor_scores(versions)


def _lavaan_fit(name: str):
    case = case_options(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_lavaan(case.model, case_data(name), case.function, **case.options)


def difference_tests(versions: dict) -> None:
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe

    # constant R code: both fits are passed as arguments
    lrt = ro.r("function(a, b) lavaan::lavTestLRT(a, b)")
    out = {}
    for pair, (restricted, free) in DIFF_PAIRS.items():
        table = from_r_dataframe(lrt(_lavaan_fit(free)._fit, _lavaan_fit(restricted)._fit))
        row = table.iloc[1]
        out[pair] = {
            "chisq_diff": float(row["Chisq diff"]),
            "df_diff": int(row["Df diff"]),
            "pvalue": float(row["Pr(>Chisq)"]),
        }
        print(f"  {pair}: {out[pair]}")
    record = {"versions": versions, "pairs": DIFF_PAIRS, "tests": out}
    atomic_write_text(HERE / "difftests.json", json.dumps(record, indent=1) + "\n")


def factor_scores(versions: dict) -> None:
    """``lavPredict()`` (EBM) of the ``SCORE_CASES`` into ``ordinal_fit/scores_<case>.json``."""
    import rpy2.robjects as ro

    for name in SCORE_CASES:
        scores = np.array(ro.r("function(f) lavaan::lavPredict(f)")(_lavaan_fit(name)._fit))
        record = {
            "versions": versions,
            "case": name,
            "method": "EBM",
            "scores": [[float(v) for v in row] for row in scores],
        }
        atomic_write_text(HERE / f"scores_{name}.json", json.dumps(record) + "\n")
        print(f"  scores {name}: {scores.shape}")


if __name__ == "__main__":
    main()
