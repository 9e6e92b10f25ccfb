"""Protocol harmonisation (Halle et al.) and ComBat (checked against R sva::ComBat)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from radsem._r import _probe
from radsem.errors import DataError, DataWarning
from radsem.radiomics import ComBatHarmonizer, ProtocolHarmonizer, protocol_association

SCANNERS = {  # field strength, TR, TE, flip, averages, ETL, phase, voxel (x, z), b_max, n_b
    "A": (1.5, 4000, 90, 150, 2, 16, "AP", 0.7, 4.0, 800, 3),
    "B": (3.0, 5000, 100, 120, 1, 20, "RL", 0.5, 3.0, 1000, 4),
    "C": (1.5, 3500, 85, 160, 3, 12, "AP", 0.9, 5.0, 1000, 2),
    "D": (3.0, 4500, 110, 130, 2, 24, "RL", 0.6, 3.5, 800, 3),
}


def make_protocol(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    ids = [f"P{i:03d}" for i in range(n)]
    scanner = pd.Series(rng.choice(list(SCANNERS), size=n), index=ids)
    rows = []
    for pid, sc in scanner.items():
        fs, tr, te, flip, avg, etl, pe, px, sz, bmax, nb = SCANNERS[sc]
        tr = tr * rng.uniform(0.9, 1.1)
        for series in ("T2", "DWI", "ADC"):
            dw = series != "T2"
            vx = px * (2 if dw else 1)
            rows.append(
                {
                    "patient_id": pid,
                    "series": series,
                    "field_strength": fs,
                    "TR": tr,
                    "TE": te,
                    "flip_angle": 90.0 if dw else flip,
                    "n_averages": avg,
                    "echo_train_length": etl,
                    "phase_encoding": pe,
                    "voxel_volume": vx * vx * sz,
                    "anisotropy": sz / vx,
                    "b_max": bmax if dw else np.nan,
                    "n_b_values": nb if dw else np.nan,
                }
            )
    return pd.DataFrame(rows), scanner


@pytest.fixture(scope="module")
def cohort():
    """150 patients, 4 scanners; 40 features: 20 with a scanner shift, 20 with biology only."""
    rng = np.random.default_rng(7)
    n = 150
    protocol, scanner = make_protocol(n, rng)
    biology = pd.Series(rng.normal(size=n), index=scanner.index)
    shift = scanner.map({"A": 0.0, "B": 2.0, "C": -1.5, "D": 1.0}).to_numpy()
    cols = {}
    for k in range(40):
        series = ("t2", "dwi", "adc")[k % 3]
        scanner_part = shift * (1.0 + 0.1 * k) if k < 20 else 0.0
        cols[f"{series}_original_firstorder_F{k}"] = (
            10 + 0.8 * biology.to_numpy() + scanner_part + rng.normal(0, 0.6, n)
        )
    X = pd.DataFrame(cols, index=pd.Index(scanner.index, name="patient_id"))
    return X, protocol, scanner, biology


def _fit(X, protocol, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the 4 scanners leave collinear columns
        return ProtocolHarmonizer(protocol=protocol, **kw).fit(X)


@pytest.fixture(scope="module")
def fitted(cohort):
    X, protocol, _, _ = cohort
    return _fit(X, protocol)


def test_removes_scanner_effect_keeps_biology(cohort, fitted):
    X, protocol, scanner, biology = cohort
    h = fitted
    assert h.n_associated_before_ >= 20
    assert h.n_associated_after_ == 0
    Z = h.transform(X)
    np.testing.assert_allclose(Z.mean(), 0, atol=1e-10)
    np.testing.assert_allclose(Z.std(ddof=1), 1, atol=1e-10)
    for col in X.columns[:20]:
        by_scanner = Z[col].groupby(scanner).mean()
        assert by_scanner.max() - by_scanner.min() < 0.35
        assert np.corrcoef(Z[col], biology)[0, 1] > 0.6
        assert abs(np.corrcoef(X[col], biology)[0, 1]) < 0.6  # confounded before
    assert h.report_.loc[X.columns[:20], "associated"].all()
    assert not h.report_["associated_after"].any()


def test_f_test_matches_statsmodels(cohort, fitted):
    import statsmodels.api as sm

    X, protocol, _, _ = cohort
    h = fitted
    col = X.columns[1]  # a DWI feature
    rows = protocol[protocol.series == "DWI"].set_index("patient_id").loc[X.index]
    design = h.designs_["DWI"]
    exog = rows[[c for c in design.columns if "[" not in c]].astype(float)
    for c in design.columns:
        if "[" in c:
            name, level = c[:-1].split("[")
            exog[c] = (rows[name] == level).astype(float)
    fit = sm.OLS(X[col].to_numpy(), sm.add_constant(exog[design.columns])).fit()
    assert h.report_.loc[col, "F"] == pytest.approx(fit.fvalue, rel=1e-8)
    assert h.report_.loc[col, "pvalue"] == pytest.approx(fit.f_pvalue, rel=1e-6, abs=1e-300)
    assert "b_max" in design.columns or "b_max" in set(h.dropped_parameters_["parameter"])


def test_bh_counts_follow_statsmodels(fitted):
    from statsmodels.stats.multitest import multipletests

    h = fitted
    p = h.report_["pvalue"].to_numpy()
    np.testing.assert_allclose(h.report_["pvalue_fdr"], multipletests(p, method="fdr_bh")[1])
    assert h.n_associated_before_ == int((multipletests(p, method="fdr_bh")[1] < 0.05).sum())


def test_cross_validation_new_patients(cohort):
    """Fitted on 100 patients, applied to 50 others: their scanner effect is removed too."""
    X, protocol, scanner, _ = cohort
    train, test = X.iloc[:100], X.iloc[100:]
    h = _fit(train, protocol)
    Z = h.transform(test)
    assert Z.index.equals(test.index)
    after = h.association_report(Z)
    assert after["associated"].sum() == 0
    before = protocol_association(test, protocol)
    assert before["associated"].sum() >= 15
    single = h.transform(test.iloc[:1])
    pd.testing.assert_frame_equal(single, Z.iloc[:1])


def test_sklearn_pipeline(cohort):
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    X, protocol, _, biology = cohort
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        scores = cross_val_score(
            make_pipeline(ProtocolHarmonizer(protocol=protocol), LinearRegression()),
            X,
            biology,
            cv=3,
        )
    assert scores.mean() > 0.5


def test_inputs_not_modified(cohort):
    X, protocol, _, _ = cohort
    X0, p0 = X.copy(), protocol.copy()
    _fit(X, protocol).transform(X)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_frame_equal(protocol, p0)


def test_errors_and_warnings(cohort):
    X, protocol, _, _ = cohort
    with pytest.raises(DataError, match="no T2 row for 1 patient"):
        ProtocolHarmonizer(protocol=protocol[protocol.patient_id != "P005"]).fit(X)
    text = X.assign(t2_original_firstorder_F0=X["t2_original_firstorder_F0"].astype(str))
    with pytest.raises(DataError, match="non-numeric feature"):
        ProtocolHarmonizer(protocol=protocol).fit(text)
    with pytest.raises(DataError, match="cannot tell the MR series"):
        ProtocolHarmonizer(protocol=protocol).fit(X.rename(columns=lambda c: "x" + c))
    with pytest.raises(DataError, match="no protocol table"):
        ProtocolHarmonizer().fit(X)
    with pytest.raises(DataError, match="alpha"):
        ProtocolHarmonizer(protocol=protocol, alpha=2).fit(X)
    with pytest.raises(DataError, match="missing or infinite"):
        ProtocolHarmonizer(protocol=protocol).fit(X.assign(t2_original_firstorder_F0=np.nan))
    const = protocol.assign(TE=100.0)
    with pytest.warns(DataWarning, match=r"TE \(constant\)"):
        h = ProtocolHarmonizer(protocol=const).fit(X)
    assert h.n_associated_after_ == 0
    assert (
        (h.dropped_parameters_.parameter == "TE") & (h.dropped_parameters_.reason == "constant")
    ).sum() == 3
    with pytest.raises(DataError, match="not a column"):
        ProtocolHarmonizer(protocol=protocol, parameters=["TE", "gradient"]).fit(X)
    h = _fit(X, protocol)
    unseen = protocol.assign(phase_encoding="SI")
    with pytest.raises(DataError, match="not seen"):
        h.transform(X, protocol=unseen)


# ------------------------------------------------------------------ ComBat


def _combat_data(seed=3):
    rng = np.random.default_rng(seed)
    n = 60
    ids = [f"p{i}" for i in range(n)]
    batch = pd.Series(np.repeat(["s1", "s2", "s3"], 20), index=ids)
    cov = pd.DataFrame({"age": rng.normal(60, 10, n)}, index=ids)
    X = pd.DataFrame(rng.normal(size=(n, 8)), index=ids, columns=[f"f{i}" for i in range(8)])
    X = X + (batch == "s2").to_numpy()[:, None] * 1.5 + cov.to_numpy() * 0.05
    X.loc[batch == "s3"] *= 2.0
    return X, batch, cov


needs_sva = pytest.mark.skipif(_probe(("sva",)) is not None, reason="needs R with sva")


@needs_sva
@pytest.mark.parametrize(
    ("parametric", "mean_only", "tol"),
    [(True, False, 1e-5), (False, False, 1e-10), (True, True, 1e-10)],
)
def test_combat_matches_sva(parametric, mean_only, tol):
    """R: sva::ComBat(dat = t(X), batch, mod = cbind(1, age), par.prior, mean.only)."""
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter

    from radsem._r import r_function

    X, batch, cov = _combat_data()
    ours = ComBatHarmonizer(
        batch=batch, covariates=cov, parametric=parametric, mean_only=mean_only
    ).fit_transform(X)
    combat = r_function("ComBat", "sva")
    with localconverter(ro.default_converter + numpy2ri.converter):
        dat = ro.r["matrix"](X.to_numpy().T.copy(), nrow=X.shape[1])
        mod = ro.r["cbind"](1.0, cov["age"].to_numpy())
        ref = np.asarray(
            combat(
                dat=dat,
                batch=ro.StrVector(batch.tolist()),
                mod=mod,
                **{"par.prior": parametric, "mean.only": mean_only, "prior.plots": False},
            )
        )
    np.testing.assert_allclose(ours.to_numpy(), ref.T, rtol=tol, atol=tol)


def test_combat_removes_batch_means_and_applies_to_new_patients():
    X, batch, cov = _combat_data()
    rng = np.random.default_rng(11)
    shifted = pd.DataFrame(rng.normal(size=(60, 20)), index=batch.index)
    shifted = shifted.add(batch.map({"s1": 0.0, "s2": 3.0, "s3": -2.0}), axis=0)
    shifted.columns = [f"g{i}" for i in range(20)]
    means = ComBatHarmonizer(batch=batch).fit_transform(shifted).groupby(batch).mean()
    assert (means.max() - means.min()).max() < 0.75  # EB shrinkage leaves per-feature noise
    assert (shifted.groupby(batch).mean().max() - shifted.groupby(batch).mean().min()).min() > 4
    h = ComBatHarmonizer(batch=batch, covariates=cov).fit(X)
    Z = h.transform(X)
    sub = h.transform(X.iloc[[0, 25, 50]])
    pd.testing.assert_frame_equal(sub, Z.iloc[[0, 25, 50]])


def test_combat_errors():
    X, batch, cov = _combat_data()
    with pytest.raises(DataError, match="Series"):
        ComBatHarmonizer(batch=list(batch)).fit(X)
    with pytest.raises(DataError, match="at least 2 batches"):
        ComBatHarmonizer(batch=batch.map(lambda b: "one")).fit(X)
    with pytest.raises(DataError, match="confounded"):
        ComBatHarmonizer(
            batch=batch, covariates=pd.DataFrame({"site": batch}, index=batch.index)
        ).fit(X)
    h = ComBatHarmonizer(batch=batch).fit(X.iloc[:40])
    with pytest.raises(DataError, match="not seen in fit"):
        h.transform(X.iloc[40:])
    with pytest.raises(DataError, match="non-numeric"):
        ComBatHarmonizer(batch=batch).fit(X.assign(f0="a"))


def test_properties_shift_invariance_and_fit_transform(cohort, fitted):
    """z-scores do not change when a constant is added to a feature; fit_transform equals
    fit then transform; features without protocol association are only z-scored."""
    X, protocol, _, _ = cohort
    Z = fitted.transform(X)
    shifted = X + 123.0
    Z2 = _fit(shifted, protocol).transform(shifted)
    pd.testing.assert_frame_equal(Z, Z2, check_exact=False, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        Z3 = ProtocolHarmonizer(protocol=protocol).fit_transform(X)
    pd.testing.assert_frame_equal(Z, Z3)
    plain = fitted.report_.index[~fitted.report_["associated"]]
    expected = (X[plain] - X[plain].mean()) / X[plain].std(ddof=1)
    pd.testing.assert_frame_equal(Z[plain], expected, check_exact=False, atol=1e-10)


def test_no_zscore_keeps_feature_means(cohort):
    X, protocol, _, _ = cohort
    out = _fit(X, protocol, zscore=False).transform(X)
    np.testing.assert_allclose(out.mean(), X.mean(), rtol=1e-10)
