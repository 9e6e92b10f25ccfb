"""Every fit class implements radsem.FitResult (issue 18): radsem's own fits and the engines'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radsem
from radsem import FitResult
from radsem.engines import LavaanFit, SemopyFit
from radsem.estimation.families.ordinal.fit import OrdinalFit
from radsem.estimation.families.survival_outcome.result import LatentSurvivalFit

ONE_FACTOR = "f =~ y1 + y2 + y3\nrec =~ Surv(time, event)\nrec ~ f + age"


def _contract(fit, nobs: int) -> None:
    assert isinstance(fit, FitResult)
    assert fit.nobs == nobs
    assert fit.converged
    assert fit.problem is not None
    theta = np.asarray(fit.theta)
    assert theta.ndim == 1
    assert np.isfinite(theta).all()
    assert isinstance(fit.parameter_estimates(), pd.DataFrame)
    assert isinstance(fit.fit_measures(), pd.Series)
    vcov = fit.vcov()
    assert isinstance(vcov, pd.DataFrame)
    assert vcov.shape[0] == vcov.shape[1]
    assert isinstance(fit.summary(), str)


def _survival_data(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eta, age = rng.standard_normal(n), rng.standard_normal(n)
    y = np.column_stack([eta * lam + rng.standard_normal(n) * 0.6 for lam in (1.0, 0.8, 0.7)])
    t = rng.exponential(1.0 / (0.1 * np.exp(0.5 * eta + 0.3 * age)))
    c = rng.uniform(0, 15, n)
    return pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(
        age=age, time=np.minimum(t, c) + 1e-4, event=(t <= c).astype(int)
    )


def test_semfit(hs, hs_model):
    fit = radsem.cfa(hs_model, hs)
    _contract(fit, 301)
    free = fit.parameter_estimates().iloc[fit.problem.model.free_rows]
    assert np.allclose(fit.theta, free["est"])
    assert np.allclose(np.sqrt(np.diag(fit.vcov())), free["se"])
    assert fit.boot is None


def test_ordinalfit(hs, hs_model):
    data = hs.copy()
    items = [f"x{k}" for k in range(1, 10)]
    for v in items:
        data[v] = pd.cut(data[v], 3, labels=False) + 1
    fit = radsem.cfa(hs_model, data, ordered=items)
    assert isinstance(fit, OrdinalFit)
    _contract(fit, 301)


def test_latent_survival_fit():
    data = _survival_data()
    fit = radsem.sem(ONE_FACTOR, data, survival_method="naive")
    assert isinstance(fit, LatentSurvivalFit)
    _contract(fit, len(data))
    assert np.array_equal(fit.theta, fit.measurement_fit.theta)
    assert list(fit.vcov().index) == list(fit.coef.index)


def test_lavaan_fit(hs_lavaan, hs, hs_model):
    assert isinstance(hs_lavaan, LavaanFit)
    _contract(hs_lavaan, 301)
    ours = radsem.cfa(hs_model, hs)
    assert np.allclose(hs_lavaan.theta, ours.theta, atol=1e-4)
    assert list(hs_lavaan.vcov().index) == list(ours.vcov().index)
    assert np.allclose(hs_lavaan.vcov(), ours.vcov(), atol=1e-5)
    assert "lavaan" in hs_lavaan.summary()


def test_semopy_fit(hs, hs_model):
    pytest.importorskip("semopy")
    from radsem.engines import fit_semopy

    fit = fit_semopy(hs_model, hs)
    assert isinstance(fit, SemopyFit)
    _contract(fit, 301)
    se = fit.parameter_estimates()["se"].dropna().to_numpy()
    assert np.allclose(np.sort(np.sqrt(np.diag(fit.vcov()))), np.sort(se))


def test_a_table_is_not_a_fit():
    assert not isinstance(pd.DataFrame(), FitResult)


def test_compare_fits_is_a_deprecated_alias_of_cross_check_fits():
    import radsem.engines
    from radsem.engines.crosscheck import cross_check_fits

    with pytest.warns(DeprecationWarning, match="cross_check_fits"):
        assert radsem.engines.compare_fits is cross_check_fits
    with pytest.raises(AttributeError):
        radsem.engines.no_such_name  # noqa: B018


def test_twolevel_fit():
    rng = np.random.default_rng(4)
    nclus, size = 80, 8
    clus = np.repeat(np.arange(nclus), size)
    fb = rng.standard_normal(nclus)[clus] * 0.6
    fw = rng.standard_normal(nclus * size)
    data = pd.DataFrame(
        {
            f"y{k}": lam * fw
            + lam * fb
            + rng.standard_normal(nclus)[clus] * 0.4
            + rng.standard_normal(nclus * size) * 0.7
            for k, lam in ((1, 1.0), (2, 0.8), (3, 0.7))
        }
    ).assign(clus=clus)
    model = "level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3"
    fit = radsem.sem(model, data, cluster="clus")
    _contract(fit, nclus * size)
    assert len(fit.theta) == fit.vcov().shape[0]
