"""Downstream Cox / SEM results refitted on reference- vs predicted-mask features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.demo import sem_table
from radsem.errors import DataError
from radsem.segment.downstream import (
    IMAGING_FEATURES,
    downstream_change,
    prepare_imaging,
)
from radsem.simulate import simulate_cohort
from radsem.survival import cox


@pytest.fixture(scope="module")
def study():
    """Expression, outcome and imaging features generated from the true mechanisms; the
    'predicted' features are the reference ones with mask-like errors."""
    cohort = simulate_cohort(160, seed=12, images=False)
    eta = cohort.latent.set_index("patient_id")
    rng = np.random.default_rng(4)
    n = len(eta)
    e7, hyp = eta["E7"].to_numpy(), eta["hypoxia"].to_numpy()
    img = 0.5 * e7 + 0.5 * hyp + rng.normal(0, 0.8, n)  # the imaging phenotype
    reference = pd.DataFrame(
        {
            "t2_original_shape_MeshVolume": np.exp(8 + 0.4 * img + rng.normal(0, 0.2, n)),
            "t2_original_shape_Sphericity": 0.8 - 0.05 * img + rng.normal(0, 0.03, n),
            "t2_original_firstorder_Entropy": 3 + 0.3 * img + rng.normal(0, 0.2, n),
            "adc_original_firstorder_Mean": 1100 - 80 * img + rng.normal(0, 60, n),
        },
        index=eta.index,
    )
    predicted = reference.copy()
    predicted["t2_original_shape_MeshVolume"] *= np.exp(rng.normal(0.05, 0.15, n))
    predicted["adc_original_firstorder_Mean"] += rng.normal(0, 40, n)
    outcome = cohort.clinical.set_index("patient_id")[["time", "event"]]
    return reference, predicted, outcome, sem_table(cohort).drop(columns="age")


def test_same_features_change_nothing(study):
    reference, _, outcome, data = study
    res = downstream_change(reference, reference.copy(), outcome, sem_data=data)
    assert list(res.cox["term"]) == ["radiomic score", *IMAGING_FEATURES]
    np.testing.assert_allclose(res.cox["log_hr_diff"], 0, atol=1e-10)
    np.testing.assert_allclose(res.cox["cindex_diff"], 0, atol=1e-12)
    np.testing.assert_allclose(res.sem["diff"], 0, atol=1e-6)
    np.testing.assert_allclose(res.fit_measures["diff"], 0, atol=1e-6)
    assert len(res.patients) == 160
    assert res.warnings == []


def test_cox_rows_are_the_cox_models_of_each_table(study):
    reference, predicted, outcome, _ = study
    res = downstream_change(reference, predicted, outcome)
    row = res.cox.set_index("term").loc["adc_original_firstorder_Mean"]
    for source, table in (("reference", reference), ("predicted", predicted)):
        x = table["adc_original_firstorder_Mean"]
        data = outcome.assign(z=(x - x.mean()) / x.std())
        direct = cox(data, time="time", event="event", covariates=["z"])
        assert row[f"hr_{source}"] == pytest.approx(direct.hazard_ratios().loc["z", "hr"])
        assert row[f"cindex_{source}"] == pytest.approx(direct.concordance.concordance)
    assert row["log_hr_diff"] == pytest.approx(
        np.log(row["hr_predicted"]) - np.log(row["hr_reference"])
    )
    # the score uses the reference loadings on both sides: first PC, volume positive
    load = res.score_loadings
    assert load.iloc[0] > 0
    assert np.linalg.norm(load) == pytest.approx(1.0)
    z = prepare_imaging(reference)
    assert np.allclose(np.linalg.eigh(np.corrcoef(z.T))[1][:, -1] ** 2, load**2)


def test_sem_paths_move_with_the_mask_error(study):
    reference, predicted, outcome, data = study
    res = downstream_change(reference, predicted, outcome, sem_data=data)
    sem = res.sem.set_index(["lhs", "op", "rhs"]).sort_index()
    # gene loadings hardly move; the imaging loadings with the perturbed features do
    genes = sem.loc["E7", "=~"]
    assert genes["diff"].abs().max() < 0.02
    vol = sem.loc[("imaging", "=~", "t2_original_shape_MeshVolume")]
    assert abs(vol["diff"]) > 0.005
    assert np.isfinite(sem.loc[("imaging", "~", "E7"), "std_predicted"])
    assert (sem["diff"] == sem["std_predicted"] - sem["std_reference"]).all()


def test_bad_input(study):
    reference, predicted, outcome, data = study
    with pytest.raises(DataError, match="at least 10 patients"):
        downstream_change(reference.iloc[:5], predicted, outcome)
    with pytest.raises(DataError, match="lacks"):
        downstream_change(reference.drop(columns=IMAGING_FEATURES[1]), predicted, outcome)
    with pytest.raises(DataError, match="no column 'time'"):
        downstream_change(reference, predicted, outcome.rename(columns={"time": "t"}))
    with pytest.raises(DataError, match="no event"):
        downstream_change(reference, predicted, outcome.assign(event=0))


class _Dilated:
    """A 'model' whose masks are the reference masks grown by one voxel in-plane (a
    systematic over-segmentation), to run the evaluation end to end without training."""

    method = "dilated"
    model_hash = "0" * 64

    def predict_case(self, case):
        from scipy import ndimage

        structure = np.zeros((3, 3, 3), dtype=bool)
        structure[1] = True
        return ndimage.binary_dilation(case.mask, structure=structure)


@pytest.fixture(scope="module")
def labelled_cohort(tmp_path_factory):
    from radsem.simulate import simulate

    return simulate(
        16, seed=31, out=tmp_path_factory.mktemp("down") / "cohort", image_shape=(8, 24, 24)
    )


_SETTINGS = {
    "featureClass": {"shape": ["MeshVolume", "Sphericity"], "firstorder": ["Mean", "Entropy"]}
}


def test_assess_predictions_end_to_end(labelled_cohort, tmp_path):
    from radsem.segment import predict_masks
    from radsem.workflows.segment_assess import assess_predictions

    predict_masks(_Dilated(), labelled_cohort, tmp_path / "pred")
    res = assess_predictions(
        labelled_cohort, tmp_path / "pred", downstream=True, settings=_SETTINGS
    )
    assert set(res.per_patient["method"]) == {"dilated", "threshold"}
    dilated = res.per_patient[res.per_patient["method"] == "dilated"]
    assert (dilated["volume_pred_ml"] > dilated["volume_ref_ml"]).all()
    assert res.feature_icc is not None
    assert len(res.feature_icc) >= 4
    cox = res.downstream.cox.set_index("term")
    assert cox.loc["radiomic score", "n"] == 16
    # a dilated mask is larger: the log volume shifts, but its rank order barely moves
    assert abs(cox.loc["t2_original_shape_MeshVolume", "cindex_diff"]) < 0.1
    assert res.downstream.sem is not None or res.downstream.warnings
    written = res.write(tmp_path / "eval")
    assert {p.name for p in written} >= {"per_patient.csv", "downstream_cox.csv", "report.html"}
    html = (tmp_path / "eval" / "report.html").read_text()
    for text in (
        "Automatic segmentation",
        "predicted against reference tumour volume",
        "Cox models",
        "radiomic score",
    ):
        assert text in html, text


def test_cli_evaluate_downstream(labelled_cohort, tmp_path, capsys):
    import pandas as pd

    from radsem.cli import main
    from radsem.segment import predict_masks

    predict_masks(_Dilated(), labelled_cohort, tmp_path / "pred")
    args = ["segment", "evaluate", str(labelled_cohort), "--predicted", str(tmp_path / "pred")]
    assert main([*args, "--out", str(tmp_path / "eval"), "--downstream"]) == 0
    printed = capsys.readouterr()
    assert "radiomic score, Cox HR per SD" in printed.out
    assert "SEM, reference masks: not fitted (too few cases" in printed.err  # 16 patients
    cox = pd.read_csv(tmp_path / "eval" / "downstream_cox.csv")
    assert cox["term"].iloc[0] == "radiomic score"
    assert (tmp_path / "eval" / "feature_icc.csv").is_file()


def test_sem_standardized_estimates_match_lavaan(study):
    """The SEM numbers of the comparison are lavaan's (FIML, std.all), for both mask sources."""
    from radsem.engines.lavaan import fit_lavaan, lavaan_available
    from radsem.segment.downstream import DOWNSTREAM_SEM

    if not lavaan_available():
        pytest.skip("R with lavaan not available")
    reference, predicted, outcome, data = study
    res = downstream_change(reference, predicted, outcome, sem_data=data)
    sem = res.sem.set_index(["lhs", "op", "rhs"])
    for source, table in (("reference", reference), ("predicted", predicted)):
        frame = data.join(prepare_imaging(table)).reset_index(drop=True)
        lav = fit_lavaan(DOWNSTREAM_SEM, frame, "sem", missing="ml")
        std = lav.standardized_solution().set_index(["lhs", "op", "rhs"])["est_std"]
        mine = sem[f"std_{source}"]
        np.testing.assert_allclose(mine.to_numpy(), std.reindex(mine.index).to_numpy(), atol=1e-4)
