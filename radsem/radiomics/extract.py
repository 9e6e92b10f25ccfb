"""One patient: read T2/DWI/ADC and the mask, put them on the T2 grid, normalise, run pyradiomics.

SimpleITK and pyradiomics are imported inside the functions only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from radsem._optional import require
from radsem.errors import DataError, ImageError
from radsem.io.grid import describe_grid as _describe
from radsem.io.grid import same_grid as _same_grid
from radsem.io.images import check_plausible, read_image
from radsem.radiomics.settings import SERIES, resolve_settings

__all__ = ["extract_patient", "read_volume", "extract_series", "build_extractor"]

#: radsem's one image reader (:func:`radsem.io.read_image`), under its older name.
read_volume = read_image

#: pyradiomics log messages that are notes about its own definitions, not about the data.
_BENIGN = ("GLCM is symmetrical",)


def _prepare_mask(mask, t2, label: int, name: str):
    sitk = require("SimpleITK", "reading images")

    if not _same_grid(mask, t2):
        raise ImageError(
            f"{name}: the mask is not on the T2 grid (mask {_describe(mask)}; T2 {_describe(t2)})"
        )
    arr = sitk.GetArrayViewFromImage(mask)
    if not np.any(arr == label):
        if np.any(arr != 0):
            raise ImageError(
                f"{name}: the mask has no voxel with label {label} (labels present: "
                f"{sorted(np.unique(arr).tolist())[:10]})"
            )
        raise ImageError(f"{name}: the mask is empty (no tumour voxel)")
    binary = sitk.GetImageFromArray((arr == label).astype(np.uint8))
    binary.CopyInformation(t2)
    return binary


def _normalise(image, scale: float, name: str):
    """Divide a volume by the mean of all its voxels and multiply by ``scale``."""
    sitk = require("SimpleITK", "reading images")

    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    mean = float(np.mean(arr))
    if not np.isfinite(mean) or mean <= 0:
        raise ImageError(
            f"{name}: the whole-volume mean is {mean:g}; it must be positive to normalise by it"
        )
    out = sitk.GetImageFromArray((arr / mean * scale).astype(np.float32))
    out.CopyInformation(image)
    return out, mean


def _resample(image, reference, interpolator: str):
    sitk = require("SimpleITK", "reading images")

    kind = {
        "linear": sitk.sitkLinear,
        "bspline": sitk.sitkBSpline,
        "nearest": sitk.sitkNearestNeighbor,
    }[interpolator]
    return sitk.Resample(
        sitk.Cast(image, sitk.sitkFloat32), reference, sitk.Transform(), kind, 0.0, sitk.sitkFloat32
    )


def _mask_array(mask) -> np.ndarray:
    sitk = require("SimpleITK", "reading images")

    return sitk.GetArrayViewFromImage(mask)


def _coverage(image, reference, roi) -> float:
    """Share of tumour voxels (T2 grid) whose centre lies inside ``image``'s field of view."""
    sitk = require("SimpleITK", "reading images")

    inside = sitk.Image(image.GetSize(), sitk.sitkUInt8) + 1
    inside.CopyInformation(image)
    on_t2 = sitk.Resample(
        inside, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8
    )
    tumour = sitk.GetArrayViewFromImage(roi) == 1
    return float(np.mean(sitk.GetArrayViewFromImage(on_t2)[tumour] > 0))


class _ThreadLog(logging.Handler):
    """Collects pyradiomics' log records per thread while an extraction runs in that thread.

    Installed once on the ``radiomics`` logger; a filter on pyradiomics' own console handler
    hides the records it collects (thread-safe, unlike swapping handlers or levels).
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        bucket = getattr(self.local, "messages", None)
        if bucket is not None:
            bucket.append(record.getMessage())

    def filter_console(self, record: logging.LogRecord) -> bool:
        return getattr(self.local, "messages", None) is None

    def __enter__(self) -> list[str]:
        self.local.messages = []
        return self.local.messages

    def __exit__(self, *exc) -> None:
        self.local.messages = None


_THREAD_LOG: _ThreadLog | None = None
_INSTALL_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()


def _thread_log() -> _ThreadLog:
    global _THREAD_LOG
    with _INSTALL_LOCK:
        if _THREAD_LOG is None:
            radiomics = require("radiomics", "radiomic feature extraction")

            handler = _ThreadLog()
            logging.getLogger("radiomics").addHandler(handler)
            radiomics.handler.addFilter(handler.filter_console)
            _THREAD_LOG = handler
    return _THREAD_LOG


def build_extractor(settings: Mapping, with_shape: bool = True, check: bool = True):
    """A ``RadiomicsFeatureExtractor`` for resolved settings (shape classes dropped if asked).

    Raises
    ------
    DataError
        pyradiomics rejects the settings (unknown setting, feature class or image type).

    Notes
    -----
    With ``check=True`` the validator's console output is captured into the error message
    (this redirects ``sys.stdout`` briefly, so call it from the main thread); workers use
    ``check=False`` on settings already checked.
    """
    import io

    featureextractor = require("radiomics.featureextractor", "radiomic feature extraction")

    classes = {k: (list(v) if v else None) for k, v in settings["featureClass"].items()}
    params = {
        "setting": dict(settings["setting"]),
        "imageType": dict(settings["imageType"]),
        "featureClass": classes,
    }
    sink = io.StringIO()
    if not check:
        with _BUILD_LOCK:  # pyradiomics' schema validation (YAML parsing) is not thread-safe
            extractor = featureextractor.RadiomicsFeatureExtractor(params)
        return _drop_shape(extractor, with_shape)
    try:
        with contextlib.redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extractor = featureextractor.RadiomicsFeatureExtractor(params)
    except Exception as exc:  # noqa: BLE001 - pykwalify/pyradiomics raise assorted types
        detail = " ".join(sink.getvalue().split())[-300:]
        raise DataError(
            f"pyradiomics rejects the extraction settings: {exc} {detail}".strip()
        ) from exc
    return _drop_shape(extractor, with_shape)


def _drop_shape(extractor, with_shape: bool):
    if not with_shape:
        for name in [k for k in extractor.enabledFeatures if k.startswith("shape")]:
            del extractor.enabledFeatures[name]
    return extractor


_EXTRACTORS = threading.local()


def _cached_extractor(settings: Mapping, with_shape: bool):
    """One extractor per thread and settings: pyradiomics validates a parameter dict against
    its YAML schema on construction (~0.3 s), which would dominate small volumes."""
    from radsem.radiomics.settings import settings_hash

    cache = getattr(_EXTRACTORS, "cache", None)
    if cache is None:
        cache = _EXTRACTORS.cache = {}
    key = (settings_hash(settings), with_shape)
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        # settings are checked (errors as DataError) when built in the main thread
        in_main = threading.current_thread() is threading.main_thread()
        cache[key] = build_extractor(settings, with_shape, check=in_main)
    return cache[key]


#: Imaginary parts at most this share of the magnitude are round-off (pyradiomics takes the
#: eigenvalues of a symmetric matrix with a general solver, which returns e.g. 6.83+6e-17j).
_ROUND_OFF = 1e-9


def _real_values(result: Mapping) -> tuple[dict[str, float], list[str]]:
    """pyradiomics' feature values as floats, never dropping an imaginary part silently.

    A complex value (pyradiomics returns some, e.g. shape axis lengths from the eigenvalues of
    the mask's covariance matrix) becomes NaN, with a note naming the feature; only when its
    imaginary part is round-off (at most ``1e-9`` of its magnitude, exactly 0 included) is the
    real part kept, with a note too.
    """
    values: dict[str, float] = {}
    notes: list[str] = []
    for key, value in result.items():
        if key.startswith("diagnostics_"):
            continue
        array = np.asarray(value)
        if array.size != 1:
            values[key] = float("nan")
            notes.append(f"{key} is not a single number: recorded as NaN")
            continue
        if not np.iscomplexobj(array):
            values[key] = float(array.reshape(-1)[0])
            continue
        number = complex(array.reshape(-1)[0])
        shown = f"{key} is complex ({number.real:.6g}{number.imag:+.3g}j)"
        if abs(number.imag) <= _ROUND_OFF * max(abs(number), 1e-300) or number.imag == 0:
            values[key] = float(number.real)
            notes.append(f"{shown}: the imaginary part is round-off, the real part is kept")
        else:
            values[key] = float("nan")
            notes.append(f"{shown}: recorded as NaN")
    return values, notes


def extract_series(
    image, mask, settings: Mapping, with_shape: bool, name: str
) -> tuple[dict[str, float], dict[str, Any]]:
    """Run pyradiomics on one image/mask pair with resolved settings.

    Returns the features (pyradiomics names, e.g. ``original_glcm_Contrast``) and a small
    diagnostics dict (voxel count, bins used, warnings). Raises :class:`ImageError` when
    pyradiomics refuses the region (too small for texture matrices, ...).
    """
    imageoperations = require("radiomics.imageoperations", "radiomic feature extraction")

    extractor = _cached_extractor(settings, with_shape)
    if not extractor.enabledFeatures:
        return {}, {
            "voxels": int(np.count_nonzero(_mask_array(mask))),
            "bins": 0,
            "roi_mean": float("nan"),
            "warnings": "",
        }
    in_main = threading.current_thread() is threading.main_thread()
    caught: list = []
    try:
        with (
            _thread_log() as messages,
            np.errstate(all="ignore"),
            warnings.catch_warnings(record=True) if in_main else contextlib.nullcontext() as record,
        ):
            if in_main:
                warnings.simplefilter("always")
            result = extractor.execute(image, mask, label=1)
            caught = list(record or [])
    except (ValueError, RuntimeError, IndexError, ZeroDivisionError) as exc:
        raise ImageError(
            f"{name}: pyradiomics cannot compute features for this region "
            f"({str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}); "
            "the tumour may be too small for texture matrices"
        ) from exc
    features, complex_notes = _real_values(result)
    sitk = require("SimpleITK", "reading images")

    arr = sitk.GetArrayViewFromImage(image)[_mask_array(mask) == 1]
    setting = settings["setting"]
    if setting.get("binCount") is not None:
        n_bins = int(setting["binCount"])
    else:
        edges = imageoperations.getBinEdges(
            np.asarray(arr, dtype=np.float64),
            **{k: v for k, v in setting.items() if k == "binWidth"},
        )
        n_bins = int(len(edges) - 1)
    notes = [m for m in messages if not m.startswith(_BENIGN)]
    notes += [str(w.message) for w in caught]
    notes += complex_notes
    n_nan = sum(1 for v in features.values() if not np.isfinite(v))
    if n_nan:
        notes.append(f"{n_nan} feature(s) are not finite")
    diag = {
        "voxels": int(arr.size),
        "bins": n_bins,
        "roi_mean": float(np.mean(arr)),
        "warnings": "; ".join(dict.fromkeys(notes)),
    }
    return features, diag


def extract_patient(
    t2: str | os.PathLike,
    dwi: str | os.PathLike,
    adc: str | os.PathLike,
    mask: str | os.PathLike,
    settings: Mapping | str | os.PathLike | None = None,
    *,
    name: str = "patient",
) -> tuple[pd.Series, dict]:
    """Extract the multi-sequence radiomic profile of one patient.

    Parameters
    ----------
    t2, dwi, adc : path
        The three volumes: NIfTI/NRRD/MHA files or folders each holding one DICOM series.
    mask : path
        Tumour mask drawn on the T2 grid (must match T2's size, spacing, origin, direction).
    settings : dict, YAML parameter file, or None
        See :func:`radsem.radiomics.resolve_settings`; default binWidth 10, original image,
        all default feature classes, shape from T2 only.
    name : str
        Label used in error messages (e.g. the patient id).

    Returns
    -------
    features : Series
        ``t2_original_shape_*`` (14) then first-order, GLCM, GLRLM, GLSZM, GLDM, NGTDM per series
        (``t2_``, ``dwi_``, ``adc_``; 93 each): 293 features with the defaults.
    diagnostics : dict
        Per series: voxel count, spacing (mm, x, y, z), whole-volume mean used for normalisation,
        number of grey-level bins in the tumour, warnings.

    Raises
    ------
    ImageError
        Unreadable, truncated or non-finite image (:func:`radsem.io.read_image`), empty mask,
        mask not on the T2 grid, a series constant inside the mask, tumour too small for
        pyradiomics.

    Notes
    -----
    DWI and ADC are resampled (linear interpolation by default) onto the T2 grid; the mask is
    used unchanged for all three. Each volume is then divided by the mean of all its voxels
    (whole volume on its own grid, not only the tumour) and multiplied by 100 (Halle et al.
    2024). Feature values of each series were checked against pyradiomics run directly on the
    same prepared image.
    """
    resolved = resolve_settings(settings)
    rs = resolved["radsem"]
    paths = {"t2": t2, "dwi": dwi, "adc": adc}
    images = {s: read_volume(p) for s, p in paths.items()}
    reference = images["t2"]
    roi = _prepare_mask(
        read_volume(mask), reference, int(resolved["setting"].get("label", 1)), name
    )
    import SimpleITK as sitk

    inside = sitk.GetArrayViewFromImage(roi) == 1
    features: dict[str, float] = {}
    diagnostics: dict[str, dict] = {}
    for series in SERIES:
        image = images[series]
        spacing = tuple(float(s) for s in image.GetSpacing())
        mean = float("nan")
        label = f"{name} {series.upper()}"
        if rs["normalize"]:
            image, mean = _normalise(image, rs["scale"], label)
        covered = 1.0
        if series != "t2":
            covered = _coverage(image, reference, roi)
            if covered == 0:
                raise ImageError(
                    f"{label}: the volume does not overlap the tumour mask on the T2 "
                    "grid (check the image geometry)"
                )
            image = _resample(image, reference, rs["resample_interpolator"])
        check_plausible(sitk.GetArrayViewFromImage(image), inside, label)
        feats, diag = extract_series(image, roi, resolved, series == rs["shape_series"], label)
        if covered < 1.0:
            note = (
                f"{1 - covered:.1%} of the tumour lies outside the {series.upper()} field of "
                "view (resampled as 0)"
            )
            diag["warnings"] = "; ".join(w for w in (diag["warnings"], note) if w)
        features.update({f"{series}_{k}": v for k, v in feats.items()})
        diagnostics[series] = {
            **diag,
            "spacing_x": spacing[0],
            "spacing_y": spacing[1],
            "spacing_z": spacing[2],
            "volume_mean": mean,
        }
    order = sorted(features, key=lambda k: ("_shape_" not in k, SERIES.index(k.split("_")[0])))
    return pd.Series({k: features[k] for k in order}, name=name, dtype=float), diagnostics
