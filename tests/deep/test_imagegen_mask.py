"""Binarisation of generated mask probabilities: the 0.5 rule and the expected-volume rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from radsem.deep.imagegen_data import (
    MASK_RULES,
    binarise_mask,
    expected_volume_threshold,
    write_generated_cohort,
)
from radsem.deep.imagegen_eval import crop_features
from radsem.errors import DataError


def _blob(scale: float, radius: float = 3.0, shape=(12, 16, 16)) -> np.ndarray:
    """A smooth, single-peaked probability map: ``scale`` times a logistic ball (a tiny
    jitter breaks the ties of equal distances)."""
    z, y, x = np.indices(shape, dtype=float)
    c = [(s - 1) / 2 + off for s, off in zip(shape, (0.13, -0.29, 0.37), strict=True)]
    r = np.sqrt((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2)
    jitter = 1.0 + 1e-6 * np.random.default_rng(0).random(shape)
    return scale * jitter / (1.0 + np.exp((r - radius) / 1.3))


def _old_rule(p: np.ndarray) -> np.ndarray:
    """The 0.5 rule as it was: > 0.5, then the largest 6-connected component."""
    m = p > 0.5
    if not m.any():
        return m
    lab, n = ndimage.label(m)
    sizes = ndimage.sum(m, lab, index=np.arange(1, n + 1))
    return lab == int(np.argmax(sizes)) + 1


@pytest.mark.parametrize("seed", range(5))
def test_threshold_count_is_the_expected_volume_on_random_maps(seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(0.3, 2.0, size=(8, 12, 12))  # continuous: no ties
    t = expected_volume_threshold(p)
    assert (p >= t).sum() == round(p.sum())
    # the rule keeps the largest component of exactly those voxels
    m = binarise_mask(p, rule="expected_volume")
    assert m.sum() <= round(p.sum())
    np.testing.assert_array_equal(m, _old_rule_at(p, t))


def _old_rule_at(p: np.ndarray, t: float) -> np.ndarray:
    m = p >= t
    lab, n = ndimage.label(m)
    sizes = ndimage.sum(m, lab, index=np.arange(1, n + 1))
    return lab == int(np.argmax(sizes)) + 1


@pytest.mark.parametrize("scale", [0.3, 0.45, 0.8, 1.0])
def test_smooth_blob_gets_its_expected_volume(scale):
    p = _blob(scale)
    m = binarise_mask(p, rule="expected_volume")
    assert m.sum() == round(p.sum())  # a single blob: connected, nothing dropped
    # the kept voxels are the most probable ones
    assert p[m].min() >= p[~m].max()


def test_faint_map_is_not_empty_under_expected_volume():
    p = _blob(0.4)
    assert p.max() < 0.5
    assert not binarise_mask(p).any()  # the 0.5 rule loses the tumour
    m = binarise_mask(p, rule="expected_volume")
    assert m.any()
    assert m.sum() == round(p.sum())


def test_volume_follows_the_probability_smoothly():
    # volume under the expected-volume rule grows with the overall level of the map;
    # the 0.5 rule jumps from nothing to a ball once the peak crosses 0.5
    scales = np.linspace(0.3, 0.7, 9)
    ev = [binarise_mask(_blob(s), rule="expected_volume").sum() for s in scales]
    old = [binarise_mask(_blob(s)).sum() for s in scales]
    assert np.all(np.diff(ev) > 0)
    assert old[0] == 0
    assert old[-1] > 0


def test_ties_and_determinism():
    p = np.zeros((4, 6, 6))
    p[1:3, 1:4, 1:4] = 0.5  # 18 voxels tied at 0.5: expected volume 9
    t = expected_volume_threshold(p)
    assert t == 0.5
    a = binarise_mask(p, rule="expected_volume")
    b = binarise_mask(p.copy(), rule="expected_volume")
    np.testing.assert_array_equal(a, b)
    assert a.sum() == 18  # the tied level kept as a whole: no dependence on the voxel order
    # a tied level is dropped when that is closer to the expected volume
    q = np.zeros((4, 6, 6))
    q[1, 1:4, 1:4] = 0.9  # 9 voxels
    q[2, 1:4, 1:4] = 0.2  # 9 tied voxels: expected volume 8.1 + 1.8 = 9.9 -> 10
    assert expected_volume_threshold(q) == pytest.approx(0.9)
    assert binarise_mask(q, rule="expected_volume").sum() == 9
    q[2, 1:4, 1:4] = 0.6  # 8.1 + 5.4 = 13.5 -> 14: keeping the tied 9 gives 18, closer
    assert expected_volume_threshold(q) == pytest.approx(0.6)
    # flipping the map flips the mask
    np.testing.assert_array_equal(
        binarise_mask(p[::-1, ::-1], rule="expected_volume"), a[::-1, ::-1]
    )


def test_tiny_expected_volume_is_empty_and_zero_voxels_never_kept():
    p = np.zeros((3, 4, 4))
    p[1, 1, 1] = 0.4  # expected volume rounds to 0
    assert expected_volume_threshold(p) == np.inf
    assert not binarise_mask(p, rule="expected_volume").any()
    p[1, 1, 1] = 0.6
    p[0, 0, 0] = 0.45  # 1.05 -> one voxel, the most probable one
    m = binarise_mask(p, rule="expected_volume")
    assert m.sum() == 1
    assert m[1, 1, 1]
    q = np.zeros((2, 3, 3))
    q[0, 0, 0] = 1.0
    q[1, 2, 2] = 1.0  # expected volume 2, only two positive voxels, not connected
    m = binarise_mask(q, rule="expected_volume")
    assert m.sum() == 1  # the zero voxels are not filled in


@pytest.mark.parametrize("seed", range(3))
def test_half_rule_unchanged(seed):
    rng = np.random.default_rng(seed)
    p = ndimage.gaussian_filter(rng.random((8, 12, 12)), 1.0) * 1.2 - 0.05
    np.testing.assert_array_equal(binarise_mask(p), _old_rule(p))
    np.testing.assert_array_equal(binarise_mask(p, rule="0.5"), _old_rule(p))


def test_bad_rule():
    assert MASK_RULES == ("0.5", "expected_volume")
    with pytest.raises(DataError, match="mask rule"):
        binarise_mask(np.zeros((2, 2, 2)), rule="otsu")


def test_crop_features_and_written_cohort_follow_the_rule(tmp_path):
    import SimpleITK as sitk

    from radsem.io import read_image

    p = _blob(0.4)
    vol = np.stack([np.full_like(p, 100.0), np.full_like(p, 50.0), np.full_like(p, 1.0), p])
    data = vol[None].astype(np.float32)
    spacing = (4.0, 2.5, 2.5)
    vox_ml = 4.0 * 2.5 * 2.5 / 1000
    assert crop_features(data, spacing)["volume_ml"].iloc[0] == 0.0
    f = crop_features(data, spacing, mask_rule="expected_volume")
    n = round(float(data[0, 3].astype(np.float64).sum()))
    assert f["volume_ml"].iloc[0] == pytest.approx(n * vox_ml)
    assert f["mean_adc"].iloc[0] == pytest.approx(1.0)
    out = write_generated_cohort(
        data, ["g1"], spacing, tmp_path / "gen", mask_rule="expected_volume"
    )
    mask = sitk.GetArrayFromImage(read_image(out / "images" / "g1" / "mask.nii.gz"))
    assert int(mask.sum()) == n
    with pytest.raises(DataError, match="mask rule"):
        write_generated_cohort(data, ["g1"], spacing, tmp_path / "gen2", mask_rule="x")
