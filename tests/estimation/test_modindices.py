"""Modification indices against lavaan 0.6-14's ``modindices()`` (live through rpy2).

HolzingerSwineford1939 CFA (cross-loadings and residual covariances) and the
PoliticalDemocracy SEM with regressions, equality-constrained labels and residual
covariances; every row, in lavaan's order, with ``mi``, ``epc`` and the standardised EPCs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_missing_fixtures import HS_MODEL, LavaanRef, hs_frame

from radsem.datasets import load

problem_mod = pytest.importorskip("radsem.estimation.core.problem")

from radsem.estimation.core.inference import vcov_theta  # noqa: E402
from radsem.estimation.core.optimize import minimize  # noqa: E402
from radsem.estimation.core.samplestats import sample_stats  # noqa: E402
from radsem.estimation.core.start import start_values  # noqa: E402
from radsem.estimation.measures.modindices import candidate_rows, modification_indices  # noqa: E402
from radsem.syntax import build_partable  # noqa: E402

POLDEM = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
"""


def _ours(model: str, data: pd.DataFrame, model_type: str) -> pd.DataFrame:
    spec = build_partable(model, list(data.columns), model_type=model_type)
    st = sample_stats(data, spec.observed)
    prob = problem_mod.SemProblem(spec, [st], "ML")
    res = minimize(prob, prob.model.theta_from_values(start_values(prob.model, [st], False)))
    i22_inv = vcov_theta(prob, res.theta, "expected") * prob.ntotal
    return modification_indices(prob, res.theta, i22_inv)


def _lavaan(ref: LavaanRef) -> pd.DataFrame:
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe

    return from_r_dataframe(ro.r("function(f) as.data.frame(lavaan::modindices(f))")(ref.fit))


@pytest.mark.parametrize("case", ["hs", "poldem"])
def test_modindices_match_lavaan(r_lavaan, case):
    if case == "hs":
        data, model, fun = hs_frame(), HS_MODEL, "cfa"
    else:
        data, model, fun = load("PoliticalDemocracy").astype(float), POLDEM, "sem"
    ours = _ours(model, data, fun)
    ref = _lavaan(LavaanRef(fun, model, data))
    assert list(ours.columns) == [
        "lhs",
        "op",
        "rhs",
        "group",
        "mi",
        "epc",
        "sepc_lv",
        "sepc_all",
        "sepc_nox",
    ]
    assert len(ours) == len(ref)
    for col in ("lhs", "op", "rhs"):
        assert list(ours[col]) == list(ref[col]), col
    assert (ours["group"] == 1).all()
    # lavaan's optimiser stops at ~1e-6 in the estimates; the indices follow
    np.testing.assert_allclose(ours["mi"], ref["mi"], rtol=1e-4, atol=5e-4)
    for ours_col, ref_col in (
        ("epc", "epc"),
        ("sepc_lv", "sepc.lv"),
        ("sepc_all", "sepc.all"),
        ("sepc_nox", "sepc.nox"),
    ):
        np.testing.assert_allclose(
            ours[ours_col], ref[ref_col], rtol=1e-3, atol=2e-5, err_msg=ours_col
        )


def test_candidates_cover_lavaans_default_set():
    spec = build_partable(HS_MODEL, list(hs_frame().columns), model_type="cfa")
    rows = candidate_rows(spec, meanstructure=False)
    assert sum(op == "=~" for _, op, _, _ in rows) == 27
    assert sum(op == "~~" for _, op, _, _ in rows) == 45 + 6
    assert ("visual", "=~", "x4", 1) in rows
    assert not any(op == "~1" for _, op, _, _ in rows)


def test_modification_index_equals_chisq_drop_when_freeing(r_lavaan):
    """Property: the MI of a parameter approximates the chi-square drop when it is freed."""
    data = hs_frame()
    ours = _ours(HS_MODEL, data, "cfa")
    top = ours.sort_values("mi", ascending=False).iloc[0]
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
    freed = HS_MODEL.replace("visual =~ x1 + x2 + x3", "visual =~ x1 + x2 + x3 + x9")
    before = LavaanRef("cfa", HS_MODEL, data).fit_measures()["chisq"]
    after = LavaanRef("cfa", freed, data).fit_measures()["chisq"]
    assert before - after == pytest.approx(top["mi"], rel=0.25)


def test_modindices_of_a_fitted_model_sorted_and_filtered():
    import radsem
    from radsem.estimation.measures.modindices import modindices

    fit = radsem.cfa(HS_MODEL, hs_frame())
    full = _ours(HS_MODEL, hs_frame(), "cfa")
    out = modindices(fit, sort=True, minimum_value=10.0)
    assert (np.diff(out["mi"].to_numpy()) <= 0).all()
    assert (out["mi"] > 10).all()
    expected = full[full["mi"] > 10].sort_values("mi", ascending=False)
    assert list(out["rhs"]) == list(expected["rhs"])
    np.testing.assert_allclose(out["mi"], expected["mi"], rtol=1e-6)
