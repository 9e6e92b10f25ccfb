"""RTSTRUCT rasterisation: rt-utils contours of a known mask, hand-made polygons on an oblique
grid (with a hole), pydicom's bundled rtstruct.dcm, and every refusal."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_synthetic import write_contours

from radsem.errors import ImageError
from radsem.io.dicom_series import read_dicom_series
from radsem.io.rtstruct import rasterize_rtstruct, roi_names


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.sum(a & b) / (np.sum(a) + np.sum(b))


def test_rt_utils_contours_give_back_the_known_mask(ct_case):
    import SimpleITK as sitk

    series = read_dicom_series(ct_case["series"])
    uids = {
        "series_uid": series.series_uid,
        "frame_of_reference_uid": series.frame_of_reference_uid,
    }
    mask = rasterize_rtstruct(
        ct_case["rtstruct"],
        series.image,
        "gtv",  # case-insensitive
        reference_uids=uids,
    )
    arr = sitk.GetArrayFromImage(mask).astype(bool)
    known = ct_case["mask"].astype(bool)
    assert arr.sum() == known.sum()
    assert _dice(arr, known) == 1.0
    assert mask.GetOrigin() == series.image.GetOrigin()
    body = sitk.GetArrayFromImage(rasterize_rtstruct(ct_case["rtstruct"], series.image, "B*"))
    assert not (body.astype(bool) & known).any()


def _oblique_grid():
    import SimpleITK as sitk

    image = sitk.Image([20, 16, 6], sitk.sitkInt16)
    image.SetSpacing((0.7, 0.9, 2.0))
    image.SetOrigin((5.0, -3.0, 10.0))
    # rows run along -y, columns along +x (a 90 degree turn in the slice plane)
    image.SetDirection((0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    return image


def _centres_inside(image, k: int, box) -> np.ndarray:
    """Expected mask: voxel centres of slice k strictly inside the physical box (x0, x1, y0, y1)."""
    nx, ny, nz = image.GetSize()
    out = np.zeros((nz, ny, nx), dtype=bool)
    x0, x1, y0, y1 = box
    for j in range(ny):
        for i in range(nx):
            x, y, _ = image.TransformIndexToPhysicalPoint((i, j, k))
            out[k, j, i] = x0 < x < x1 and y0 < y < y1
    return out


def _rect(box, z):
    x0, x1, y0, y1 = box
    return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]])


def test_polygon_rule_on_an_oblique_grid_with_a_hole(tmp_path):
    import SimpleITK as sitk

    image = _oblique_grid()
    k = 3
    z = image.TransformIndexToPhysicalPoint((0, 0, k))[2]
    outer, hole = (6.23, 16.71, -14.02, -4.37), (9.1, 12.44, -10.9, -7.15)
    path = write_contours(tmp_path / "rs.dcm", {"Tumour": [_rect(outer, z), _rect(hole, z)]})
    got = sitk.GetArrayFromImage(rasterize_rtstruct(path, image)).astype(bool)
    want = _centres_inside(image, k, outer) & ~_centres_inside(image, k, hole)
    assert want.sum() > 40
    np.testing.assert_array_equal(got, want)


def test_contours_outside_the_image(tmp_path):
    image = _oblique_grid()
    z = image.TransformIndexToPhysicalPoint((0, 0, 2))[2]
    wide = write_contours(tmp_path / "wide.dcm", {"T": [_rect((-40.0, 16.0, -14.0, -5.0), z)]})
    with pytest.raises(ImageError, match="1 contour\\(s\\) of ROI 'T' lie outside the image"):
        rasterize_rtstruct(wide, image)
    below = write_contours(
        tmp_path / "below.dcm", {"T": [_rect((6.5, 16.0, -14.0, -5.0), z - 50.0)]}
    )
    with pytest.raises(ImageError, match="outside the image"):
        rasterize_rtstruct(below, image)
    between = write_contours(
        tmp_path / "between.dcm", {"T": [_rect((6.5, 16.0, -14.0, -5.0), z + 1.0)]}
    )
    with pytest.raises(ImageError, match="between slices"):
        rasterize_rtstruct(between, image)
    tilted = _rect((6.5, 16.0, -14.0, -5.0), z)
    tilted[2, 2] += 4.0
    path = write_contours(tmp_path / "tilted.dcm", {"T": [tilted]})
    with pytest.raises(ImageError, match="not in one slice plane"):
        rasterize_rtstruct(path, image)


def test_roi_not_found_lists_the_rois_present(ct_case):
    series = read_dicom_series(ct_case["series"])
    with pytest.raises(ImageError, match=r"ROI 'CTV' not found; ROIs present: 'GTV', 'Body'"):
        rasterize_rtstruct(ct_case["rtstruct"], series.image, "CTV")
    with pytest.raises(ImageError, match="holds 2 ROIs"):
        rasterize_rtstruct(ct_case["rtstruct"], series.image)
    with pytest.raises(ImageError, match="matches several ROIs"):
        rasterize_rtstruct(ct_case["rtstruct"], series.image, "*")


def test_rtstruct_of_another_series_or_frame(ct_case, tmp_path):
    series = read_dicom_series(ct_case["series"])
    uids = {"series_uid": "1.2.3.4", "frame_of_reference_uid": series.frame_of_reference_uid}
    with pytest.raises(ImageError, match="references another image series"):
        rasterize_rtstruct(ct_case["rtstruct"], series.image, "GTV", reference_uids=uids)
    uids = {"series_uid": series.series_uid, "frame_of_reference_uid": "1.2.3"}
    with pytest.raises(ImageError, match="another frame of reference"):
        rasterize_rtstruct(ct_case["rtstruct"], series.image, "GTV", reference_uids=uids)


def test_pydicom_rtstruct_file(tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    path = get_testdata_file("rtstruct.dcm", download=False)
    assert roi_names(path) == ["patient", "Isocenter 1", "Isocenter 2"]
    (tmp_path / "ct").mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm", download=False), tmp_path / "ct" / "a.dcm")
    ct = read_dicom_series(tmp_path / "ct")
    with pytest.raises(ImageError, match="no closed planar contour \\(only POINT contours\\)"):
        rasterize_rtstruct(path, ct.image, "Isocenter 1")
    with pytest.raises(ImageError, match="another frame of reference"):
        rasterize_rtstruct(
            path,
            ct.image,
            "patient",
            reference_uids={
                "series_uid": ct.series_uid,
                "frame_of_reference_uid": ct.frame_of_reference_uid,
            },
        )
    with pytest.raises(ImageError, match="outside the image"):  # 400 mm contours, 85 mm field
        rasterize_rtstruct(path, ct.image, "patient")
    with pytest.raises(ImageError, match="not a DICOM RTSTRUCT"):
        rasterize_rtstruct(tmp_path / "ct" / "a.dcm", ct.image)
