"""``radsem compare``: end-to-end runs on a simulated cohort and on a table, through
``radsem.cli.main``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from workflow_helpers import run_cli, tree_hashes

from radsem.cli import main
from radsem.workflows import register_family


class AgeOnly:
    """Risk = age (a fixed score: nothing is learned)."""

    def __init__(self, sign=1.0):
        self.sign = sign

    def fit(self, train, time, event):
        return self

    def predict_risk(self, test):
        return pd.Series(self.sign * test["age"].to_numpy(float), index=test.index)


CONFIG = """\
title: workflow test
data:
  cohort: cohort
  join:
    radiomics: features.csv
outcome:
  time: time
  event: event
families:
  clinical:
    family: clinical_cox
  ridge radiomics:
    family: penalised_cox
    features: radiomics
    penalizer: 1.0
  clusters:
    family: cluster_cox
    features: {regex: "^original_"}
    n_clusters: 2
  SEM scores:
    family: sem_score_cox
    model: mechanisms.lav
    measurement_only: true
    clinical: [advanced]
  age only:
    family: age_only
    params: {sign: 1.0}
    columns: [age]
cross_validation:
  folds: 3
  repeats: 1
  seed: 11
"""


@pytest.fixture(scope="module")
def config_path(cohort_inputs):
    register_family("age_only", AgeOnly, replace=True)  # configurations never import code
    path = cohort_inputs / "compare.yaml"
    path.write_text(CONFIG + "bootstrap:\n  n_boot: 2\n  seed: 4\n")
    return path


@pytest.fixture(scope="module")
def cohort_run(config_path, cohort_inputs, tmp_path_factory):
    """One run of the full configuration (every family kind), with input hashes around it."""
    before = tree_hashes(cohort_inputs)
    out = tmp_path_factory.mktemp("cohort-run") / "run"
    code = main(["compare", str(config_path), "--out", str(out), "--quiet"])
    return code, out, before, tree_hashes(cohort_inputs)


def test_compare_cohort_end_to_end(cohort_run):
    code, run, before, after = cohort_run
    assert code == 0
    for name in (
        "summary.csv",
        "paired.csv",
        "per_fold.csv",
        "failures.csv",
        "predictions.csv",
        "calibration.csv",
        "optimism.csv",
        "report.html",
        "report.md",
        "comparison.json",
    ):
        assert (run / name).is_file(), name
    summary = pd.read_csv(run / "summary.csv")
    c = summary[summary["metric"] == "harrell_c"].set_index("model")
    assert list(c.index) == ["clinical", "ridge radiomics", "clusters", "SEM scores", "age only"]
    assert (c["n_folds"] == 3).all()
    assert c["mean"].between(0, 1).all()
    # the first two features carry the event signal: the ridge model must discriminate
    assert c.loc["ridge radiomics", "mean"] > 0.6
    optimism = pd.read_csv(run / "optimism.csv")
    assert list(optimism["model"]) == list(c.index)
    assert (optimism["n_boot"] == 2).all()
    payload = json.loads((run / "comparison.json").read_text())
    assert payload["settings"]["random_state"] == 11
    calibration = pd.read_csv(run / "calibration.csv")
    assert set(calibration["group"]) == {1, 2, 3}
    assert (calibration["horizon"] == payload["horizons"][0]).all()
    assert calibration[["predicted", "observed"]].stack().between(0, 1).all()
    assert after == before  # inputs are never modified


def test_compare_cohort_uses_complete_cases_of_used_columns(cohort_run, cohort_inputs):
    _, run, _, _ = cohort_run
    clinical = pd.read_csv(cohort_inputs / "cohort" / "clinical.csv", dtype={"patient_id": str})
    expression = pd.read_csv(cohort_inputs / "cohort" / "expression.csv", dtype={"patient_id": str})
    # the SEM family uses 20 of the genes: patients with all of them (and, here, features)
    genes = [g for g in expression.columns if g != "patient_id"]
    model_genes = [g for g in genes if g in (cohort_inputs / "mechanisms.lav").read_text()]
    assert len(model_genes) == 20
    complete = expression.loc[expression[model_genes].notna().all(axis=1), "patient_id"]
    predictions = pd.read_csv(run / "predictions.csv", dtype={"row": str})
    for _, rows in predictions.groupby("model"):
        assert set(rows["row"]) == set(complete)
    assert set(complete) <= set(clinical["patient_id"])
    report = (run / "report.md").read_text(encoding="utf-8")
    assert f"{len(clinical) - len(complete)} of {len(clinical)} patients" in report


def test_compare_cohort_report(cohort_run):
    _, run, _, _ = cohort_run
    html = (run / "report.html").read_text(encoding="utf-8")
    for section in (
        "Cross-validated metrics",
        "Differences between models",
        "Optimism-corrected C-index",
        "Provenance",
        "compare.yaml",
        "features.csv",
        "mechanisms.lav",
        "seed: cross_validation",
    ):
        assert section in html, section


TABLE_CONFIG = """\
data:
  table: patients.parquet
  id: pid
families:
  true mechanisms:
    family: clinical_cox
    covariates: [E6, E7, immune, hypoxia]
  mechanism clusters:
    family: cluster_cox
    features: [E6, E7, immune, hypoxia]
    n_clusters: 2
cross_validation: {folds: 3, repeats: 1, seed: 3}
output: results
"""


def test_compare_table_source_same_seed_same_numbers(tmp_path, capsys):
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=80, seed=2, images=False)
    table = cohort.clinical.merge(cohort.latent, on="patient_id").rename(
        columns={"patient_id": "pid"}
    )
    table.to_parquet(tmp_path / "patients.parquet")
    (tmp_path / "c.yaml").write_text(TABLE_CONFIG)
    code, out, err = run_cli(capsys, "compare", tmp_path / "c.yaml")
    assert code == 0, err
    assert "Harrell's C (cross-validated" in out
    first = tmp_path / "results"
    summary = pd.read_csv(first / "summary.csv")
    c = summary[summary["metric"] == "harrell_c"].set_index("model")
    assert c.loc["true mechanisms", "mean"] > 0.6  # the generating mechanisms drive recurrence
    assert (c["n_folds"] == 3).all()
    second = tmp_path / "second"
    assert run_cli(capsys, "compare", tmp_path / "c.yaml", "--out", second, "--quiet")[0] == 0
    for name in ("summary.csv", "per_fold.csv", "predictions.csv", "paired.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # a re-run into the same folder needs --overwrite
    code, _, err = run_cli(capsys, "compare", tmp_path / "c.yaml", "--quiet")
    assert code == 3
    assert "from an earlier run" in err
    # recurrence by 24 months as a binary outcome (IPCW), when the harness has it
    binary = TABLE_CONFIG.replace("families:", "outcome: {type: binary, horizon: 24}\nfamilies:")
    (tmp_path / "b.yaml").write_text(binary.replace("output: results", "output: binary"))
    from radsem.workflows.compare_config import _harness_supports_binary

    if not _harness_supports_binary():
        return
    code, out, err = run_cli(capsys, "compare", tmp_path / "b.yaml")
    assert code == 0, err
    assert "AUC (cross-validated" in out
    summary = pd.read_csv(tmp_path / "binary" / "summary.csv")
    auc = summary[summary["metric"] == "auc"].set_index("model")["mean"]
    assert auc["true mechanisms"] > 0.6
    paired = pd.read_csv(tmp_path / "binary" / "paired.csv")
    assert set(paired["metric"]) == {"auc"}


def test_check_only_validates(config_path, capsys):
    code, out, _ = run_cli(capsys, "compare", config_path, "--check")
    assert code == 0
    assert "valid; families: clinical, ridge radiomics" in out


def test_compare_on_a_dask_scheduler_same_numbers(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=80, seed=2, images=False)
    table = cohort.clinical.merge(cohort.latent, on="patient_id").rename(
        columns={"patient_id": "pid"}
    )
    table.to_parquet(tmp_path / "patients.parquet")
    (tmp_path / "c.yaml").write_text(TABLE_CONFIG)
    assert (
        run_cli(capsys, "compare", tmp_path / "c.yaml", "--out", tmp_path / "local", "--quiet")[0]
        == 0
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        code, _, err = run_cli(
            capsys,
            "compare",
            tmp_path / "c.yaml",
            "--out",
            tmp_path / "dask",
            "--quiet",
            "--scheduler",
            cluster.scheduler_address,
        )
    assert code == 0, err
    for name in ("summary.csv", "per_fold.csv", "predictions.csv", "paired.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (
            tmp_path / "dask" / name
        ).read_bytes(), name
