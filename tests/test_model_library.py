"""Every model of the library in models/ parses, fits a simulated cohort and recovers its truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import radsem
from radsem.demo import DEMO_MECHANISM_MODEL, sem_table
from radsem.simulate import lavaan_name, simulate_cohort, write_cohort
from radsem.syntax import build_partable
from radsem.syntax.survival import split_survival

MODELS = Path(__file__).resolve().parents[1] / "models"
MECHANISMS = {"E6", "E7", "immune", "hypoxia"}
# the imaging indicators of hpv_mechanisms_recurrence.lav, as radsem.radiomics names them
IMAGING = [
    "t2_original_shape_MeshVolume",
    "t2_original_shape_Sphericity",
    "t2_original_firstorder_Entropy",
    "adc_original_firstorder_Mean",
]


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(n=700, seed=11, images=False)


@pytest.fixture(scope="module")
def data(cohort):
    return sem_table(cohort)


def _key(spec):
    table = spec.partable
    return sorted(zip(table["lhs"], table["op"], table["rhs"], table["free"] > 0))


def test_every_library_model_parses_against_simulated_columns(data):
    files = sorted(MODELS.glob("*.lav"))
    assert len(files) >= 3
    for path in files:
        columns = [*data.columns, "hpv_clade", *IMAGING]
        syntax, outcome = split_survival(path.read_text())
        spec = build_partable(syntax, observed=columns)
        if outcome is None:
            assert set(spec.latent) == MECHANISMS, path.name
            continue
        assert set(spec.latent) == MECHANISMS | {"imaging"}, path.name
        assert (outcome.name, outcome.time, outcome.event) == ("recurrence", "time", "event")
        assert outcome.predictors == ["E6", "E7", "immune", "hypoxia", "imaging", "advanced", "age"]
        assert set(spec.observed) >= set(IMAGING), path.name


def test_demo_model_is_the_library_stage_model(data):
    library = (MODELS / "hpv_mechanisms_stage.lav").read_text()
    columns = list(data.columns)
    assert _key(build_partable(library, observed=columns)) == _key(
        build_partable(DEMO_MECHANISM_MODEL, observed=columns)
    )


def test_cfa_recovers_the_sign_and_size_of_true_loadings(cohort, data):
    fit = radsem.cfa(
        (MODELS / "hpv_mechanisms_cfa.lav").read_text(), data.reset_index(drop=True), missing="ml"
    )
    assert fit.converged
    est = fit.parameter_estimates().query("op == '=~'")
    truth = cohort.truth["measurement_model"]
    true_std = {lavaan_name(g): w for g, w in zip(truth["gene"], truth["std_loading"])}
    # marker-variable scaling orients each factor like its first indicator (loading fixed at 1),
    # so E6, whose markers all fall with E6 activity, comes out reversed: align each factor by the
    # true sign of its marker, then every standardized loading must match the truth
    markers = est.groupby("lhs")["rhs"].first()
    for _, row in est.iterrows():
        orientation = np.sign(true_std[markers[row["lhs"]]])
        aligned = orientation * row["std_all"]
        assert np.sign(aligned) == np.sign(true_std[row["rhs"]]), row["rhs"]
        assert abs(aligned - true_std[row["rhs"]]) < 0.15, row["rhs"]


def test_by_clade_model_fits_two_groups(cohort, data):
    clade = cohort.clinical.set_index("patient_id")["hpv_clade"]
    frame = data.join(clade)
    frame = frame[frame["hpv_clade"].isin(["A9", "A7"])].dropna()
    model = (MODELS / "hpv_mechanisms_by_clade.lav").read_text()
    configural = radsem.cfa(model, frame, group="hpv_clade")
    metric = radsem.cfa(model, frame, group="hpv_clade", group_equal=("loadings",))
    assert configural.converged
    assert metric.converged
    # with no constraint across groups, the configural chi-square is the sum of the groups' own
    separate = sum(
        radsem.cfa(model, frame[frame["hpv_clade"] == g]).fit_measures()["chisq"]
        for g in ("A9", "A7")
    )
    assert configural.fit_measures()["chisq"] == pytest.approx(separate, rel=1e-6)
    df_gap = metric.fit_measures()["df"] - configural.fit_measures()["df"]
    assert df_gap == 16  # 20 loadings, 4 of them fixed markers, now equal across 2 groups
    # loadings are truly equal across clades in the simulation: metric invariance holds
    assert metric.fit_measures()["chisq"] - configural.fit_measures()["chisq"] < 40


def _prepare_imaging(features):
    """The preparation stated in the header of hpv_mechanisms_recurrence.lav: log of the mesh
    volume, then a z-score (ddof=1) of each of the four imaging columns."""
    out = features[IMAGING].copy()
    out["t2_original_shape_MeshVolume"] = np.log(out["t2_original_shape_MeshVolume"])
    return (out - out.mean()) / out.std(ddof=1)


@pytest.fixture(scope="module")
def imaging_cohort(tmp_path_factory):
    from radsem.io import read_cohort
    from radsem.radiomics import extract_cohort

    # the smallest grid on which every simulated tumour still has a usable mask; extraction is
    # restricted to the two feature classes the model uses (the names are those of the default
    # extraction)
    cohort = simulate_cohort(n=150, seed=11, images=True, image_shape=(6, 24, 24))
    folder = write_cohort(cohort, tmp_path_factory.mktemp("imaging") / "cohort")
    settings = {
        "featureClass": {"shape": ["MeshVolume", "Sphericity"], "firstorder": ["Mean", "Entropy"]}
    }
    result = extract_cohort(read_cohort(folder), settings=settings, progress=False)
    assert len(result.failures) == 0
    features = result.features.copy()
    features.index = features.index.astype(str)
    outcome = cohort.clinical.set_index("patient_id")[["time", "event"]]
    table = sem_table(cohort).join(_prepare_imaging(features)).join(outcome)
    return cohort, table


def test_recurrence_model_recovers_the_truths_hazard_directions(imaging_cohort):
    cohort, table = imaging_cohort
    fit = radsem.sem(
        (MODELS / "hpv_mechanisms_recurrence.lav").read_text(), table.reset_index(drop=True)
    )
    assert fit.converged
    hr = fit.hazard_ratios()
    truth = cohort.truth["parameters"]["recurrence_log_hr"]
    loadings = cohort.truth["measurement_model"]
    true_std = {lavaan_name(g): w for g, w in zip(loadings["gene"], loadings["std_loading"])}
    est = fit.parameter_estimates()
    markers = est.query("op == '=~'").groupby("lhs")["rhs"].first()
    latent_sd = cohort.latent[sorted(MECHANISMS)].std(ddof=1)
    for name in sorted(MECHANISMS):
        # each factor is oriented like its marker gene (E6's marker CDKN1A falls with E6)
        orientation = np.sign(true_std[markers[name]])
        log_hr = orientation * hr.at[name, "log_hr"]
        assert np.sign(log_hr) == np.sign(truth[name]), name
        # the truth's log HR per SD of the true mechanism, within 3 standard errors
        assert abs(log_hr - truth[name] * latent_sd[name]) < 3 * hr.at[name, "se"], name
    # given the mechanisms, the image carries no information on recurrence in the simulation
    assert hr.at["imaging", "ci_lower"] < 1 < hr.at["imaging", "ci_upper"]
    assert hr.at["advanced", "hr"] > 1
    # the imaging phenotype (scaled by log volume) grows with E7 and hypoxia, and with it the
    # tumour is less spherical, more heterogeneous and lower in ADC
    paths = est.query("lhs == 'imaging'").set_index(["op", "rhs"])["est"]
    assert paths[("~", "E7")] > 0
    assert paths[("~", "hypoxia")] > 0
    assert paths[("=~", "t2_original_shape_Sphericity")] < 0
    assert paths[("=~", "t2_original_firstorder_Entropy")] > 0
    assert paths[("=~", "adc_original_firstorder_Mean")] < 0
