"""``radsem compare`` with a binary patient label as the outcome (``outcome: {label: ...}``),
and the clear errors (exit 3, naming the column) for a label with one class or missing values."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main
from radsem.workflows import read_comparison_config
from radsem.workflows._yaml import ConfigError

CONFIG = """\
title: label test
data:
  table: patients.csv
outcome:
  label: tp53
  positive: mutant
families:
  clinical:
    family: clinical_cox
  ridge radiomics:
    family: penalised_cox
    features: {{regex: "^original_"}}
    penalizer: 1.0
    select: 3
cross_validation:
  folds: 3
  repeats: 2
  seed: 3
{extra}"""


def _table(n: int = 90) -> pd.DataFrame:
    """Two of six features carry the label; age and stage do not."""
    rng = np.random.default_rng(4)
    latent = rng.normal(size=n)
    table = pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "age": rng.normal(60, 8, n).round(1),
            "figo_stage": rng.choice(["IB", "II", "IIIA", "IVB"], n),
            "tp53": np.where(latent + 0.5 * rng.normal(size=n) > 0, "mutant", "wild type"),
        }
    )
    for j in range(6):
        table[f"original_f{j}"] = rng.normal(size=n) + (latent if j < 2 else 0.0)
    return table


def _write(folder, table, extra=""):
    table.to_csv(folder / "patients.csv", index=False)
    path = folder / "compare.yaml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return path


def test_label_outcome_end_to_end(tmp_path):
    path = _write(tmp_path, _table())
    config = read_comparison_config(path)
    assert (config.outcome, config.label, config.positive) == ("label", "tp53", "mutant")
    settings = config.compare_settings()
    assert "time" not in settings
    assert settings["outcome"] == "label"
    out = tmp_path / "run"
    assert main(["compare", str(path), "--out", str(out), "--quiet"]) == 0
    summary = pd.read_csv(out / "summary.csv").query("metric == 'auc'").set_index("model")
    assert summary.loc["ridge radiomics", "ci_lower"] > 0.6  # the features carry the label
    assert summary.loc["clinical", "ci_lower"] < 0.5 < summary.loc["clinical", "ci_upper"]
    paired = pd.read_csv(out / "paired.csv")
    assert paired.loc[0, "metric"] == "auc"
    preds = pd.read_csv(out / "predictions.csv")
    assert set(preds["label"]) == {0, 1}
    assert "label" in (out / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.assign(tp53="mutant"), "'tp53' must have exactly two classes, found 1"),
        (
            lambda t: t.assign(tp53=t["tp53"].where(t.index > 2)),
            r"'tp53' has 3 missing value\(s\) \(patients \['P000', 'P001', 'P002'\]\)",
        ),
        (lambda t: t.drop(columns="tp53"), "label column 'tp53' is not in the data"),
        (
            lambda t: t.assign(tp53=np.where(t.index < 2, "mutant", "wild type")),
            "'tp53': 2 patients of class 'mutant'",
        ),
    ],
    ids=["one class", "missing values", "no column", "too few"],
)
def test_bad_label_exits_3_naming_the_column(tmp_path, capsys, edit, message):
    path = _write(tmp_path, edit(_table()))
    assert main(["compare", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert not (tmp_path / "run" / "summary.csv").exists()


def test_label_outcome_config_errors(tmp_path):
    base = CONFIG.format(extra="")
    with_horizon = base.replace("  positive: mutant", "  positive: mutant\n  horizon: 2")
    with pytest.raises(ConfigError, match="'horizon' is for survival outcomes"):
        read_comparison_config(_write_text(tmp_path, with_horizon))
    survival = base.replace("  positive: mutant", "  type: survival")
    with pytest.raises(ConfigError, match="'label' is for a binary patient label"):
        read_comparison_config(_write_text(tmp_path, survival))
    boot = CONFIG.format(extra="bootstrap:\n  n_boot: 5\n")
    with pytest.raises(ConfigError, match="remove it for a binary outcome"):
        read_comparison_config(_write_text(tmp_path, boot))


def _write_text(folder, text):
    _table().to_csv(folder / "patients.csv", index=False)
    path = folder / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_label_outcome_permutations(tmp_path):
    """``outcome: permutations: 39``: the permutation columns in summary.csv, the report and
    the terminal summary, equal to compare_models(..., n_permutations=39) on the same data."""
    from radsem.compare import compare_models
    from radsem.workflows import read_comparison_data

    text = CONFIG.format(extra="").replace(
        "  positive: mutant", "  positive: mutant\n  permutations: 39"
    )
    text = text.replace("  repeats: 2", "  repeats: 1")
    path = _write_text(tmp_path, text)
    config = read_comparison_config(path)
    assert config.permutations == 39
    settings = config.compare_settings()
    assert settings["n_permutations"] == 39
    out = tmp_path / "run"
    assert main(["compare", str(path), "--out", str(out), "--quiet"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    auc = summary.query("metric == 'auc'").set_index("model")
    frame = read_comparison_data(config).frame
    models = config.build_models(columns=list(frame.columns))
    direct = compare_models(frame, models, **settings).summary()
    direct = direct.query("metric == 'auc'").set_index("model")
    for column in ("mean", "ci_lower", "auc_null", "pvalue_perm", "ci_lower_perm", "ci_upper_perm"):
        np.testing.assert_allclose(auc[column], direct[column], rtol=1e-12)
    assert (auc["n_permutations"] == 39).all()
    assert auc.loc["ridge radiomics", "ci_lower_perm"] > 0.5  # the features carry the label
    assert auc.loc["ridge radiomics", "pvalue_perm"] == pytest.approx(2 / 40)
    assert auc.loc["clinical", "ci_lower_perm"] <= 0.5 <= auc.loc["clinical", "ci_upper_perm"]
    assert summary.query("metric != 'auc'")["pvalue_perm"].isna().all()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "AUC under permuted labels" in report
    assert "ci_lower_perm" in report or "permutation" in report
    assert '"permutations": 39' in (out / "comparison.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-3", "must be at least 0, got -3"),
        ("many", "expected a whole number"),
        ("19", "19 permutations give no 95% interval: at least 39 are needed at alpha 0.05"),
    ],
    ids=["negative", "text", "too few"],
)
def test_label_outcome_bad_permutations(tmp_path, value, message):
    text = CONFIG.format(extra="").replace(
        "  positive: mutant", f"  positive: mutant\n  permutations: {value}"
    )
    path = _write_text(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        read_comparison_config(path)
    shown = str(info.value)
    assert "c.yaml" in shown
    assert "outcome.permutations" in shown


def test_permutations_need_a_label_outcome(tmp_path):
    text = CONFIG.format(extra="").replace(
        "  label: tp53\n  positive: mutant", "  type: survival\n  permutations: 39"
    )
    with pytest.raises(ConfigError, match="'permutations' is for a binary patient label"):
        read_comparison_config(_write_text(tmp_path, text))


def test_permutations_at_a_lower_level(tmp_path):
    """19 permutations are enough for a 90 % interval (alpha 0.1)."""
    text = CONFIG.format(extra="").replace(
        "  positive: mutant", "  positive: mutant\n  permutations: 19"
    )
    text = text.replace("  seed: 3", "  seed: 3\n  alpha: 0.1")
    assert read_comparison_config(_write_text(tmp_path, text)).permutations == 19
