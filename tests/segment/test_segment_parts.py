"""Metrics, clean-up, baseline and feature agreement against hand-computed references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from radsem.errors import DataError, ImageError
from radsem.segment import ThresholdSegmenter, mask_metrics
from radsem.segment.evaluate import evaluate_segmentation, feature_agreement, summarise_evaluation
from radsem.segment.postprocess import grow_region, largest_component, touches_border
from radsem.segment.volumes import Case


def _box(shape, z, y, x):
    m = np.zeros(shape, dtype=bool)
    m[z[0] : z[1], y[0] : y[1], x[0] : x[1]] = True
    return m


def test_dice_and_hd95_of_shifted_boxes():
    ref = _box((10, 30, 30), (2, 8), (5, 15), (5, 15))
    pred = _box((10, 30, 30), (2, 8), (7, 17), (5, 15))  # shifted 2 voxels in y
    out = mask_metrics(pred, ref, spacing=(4.0, 1.5, 1.5))
    assert out["dice"] == pytest.approx(2 * 6 * 8 * 10 / (2 * 600), abs=1e-6)

    # brute-force symmetric surface distances: the 95th percentile over both directions
    def surface(m):
        return np.argwhere(m & ~ndimage.binary_erosion(m))

    a, b = surface(pred), surface(ref)
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    hd95 = max(np.percentile(d.min(1), 95), np.percentile(d.min(0), 95))
    assert out["hd95_vox"] == pytest.approx(hd95, abs=1e-6)
    assert out["volume_diff_pct"] == pytest.approx(0.0)
    assert out["volume_ref_ml"] == pytest.approx(600 * 4 * 1.5 * 1.5 / 1000)


def test_metrics_of_empty_and_mismatched_masks():
    ref = _box((6, 10, 10), (1, 4), (2, 6), (2, 6))
    out = mask_metrics(np.zeros_like(ref), ref)
    assert out["dice"] == 0.0
    assert np.isnan(out["hd95_vox"])
    assert out["volume_diff_pct"] == pytest.approx(-100.0)
    with pytest.raises(ImageError, match="differ in shape"):
        mask_metrics(ref[:-1], ref)


def test_largest_component_and_region_growing():
    prob = np.zeros((8, 20, 20))
    prob[2:6, 2:8, 2:8] = 0.9  # large core
    prob[2:6, 8:10, 2:8] = 0.4  # rim connected to the core: grown
    prob[2:4, 15:17, 15:17] = 0.95  # small separate blob: dropped
    prob[3, 4, 4] = 0.1  # a hole in the core: filled
    out = grow_region(prob, high=0.5, low=0.3)
    expected = np.zeros_like(prob, dtype=bool)
    expected[2:6, 2:10, 2:8] = True
    np.testing.assert_array_equal(out, expected)
    assert not largest_component(np.zeros((4, 4, 4), bool)).any()
    assert not grow_region(np.full((4, 4, 4), 0.2)).any()
    assert touches_border(_box((6, 10, 10), (0, 2), (3, 5), (3, 5)))
    assert not touches_border(_box((6, 10, 10), (1, 5), (3, 5), (3, 5)))


def _case(pid, rng, with_organ):
    """A bright tumour box on DWI (+ a touching organ slightly dimmer)."""
    mask = _box((12, 24, 24), (2, 10), (6, 14), (6, 14))
    dwi = rng.normal(0.0, 0.05, mask.shape)
    dwi[mask] += 1.0
    if with_organ:
        dwi[2:10, 14:20, 6:14] += 0.5
    channels = np.stack([dwi, dwi, -dwi]).astype(np.float32)
    return Case(pid, channels, mask, None, (1.0, 1.0, 1.0))


def test_threshold_baseline_tunes_its_fraction(rng, monkeypatch):
    cases = [_case(f"P{i}", rng, with_organ=True) for i in range(6)]
    monkeypatch.setattr(
        "radsem.segment.cohort.read_training_cases", lambda cohort, patients=None: (cases, [])
    )
    base = ThresholdSegmenter(fraction=0.3).fit(None)
    # the organ is at half the tumour's brightness: only a fraction above it excludes it
    assert 0.5 < base.fraction < 0.9
    assert base.model_hash == f"percent-{base.fraction:.2f}"
    organ = _box(cases[0].mask.shape, (2, 10), (14, 20), (6, 14))
    for case in cases:
        pred = base.predict_case(case)
        assert 2 * (pred & case.mask).sum() / (pred.sum() + case.mask.sum()) > 0.95
        assert (pred & organ).sum() < 0.1 * organ.sum()  # at most its edge (smoothing)
    low = ThresholdSegmenter(fraction=0.3).predict_case(cases[0])
    assert (low & organ).sum() > 0.9 * organ.sum()  # a low threshold takes the organ too
    with pytest.raises(DataError, match="rule"):
        ThresholdSegmenter(rule="magic").predict_case(cases[0])


def test_evaluation_tables():
    class R:
        pass

    rows = []
    results = []
    rng = np.random.default_rng(1)
    for method, shift in (("attention_unet", 0), ("threshold", 2)):
        r = R()
        ref = _box((8, 24, 24), (2, 6), (6, 14), (6, 14))
        r.cases = {f"P{i}": Case(f"P{i}", None, ref, None, (1.0, 1.0, 1.0)) for i in range(8)}
        r.masks = {p: np.roll(ref, shift + int(rng.integers(0, 2)), axis=1) for p in r.cases}
        r.table = pd.DataFrame({"patient_id": list(r.cases), "status": "ok", "method": method})
        results.append(r)
    per = evaluate_segmentation(results, training_patients=["P0", "P1", "P2"])
    assert len(per) == 16
    assert set(per["set"]) == {"training", "held-out"}
    summary = summarise_evaluation(per)
    assert summary.loc[("held-out", "attention_unet"), "n"] == 5
    assert (
        summary.loc[("held-out", "attention_unet"), "dice_median"]
        > summary.loc[("held-out", "threshold"), "dice_median"]
    )
    assert summary.loc[("held-out", "attention_unet"), "wilcoxon_p"] < 0.1
    rows.append(summary)


def _icc3(x):
    """Shrout-Fleiss ICC(3,1) from the two-way ANOVA mean squares."""
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr, mse = ss_rows / (n - 1), ss_err / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse)


def test_feature_agreement_is_icc3(rng):
    idx = pd.Index([f"P{i}" for i in range(20)], name="patient_id")
    ref = pd.DataFrame(
        {"a": rng.normal(size=20), "b": rng.normal(size=20), "const": 1.0}, index=idx
    )
    pred = pd.DataFrame(
        {
            "a": ref["a"] + rng.normal(0, 0.3, 20) + 5.0,  # offset: ICC3 ignores
            "b": rng.normal(size=20),
            "const": 1.0,
        },
        index=idx,
    )
    icc = feature_agreement(ref, pred)
    assert list(icc.index) == ["a", "b"]  # the constant feature has no ICC
    for feat in ("a", "b"):
        x = np.column_stack([ref[feat], pred[feat]])
        assert icc.loc[feat, "icc"] == pytest.approx(_icc3(x), abs=1e-6)
    assert icc.loc["a", "icc"] > 0.8
    assert abs(icc.loc["b", "icc"]) < 0.6
    with pytest.raises(DataError, match="at least 5 patients"):
        feature_agreement(ref.iloc[:3], pred.iloc[:3])
