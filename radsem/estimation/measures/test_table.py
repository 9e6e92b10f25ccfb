"""The test statistics of a fit (lavaan's ``lavInspect(fit, "test")``) and their fit measures.

``fit.tests()`` lists the standard test and every test requested with ``test =`` (scaled
tests from :mod:`radsem.estimation.robust.inference_sb`, the Bollen-Stine bootstrap p-value
from :meth:`SemFit.bootstrap` with ``type = "bollen.stine"``); ``fit_measures()`` gets the
``.scaled`` / ``.robust`` columns of the first scaled test, as lavaan's ``fitMeasures()``;
``summary()`` prints the tests of :func:`summary_tests` in lavaan's layout
(:mod:`radsem.estimation.measures.summary_blocks`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from radsem.estimation.robust.options import ROBUST_TABLE
from radsem.estimation.robust.sb_tests import SCALED_TESTS

__all__ = ["test_measures", "test_table", "summary_tests", "SummaryTests"]

_COLUMNS = ("test", "stat", "df", "pvalue", "scaling_factor", "shift", "trace_ugamma")


def test_measures(fit, out: dict) -> dict:
    """``out`` (the standard fit measures) with the scaled test's measures merged in."""
    tests = tuple(fit.options.get("test") or ())
    if not any(t in SCALED_TESTS for t in tests) or fit.options["estimator"] == "MLR":
        return out
    extra = dict(fit.scaled_tests.fit_measures)
    # lavaan's order: the chi-square block first, then the baseline block, then the rest
    head = {k: extra.pop(k) for k in ("chisq.scaled", "df.scaled", "pvalue.scaled")}
    head["chisq.scaling.factor"] = extra.pop("chisq.scaling.factor")
    merged: dict = {}
    for key, value in out.items():
        merged[key] = value
        if key == "pvalue":
            merged.update(head)
    merged.update(extra)
    return merged


def test_table(fit) -> pd.DataFrame:
    """One row per test statistic: ``test, stat, df, pvalue, scaling_factor, shift,
    trace_ugamma`` (lavaan's ``lavInspect(fit, "test")``)."""
    chisq = 2.0 * fit.nobs * float(fit.fit_measures()["fmin"])
    df = float(fit.fit_measures()["df"])
    rows = [
        {
            "test": "standard",
            "stat": chisq,
            "df": df,
            "pvalue": float(fit.fit_measures()["pvalue"]),
        }
    ]
    tests = fit.options.get("test") or ()
    if isinstance(tests, str):  # ordered variables: one test, from the fit measures
        fm = fit.fit_measures()
        if tests != "standard":
            rows.append(
                {
                    "test": tests,
                    "stat": fm["chisq.scaled"],
                    "df": fm["df.scaled"],
                    "pvalue": fm["pvalue.scaled"],
                    "scaling_factor": fm["chisq.scaling.factor"],
                    "shift": fit.scaled_test[2],
                }
            )
        tests = ()
    mlr = fit.options["estimator"] == "MLR"
    for t in tests:
        if t == "yuan.bentler.mplus" and mlr:
            continue  # MLR's own test, from its fit measures (below)
        if t == "bollen.stine":
            rows.append({"test": t, "stat": chisq, "df": df, "pvalue": fit.bollen_stine.pvalue})
        elif t in SCALED_TESTS:
            r = fit.scaled_tests.tests[t]
            rows.append(
                {
                    "test": t,
                    "stat": r.stat,
                    "df": r.df,
                    "pvalue": r.pvalue,
                    "scaling_factor": r.scaling_factor,
                    "shift": r.shift,
                    "trace_ugamma": r.trace_ugamma,
                }
            )
    if mlr:
        fm = fit.fit_measures()
        rows.append(
            {
                "test": "yuan.bentler.mplus",
                "stat": fm["chisq.scaled"],
                "df": df,
                "pvalue": fm["pvalue.scaled"],
                "scaling_factor": fm["chisq.scaling.factor"],
            }
        )
    out = pd.DataFrame(rows, columns=list(_COLUMNS))
    out["pvalue"] = out["pvalue"].astype(float)
    return out


class SummaryTests(NamedTuple):
    """What ``summary()`` prints of a fit's estimator and tests (lavaan's names)."""

    estimator: str
    tests: tuple
    h1_structured: bool


def summary_tests(fit) -> SummaryTests:
    """The estimator lavaan prints (``ML`` for MLR, MLM, MLMV, MLMVS and MLF; ``DWLS`` for
    WLSM/WLSMV; ``ULS`` for ULSM/ULSMV), the rows of :func:`test_table` beyond the standard
    test (as :class:`~radsem.estimation.measures.summary_blocks.TestRow`), and whether the h1
    information is lavaan's structured one (not for the WLS family)."""
    from radsem.estimation.measures.summary_blocks import TestRow

    est = str(fit.options["estimator"])
    core = "ML" if est == "MLR" else ROBUST_TABLE.get(est, (est,))[0]
    rows = []
    for r in test_table(fit).iloc[1:].itertuples():
        shift = float(r.shift) if r.shift is not None else np.nan
        scaling = float(r.scaling_factor) if r.scaling_factor is not None else np.nan
        rows.append(TestRow(r.test, float(r.stat), float(r.df), float(r.pvalue), scaling, shift))
    return SummaryTests(core, tuple(rows), core not in ("WLS", "DWLS", "ULS"))
