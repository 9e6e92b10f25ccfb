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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsem._optional import require
from radsem.errors import DataError, ImageError
from radsem.radiomics._nonfinite import nonfinite_voxels
from radsem.radiomics.settings import SERIES, resolve_settings

__all__ = ["extract_patient", "read_volume", "extract_series", "build_extractor"]

_GEOMETRY_TOL = 1e-3
#: pyradiomics log messages that are notes about its own definitions, not about the data.
_BENIGN = ("GLCM is symmetrical",)


def read_volume(path: str | os.PathLike):
    """Read a 3D volume: a NIfTI/NRRD/MHA file, or a folder holding one DICOM series.

    Only voxel data and geometry are kept: no DICOM header field (patient name, id, dates) is
    read into the returned image's metadata.

    Raises
    ------
    ImageError
        Missing or unreadable file, a folder without (or with several) DICOM series.
    """
    sitk = require("SimpleITK", "reading images")

    path = Path(path)
    if path.is_dir():
        reader = sitk.ImageSeriesReader()
        ids = reader.GetGDCMSeriesIDs(str(path))
        if not ids:
            raise ImageError(f"{path}: folder holds no DICOM series")
        if len(ids) > 1:
            raise ImageError(f"{path}: folder holds {len(ids)} DICOM series; give one per folder")
        files = reader.GetGDCMSeriesFileNames(str(path), ids[0])
        reader.SetFileNames(files)
        reader.MetaDataDictionaryArrayUpdateOff()
        reader.LoadPrivateTagsOff()
        try:
            image = reader.Execute()
        except RuntimeError as exc:
            raise ImageError(f"{path}: the DICOM series cannot be read") from exc
    else:
        if not path.is_file():
            raise ImageError(f"{path}: image file not found")
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError as exc:
            raise ImageError(f"{path}: cannot be read as an image (corrupted or unknown "
                             "format)") from exc
    if image.GetDimension() != 3:
        raise ImageError(f"{path}: expected a 3D volume, got {image.GetDimension()}D")
    bad = nonfinite_voxels(path, sitk.GetArrayViewFromImage(image))
    if bad:
        raise ImageError(f"{path}: {bad} voxel(s) are NaN or infinite; replace them (e.g. by 0 "
                         "outside the body) before extraction - ITK would read NaN in NIfTI "
                         "files as 0 without notice")
    clean = sitk.Image(image)  # a copy without the reader's metadata dictionary
    for key in clean.GetMetaDataKeys():
        clean.EraseMetaData(key)
    return clean


def _same_grid(a, b) -> bool:
    return (a.GetSize() == b.GetSize()
            and np.allclose(a.GetSpacing(), b.GetSpacing(), rtol=_GEOMETRY_TOL, atol=1e-6)
            and np.allclose(a.GetOrigin(), b.GetOrigin(),
                            atol=_GEOMETRY_TOL * max(min(a.GetSpacing()), 1e-6))
            and np.allclose(a.GetDirection(), b.GetDirection(), atol=_GEOMETRY_TOL))


def _describe(image) -> str:
    return (f"size {image.GetSize()}, spacing "
            f"{tuple(round(s, 4) for s in image.GetSpacing())}, origin "
            f"{tuple(round(o, 3) for o in image.GetOrigin())}")


def _prepare_mask(mask, t2, label: int, name: str):
    sitk = require("SimpleITK", "reading images")

    if not _same_grid(mask, t2):
        raise ImageError(f"{name}: the mask is not on the T2 grid (mask {_describe(mask)}; "
                         f"T2 {_describe(t2)})")
    arr = sitk.GetArrayViewFromImage(mask)
    if not np.any(arr == label):
        if np.any(arr != 0):
            raise ImageError(f"{name}: the mask has no voxel with label {label} (labels present: "
                             f"{sorted(np.unique(arr).tolist())[:10]})")
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
        raise ImageError(f"{name}: the whole-volume mean is {mean:g}; it must be positive to "
                         "normalise by it")
    out = sitk.GetImageFromArray((arr / mean * scale).astype(np.float32))
    out.CopyInformation(image)
    return out, mean


def _resample(image, reference, interpolator: str):
    sitk = require("SimpleITK", "reading images")

    kind = {"linear": sitk.sitkLinear, "bspline": sitk.sitkBSpline,
            "nearest": sitk.sitkNearestNeighbor}[interpolator]
    return sitk.Resample(sitk.Cast(image, sitk.sitkFloat32), reference, sitk.Transform(), kind,
                         0.0, sitk.sitkFloat32)


def _mask_array(mask) -> np.ndarray:
    sitk = require("SimpleITK", "reading images")

    return sitk.GetArrayViewFromImage(mask)


def _coverage(image, reference, roi) -> float:
    """Share of tumour voxels (T2 grid) whose centre lies inside ``image``'s field of view."""
    sitk = require("SimpleITK", "reading images")

    inside = sitk.Image(image.GetSize(), sitk.sitkUInt8) + 1
    inside.CopyInformation(image)
    on_t2 = sitk.Resample(inside, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                          sitk.sitkUInt8)
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
    params = {"setting": dict(settings["setting"]), "imageType": dict(settings["imageType"]),
              "featureClass": classes}
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
        raise DataError(f"pyradiomics rejects the extraction settings: {exc} {detail}".strip()
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


def extract_series(image, mask, settings: Mapping, with_shape: bool, name: str
                   ) -> tuple[dict[str, float], dict[str, Any]]:
    """Run pyradiomics on one image/mask pair with resolved settings.

    Returns the features (pyradiomics names, e.g. ``original_glcm_Contrast``) and a small
    diagnostics dict (voxel count, bins used, warnings). Raises :class:`ImageError` when
    pyradiomics refuses the region (too small for texture matrices, ...).
    """
    imageoperations = require("radiomics.imageoperations", "radiomic feature extraction")

    extractor = _cached_extractor(settings, with_shape)
    if not extractor.enabledFeatures:
        return {}, {"voxels": int(np.count_nonzero(_mask_array(mask))), "bins": 0,
                    "roi_mean": float("nan"), "warnings": ""}
    in_main = threading.current_thread() is threading.main_thread()
    caught: list = []
    try:
        with _thread_log() as messages, np.errstate(all="ignore"), \
                (warnings.catch_warnings(record=True) if in_main else contextlib.nullcontext()
                 ) as record:
            if in_main:
                warnings.simplefilter("always")
            result = extractor.execute(image, mask, label=1)
            caught = list(record or [])
    except (ValueError, RuntimeError, IndexError, ZeroDivisionError) as exc:
        raise ImageError(f"{name}: pyradiomics cannot compute features for this region "
                         f"({str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}); "
                         "the tumour may be too small for texture matrices") from exc
    features = {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}
    sitk = require("SimpleITK", "reading images")

    arr = sitk.GetArrayViewFromImage(image)[_mask_array(mask) == 1]
    setting = settings["setting"]
    if setting.get("binCount") is not None:
        n_bins = int(setting["binCount"])
    else:
        edges = imageoperations.getBinEdges(np.asarray(arr, dtype=np.float64),
                                            **{k: v for k, v in setting.items()
                                               if k == "binWidth"})
        n_bins = int(len(edges) - 1)
    notes = [m for m in messages if not m.startswith(_BENIGN)]
    notes += [str(w.message) for w in caught]
    n_nan = sum(1 for v in features.values() if not np.isfinite(v))
    if n_nan:
        notes.append(f"{n_nan} feature(s) are not finite")
    diag = {"voxels": int(arr.size), "bins": n_bins,
            "roi_mean": float(np.mean(arr)), "warnings": "; ".join(dict.fromkeys(notes))}
    return features, diag


def extract_patient(t2: str | os.PathLike, dwi: str | os.PathLike, adc: str | os.PathLike,
                    mask: str | os.PathLike, settings: Mapping | str | os.PathLike | None = None,
                    *, name: str = "patient") -> tuple[pd.Series, dict]:
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
        Unreadable image, empty mask, mask not on the T2 grid, tumour too small for pyradiomics.

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
    roi = _prepare_mask(read_volume(mask), reference, int(resolved["setting"].get("label", 1)),
                        name)
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
                raise ImageError(f"{label}: the volume does not overlap the tumour mask on the T2 "
                                 "grid (check the image geometry)")
            image = _resample(image, reference, rs["resample_interpolator"])
        feats, diag = extract_series(image, roi, resolved, series == rs["shape_series"], label)
        if covered < 1.0:
            note = (f"{1 - covered:.1%} of the tumour lies outside the {series.upper()} field of "
                    "view (resampled as 0)")
            diag["warnings"] = "; ".join(w for w in (diag["warnings"], note) if w)
        features.update({f"{series}_{k}": v for k, v in feats.items()})
        diagnostics[series] = {**diag, "spacing_x": spacing[0], "spacing_y": spacing[1],
                               "spacing_z": spacing[2], "volume_mean": mean}
    order = sorted(features, key=lambda k: ("_shape_" not in k, SERIES.index(k.split("_")[0])))
    return pd.Series({k: features[k] for k in order}, name=name, dtype=float), diagnostics
