"""Regenerate the stored lavaan references of the ordinal sample statistics (needs R + lavaan).

    .venv/bin/python tests/reference/make_ordinal_stats_references.py

For every case of ``ordinal_stats_reference.ORDINAL_CASES`` writes
``ordinal_stats/<case>.csv`` (the data) and ``ordinal_stats/<case>.json`` with lavaan's
``lavInspect(fit, "sampstat")`` (cov, mean, th),
``"wls.obs"``, ``"gamma"``, the diagonal of ``"wls.v"`` for
``cfa(<one factor>, ordered = ..., estimator = "WLSMV", do.fit = FALSE)``, and the R / lavaan /
rpy2 versions. Files are written atomically.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ordinal_stats_reference import (  # noqa: E402
    HERE,
    ORDINAL_CASES,
    case_frame,
    lavaan_sample_stats,
)
from reference_io import atomic_write_text, lavaan_versions  # noqa: E402


def main() -> None:
    HERE.mkdir(exist_ok=True)
    versions = lavaan_versions()
    for name, case in ORDINAL_CASES.items():
        frame = case_frame(name)
        atomic_write_text(HERE / f"{name}.csv", frame.to_csv(index=False))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = lavaan_sample_stats(frame, case.variables, case.ordered, case.missing)
        payload = {
            "name": name,
            "description": case.description,
            "variables": list(case.variables),
            "ordered": list(case.ordered),
            "missing": case.missing,
            "call": (
                'lavaan::cfa(model, data, ordered, estimator = "WLSMV", missing, do.fit = FALSE)'
            ),
            "versions": versions,
            "lavaan": ref,
        }
        atomic_write_text(HERE / f"{name}.json", json.dumps(payload, indent=1) + "\n")
        print(f"{name}: nobs {ref['nobs']}, {len(ref['wls_obs'])} sample statistics")


if __name__ == "__main__":
    main()
