from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.deep.crops import (
    Case,
    CropSpec,
    crop_case,
    crop_cases,
    crop_cohort,
    load_cases,
    perturb_mask,
    stack_crops,
)
from radsem.errors import DataError, ImageError


def _blob(shape=(10, 30, 40), centre=(5, 10, 25), radius=3):
    zz, yy, xx = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    d = np.sqrt((zz - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2)
    mask = d <= radius
    image = np.where(mask, 200.0, 10.0) + 0.0 * d
    return image, mask


def test_crop_is_centred_on_the_tumour_and_normalised():
    image, mask = _blob()
    before = image.copy()
    crop = crop_case(image, mask, spec=CropSpec(shape=(8, 16, 16), margin=0.5))
    assert crop.shape == (1, 8, 16, 16)
    assert crop.dtype == np.float32
    np.testing.assert_array_equal(image, before)  # input untouched
    centre = crop[0, 3:5, 7:9, 7:9]
    corner = crop[0, 0, 0, 0]
    assert centre.min() > corner
    # z-scored with the statistics inside the mask: a constant tumour maps to 0 at its core
    assert abs(float(centre.mean())) < 1e-4


def test_crop_without_normalisation_keeps_intensities():
    image, mask = _blob()
    crop = crop_case(image, mask, spec=CropSpec(shape=(8, 16, 16), normalize="none"))
    assert crop.max() == pytest.approx(200.0)
    assert crop.min() >= 10.0 - 1e-6


def test_multichannel_zscore_inside_mask():
    rng = np.random.default_rng(1)
    image, mask = _blob()
    noisy = image + rng.normal(scale=5, size=image.shape)
    stack = np.stack([noisy, 3 * noisy + 50])
    crop = crop_case(stack, mask, spec=CropSpec(shape=(8, 16, 16), mask_background=True))
    assert crop.shape == (2, 8, 16, 16)
    # a linear rescaling of a channel does not change its z-scored crop
    np.testing.assert_allclose(crop[0], crop[1], atol=1e-4)
    raw = crop_case(stack, mask, spec=CropSpec(shape=(8, 16, 16), normalize="none"))
    inside = stack[0][mask]
    expected = (raw[0] - inside.mean()) / inside.std()
    keep = crop[0] != 0
    assert keep.sum() > 50
    assert (~keep).sum() > 50
    np.testing.assert_allclose(crop[0][keep], expected[keep], rtol=1e-4, atol=1e-4)


def test_2d_largest_slice_and_k_slices():
    image, mask = _blob(centre=(6, 15, 20))
    one = crop_case(image, mask, spec=CropSpec(dims=2, shape=(16, 16)))
    assert one.shape == (1, 16, 16)
    three = crop_case(
        np.stack([image, image]), mask, spec=CropSpec(dims=2, shape=(16, 16), slices=3)
    )
    assert three.shape == (6, 16, 16)
    # the middle of the three slices is the largest-area slice (z = 6)
    np.testing.assert_allclose(three[1], one[0], atol=1e-5)


def test_perturb_mask_dilate_erode():
    _, mask = _blob(radius=4)
    big, small = perturb_mask(mask, "dilate"), perturb_mask(mask, "erode")
    assert big.sum() > mask.sum() > small.sum()
    assert np.all(big[mask])
    assert np.all(mask[small])
    with pytest.raises(ImageError, match="empty"):
        perturb_mask(np.pad(np.ones((1, 1, 1)), 1), "erode")
    with pytest.raises(DataError, match="dilate"):
        perturb_mask(mask, "shrink")


def test_bad_inputs():
    image, mask = _blob()
    with pytest.raises(ImageError, match="empty"):
        crop_case(image, np.zeros_like(mask))
    with pytest.raises(ImageError, match="does not match"):
        crop_case(image, mask[:-1])
    with pytest.raises(DataError, match="shape"):
        crop_case(image, mask, spec=CropSpec(dims=3, shape=(16, 16)))
    with pytest.raises(DataError, match="mismatched shapes"):
        stack_crops([np.zeros((1, 4, 4, 4)), np.zeros((1, 4, 4, 8))], ["a", "b"])
    with pytest.raises(DataError, match="duplicated"):
        stack_crops([np.zeros((1, 4, 4, 4))] * 2, ["a", "a"])
    bad = image.copy()
    bad[mask] = np.nan
    with pytest.raises(ImageError, match="non-finite"):
        crop_case(bad, mask)


def test_crop_cases_stacks_with_ids(cases):
    crops = crop_cases(cases[:4], CropSpec(shape=(8, 16, 16)))
    assert crops.data.shape == (4, 3, 8, 16, 16)
    assert list(crops.patient_id) == [c.patient_id for c in cases[:4]]
    assert crops.channels == ("t2", "dwi", "adc")


def test_load_cases_from_nifti_resamples_onto_mask_grid(tmp_path, cases):
    sitk = pytest.importorskip("SimpleITK")
    rows = []
    for case in cases[:2]:
        folder = tmp_path / case.patient_id
        folder.mkdir()
        paths = {}
        for k, name in enumerate(case.channels):
            img = sitk.GetImageFromArray(case.image[k])
            img.SetSpacing((1.0, 1.0, 3.0))
            if name == "dwi":  # a coarser DWI grid: must be resampled onto the T2/mask grid
                img = sitk.GetImageFromArray(case.image[k][:, ::2, ::2].copy())
                img.SetSpacing((2.0, 2.0, 3.0))
            paths[name] = str(folder / f"{name}.nii.gz")
            sitk.WriteImage(img, paths[name])
        m = sitk.GetImageFromArray(case.mask.astype(np.uint8))
        m.SetSpacing((1.0, 1.0, 3.0))
        paths["mask"] = str(folder / "mask.nii.gz")
        sitk.WriteImage(m, paths["mask"])
        rows.append({"patient_id": case.patient_id, **paths})
    table = pd.DataFrame(rows)
    loaded = load_cases(table)
    assert loaded[0].image.shape == cases[0].image.shape
    assert loaded[0].spacing == (3.0, 1.0, 1.0)
    np.testing.assert_allclose(loaded[0].image[0], cases[0].image[0], rtol=1e-6)
    # the resampled DWI agrees with the original where the coarse grid matches
    np.testing.assert_allclose(
        loaded[0].image[1][:, 2:-2:2, 2:-2:2], cases[0].image[1][:, 2:-2:2, 2:-2:2], rtol=1e-6
    )
    crops = crop_cohort(table, CropSpec(shape=(8, 16, 16)), progress=False)
    assert crops.data.shape == (2, 3, 8, 16, 16)
    with pytest.raises(DataError, match="lacks columns"):
        load_cases(table.drop(columns="adc"))
    table.loc[0, "t2"] = str(tmp_path / "missing.nii.gz")
    with pytest.raises(ImageError, match="cannot read"):
        load_cases(table)


def test_case_defaults():
    image, mask = _blob()
    c = Case(image[None], mask)
    assert crop_case(c.image, c.mask, c.spacing).shape == (1, 16, 32, 32)


def test_fixed_extent_keeps_absolute_size():
    spec = CropSpec(shape=(8, 16, 16), extent_mm=(20.0, 20.0, 20.0), normalize="none")
    small_img, small = _blob(radius=2)
    big_img, big = _blob(radius=4)
    # bounding-box crops rescale both tumours to the grid; fixed-extent crops do not
    frac = [
        (crop_case(i, m, spec=spec)[0] > 100).mean()
        for i, m in ((small_img, small), (big_img, big))
    ]
    assert frac[1] > 4 * frac[0]
    bbox = [
        (crop_case(i, m, spec=CropSpec(shape=(8, 16, 16), normalize="none"))[0] > 100).mean()
        for i, m in ((small_img, small), (big_img, big))
    ]
    assert abs(bbox[1] - bbox[0]) < 0.15
    with pytest.raises(DataError, match="extent_mm"):
        crop_case(small_img, small, spec=CropSpec(extent_mm=(10.0, 0.0, 10.0)))


def test_torch_is_not_imported_by_radsem_or_crops():
    import subprocess
    import sys

    code = "import sys, radsem, radsem.deep, radsem.deep.crops; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
