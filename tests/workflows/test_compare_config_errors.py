"""The YAML configuration of ``radsem compare``: every mistake is a clear error naming the
file, the key and the line, before any work."""

from __future__ import annotations

import textwrap

import pytest

from radsem.cli import main
from radsem.errors import RadsemError
from radsem.workflows import ConfigError, ModelFileSyntaxError, read_comparison_config
from radsem.workflows.compare_config import measurement_part

GOOD = """\
data:
  table: data.csv
outcome:
  time: time
  event: event
families:
  clinical:
    family: clinical_cox
    covariates: [age]
  scores:
    family: sem_score_cox
    model: m.lav
cross_validation:
  folds: 3
  repeats: 2
  seed: 1
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "data.csv").write_text("patient_id,time,event,age,y1,y2,y3\nA,1,1,50,0,1,2\n")
    (tmp_path / "m.lav").write_text("f =~ y1 + y2 + y3\n")
    return tmp_path


def _read(folder, text, **kwargs):
    path = folder / "c.yaml"
    path.write_text(textwrap.dedent(text))
    return read_comparison_config(path, **kwargs)


def test_good_configuration_is_read(folder):
    config = _read(folder, GOOD)
    assert [f.name for f in config.families] == ["clinical", "scores"]
    assert config.compare_settings() == {
        "time": "time",
        "event": "event",
        "n_splits": 3,
        "n_repeats": 2,
        "random_state": 1,
        "n_jobs": 1,
        "alpha": 0.05,
    }
    assert config.data.table == (folder / "data.csv").resolve()
    assert config.families[1].params["model"] == "f =~ y1 + y2 + y3\n"


@pytest.mark.parametrize(
    ("change", "line", "key", "message"),
    [
        (
            ("  folds: 3", "  folds: three"),
            14,
            "cross_validation.folds",
            "expected a whole number, got str 'three'",
        ),
        (("  folds: 3", "  folds: 1"), 14, "cross_validation.folds", "must be at least 2"),
        (("  seed: 1", "  sed: 1"), 16, "cross_validation.sed", "did you mean 'seed'?"),
        (
            ("    covariates: [age]", "    covariate: [age]"),
            9,
            "families.clinical.covariate",
            "unknown key 'covariate'",
        ),
        (("  table: data.csv", "  table: nope.csv"), 2, "data.table", "file not found"),
        (
            ("    model: m.lav", "    model: gone.lav"),
            12,
            "families.scores.model",
            "file not found",
        ),
        (
            ("    family: clinical_cox", "    family: clinical_coxx"),
            8,
            "families.clinical.family",
            "unknown family 'clinical_coxx'",
        ),
        (
            ("    family: clinical_cox\n    covariates: [age]", "    family: no_such_module_xyz:M"),
            8,
            "families.clinical.family",
            "unknown family 'no_such_module_xyz:M': valid families are",
        ),
        (
            ("  event: event", "  event: event\n  type: ordinal"),
            6,
            "outcome.type",
            "is not supported",
        ),
        (
            ("    covariates: [age]", "    covariates: [age, 3]"),
            9,
            "families.clinical.covariates",
            "expected a name, got int 3",
        ),
        (("  repeats: 2", "  repeats: 2\n  folds: 4"), 16, None, "duplicated key 'folds'"),
    ],
)
def test_bad_values_name_key_and_line(folder, change, line, key, message):
    with pytest.raises(ConfigError) as info:
        _read(folder, GOOD.replace(*change))
    err = info.value
    assert message in str(err)
    assert err.line == line
    if key is not None:
        assert err.key == key
        assert f"key '{key}'" in str(err)
    assert str(err).startswith(f"{folder / 'c.yaml'}, line {line}")


def test_missing_required_sections(folder):
    with pytest.raises(ConfigError, match="required key 'families' is missing"):
        _read(folder, "data:\n  table: data.csv\n")
    with pytest.raises(ConfigError, match="required key 'data' is missing"):
        _read(folder, "families:\n  c:\n    family: clinical_cox\n")
    with pytest.raises(ConfigError, match="give exactly one of 'cohort'"):
        _read(folder, GOOD.replace("  table: data.csv", "  id: x"))
    with pytest.raises(ConfigError, match="required key 'features' is missing"):
        _read(
            folder,
            GOOD.replace(
                "    family: clinical_cox\n    covariates: [age]", "    family: cluster_cox"
            ),
        )


def test_binary_outcome_options(folder):
    from radsem.workflows.compare_config import _harness_supports_binary

    text = GOOD.replace("  event: event", "  event: event\n  type: binary\n  horizon: 24")
    if _harness_supports_binary():
        config = _read(folder, text)
        assert config.compare_settings()["outcome"] == "binary"
        assert config.compare_settings()["horizon"] == 24.0
        with pytest.raises(ConfigError, match="needs 'horizon'"):
            _read(folder, text.replace("  horizon: 24\n", ""))
        with pytest.raises(ConfigError, match="optimism bootstrap corrects Harrell's C"):
            _read(folder, text + "bootstrap:\n  n_boot: 5\n")
    with pytest.raises(ConfigError, match="'horizon' is for outcome type 'binary'"):
        _read(folder, GOOD.replace("  event: event", "  event: event\n  horizon: 24"))


def test_malformed_yaml_gives_the_line(folder):
    with pytest.raises(ConfigError) as info:
        _read(folder, "families:\n  a: [1, 2\n  b: 3\n")
    assert "not valid YAML" in str(info.value)
    assert info.value.line is not None
    with pytest.raises(ConfigError, match="expected a mapping of keys, got a list"):
        _read(folder, "- 1\n- 2\n")
    with pytest.raises(ConfigError, match="the file is empty"):
        _read(folder, "# nothing\n")


def test_lav_syntax_error_names_file_line_column(folder):
    (folder / "m.lav").write_text("# model\nf =~ y1 + + y2\n")
    with pytest.raises(ModelFileSyntaxError) as info:
        _read(folder, GOOD)
    assert str(info.value).startswith(f"{folder / 'm.lav'}:2:11: ")


class _NoPredict:
    def __init__(self, a=1):
        self.a = a

    def fit(self, train, time, event):
        return self


class _Fine(_NoPredict):
    def predict_risk(self, test):
        return test["age"]


def test_user_family_is_registered_and_checked_up_front(folder):
    from radsem.workflows import register_family, unregister_family

    with pytest.raises(ConfigError, match="has no fit/predict_risk methods"):
        register_family("no_predict", _NoPredict)
    register_family("fine", _Fine)
    try:
        base = GOOD.replace(
            "    family: clinical_cox\n    covariates: [age]",
            "    family: fine\n    params: {a: 2}",
        )
        assert _read(folder, base).families[0].family == "fine"
        with pytest.raises(ConfigError, match="unexpected keyword argument 'b'"):
            _read(folder, base.replace("{a: 2}", "{b: 2}"))
        with pytest.raises(ConfigError, match="already registered"):
            register_family("fine", type("Other", (_Fine,), {}))
    finally:
        unregister_family("fine")


@pytest.mark.parametrize(
    "family",
    [
        "os:system",
        "subprocess:call",
        "builtins:eval",
        "radsem.compare:ClinicalCox",
        "wf_next_to_config:Cls",
    ],
)
def test_config_never_imports_code(folder, family, tmp_path):
    """issue 13: 'family: os:system' ran a shell command during 'radsem compare --check'."""
    marker = tmp_path / "pwned"
    (folder / "wf_next_to_config.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\nclass Cls: pass\n"
    )
    text = GOOD.replace(
        "    family: clinical_cox\n    covariates: [age]",
        f"    family: {family}\n    params: {{command: 'touch {marker}'}}",
    )
    with pytest.raises(ConfigError) as info:
        _read(folder, text)
    assert info.value.key == "families.clinical.family"
    assert f"unknown family {family!r}" in str(info.value)
    assert "clinical_cox, penalised_cox, cluster_cox, sem_score_cox" in str(info.value)
    assert not marker.exists()


def test_cli_maps_config_errors_to_exit_3(folder, capsys):
    path = folder / "c.yaml"
    path.write_text(GOOD.replace("  seed: 1", "  seed: -1"))
    assert main(["compare", str(path)]) == 3
    err = capsys.readouterr().err
    assert "line 16, key 'cross_validation.seed': must be at least 0" in err
    assert main(["compare", str(folder / "absent.yaml")]) == 3
    assert "configuration file not found" in capsys.readouterr().err
    assert issubclass(ConfigError, RadsemError)


def test_output_folder_may_not_be_an_input_folder(folder, capsys):
    path = folder / "c.yaml"
    path.write_text(GOOD)
    assert main(["compare", str(path), "--out", str(folder), "--quiet"]) == 3
    assert "is the folder of the input" in capsys.readouterr().err


def test_output_folder_may_not_lie_inside_the_cohort(tmp_path, capsys):
    from radsem.simulate import simulate

    simulate(n=12, seed=1, out=tmp_path / "cohort", images=False)
    path = tmp_path / "c.yaml"
    path.write_text(
        "data:\n  cohort: cohort\nfamilies:\n  c:\n    family: clinical_cox\n"
        "output: cohort/results\n"
    )
    assert main(["compare", str(path), "--quiet"]) == 3
    assert "lies inside the input folder" in capsys.readouterr().err
    assert not (tmp_path / "cohort" / "results").exists()


def test_unknown_column_is_a_data_error(folder, capsys):
    path = folder / "c.yaml"
    path.write_text(GOOD.replace("[age]", "[age, weight]"))
    assert main(["compare", str(path), "--out", str(folder / "o"), "--quiet"]) == 3
    assert "family 'clinical': column(s) 'weight'" in capsys.readouterr().err


def test_measurement_part_keeps_continuation_lines():
    model = "# c\nf =~ a + b +\n  c\nf ~ x\ng =~ d + e  # note\n"
    assert measurement_part(model) == "f =~ a + b +\n  c\ng =~ d + e\n"
