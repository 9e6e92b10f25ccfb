"""``radsem extract`` on a simulated cohort folder with one corrupted patient."""

from __future__ import annotations

import pandas as pd
import pytest

from radsem.cli import main


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    from radsem.simulate import simulate

    out = tmp_path_factory.mktemp("cli") / "cohort"
    simulate(3, 5, out, image_shape=(6, 24, 24))
    from radsem.io import read_cohort

    images = read_cohort(out).images
    bad = images["dwi"].iloc[1]
    with open(bad, "wb") as handle:
        handle.write(b"\x1f\x8b\x08 truncated")
    return out, images["patient_id"].tolist()


def test_extract_command(cohort_dir, tmp_path, capsys):
    folder, ids = cohort_dir
    out = tmp_path / "features.parquet"
    params = tmp_path / "p.yaml"
    params.write_text("setting:\n  binWidth: 10\n")
    code = main(
        [
            "extract",
            str(folder),
            "--out",
            str(out),
            "--params",
            str(params),
            "--cache",
            str(tmp_path / "cache"),
            "--quiet",
        ]
    )
    assert code == 0
    feats = pd.read_parquet(out)
    assert feats["patient_id"].tolist() == [ids[0], ids[2]]
    assert feats.shape == (2, 294)
    fails = pd.read_parquet(tmp_path / "features.failures.parquet")
    assert fails["patient_id"].tolist() == [ids[1]]
    assert "cannot be read as an image" in fails["reason"].iloc[0]
    diag = pd.read_parquet(tmp_path / "features.diagnostics.parquet")
    assert len(diag) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    out_csv = tmp_path / "f.csv"
    assert (
        main(["extract", str(folder), "--out", str(out_csv), "--cache", str(tmp_path / "cache")])
        == 0
    )
    captured = capsys.readouterr()
    assert "skipped" in captured.err
    again = pd.read_csv(out_csv, dtype={"patient_id": str})
    pd.testing.assert_frame_equal(again, feats, check_exact=False, rtol=1e-12)


def test_extract_command_bad_input(cohort_dir, tmp_path, capsys):
    folder, _ = cohort_dir
    assert main(["extract", str(folder), "--out", str(tmp_path / "f.xlsx")]) == 3
    assert "must end in" in capsys.readouterr().err
    assert main(["extract", str(tmp_path / "none"), "--out", str(tmp_path / "f.csv")]) == 3
    assert main(["extract", str(folder), "--out", str(tmp_path / "f.csv"), "--jobs", "0"]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("featureClass:\n  nosuch: []\n")
    assert (
        main(["extract", str(folder), "--out", str(tmp_path / "f.csv"), "--params", str(bad)]) == 3
    )
    assert "pyradiomics rejects" in capsys.readouterr().err
