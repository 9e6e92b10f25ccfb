"""issue 13: ``radsem fit`` refused the library's own Surv() model (``unknown modifier
Surv()``), which models/README.md says can be fitted from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main
from radsem.workflows import ModelFileSyntaxError, read_model_file

MODEL = Path(__file__).resolve().parents[2] / "models" / "hpv_mechanisms_recurrence.lav"
IMAGING = {
    "t2_original_shape_MeshVolume": 1.0,
    "t2_original_shape_Sphericity": -0.8,
    "t2_original_firstorder_Entropy": 0.7,
    "adc_original_firstorder_Mean": -0.6,
}


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    """A simulated cohort's expression, stage, age and recurrence, with four imaging columns
    drawn as the model says (a phenotype driven by E7 and hypoxia, z-scored indicators)."""
    from radsem.demo import sem_table
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=200, seed=11, images=False)
    data = sem_table(cohort)
    latent = cohort.latent.set_index("patient_id").reindex(data.index)
    rng = np.random.default_rng(0)
    phenotype = (
        0.4 * latent["E7"].to_numpy()
        + 0.4 * latent["hypoxia"].to_numpy()
        + 0.7 * rng.standard_normal(len(data))
    )
    for col, loading in IMAGING.items():
        x = loading * phenotype + 0.6 * rng.standard_normal(len(data))
        data[col] = (x - x.mean()) / x.std(ddof=1)
    data = data.join(cohort.clinical.set_index("patient_id")[["time", "event"]])
    path = tmp_path_factory.mktemp("rec") / "recurrence.csv"
    data.rename_axis("patient_id").to_csv(path)
    return path


def test_library_survival_model_is_read():
    text = read_model_file(MODEL)
    assert "Surv(time, event)" in text


def test_survival_syntax_errors_name_file_line_column(tmp_path):
    bad = tmp_path / "bad.lav"
    bad.write_text("f =~ y1 + y2 + y3\nrec =~ Surv(time)\nrec ~ f\n")
    with pytest.raises(ModelFileSyntaxError) as info:
        read_model_file(bad)
    assert str(info.value).startswith(f"{bad}:2:")


def test_radsem_fit_fits_the_library_survival_model(table, tmp_path, capsys):
    out = tmp_path / "fit"
    code = main(["fit", str(MODEL), str(table), "--out", str(out), "--missing", "ml", "--quiet"])
    assert code == 0, capsys.readouterr().err
    pe = pd.read_csv(out / "parameters.csv")
    hazards = pe[(pe["lhs"] == "recurrence") & (pe["op"] == "~")].set_index("rhs")
    assert set(hazards.index) == {"E6", "E7", "immune", "hypoxia", "imaging", "advanced", "age"}
    assert hazards.loc["advanced", "est"] > 0  # stage raises the hazard in the simulation
    payload = json.loads((out / "fit.json").read_text())
    assert payload["converged"] is True
