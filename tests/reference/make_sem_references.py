"""Regenerate the stored lavaan references of the SEM parity suite (needs R + lavaan + rpy2).

    .venv/bin/python tests/reference/make_sem_references.py

Writes ``sem/mediation_data.csv`` and ``sem/hs_missing20.csv`` (seeded data sets), and for
every case of ``sem_reference.SEM_CASES`` a file ``sem/<case>.json`` with lavaan's parameter
table (``parameterEstimates(standardized = TRUE)``), ``fitMeasures()``, ``modindices()``,
the convergence flag and the R / lavaan / rpy2 versions.  Files are written atomically.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sem_reference import (  # noqa: E402
    HERE,
    SEM_CASES,
    case_data,
    make_hs_missing,
    make_mediation_data,
)

from radsem.engines.lavaan import fit_lavaan  # noqa: E402


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _clean(value):
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _records(table):
    return [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")]


def _versions() -> dict[str, str]:
    import rpy2
    import rpy2.robjects as ro

    return {
        "R": str(ro.r("R.version.string")[0]),
        "lavaan": str(ro.r["as.character"](ro.r["packageVersion"]("lavaan"))[0]),
        "rpy2": rpy2.__version__,
    }


def main() -> None:
    HERE.mkdir(exist_ok=True)
    _atomic_write(HERE / "mediation_data.csv", make_mediation_data().to_csv(index=False))
    _atomic_write(HERE / "hs_missing20.csv", make_hs_missing().to_csv(index=False))
    versions = _versions()
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
            "fit_measures": {k: _clean(v) for k, v in fit.fit_measures().items()},
            "modindices": mi,
        }
        _atomic_write(HERE / f"{name}.json", json.dumps(payload, indent=1) + "\n")
        fm = fit.fit_measures()
        print(f"{name}: npar {fm['npar']:.0f} chisq {fm['chisq']:.4f} df {fm['df']:.0f}")


if __name__ == "__main__":
    main()
