"""The main job, ``radsem demo``: it runs end to end and writes its tables and reports."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from radsem import cli
from radsem.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    return run_demo(out, n=48, seed=5, jobs=2, epochs=3, progress=False)


@pytest.mark.slow
def test_demo_writes_every_step(demo):
    out = demo.out
    for name in ("report.md", "sem_report.html", "outcome_report.html", "provenance.json"):
        assert (out / name).stat().st_size > 0, name
    features = pd.read_csv(out / "radiomics" / "features.csv")
    assert features.shape[1] == 1 + 293  # patient_id + the 293 features of Halle et al.
    counts = demo.tables["radiomics/harmonisation_counts"]
    assert counts.loc["after", "associated_with_protocol"] == 0
    assert counts.loc["before", "associated_with_protocol"] > 0
    assert demo.tables["sem/parameter_estimates"]["est"].notna().all()
    assert set(demo.tables["sem/factor_scores"].columns) == {"E6", "E7", "immune", "hypoxia"}
    assert demo.tables["clusters/labels"]["cluster"].nunique() == 3
    assert (demo.tables["survival/cox_models"]["hr"] > 0).all()
    assert (demo.tables["deep/gan_synthetic_expression"]["synthetic"]).all()
    # every compared model is either scored out of sample or its failed folds are reported (with
    # 48 patients, the SEM of 20 genes cannot be fitted on the few training patients with
    # expression, and the demo must say so rather than drop the model silently)
    compared = demo.tables["compare/summary"].query("metric == 'harrell_c'").dropna(subset=["mean"])
    failed = set(demo.tables["compare/failures"]["model"])
    assert set(compared["model"]) | failed == {
        "clinical Cox (FIGO III/IV + age)",
        "penalised radiomic Cox",
        "radiomic clusters (k-medoids) Cox",
        "SEM mechanism scores + clinical",
        "CAE image codes + clinical Cox",
        "latent mechanisms -> recurrence (joint SEM-Cox)",
    }
    assert "clinical Cox (FIGO III/IV + age)" in set(compared["model"])
    assert compared["mean"].between(0, 1).all()
    # the same families, as logistic models for recurrence within the demo's horizon
    auc = demo.tables["compare/binary_summary"].query("metric == 'auc'").dropna(subset=["mean"])
    binary_failed = set(demo.tables["compare/binary_failures"]["model"])
    assert "clinical Cox (FIGO III/IV + age)" in set(auc["model"])
    assert set(auc["model"]) | binary_failed >= {
        "clinical Cox (FIGO III/IV + age)",
        "penalised radiomic Cox",
    }
    assert auc["mean"].between(0, 1).all()
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["seed"] == 5
    html = (out / "outcome_report.html").read_text()
    assert "Kaplan-Meier" in html
    assert "tertile of out-of-fold risk" in html or any(
        "no risk tertiles" in note for note in demo.notes
    )
    assert "Calibration" in html
    assert "LogrankResult(" not in html
    # what a clinician reads: per-SD SEM hazard ratios with N and events, decision curves,
    # warnings apart from the overview
    assert "(per SD)" in html
    assert "events)" in html
    assert 'id="decision-curves' in html
    if any(": " in n and "Warning: " in n for n in demo.notes):
        assert '<section id="warnings">' in html
    assert "P001" not in html  # no patient identifiers in the report


def test_demo_refuses_too_few_patients(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path / "x"), "--n", "0", "--quiet"]) == cli.EXIT_INPUT
    assert "at least 40 patients" in capsys.readouterr().err


def test_demo_refuses_non_empty_output_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("user data")
    assert cli.main(["demo", "--out", str(tmp_path), "--quiet"]) == cli.EXIT_INPUT
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "user data"
