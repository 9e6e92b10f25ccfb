"""Latent variables without indicators (``f =~ 0``) and the ``as.numeric()`` modifier.

lavaan 0.6-14 writes ``f =~ 0`` as the row ``f =~ f`` fixed at 0 (``f`` is then latent without
measuring anything) and evaluates ``as.numeric(value)`` modifiers as R does. Parameter tables
are compared with ``lavaanify()`` and ``parTable(sem(..., do.fit = FALSE))``, fits with
``sem()`` (estimates 1e-4 absolute, SEs and fit measures 1e-4 relative), live through rpy2.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem.datasets import load
from radsem.errors import ModelSyntaxError
from radsem.syntax import build_partable, parse_model
from radsem.syntax.serialise import to_lavaan_syntax

#: a latent sum of two factors: total = visual + textual, no disturbance
LATENT_SUM = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
total =~ 0
total ~ 1*visual + 1*textual
total ~~ 0*total
"""
#: a phantom latent between a factor and an observed variable measured without error
PHANTOM_PATH = """
f =~ x1 + x2 + x3
d =~ 0
d ~ f
x4 ~ 1*d
x4 ~~ 0*x4
"""
#: a phantom carrying a residual covariance constrained to be non-negative (a^2)
PHANTOM_COVARIANCE = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
ph =~ 0
ph ~~ 1*ph
x1 ~ a*ph
x4 ~ a*ph
"""
AS_NUMERIC = """
visual =~ as.numeric(NA)*x1 + as.numeric(0.6)*x2 + x3
visual ~~ 1*visual
textual =~ x4 + as.numeric("1.1")*x5 + x6
"""
MODELS = {
    "latent_sum": LATENT_SUM,
    "phantom_path": PHANTOM_PATH,
    "phantom_covariance": PHANTOM_COVARIANCE,
    "as_numeric": AS_NUMERIC,
}
FITTED = ("latent_sum", "phantom_path", "as_numeric")


def test_phantom_row_is_lavaans():
    pt = build_partable(LATENT_SUM).partable
    row = pt[(pt["lhs"] == "total") & (pt["op"] == "=~")]
    assert list(row["rhs"]) == ["total"]
    assert row["free"].iloc[0] == 0
    assert row["ustart"].iloc[0] == 0.0
    spec = build_partable(LATENT_SUM)
    assert "total" in spec.latent
    assert "total" not in spec.observed


def test_as_numeric_values():
    stmt = parse_model(AS_NUMERIC)[0]
    mods = {t.name: t.modifier("fixed") for t in stmt.rhs}
    assert math.isnan(mods["x1"].values[0])  # NA: free
    assert mods["x2"].values == (0.6,)
    assert mods["x3"] is None
    pt = build_partable(AS_NUMERIC).partable
    x5 = pt[(pt["op"] == "=~") & (pt["rhs"] == "x5")]
    assert x5["ustart"].iloc[0] == 1.1
    assert x5["free"].iloc[0] == 0


@pytest.mark.parametrize(
    ("model", "match"),
    [
        ("f + g =~ 0", "must stand alone"),
        ("f =~ 0 + x1", "must stand alone"),
        ("f =~ x1 + as.numeric(a)*x2", "not a label"),
        ("f =~ x1 + as.numeric()*x2", "needs one number"),
        ("f =~ x1 + as.numeric(1, 2)*x2", "takes one number"),
        ('f =~ x1 + as.numeric("b")*x2', "is NA in R"),
        ("f =~ f + x1", "measured by itself"),
    ],
)
def test_bad_syntax(model, match):
    with pytest.raises(ModelSyntaxError, match=match):
        build_partable(model)


def test_lavaan_syntax_round_trip():
    syntax, _ = to_lavaan_syntax(LATENT_SUM)
    assert "total =~ 0" in syntax
    again = build_partable(syntax).partable
    pd.testing.assert_frame_equal(again, build_partable(LATENT_SUM).partable)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_table_matches_lavaan(lav, name):
    model = MODELS[name]
    lav.assert_same(build_partable(model).partable, lav.lavaanify(model, auto=True))
    ours = build_partable(model, list(load("HolzingerSwineford1939").columns)).partable
    lav.assert_same(ours, lav.fitted("sem", model, "HolzingerSwineford1939"))


@pytest.mark.parametrize("name", FITTED)
def test_fit_matches_lavaan(r_lavaan, name):
    from radsem.engines.lavaan import fit_lavaan

    data = load("HolzingerSwineford1939")
    fit = radsem.sem(MODELS[name], data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fit_lavaan(MODELS[name], data, "sem")
    keys = ["lhs", "op", "rhs", "group"]
    m = fit.parameter_estimates().merge(
        ref.parameter_estimates(), on=keys, suffixes=("", "_ref"), how="outer", indicator=True
    )
    assert (m["_merge"] == "both").all()
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=1e-4)
    np.testing.assert_allclose(m["std_all"], m["std_all_ref"], atol=1e-4)
    free = m["se_ref"] > 0
    np.testing.assert_allclose(m["se"][free], m["se_ref"][free], rtol=1e-4)
    a, b = fit.fit_measures(), ref.fit_measures()
    assert list(a.index) == list(b.index)
    ok = a.notna() & b.notna()
    assert not (a.isna() ^ b.isna()).any()
    np.testing.assert_allclose(a[ok], b[ok], rtol=1e-4, atol=1e-10)


def test_latent_sum_is_the_sum_of_the_factors():
    fit = radsem.sem(LATENT_SUM, load("HolzingerSwineford1939"))
    pe = fit.parameter_estimates().set_index(["lhs", "op", "rhs"])["est"]
    var_sum = (
        pe[("visual", "~~", "visual")]
        + pe[("textual", "~~", "textual")]
        + 2 * pe[("visual", "~~", "textual")]
    )
    std = fit.standardized_solution().set_index(["lhs", "op", "rhs"])["est_std"]
    # std.all of total ~ visual = sd(visual) / sd(total)
    expected = np.sqrt(pe[("visual", "~~", "visual")] / var_sum)
    assert std[("total", "~", "visual")] == pytest.approx(expected, rel=1e-8)


def test_phantom_covariance_beats_lavaans_saddle_point(r_lavaan):
    """lavaan 0.6-14 stays at a = 0, a stationary point of a^2 (its start value; its
    standard errors are then NA); radsem's optimiser leaves it and finds a lower minimum."""
    from radsem.engines.lavaan import fit_lavaan

    data = load("HolzingerSwineford1939")
    fit = radsem.sem(PHANTOM_COVARIANCE, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fit_lavaan(PHANTOM_COVARIANCE, data, "sem")
    assert fit.fit_measures()["chisq"] < ref.fit_measures()["chisq"] - 1.0
    pe = fit.parameter_estimates().set_index(["lhs", "op", "rhs"])
    assert abs(pe.loc[("x1", "~", "ph"), "est"]) > 0.2
    # the same model with the residual covariance written directly, fixed at a^2
    a = pe.loc[("x1", "~", "ph"), "est"]
    direct = PHANTOM_COVARIANCE.replace("ph =~ 0\nph ~~ 1*ph\nx1 ~ a*ph\nx4 ~ a*ph\n", "")
    direct += f"x1 ~~ {float(a * a)!r}*x4\n"
    other = radsem.sem(direct, data)
    assert other.fit_measures()["chisq"] == pytest.approx(fit.fit_measures()["chisq"], rel=1e-6)


@pytest.mark.parametrize("name", ["latent_sum", "phantom_path"])
def test_scores_and_modindices_match_lavaan(r_lavaan, name):
    """Factor scores (lavPredict) and modification indices of models with phantom latents.
    For the phantom standing for an error-free indicator lavaan 0.6-14's scores are shifted
    by a constant (their means are -0.36 and -3.06 = -mean(x4), not 0); radsem's are
    centred, as regression-method scores without a mean structure are, and equal lavaan's
    after centring."""
    from radsem.engines.lavaan import fit_lavaan

    data = load("HolzingerSwineford1939")
    fit = radsem.sem(MODELS[name], data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fit_lavaan(MODELS[name], data, "sem")
        lav_scores = np.asarray(r_lavaan.lavPredict(ref._fit))
    scores = fit.predict().to_numpy()
    np.testing.assert_allclose(scores.mean(axis=0), 0.0, atol=1e-10)
    if name == "latent_sum":
        np.testing.assert_allclose(scores, lav_scores, atol=1e-5)
    else:
        np.testing.assert_allclose(scores, lav_scores - lav_scores.mean(axis=0), atol=1e-5)
    keys = ["lhs", "op", "rhs"]
    mi = fit.modindices().merge(
        ref.modindices(), on=keys, suffixes=("", "_ref"), how="outer", indicator=True
    )
    assert (mi["_merge"] == "both").all()
    np.testing.assert_allclose(mi["mi"], mi["mi_ref"], rtol=1e-3, atol=1e-4)
