"""PET activity concentration (Bq/ml) to body-weight SUV from the DICOM headers.

SUVbw = C * W / D(t0)   with   D(t0) = D * 2 ** (-(t0 - t_inj) / T_half)

where C is the voxel value in Bq/ml, W the patient weight in g (``PatientWeight`` kg x 1000),
D the injected dose in Bq (``RadionuclideTotalDose``), t_inj the injection time
(``RadiopharmaceuticalStartDateTime``, else ``SeriesDate`` + ``RadiopharmaceuticalStartTime``),
T_half the half-life in s (``RadionuclideHalfLife``) and t0 the time the image is decay-corrected
to: with ``DecayCorrection`` = ``START`` the scan start, taken as ``SeriesDate``/``SeriesTime``
unless a slice was acquired before it (then the earliest acquisition time, as in the QIBA
vendor-neutral SUV pseudo-code); with ``ADMIN`` the injection itself (no decay factor).
A series already in ``GML`` (g/ml, i.e. SUVbw) is used as it is. Any missing or implausible
field is an :class:`radsem.errors.ImageError` naming it: radsem never guesses a dose or a time.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

from radsem.errors import ImageError

__all__ = ["suv_factor", "to_suv"]

#: Longest plausible time (s) between injection and scan start.
MAX_UPTAKE_SECONDS = 24 * 3600.0


def _datetime(date: Any, time: Any) -> _dt.datetime | None:
    if date in (None, "") or time in (None, ""):
        return None
    from pydicom.valuerep import DA, TM

    try:
        return _dt.datetime.combine(DA(str(date)), TM(str(time)))
    except (ValueError, TypeError):
        return None


def _dt_value(value: Any) -> _dt.datetime | None:
    if value in (None, ""):
        return None
    from pydicom.valuerep import DT

    try:
        out = DT(str(value))
    except (ValueError, TypeError):
        return None
    return out.replace(tzinfo=None)


def _positive(header: dict, key: str, what: str, where: str) -> float:
    value = header.get(key)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if value in (None, "") or not math.isfinite(number) or number <= 0:
        raise ImageError(
            f"{where}: PET header field {key} ({what}) is missing or not positive; "
            "SUVbw cannot be computed"
        )
    return number


def _scan_start(header: dict, where: str) -> _dt.datetime:
    series = _datetime(header.get("SeriesDate"), header.get("SeriesTime"))
    acquired = []
    for date, time, stamp in header.get("acquisition_times", []):
        when = _dt_value(stamp) or _datetime(date, time)
        if when is not None:
            acquired.append(when)
    earliest = min(acquired) if acquired else None
    if series is None and earliest is None:
        raise ImageError(
            f"{where}: PET header has neither SeriesDate/SeriesTime nor "
            "AcquisitionDate/AcquisitionTime; the decay time is unknown"
        )
    if series is None or (earliest is not None and earliest < series):
        return earliest
    return series


def _injection(header: dict, where: str) -> tuple[_dt.datetime, str]:
    """The injection time and the header field(s) it was taken from."""
    stamp = _dt_value(header.get("RadiopharmaceuticalStartDateTime"))
    if stamp is not None:
        return stamp, "RadiopharmaceuticalStartDateTime"
    date = header.get("SeriesDate") or header.get("AcquisitionDate")
    when = _datetime(date, header.get("RadiopharmaceuticalStartTime"))
    if when is None:
        raise ImageError(
            f"{where}: PET header lacks the injection time "
            "(RadiopharmaceuticalStartDateTime or RadiopharmaceuticalStartTime in "
            "RadiopharmaceuticalInformationSequence); decay correction impossible"
        )
    return when, "RadiopharmaceuticalStartTime (on the series date)"


def suv_factor(header: dict, *, where: str = "PET series") -> float:
    """The factor turning the series' voxel values into SUVbw (g/ml).

    Parameters
    ----------
    header : dict
        The PET header fields kept by :func:`radsem.io.dicom_series.read_dicom_series`
        (``DicomSeries.header``).
    where : str
        Label for error messages.

    Returns
    -------
    float
        Multiply the voxel values (Bq/ml) by it.

    Raises
    ------
    ImageError
        Units other than BQML or GML, no or unsupported ``DecayCorrection``, missing weight,
        dose, half-life or times, an injection after the scan or more than 24 h before it.
    """
    units = str(header.get("Units") or "").upper()
    if units == "GML":
        return 1.0
    if units != "BQML":
        raise ImageError(
            f"{where}: PET Units is {units or 'missing'!r}; SUVbw needs BQML "
            "(activity concentration) or GML (already SUVbw)"
        )
    decay = str(header.get("DecayCorrection") or "").upper()
    if decay not in ("START", "ADMIN"):
        reason = (
            "missing"
            if not decay
            else f"{decay!r} (images not decay-corrected; per-frame correction is not done)"
        )
        raise ImageError(
            f"{where}: PET DecayCorrection is {reason}; SUVbw needs images "
            "decay-corrected to the scan start (START) or the injection (ADMIN)"
        )
    weight_g = _positive(header, "PatientWeight", "kg", where) * 1000.0
    dose = _positive(header, "RadionuclideTotalDose", "injected dose, Bq", where)
    if decay == "ADMIN":
        return weight_g / dose
    half_life = _positive(header, "RadionuclideHalfLife", "s", where)
    injected, source = _injection(header, where)
    elapsed = (_scan_start(header, where) - injected).total_seconds()
    if elapsed < 0:
        raise ImageError(
            f"{where}: PET injection time is {-elapsed:.0f} s after the scan start; "
            f"check {source} (a date shifted by de-identification?)"
        )
    if elapsed > MAX_UPTAKE_SECONDS:
        raise ImageError(
            f"{where}: PET injection {elapsed / 3600:.1f} h before the scan start "
            f"(more than 24 h); check {source} (a date shifted by de-identification?)"
        )
    decayed = dose * 2.0 ** (-elapsed / half_life)
    return weight_g / decayed


def to_suv(image, header: dict, *, where: str = "PET series"):
    """A float32 copy of a PET ``SimpleITK.Image`` in SUVbw, see :func:`suv_factor`."""
    import SimpleITK as sitk

    factor = suv_factor(header, where=where)
    arr = sitk.GetArrayFromImage(image).astype(np.float64) * factor
    out = sitk.GetImageFromArray(arr.astype(np.float32))
    out.CopyInformation(image)
    return out
