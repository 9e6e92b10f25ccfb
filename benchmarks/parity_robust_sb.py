"""Parity of the Satorra-Bentler family (MLM, MLMV, MLMVS, MLF, WLS, DWLS, WLSM, ``test =``)
with lavaan 0.6-14: one line per case of ``tests/estimation/test_robust_sb_family.py``.

Usage::

    python benchmarks/parity_robust_sb.py

Prints, per case, the largest absolute difference of the estimates, the largest relative
difference of the standard errors and of every fit measure lavaan reports (their number in
brackets). Needs R with lavaan (through rpy2).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "estimation"))


def main() -> int:
    import test_robust_sb_family as cases

    import radsem

    worst = np.zeros(3)
    for model, data, function, options in cases.CASES:
        frame = cases._data(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = getattr(radsem, function)(model, frame, **options)
            pe, fm = cases._lavaan(model, frame, function, options, tight=data == "pd")
        m = ours.parameter_estimates().merge(
            pe, on=["lhs", "op", "rhs", "group"], suffixes=("", "_l")
        )
        est = float(np.max(np.abs(m["est"] - m["est_l"])))
        free = m["se_l"] > 0
        se = float(np.max(np.abs(m["se"][free] - m["se_l"][free]) / m["se_l"][free]))
        mine = ours.fit_measures()
        rel = max(abs(mine[k] - v) / max(abs(v), 1e-8) for k, v in fm.items() if not np.isnan(v))
        worst = np.maximum(worst, [est, se, rel])
        label = ", ".join(f"{k}={v}" for k, v in options.items() if k != "ordered")
        print(f"{data:7}{label[:62]:62} est {est:.1e}  se {se:.1e}  fm {rel:.1e} ({len(fm)})")
    print(
        f"worst: estimates {worst[0]:.1e} abs, SEs {worst[1]:.1e} rel, measures {worst[2]:.1e} rel"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
