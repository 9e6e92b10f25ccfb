"""Regenerate the stored lavaan references of the SEM parity suite (needs R + lavaan + rpy2).

    .venv/bin/python tests/reference/make_sem_references.py

Writes ``sem/mediation_data.csv`` and ``sem/hs_missing20.csv`` (seeded data sets), and for
every case of ``sem_reference.SEM_CASES`` a file ``sem/<case>.json`` with lavaan's parameter
table (``parameterEstimates(standardized = TRUE)``), ``fitMeasures()``, ``modindices()``,
the convergence flag and the R / lavaan / rpy2 versions.  Files are written atomically.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_io import atomic_write_text, json_value, lavaan_versions  # noqa: E402
from sem_reference import (  # noqa: E402
    HERE,
    SEM_CASES,
    case_data,
    make_hs_missing,
    make_mediation_data,
)

from radsem.engines.lavaan import fit_lavaan  # noqa: E402


def _records(table):
    return [{k: json_value(v) for k, v in row.items()} for row in table.to_dict("records")]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    atomic_write_text(HERE / "mediation_data.csv", make_mediation_data().to_csv(index=False))
    atomic_write_text(HERE / "hs_missing20.csv", make_hs_missing().to_csv(index=False))
    versions = lavaan_versions()
    for name, case in SEM_CASES.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_lavaan(case.model, case_data(name), case.function, **case.options)
            try:
                mi = _records(fit.modindices())
            except Exception as exc:  # noqa: BLE001 - some models have no modification indices
                print(f"  {name}: no modindices ({exc})")
                mi = None
        messages = [str(w.message) for w in caught if "lavaan" in str(w.message)]
        payload = {
            "name": name,
            "description": case.description,
            "function": case.function,
            "model": case.model,
            "options": case.options,
            "data": case.data,
            "versions": versions,
            "converged": fit.converged,
            "lavaan_warnings": messages,
            "parameters": _records(fit.parameter_estimates()),
            "fit_measures": {k: json_value(v) for k, v in fit.fit_measures().items()},
            "modindices": mi,
        }
        atomic_write_text(HERE / f"{name}.json", json.dumps(payload, indent=1) + "\n")
        fm = fit.fit_measures()
        print(f"{name}: npar {fm['npar']:.0f} chisq {fm['chisq']:.4f} df {fm['df']:.0f}")


if __name__ == "__main__":
    main()
