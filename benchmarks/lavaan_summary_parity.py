"""Parity figures of ``fit.summary()``, ``fit.r2()``/``inspect()`` and the issue-17 numeric
items against lavaan 0.6-14 (live through rpy2; needs R with lavaan).

Usage::

    PYTHONPATH=. python benchmarks/lavaan_summary_parity.py

Prints, per summary case, how many labelled lines lavaan's ``summary(fit.measures = TRUE,
standardized = TRUE, rsquare = TRUE)`` has, how many differ from radsem's report at the
printed precision, and the largest printed difference; then the largest relative
differences of the numeric items (observed-information SEs of an ill-conditioned CFA,
MLR + FIML expected-information statistics), ``mimic`` fits and the Hoelter cn values at
df = 0.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "estimation"), str(ROOT / "tests" / "reference")]

from _sem_reference import lavaan_fit  # noqa: E402
from _summary_compare import compare_summaries, parse_summary  # noqa: E402
from test_lavaan_numeric_fixes import CROSS, KEYS  # noqa: E402
from test_missing_fixtures import HS_MODEL, hs_frame, hs_mar  # noqa: E402
from test_summary_parity import CASES, _lavaan_summary, _radsem_fit  # noqa: E402

import radsem  # noqa: E402
from radsem.datasets import load  # noqa: E402


def _largest_printed_difference(ours: str, theirs: str) -> float:
    a, b = parse_summary(ours), parse_summary(theirs)
    worst = 0.0
    for key, want in b.items():
        got = a.get(key, [])
        for x, y in zip(got, want, strict=False):
            if isinstance(x, float) and isinstance(y, float):
                worst = max(worst, abs(x - y))
    return worst


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"{'summary case':<22}{'lines':>7}{'differ':>8}{'max printed diff':>18}")
    for name, make in CASES.items():
        func, model, data, options = make()
        fit = _radsem_fit(func, model, data, options)
        ours = fit.summary(fit_measures=True, standardized=True, rsquare=True)
        theirs = _lavaan_summary(func, model, data, options, (True, True, True))
        problems = compare_summaries(ours, theirs)
        worst = _largest_printed_difference(ours, theirs)
        print(f"{name:<22}{len(parse_summary(theirs)):>7}{len(problems):>8}{worst:>18.3f}")
    print()
    for label, data, options in (
        ("observed info, complete", hs_frame(), {"information": "observed"}),
        ("observed info, MLR", hs_frame(), {"information": "observed", "estimator": "MLR"}),
        ("observed info, FIML", hs_mar(), {"missing": "ml"}),
    ):
        pe, _, _ = lavaan_fit(CROSS, data, "cfa", **options)
        m = radsem.cfa(CROSS, data, **options).parameter_estimates()
        m = m.merge(pe, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
        m = m[m["se_r"] > 0]
        rel = np.max(np.abs(m["se"] / m["se_r"] - 1))
        print(f"SE of the cross-loading CFA, {label:<26} max rel diff {rel:.1e}")
    opts = {"missing": "ml", "estimator": "MLR", "information": "expected"}
    _, lfm, _ = lavaan_fit(HS_MODEL, hs_mar(), "cfa", **opts)
    fm = radsem.cfa(HS_MODEL, hs_mar(), **opts).fit_measures()
    rel = np.max(np.abs(fm[KEYS].to_numpy(float) / lfm[KEYS].to_numpy(float) - 1))
    print(f"MLR + FIML expected information, {len(KEYS)} statistics: max rel diff {rel:.1e}")
    school = load("HolzingerSwineford1939")[[*hs_frame().columns, "school"]]
    for mimic, data, options in (
        ("Mplus", hs_mar(), {}),
        ("Mplus", school, {"group": "school"}),
        ("EQS", hs_frame(), {}),
    ):
        pe, lfm, _ = lavaan_fit(HS_MODEL, data, "cfa", mimic=mimic, **options)
        fit = radsem.cfa(HS_MODEL, data, mimic=mimic, **options)
        keys = ["chisq", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
        rel = np.max(np.abs(fit.fit_measures()[keys].to_numpy(float) / lfm[keys].to_numpy() - 1))
        on = ["lhs", "op", "rhs"] + (["group"] if "group" in pe.columns else [])
        m = fit.parameter_estimates().merge(pe, on=on, suffixes=("", "_r"))
        est = np.max(np.abs(m["est"] - m["est_r"]))
        label = f"mimic={mimic!r} {options or ''}"
        print(f"{label:<40} fit measures max rel diff {rel:.1e}, estimates {est:.1e}")
    for model, func in (("visual =~ x1 + x2 + x3", "cfa"), ("x1 ~~ x1", "sem")):
        _, lfm, _ = lavaan_fit(model, hs_frame(), func)
        fm = getattr(radsem, func)(model, hs_frame()).fit_measures()
        print(f"cn_05 at df = 0 ({model!r}): radsem {fm['cn_05']}, lavaan {lfm['cn_05']}")


if __name__ == "__main__":
    main()
