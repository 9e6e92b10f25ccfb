"""The simulated data show the structure of the generating model (known truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from radsem.simulate import MECHANISMS, lavaan_name, loading_table, measurement_syntax


def _design(cohort) -> pd.DataFrame:
    clin = cohort.clinical.merge(cohort.latent, on="patient_id")
    x = clin[list(MECHANISMS)].copy()
    for stage in ("II", "III", "IV"):
        x[f"stage_{stage}"] = (clin["figo_stage"] == stage).astype(float)
    x["age_per_year"] = clin["age"]
    return x, clin


def test_cox_recovers_log_hazard_ratios(large_cohort):
    """A Cox fit (lifelines) on the true latent values, stage and age recovers the generating
    log hazard ratios of recurrence within sampling error (|z| < 3.5 for every coefficient)."""
    from lifelines import CoxPHFitter

    x, clin = _design(large_cohort)
    data = x.assign(time=clin["time"], event=clin["event"])
    fit = CoxPHFitter().fit(data, duration_col="time", event_col="event")
    truth = large_cohort.truth["parameters"]["recurrence_log_hr"]
    z = [(fit.params_[k] - truth[k]) / fit.standard_errors_[k] for k in truth]
    assert max(abs(v) for v in z) < 3.5, dict(zip(truth, np.round(z, 2)))
    # and the estimates are informative, not just noisy
    assert np.corrcoef([fit.params_[k] for k in truth], list(truth.values()))[0, 1] > 0.98


def test_recurrence_share_in_clinical_range(large_cohort):
    share = large_cohort.clinical["event"].mean()
    assert 0.30 <= share <= 0.50
    dss = large_cohort.clinical["dss_event"].mean()
    assert 0.15 <= dss <= share
    # disease-specific death only after a recurrence, never before it
    clin = large_cohort.clinical
    died = clin["dss_event"] == 1
    assert (clin.loc[died, "event"] == 1).all()
    assert (clin["dss_time"] >= clin["time"]).all()


def test_survival_increases_risk_with_stage(large_cohort):
    rates = large_cohort.clinical.groupby("figo_stage")["event"].mean()
    assert list(rates.loc[["I", "II", "III", "IV"]]) == sorted(rates)


def test_expression_missing_not_completely_at_random(large_cohort):
    """About 45 % lack expression, and missingness depends on the (observed) scanner site."""
    clin = large_cohort.clinical
    has = clin["patient_id"].isin(large_cohort.expression["patient_id"])
    assert abs((~has).mean() - 0.45) < 0.03
    table = pd.crosstab(clin["scanner"], has)
    chi2, p, _, _ = stats.chi2_contingency(table)
    assert p < 1e-6
    # but given the covariates it does not depend on the latent values (MAR): the latent mean
    # of those with and without expression differs by less than sampling error within site
    lat = large_cohort.latent.set_index("patient_id").loc[clin["patient_id"]]
    site = clin["scanner"].to_numpy()
    s1 = site == "S1_Avanto_1.5T"
    d = lat[s1 & has.to_numpy()]["E7"].mean() - lat[s1 & ~has.to_numpy()]["E7"].mean()
    assert abs(d) < 0.2


def test_marker_correlations_match_loadings(large_cohort):
    """Within HPV16 (unit latent variances), corr(x_i, x_j) = l_i l_j r_fg for markers."""
    table = loading_table(large_cohort_params(large_cohort)).set_index("gene")
    expr = large_cohort.expression.merge(large_cohort.clinical[["patient_id", "hpv_type"]])
    sub = expr[expr["hpv_type"] == "HPV16"][list(table.index)]
    observed = np.corrcoef(sub.to_numpy(), rowvar=False)
    corr = np.asarray(large_cohort.truth["parameters"]["latent_corr"]["A9"])
    idx = [MECHANISMS.index(m) for m in table["mechanism"]]
    lam = table["std_loading"].to_numpy()
    implied = np.outer(lam, lam) * corr[np.ix_(idx, idx)]
    np.fill_diagonal(implied, 1.0)
    assert np.abs(observed - implied).max() < 0.15  # n ~ 900: sd of r about 0.03
    assert np.abs(observed - implied).mean() < 0.03
    # p53 targets load negatively on E6 activity, E2F targets positively on E7
    assert (table.loc[table["mechanism"] == "E6", "std_loading"] < 0).all()
    assert (table.loc[table["mechanism"] == "E7", "std_loading"] > 0).all()


def large_cohort_params(cohort):
    from radsem.simulate import SimulationParameters

    p = cohort.truth["parameters"]
    return SimulationParameters(markers=p["markers"])


def test_latent_means_depend_on_hpv_type(large_cohort):
    lat = large_cohort.latent.merge(large_cohort.clinical[["patient_id", "hpv_clade"]])
    means = lat.groupby("hpv_clade")[list(MECHANISMS)].mean()
    assert means.loc["A7", "E7"] - means.loc["A9", "E7"] > 0.3
    assert means.loc["A7", "immune"] - means.loc["A9", "immune"] < -0.3
    hist = pd.crosstab(
        large_cohort.clinical["hpv_clade"], large_cohort.clinical["histology"], normalize="index"
    )
    assert hist.loc["A7", "adenocarcinoma"] > 2 * hist.loc["A9", "adenocarcinoma"]
    types = large_cohort.clinical["hpv_type"].value_counts()
    assert types.index[0] == "HPV16"
    assert types.index[1] == "HPV18"


@pytest.mark.r
def test_true_measurement_model_fits_in_lavaan(large_cohort, r_lavaan):
    """CFA of the marker genes in lavaan: CFI > 0.95, RMSEA < 0.05, and the loadings relative
    to the first marker of each mechanism equal the generating ratios."""
    import rpy2.robjects as ro

    from radsem._r import from_r_dataframe, r_function, to_r_dataframe

    table = loading_table(large_cohort_params(large_cohort))
    safe = {g: lavaan_name(g) for g in table["gene"]}
    data = large_cohort.expression[list(safe)].rename(columns=safe)
    lines = [measurement_syntax()]
    cfa = ro.r("function(model, data) lavaan::cfa(model, data = data)")  # fixed R code
    fit = cfa("\n".join(lines), to_r_dataframe(data))
    fm = r_function("fitMeasures", "lavaan")(fit, ro.StrVector(["cfi", "rmsea"]))
    measures = dict(zip(["cfi", "rmsea"], list(fm)))
    assert measures["cfi"] > 0.95
    assert measures["rmsea"] < 0.05
    est = from_r_dataframe(r_function("parameterEstimates", "lavaan")(fit))
    est = est[est["op"] == "=~"].set_index("rhs")
    back = {v: k for k, v in safe.items()}
    for mech, grp in table.groupby("mechanism"):
        first = grp["loading"].iloc[0]
        for gene, loading in zip(grp["gene"], grp["loading"]):
            got = est.loc[safe[gene], "est"]
            assert got == pytest.approx(loading / first, abs=0.12), (mech, back[safe[gene]])


def test_measurement_syntax_parses_as_lavaan():
    from radsem.syntax import parse_model

    statements = parse_model(measurement_syntax())
    assert len(statements) == 4
    assert "HLA_DQB1" in measurement_syntax()
    assert lavaan_name("HLA-A") == "HLA_A"
    assert lavaan_name("7SK") == "g7SK"
