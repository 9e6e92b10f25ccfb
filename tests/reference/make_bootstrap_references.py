"""Regenerate the stored lavaan results of the bootstrap tests (needs R + lavaan + rpy2).

    .venv/bin/python tests/reference/make_bootstrap_references.py

Writes ``bootstrap/lavaan.json``: for the simulated mediation data of
``tests/estimation/_bootstrap_reference.py`` lavaan's ``se = "bootstrap"`` standard errors and
percentile limits (``parameterEstimates(boot.ci.type = "perc")``) and, for the one-factor model
of the simulated heavy-tailed ``factor_data()``, lavaan's Bollen-Stine p-value
(``bootstrapLavaan(type = "bollen.stine")``), with R, seed and the R / lavaan / rpy2 versions.
Written atomically.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "estimation"))

from _bootstrap_reference import (  # noqa: E402
    MEDIATION,
    ONE_FACTOR,
    REFERENCE_FILE,
    factor_data,
    lavaan_bollen_stine,
    lavaan_bootstrap,
    mediation_data,
)

from radsem._r import require_r  # noqa: E402

R_BOOT = 1000
SEED = 20261123


sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_io import atomic_write_text, lavaan_versions  # noqa: E402


def main() -> None:
    require_r("lavaan")
    data = mediation_data()
    t0 = time.perf_counter()
    pe = lavaan_bootstrap("sem", MEDIATION, data, R_BOOT, SEED)
    t1 = time.perf_counter()
    pvalue, n_ok = lavaan_bollen_stine("cfa", ONE_FACTOR, factor_data(), R_BOOT, SEED)
    t2 = time.perf_counter()
    rows = pe[pe["se"] > 0]
    payload = {
        "versions": lavaan_versions(),
        "R_boot": R_BOOT,
        "seed": SEED,
        "data": "mediation_data() of tests/estimation/_bootstrap_reference.py",
        "mediation": {
            "model": MEDIATION,
            "parameters": [
                {
                    "lhs": lhs,
                    "op": op,
                    "rhs": rhs,
                    "est": float(est),
                    "se": float(se),
                    "ci_lower": float(lo),
                    "ci_upper": float(hi),
                }
                for lhs, op, rhs, est, se, lo, hi in zip(
                    rows["lhs"],
                    rows["op"],
                    rows["rhs"],
                    rows["est"],
                    rows["se"],
                    rows["ci.lower"],
                    rows["ci.upper"],
                    strict=True,
                )
            ],
            "seconds": t1 - t0,
        },
        "bollen_stine": {
            "model": ONE_FACTOR,
            "data": "factor_data()",
            "pvalue": pvalue,
            "successful": n_ok,
            "seconds": t2 - t1,
        },
    }
    atomic_write_text(REFERENCE_FILE, json.dumps(payload, indent=1) + "\n")
    print(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
