"""``estimator="ML", se="robust.huber.white"``: lavaan 0.6-14 takes the observed information
as the bread of the sandwich by default (``information = "observed"`` whenever
``se = "robust.huber.white"``), not the expected one of plain ML. With the expected bread
radsem's SEs were up to 22% off lavaan's on the HS CFA (0.2% on a path model)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import radsem

HS_COV_MODEL = (
    "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    "visual ~ sex\nspeed ~ ageyr"
)


@functools.lru_cache(maxsize=None)
def _hs() -> pd.DataFrame:
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")
    return hs[[f"x{i}" for i in range(1, 10)] + ["sex", "ageyr"]].astype(float)


def test_robust_se_uses_observed_information_by_default():
    # lavaan 0.6-14: se = "robust" means robust.sem (robust.huber.white only with FIML)
    assert radsem.sem(HS_COV_MODEL, _hs(), se="robust").options["se"] == "robust.sem"
    fit = radsem.sem(HS_COV_MODEL, _hs(), se="robust.huber.white")
    assert fit.options["se"] == "robust.huber.white"
    assert fit.options["information"] == "observed"
    exp = radsem.sem(HS_COV_MODEL, _hs(), se="robust.huber.white", information="expected")
    assert exp.options["information"] == "expected"
    a = fit.parameter_estimates()["se"].to_numpy()
    b = exp.parameter_estimates()["se"].to_numpy()
    assert not np.allclose(a, b, rtol=1e-3)  # the two breads give different sandwiches
    np.testing.assert_allclose(fit.parameter_estimates()["est"], exp.parameter_estimates()["est"])


@pytest.mark.parametrize(
    ("model", "options"),
    [
        (HS_COV_MODEL, {}),
        (HS_COV_MODEL, {"information": "expected", "meanstructure": True}),
        (HS_COV_MODEL.rsplit("\n", 2)[0], {"fixed_x": False}),
    ],
)
def test_ml_huber_white_matches_lavaan(r_lavaan, model, options):
    from radsem.engines import fit_lavaan

    ours = radsem.sem(model, _hs(), estimator="ML", se="robust.huber.white", **options)
    ref = fit_lavaan(model, _hs(), estimator="ML", se="robust.huber.white", **options)
    m = ours.parameter_estimates().merge(
        ref.parameter_estimates(), on=["lhs", "op", "rhs", "group"], suffixes=("", "_l")
    )
    assert len(m) == len(ref.parameter_estimates())
    np.testing.assert_allclose(m["est"], m["est_l"], atol=1e-4)
    np.testing.assert_allclose(m["se"], m["se_l"], rtol=1e-4, atol=1e-8)
