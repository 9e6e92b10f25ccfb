"""issue 13: a comparison with a single model family ran the folds, then exited 1 with
KeyError 'model' while writing the report; it now writes every output (no paired rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.cli import main


def test_single_family_comparison_runs(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(n)],
            "time": rng.exponential(10, n) + 0.1,
            "event": rng.integers(0, 2, n),
            "age": rng.normal(60, 8, n),
        }
    ).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        "data:\n  table: data.csv\noutcome:\n  time: time\n  event: event\nfamilies:\n"
        "  clinical:\n    family: clinical_cox\n    covariates: [age]\n"
        "cross_validation:\n  folds: 3\n  repeats: 1\n"
    )
    out = tmp_path / "run"
    assert main(["compare", str(tmp_path / "c.yaml"), "--out", str(out), "--quiet"]) == 0
    paired = pd.read_csv(out / "paired.csv")
    assert paired.empty
    assert list(paired.columns[:3]) == ["model", "reference", "metric"]
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["model"]) == {"clinical"}
    assert (out / "report.html").is_file()
