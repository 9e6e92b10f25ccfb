"""Regenerate ``spec_partables.json``: lavaan's parameter tables for the parity cases.

Run from the repository root with R and lavaan installed::

    .venv/bin/python tests/syntax/reference/make_spec_reference.py

The file records the R and lavaan versions; ``tests/syntax/test_spec_stored.py`` compares
radsem against it on machines without R. Models and options are passed to R as R objects.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from spec_cases import (  # noqa: E402
    N_RANDOM,
    fitted_cases,
    lavaanify_cases,
    ordinal_frame,
    random_lavaanify_case,
)
from spec_lavaan_helpers import COMPARED, dataset_frame, fitted_partable, lavaanify  # noqa: E402

from radsem._r import require_r  # noqa: E402


def _columns(table) -> dict:
    out = {}
    for col in COMPARED:
        values = table[col].tolist()
        if col == "ustart":
            values = [None if math.isnan(v) else float(v) for v in values]
        elif col in ("user", "block", "group", "free", "exo"):
            values = [int(v) for v in values]
        out[col] = values
    return out


def main() -> int:
    require_r("lavaan")
    import rpy2.robjects as ro
    from rpy2.robjects.packages import importr

    lav = importr("lavaan")
    ordinal = ordinal_frame(dataset_frame("HolzingerSwineford1939"))
    fitted = {}
    for name, (fun, model, data, options) in fitted_cases().items():
        entry = {}
        if data == "ordinal":
            entry["thresholds"] = {c: int(ordinal[c].nunique()) - 1 for c in options["ordered"]}
            data = ordinal
        entry["table"] = _columns(fitted_partable(lav, fun, model, data, **options))
        fitted[name] = entry
    direct = {
        name: _columns(lavaanify(lav, model, **opts))
        for name, (model, opts) in lavaanify_cases().items()
    }
    random = {}
    for seed in range(N_RANDOM):
        model, options = random_lavaanify_case(seed)
        random[str(seed)] = _columns(lavaanify(lav, model, **options))
    payload = {
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "r_version": str(ro.r("R.version.string")[0]),
        "lavaan_version": str(ro.r("as.character(utils::packageVersion('lavaan'))")[0]),
        "fitted": fitted,
        "lavaanify": direct,
        "random": random,
    }
    target = HERE / "spec_partables.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, separators=(",", ":")))
    os.replace(tmp, target)
    print(f"wrote {target} ({len(fitted)} fitted, {len(direct)} lavaanify, {len(random)} random)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
