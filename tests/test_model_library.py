"""Every model of the library in models/ parses, fits a simulated cohort and recovers its truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import radsem
from radsem.demo import DEMO_MECHANISM_MODEL, sem_table
from radsem.simulate import lavaan_name, simulate_cohort
from radsem.spec import build_partable

MODELS = Path(__file__).resolve().parents[1] / "models"


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
        columns = [*data.columns, "hpv_clade"]
        spec = build_partable(path.read_text(), observed=columns)
        assert set(spec.latent) == {"E6", "E7", "immune", "hypoxia"}, path.name


def test_demo_model_is_the_library_stage_model(data):
    library = (MODELS / "hpv_mechanisms_stage.lav").read_text()
    columns = list(data.columns)
    assert _key(build_partable(library, observed=columns)) == _key(
        build_partable(DEMO_MECHANISM_MODEL, observed=columns))


def test_cfa_recovers_the_sign_and_size_of_true_loadings(cohort, data):
    fit = radsem.cfa((MODELS / "hpv_mechanisms_cfa.lav").read_text(), data.reset_index(drop=True),
                     missing="ml")
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
