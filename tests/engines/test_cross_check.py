"""cross_check / compare_fits: lavaan against itself, perturbed tables, semopy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.engines import cross_check, fit_semopy
from radsem.engines.crosscheck import cross_check_fits as compare_fits
from radsem.errors import EngineUnavailableError, ModelSpecificationError

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


class _Perturbed:
    """A fit whose tables are another fit's, shifted (a stand-in for a wrong engine)."""

    def __init__(self, base, est_shift=0.0, se_scale=1.0, fit_scale=1.0, drop=None):
        self.model, self.data, self.options = base.model, base.data, dict(base.options)
        self.function = base.function
        self._base, self._shift, self._se, self._fit, self._drop = (
            base,
            est_shift,
            se_scale,
            fit_scale,
            drop,
        )

    def parameter_estimates(self):
        pe = self._base.parameter_estimates()
        free = pe["se"] > 0
        pe.loc[free, "est"] += self._shift
        pe.loc[free, "se"] *= self._se
        if self._drop is not None:
            pe = pe.drop(index=self._drop)
        return pe

    def fit_measures(self):
        fm = self._base.fit_measures()
        fm["chisq"] *= self._fit
        return fm


def test_lavaan_against_itself(hs_lavaan):
    result = cross_check(hs_lavaan, "lavaan")
    assert result.agree
    assert result.max_abs_diff == 0
    assert list(result.parameters.columns[:9]) == [
        "lhs",
        "op",
        "rhs",
        "group",
        "est_radsem",
        "est_lavaan",
        "diff",
        "se_radsem",
        "se_lavaan",
    ]
    assert len(result.parameters) == len(hs_lavaan.parameter_estimates())
    assert "AGREE" in str(result)


@pytest.mark.parametrize(
    ("kwargs", "agree"),
    [
        ({"est_shift": 0.0009}, True),
        ({"est_shift": 0.0011}, False),
        ({"se_scale": 1.009}, True),
        ({"se_scale": 1.011}, False),
        ({"fit_scale": 1.009}, True),
        ({"fit_scale": 1.02}, False),
        ({"drop": [3]}, False),
    ],
)
def test_tolerances_on_perturbed_tables(hs_lavaan, kwargs, agree):
    result = compare_fits(_Perturbed(hs_lavaan, **kwargs), hs_lavaan)
    assert result.agree is agree
    text = str(result)
    assert ("DISAGREE" in text) is (not agree)
    if "est_shift" in kwargs:
        assert result.max_abs_diff == pytest.approx(kwargs["est_shift"], rel=1e-6)
    if not agree and "drop" in kwargs:
        assert len(result.unmatched) == 1
        assert "one engine only" in text


def test_custom_tolerance(hs_lavaan):
    result = compare_fits(_Perturbed(hs_lavaan, est_shift=0.01), hs_lavaan, tol={"est": 0.02})
    assert result.agree


def test_covariances_match_in_either_order(hs_lavaan):
    class Swapped(_Perturbed):
        def parameter_estimates(self):
            pe = super().parameter_estimates()
            cov = pe["op"] == "~~"
            pe.loc[cov, ["lhs", "rhs"]] = pe.loc[cov, ["rhs", "lhs"]].to_numpy()
            return pe

    assert compare_fits(Swapped(hs_lavaan), hs_lavaan).agree


def test_semopy_close_to_lavaan_on_hs(hs, hs_lavaan):
    semopy_fit = fit_semopy(HS_MODEL, hs, "cfa")
    result = compare_fits(hs_lavaan, semopy_fit, names=("lavaan", "semopy"))
    assert result.unmatched.empty
    assert result.max_abs_diff < 5e-3  # semopy's SLSQP stops earlier than lavaan's nlminb
    assert result.fit_measures.loc["df", "ok"]
    assert np.isnan(semopy_fit.parameter_estimates()["std_lv"]).all()


@pytest.mark.parametrize(
    ("model", "options", "match"),
    [
        ("f =~ x1 + x2 + x3\nx1 ~ 1", {}, "intercepts"),
        ("f =~ a*x1 + b*x2 + x3\nd := a*b", {}, ":="),
        ("f =~ a*x1 + b*x2 + x3\na == b", {}, "=="),
        ("f =~ NA*x1 + x2 + x3", {}, "NA"),
        ("f =~ x1 + start(1)*x2 + x3", {}, "start"),
        ("f =~ x1 + x2 + x3", {"group": "school"}, "group"),
        ("f =~ x1 + x2 + x3", {"missing": "ml"}, "missing"),
        ("f =~ x1 + x2 + x3", {"estimator": "MLR"}, "estimator"),
        ("f =~ x1 + x2 + x3", {"std_lv": True}, "std_lv"),
    ],
)
def test_semopy_refuses_what_it_cannot_do(hs, model, options, match):
    with pytest.raises(ModelSpecificationError, match=match):
        fit_semopy(model, hs, **options)


def test_semopy_refuses_growth_and_modindices(hs):
    with pytest.raises(ModelSpecificationError, match="growth"):
        fit_semopy("i =~ 1*x1 + 1*x2", hs, "growth")
    fit = fit_semopy("f =~ x1 + x2 + x3", hs)
    with pytest.raises(ModelSpecificationError, match="modification"):
        fit.modindices()


def test_unknown_engine(hs_lavaan):
    with pytest.raises(ModelSpecificationError, match="engine must be"):
        cross_check(hs_lavaan, "mplus")


def test_engine_unavailable_message(monkeypatch, hs):
    from radsem import _r
    from radsem.engines import lavaan as engine

    monkeypatch.setattr(_r, "_probe", lambda packages: "R package 'lavaan' is not installed")
    with pytest.raises(EngineUnavailableError, match="install.packages"):
        engine.fit_lavaan("f =~ x1 + x2 + x3", hs, "cfa")


def _radsem_function(name):
    import radsem

    try:
        return getattr(radsem, name)
    except AttributeError:
        pytest.skip(f"radsem.{name} is not available yet")


def test_real_radsem_fit_against_lavaan(r_lavaan, hs):
    fit = _radsem_function("cfa")(HS_MODEL, hs, estimator="MLR")
    result = fit.cross_check("lavaan")
    assert result.agree, str(result)
    assert result.max_abs_diff < 1e-4
    assert result.unmatched.empty


@pytest.mark.filterwarnings("ignore::radsem.errors.RadsemWarning")  # lavaan: inadmissible draws
def test_bootstrap_fit_against_lavaan(r_lavaan, hs):
    """radsem's n_jobs is not a lavaan option; the estimates agree, the bootstrap SEs are
    compared only up to Monte Carlo error (and the note says so)."""
    fit = _radsem_function("cfa")(HS_MODEL, hs, se="bootstrap", bootstrap=100, seed=3, n_jobs=1)
    result = fit.cross_check("lavaan")
    assert result.max_abs_diff < 1e-4
    assert any("n_jobs" in note for note in result.notes)
    assert any("Monte Carlo" in note for note in result.notes)
    assert result.max_se_reldiff < 0.5


def test_real_radsem_fit_against_semopy(hs):
    fit = _radsem_function("cfa")(HS_MODEL, hs)
    result = cross_check(fit, "semopy")
    assert result.unmatched.empty
    assert result.max_abs_diff < 5e-3


def test_real_radsem_fit_refused_by_semopy(hs):
    fit = _radsem_function("cfa")(HS_MODEL, hs, group="school")
    with pytest.raises(ModelSpecificationError, match="group"):
        fit.cross_check("semopy")


def test_table_inputs_untouched(hs_lavaan):
    before = hs_lavaan.parameter_estimates()
    compare_fits(_Perturbed(hs_lavaan, est_shift=1.0), hs_lavaan)
    pd.testing.assert_frame_equal(before, hs_lavaan.parameter_estimates())
