"""``radsem segment train | predict | evaluate`` end to end on a tiny cohort."""

from __future__ import annotations

import pandas as pd

from radsem.cli import main


def test_train_predict_evaluate(cohort_dir, tmp_path, capsys):
    model = tmp_path / "model"
    assert (
        main(
            [
                "segment",
                "train",
                str(cohort_dir),
                "--out",
                str(model),
                "--epochs",
                "1",
                "--seed",
                "4",
                "--architecture",
                "unet",
                "--quiet",
            ]
        )
        == 0
    )
    assert (model / "weights.pt").is_file()
    assert (model / "model.json").is_file()
    pred = tmp_path / "pred"
    assert (
        main(["segment", "predict", str(cohort_dir), "--model", str(model), "--out", str(pred)])
        == 0
    )
    table = pd.read_csv(pred / "segmentation.csv")
    assert len(table) == 10
    assert table["method"].eq("unet").all()
    out = tmp_path / "eval"
    assert (
        main(
            [
                "segment",
                "evaluate",
                str(cohort_dir),
                "--predicted",
                str(pred),
                "--model",
                str(model),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    per = pd.read_csv(out / "per_patient.csv")
    assert set(per["method"]) == {"unet", "threshold"}
    assert set(per["set"]) == {"training"}  # the 7 labelled patients were all trained on
    assert len(per) == 14
    summary = pd.read_csv(out / "summary.csv")
    assert {"dice_median", "hd95_vox_median", "wilcoxon_p"} <= set(summary.columns)
    # the baseline alone, and re-running predict only with --overwrite
    assert (
        main(["segment", "predict", str(cohort_dir), "--threshold", "--out", str(pred), "--quiet"])
        == 3
    )
    assert "not empty" in capsys.readouterr().err
    assert (
        main(
            [
                "segment",
                "predict",
                str(cohort_dir),
                "--threshold",
                "--out",
                str(pred),
                "--overwrite",
                "--quiet",
            ]
        )
        == 0
    )
    assert pd.read_csv(pred / "segmentation.csv")["method"].eq("threshold").all()


def test_bad_input_exits_3(cohort_dir, tmp_path, capsys):
    empty = tmp_path / "nopred"
    empty.mkdir()
    assert (
        main(
            [
                "segment",
                "predict",
                str(cohort_dir),
                "--model",
                str(tmp_path / "none"),
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 3
    )
    assert "model folder not found" in capsys.readouterr().err
    assert main(["segment", "train", str(tmp_path / "nocohort"), "--out", str(tmp_path / "m")]) == 3
    assert "cohort folder not found" in capsys.readouterr().err
    assert (
        main(
            [
                "segment",
                "evaluate",
                str(cohort_dir),
                "--predicted",
                str(empty),
                "--out",
                str(tmp_path / "e"),
            ]
        )
        == 3
    )
    assert "segmentation.csv: not found" in capsys.readouterr().err
    assert (
        main(
            [
                "segment",
                "evaluate",
                str(cohort_dir),
                "--predicted",
                str(empty),
                "--out",
                str(cohort_dir / "eval"),
            ]
        )
        == 3
    )
    assert "inside the input folder" in capsys.readouterr().err
    assert not (cohort_dir / "eval").exists()
    assert (
        main(["segment", "train", str(cohort_dir), "--out", str(tmp_path / "m"), "--epochs", "0"])
        == 2
    )
