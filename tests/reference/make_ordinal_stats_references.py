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
import os
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ordinal_stats_reference import (  # noqa: E402
    HERE,
    ORDINAL_CASES,
    case_frame,
    lavaan_sample_stats,
)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


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
    versions = _versions()
    for name, case in ORDINAL_CASES.items():
        frame = case_frame(name)
        _atomic_write(HERE / f"{name}.csv", frame.to_csv(index=False))
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
        _atomic_write(HERE / f"{name}.json", json.dumps(payload, indent=1) + "\n")
        print(f"{name}: nobs {ref['nobs']}, {len(ref['wls_obs'])} sample statistics")


if __name__ == "__main__":
    main()
