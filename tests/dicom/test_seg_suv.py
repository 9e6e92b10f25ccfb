"""DICOM SEG round trip and refusals; PET SUVbw against hand-computed values and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_synthetic import CT_ORIGIN, CT_SPACING, PET_WEIGHT, pet_values, write_ct, write_pet

from radsem.errors import ImageError
from radsem.io.dicom_series import read_dicom_series
from radsem.io.seg import read_seg
from radsem.io.suv import suv_factor, to_suv

# Hand computation (F-18, injection 10:00:00, series start 11:00:00, decay-corrected to START):
# 2 ** (-3600 / 6586.2) = 0.6846329...; 370e6 Bq x 0.6846329 = 253 314 180.24 Bq at scan start;
# SUVbw factor = 72 500 g / 253 314 180.24 Bq = 2.862058489e-4 g/Bq.
FACTOR_START = 2.862058489218448e-04
FACTOR_ADMIN = 72500.0 / 370.0e6  # no decay factor


def test_seg_round_trip(ct_case):
    import SimpleITK as sitk

    series = read_dicom_series(ct_case["series"])
    mask = read_seg(ct_case["seg"], series.image, series, "tum*")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mask), ct_case["mask"])
    with pytest.raises(ImageError, match=r"ROI 'GTV' not found; ROIs present: 'Tumour'"):
        read_seg(ct_case["seg"], series.image, series, "GTV")
    with pytest.raises(ImageError, match="needs its reference series as DICOM"):
        read_seg(ct_case["seg"], series.image, None)


def test_seg_referencing_another_series(ct_case, tmp_path):
    other = read_dicom_series(write_ct(tmp_path / "other", ct_case["hu"], series="ct-repeat"))
    with pytest.raises(ImageError, match="references another image series"):
        read_seg(ct_case["seg"], other.image, other)


@pytest.fixture
def activity():
    rng = np.random.default_rng(5)
    return rng.gamma(3.0, 2500.0, (4, 12, 10))


def _pet(tmp_path, activity, **kwargs):
    return write_pet(
        tmp_path / "pet", activity, spacing=(4.0, 3.0, 3.0), origin=(0.0, 0.0, 0.0), **kwargs
    )


def test_suv_against_hand_computed_values(tmp_path, activity):
    import SimpleITK as sitk

    folder = _pet(tmp_path, activity)
    series = read_dicom_series(folder)
    assert suv_factor(series.header) == pytest.approx(FACTOR_START, rel=1e-12)
    suv = sitk.GetArrayFromImage(to_suv(series.image, series.header))
    np.testing.assert_allclose(suv, pet_values(folder) * FACTOR_START, rtol=2e-7)
    step = activity.max() / 60000.0 * FACTOR_START  # 16-bit storage: half a step per value
    np.testing.assert_allclose(suv, activity * FACTOR_START, rtol=0, atol=0.51 * step)
    assert PET_WEIGHT == 72.5


def test_suv_admin_and_gml(tmp_path, activity):
    admin = read_dicom_series(_pet(tmp_path, activity, decay="ADMIN"))
    assert suv_factor(admin.header) == pytest.approx(FACTOR_ADMIN, rel=1e-12)
    header = dict(admin.header, Units="GML")
    assert suv_factor(header) == 1.0


def test_scan_start_is_the_earliest_acquisition_when_before_the_series_time(tmp_path, activity):
    series = read_dicom_series(_pet(tmp_path, activity))
    header = dict(series.header, SeriesTime="113000")  # series time rewritten after the scan
    # acquisitions at 11:01 -> 3660 s of decay
    want = 72500.0 / (370.0e6 * 2.0 ** (-3660.0 / 6586.2))
    assert suv_factor(header) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decay": None}, "DecayCorrection is missing"),
        ({"decay": "NONE"}, "not decay-corrected"),
        ({"injection": None}, "lacks the injection time"),
        ({"drop": ("PatientWeight",)}, "PatientWeight .* missing"),
        ({"drop": ("RadionuclideTotalDose",)}, "RadionuclideTotalDose .* missing"),
        ({"drop": ("RadionuclideHalfLife",)}, "RadionuclideHalfLife .* missing"),
        ({"units": "CNTS"}, "Units is 'CNTS'"),
        ({"injection": "120000"}, "after the scan start; check RadiopharmaceuticalStartTime"),
    ],
)
def test_pet_without_the_headers_suv_needs(tmp_path, activity, kwargs, message):
    series = read_dicom_series(_pet(tmp_path, activity, **kwargs))
    with pytest.raises(ImageError, match=message):
        suv_factor(series.header, where="patient X pet")


def test_injection_datetime_a_day_late_names_the_field(tmp_path, activity):
    """Regression (IBSI STS_002: RadiopharmaceuticalStartDateTime one day after the series
    date, as de-identification shifted it): refused naming the field actually used."""
    series = read_dicom_series(_pet(tmp_path, activity))
    late = dict(series.header, RadiopharmaceuticalStartDateTime="20240103100000")
    with pytest.raises(
        ImageError, match="after the scan start; check RadiopharmaceuticalStartDateTime"
    ):
        suv_factor(late, where="patient X pet")
    early = dict(series.header, RadiopharmaceuticalStartDateTime="20231230100000")
    with pytest.raises(ImageError, match="more than 24 h.*RadiopharmaceuticalStartDateTime"):
        suv_factor(early, where="patient X pet")


def test_ct_geometry_constants():
    assert CT_SPACING[1] == CT_SPACING[2]
    assert len(CT_ORIGIN) == 3
