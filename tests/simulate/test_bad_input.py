"""Bad arguments give clear radsem errors (and CLI exit codes 2 / 3)."""

from __future__ import annotations

import pytest

from radsem.cli import main
from radsem.errors import DataError
from radsem.simulate import simulate, simulate_cohort, write_cohort


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "positive whole number"),
        ({"n": -3}, "positive whole number"),
        ({"n": 2.5}, "positive whole number"),
        ({"n": 5, "seed": -1}, "non-negative integer"),
        ({"n": 5, "image_shape": (2, 8, 8)}, "image_shape"),
        ({"n": 5, "image_shape": "big"}, "image_shape"),
        ({"n": 5, "missing_expression": 1.0}, r"\[0, 1\)"),
        ({"n": 5, "dwi_factor": 0}, "dwi_factor"),
    ],
)
def test_simulate_cohort_rejects(kwargs, match):
    with pytest.raises(DataError, match=match):
        simulate_cohort(**kwargs)


def test_existing_folder_needs_overwrite(tmp_path):
    out = simulate(5, 1, tmp_path / "c", images=False)
    with pytest.raises(DataError, match="exists and is not empty"):
        simulate(5, 2, out, images=False)
    simulate(5, 2, out, images=False, overwrite=True)
    assert (out / "clinical.csv").read_text().count("\n") == 6
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temporary folders left


def test_never_overwrites_a_non_cohort_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a cohort folder"):
        simulate(5, 1, tmp_path, images=False, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_output_under_a_file_is_an_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="cannot create"):
        simulate(5, 1, tmp_path / "file" / "cohort", images=False)


def test_write_cohort_type_check(tmp_path):
    with pytest.raises(DataError, match="SimulatedCohort"):
        write_cohort({"clinical": None}, tmp_path / "x")


def test_cli_writes_and_summarises(tmp_path, capsys):
    out = tmp_path / "cohort"
    assert main(["simulate", "--n", "6", "--seed", "7", "--out", str(out), "--no-images"]) == 0
    text = capsys.readouterr().out
    assert "patients          6" in text
    assert str(out) in text
    assert not (out / "images").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--n", "0"],
        ["--n", "-4"],
        ["--n", "ten"],
        ["--seed", "-1"],
        ["--missing-expression", "1.5"],
        ["--image-shape", "3,8,8"],
    ],
)
def test_cli_usage_errors(tmp_path, capsys, argv):
    assert main(["simulate", "--out", str(tmp_path / "c"), *argv]) == 2
    assert "error: argument" in capsys.readouterr().err


def test_cli_input_errors(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["simulate", "--n", "4", "--out", str(out), "--no-images", "--quiet"]) == 0
    assert main(["simulate", "--n", "4", "--out", str(out), "--no-images"]) == 3
    assert "--overwrite" in capsys.readouterr().err
    assert (
        main(["simulate", "--n", "4", "--out", str(out), "--no-images", "--overwrite", "--quiet"])
        == 0
    )
    (tmp_path / "f").write_text("x")
    assert main(["simulate", "--n", "4", "--out", str(tmp_path / "f" / "c")]) == 3
