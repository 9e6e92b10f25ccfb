"""UNetSegmenter and predict_masks: mechanics, determinism, persistence, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from segment_settings import TINY

from radsem.errors import DataError
from radsem.io import read_cohort
from radsem.segment import (
    UNetSegmenter,
    load_segmenter,
    predict_masks,
    read_case,
    with_predicted_masks,
)
from radsem.segment.cohort import TABLE_COLUMNS
from radsem.segment.model_io import file_hash


def test_fit_uses_only_labelled_patients(cohort_dir, trained):
    seg, _ = trained
    cohort = read_cohort(cohort_dir)
    labelled = cohort.images.loc[cohort.images["mask"].notna(), "patient_id"].tolist()
    assert seg.training_patients_ == labelled
    assert len(labelled) == 7  # 10 patients, 30 % unlabelled
    assert len(seg.history_) == 2
    assert all(np.isfinite(seg.history_))


def test_predict_writes_masks_on_the_t2_grid(cohort_dir, trained, tmp_path):
    seg, folder = trained
    model = load_segmenter(folder)
    result = predict_masks(model, cohort_dir, tmp_path / "pred")
    table = pd.read_csv(tmp_path / "pred" / "segmentation.csv")
    assert list(table.columns) == TABLE_COLUMNS
    cohort = read_cohort(cohort_dir)
    assert table["patient_id"].tolist() == cohort.images["patient_id"].tolist()
    assert set(table["model_hash"]) == {file_hash(folder / "weights.pt")}
    for row in table.itertuples():
        path = tmp_path / "pred" / row.patient_id / "mask.nii.gz"
        assert path.is_file() == (row.status != "failed")
        if row.status == "failed":
            continue
        t2 = sitk.ReadImage(cohort.images.set_index("patient_id").at[row.patient_id, "t2"])
        mask = sitk.ReadImage(str(path))
        assert mask.GetSize() == t2.GetSize()
        assert mask.GetSpacing() == t2.GetSpacing()
        assert mask.GetOrigin() == t2.GetOrigin()
        assert mask.GetDirection() == t2.GetDirection()
        arr = sitk.GetArrayFromImage(mask)
        assert arr.dtype == np.uint8
        assert int(arr.sum()) == row.voxels
        np.testing.assert_array_equal(arr > 0, result.masks[row.patient_id])


def test_loaded_model_predicts_like_the_fitted_one(cohort_dir, trained):
    seg, folder = trained
    row = read_cohort(cohort_dir).images.iloc[0]
    case = read_case(row["patient_id"], row["t2"], row["dwi"], row["adc"], row["mask"])
    np.testing.assert_allclose(
        load_segmenter(folder).predict_proba(case), seg.predict_proba(case), atol=1e-6
    )
    assert load_segmenter(folder).model_hash == file_hash(folder / "weights.pt")


def test_same_seed_same_weights_other_seed_differs(cohort_dir, trained, tmp_path):
    _, folder = trained
    again = UNetSegmenter(epochs=2, random_state=1, **TINY).fit(cohort_dir)
    assert again.save(tmp_path / "a") == file_hash(folder / "weights.pt")
    other = UNetSegmenter(epochs=2, random_state=2, **TINY).fit(cohort_dir)
    assert other.save(tmp_path / "b") != file_hash(folder / "weights.pt")


def test_no_mask_to_train_on(tmp_path):
    from radsem.simulate import simulate

    path = simulate(4, seed=1, out=tmp_path / "c", image_shape=(8, 16, 16), unlabelled=0.9)
    cohort = read_cohort(path)
    images = cohort.images.assign(mask=None)
    with pytest.raises(DataError, match="no patient with a tumour mask"):
        UNetSegmenter(epochs=1, **TINY).fit(images)


def test_bad_settings_are_refused(cohort_dir):
    with pytest.raises(DataError, match="epochs"):
        UNetSegmenter(epochs=0).fit(cohort_dir)
    with pytest.raises(DataError, match="architecture"):
        UNetSegmenter(epochs=1, architecture="vnet", **{k: v for k, v in TINY.items()}).fit(
            cohort_dir
        )
    with pytest.raises(DataError, match="not trained"):
        UNetSegmenter().predict_proba(None)


def test_corrupt_or_foreign_model_folders(trained, tmp_path):
    _, folder = trained
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    data = bytearray((bad / "weights.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "weights.pt").write_bytes(bytes(data))
    with pytest.raises(DataError, match="SHA-256"):
        load_segmenter(bad)
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    meta = json.loads((old / "model.json").read_text())
    meta["format_version"] = 0
    meta["radsem_version"] = "0.0.1"
    (old / "model.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match=r"format 0 \(written by radsem 0.0.1\).*reads format 1"):
        load_segmenter(old)
    (old / "model.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_segmenter(old)
    with pytest.raises(DataError, match="model folder not found"):
        load_segmenter(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="model.json: missing"):
        load_segmenter(tmp_path / "empty")


class _Fixed:
    """A segmenter that returns a fixed mask pattern (exercises the per-patient QC)."""

    method = "fixed"
    model_hash = "none"

    def __init__(self, kind):
        self.kind = kind

    def predict_case(self, case):
        mask = np.zeros(case.channels.shape[1:], dtype=bool)
        if self.kind == "border":
            mask[:, :3, :3] = True
        elif self.kind == "inside":
            mask[2:4, 8:12, 8:12] = True
        return mask


def test_empty_and_border_masks_are_recorded(cohort_dir, tmp_path):
    empty = predict_masks(_Fixed("empty"), cohort_dir, tmp_path / "e")
    assert set(empty.table["status"]) == {"failed"}
    assert empty.table["reason"].str.contains("predicted mask is empty").all()
    assert not list((tmp_path / "e").glob("*/mask.nii.gz"))
    border = predict_masks(_Fixed("border"), cohort_dir, tmp_path / "b")
    assert set(border.table["status"]) == {"flagged"}
    assert border.table["touches_border"].all()
    assert len(list((tmp_path / "b").glob("*/mask.nii.gz"))) == 10
    inside = predict_masks(_Fixed("inside"), cohort_dir)
    assert set(inside.table["status"]) == {"ok"}
    assert (inside.table["voxels"] == 32).all()


def test_output_folder_rules(cohort_dir, tmp_path):
    with pytest.raises(DataError, match="inside the cohort"):
        predict_masks(_Fixed("inside"), cohort_dir, cohort_dir / "images" / "pred")
    with pytest.raises(DataError, match="inside the cohort"):
        predict_masks(_Fixed("inside"), cohort_dir, cohort_dir / "pred")
    assert not (cohort_dir / "pred").exists()
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        predict_masks(_Fixed("inside"), cohort_dir, tmp_path / "x")
    with pytest.raises(DataError, match="holds no segmentation.csv"):
        predict_masks(_Fixed("inside"), cohort_dir, tmp_path / "x", overwrite=True)


def test_unreadable_patient_is_recorded_rest_continues(cohort_dir, tmp_path):
    images = read_cohort(cohort_dir).images.copy()
    broken = tmp_path / "t2.nii.gz"
    broken.write_bytes(b"not an image")
    images.loc[0, "t2"] = str(broken)
    result = predict_masks(_Fixed("inside"), images)
    assert result.table.loc[0, "status"] == "failed"
    assert "cannot be read" in result.table.loc[0, "reason"]
    assert (result.table.loc[1:, "status"] == "ok").all()


def test_with_predicted_masks_fills_only_missing(cohort_dir, tmp_path):
    predict_masks(_Fixed("inside"), cohort_dir, tmp_path / "p")
    cohort = with_predicted_masks(read_cohort(cohort_dir), tmp_path / "p")
    images = cohort.images
    assert images["mask"].notna().all()
    reference = images["mask_source"] == "reference"
    assert reference.sum() == 7
    assert (images.loc[~reference, "mask_source"] == "predicted:fixed:none").all()
    assert images.loc[~reference, "mask"].str.startswith(str((tmp_path / "p").resolve())).all()


def test_model_folder_whose_config_does_not_fit_the_weights(trained, tmp_path):
    _, folder = trained
    bad = tmp_path / "edited"
    shutil.copytree(folder, bad)
    meta = json.loads((bad / "model.json").read_text())
    meta["config"]["channels"] = [c * 2 for c in meta["config"]["channels"]]
    (bad / "model.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="do not fit the recorded network configuration"):
        load_segmenter(bad)
    gone = tmp_path / "noweights"
    shutil.copytree(folder, gone)
    (gone / "weights.pt").unlink()
    with pytest.raises(DataError, match="weights.pt"):
        load_segmenter(gone)
