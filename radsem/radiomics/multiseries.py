"""One patient of a cohort with declared series (``series.csv``): any names, MR/CT/PT, DICOM masks.

Steps per patient: read every series (NIfTI, or a DICOM folder through
:func:`radsem.io.dicom_series.read_dicom_series` with its checks); check a DICOM series'
``Modality`` against the declared one; PET to SUVbw (:mod:`radsem.io.suv`); the mask (NIfTI,
RTSTRUCT or SEG) on the reference series' grid; MR series mean-normalised on their own grid as
in :func:`radsem.radiomics.extract_patient`; every other series resampled onto the reference
grid; pyradiomics with the settings of each series' modality. Features are named
``<series>_<pyradiomics name>``; shape features come from the reference series only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pandas as pd

from radsem.errors import ImageError
from radsem.io.series_images import load_mask, load_series
from radsem.radiomics.extract import (
    _coverage,
    _normalise,
    _resample,
    extract_series,
)

__all__ = ["load_series", "load_mask", "extract_series_patient"]

_DICOM_MODALITY = {"MR": "MR", "CT": "CT", "PT": "PT"}


def extract_series_patient(
    paths: Mapping[str, str | os.PathLike],
    mask: str | os.PathLike,
    spec: pd.DataFrame,
    settings: Mapping[str, Mapping],
    *,
    name: str = "patient",
) -> tuple[pd.Series, dict]:
    """Extract the radiomic profile of one patient of a cohort with declared series.

    Parameters
    ----------
    paths : mapping
        Series name -> NIfTI file or DICOM series folder, for every row of ``spec``.
    mask : path
        NIfTI mask on the reference grid, or ``.dcm`` RTSTRUCT / SEG.
    spec : DataFrame
        ``series, modality, reference, roi, units`` (see :mod:`radsem.io.series`).
    settings : mapping
        Resolved settings per modality
        (:func:`radsem.radiomics.modality.resolve_modality_settings`).
    name : str
        Label for error messages (e.g. the patient id).

    Returns
    -------
    features : Series
        Shape features of the reference series, then every series' other features, each
        prefixed ``<series>_``.
    diagnostics : dict
        Per series: voxels, bins, spacing, volume_mean (MR normalisation), roi_mean, warnings,
        modality and suv_factor (PT).
    """
    rows = spec.to_dict(orient="records")
    ref_row = next(r for r in rows if r["reference"])
    loaded = {}
    for row in rows:
        where = f"{name} {row['series']}"
        loaded[row["series"]] = load_series(
            paths[row["series"]], row["modality"], row["units"], where
        )
    reference, ref_dicom, _ = loaded[ref_row["series"]]
    label = int(settings[ref_row["modality"]]["setting"].get("label", 1))
    roi = load_mask(mask, reference, ref_dicom, ref_row["roi"], label, f"{name} mask")
    features: dict[str, float] = {}
    diagnostics: dict[str, dict] = {}
    shape: dict[str, float] = {}
    for row in rows:
        series, modality = row["series"], row["modality"]
        image, _, factor = loaded[series]
        resolved = settings[modality]
        rs = resolved["radsem"]
        spacing = tuple(float(s) for s in image.GetSpacing())
        label_text = f"{name} {series}"
        mean = float("nan")
        if modality == "MR" and rs["normalize"]:
            image, mean = _normalise(image, rs["scale"], label_text)
        covered = 1.0
        if not row["reference"]:
            covered = _coverage(image, reference, roi)
            if covered == 0:
                raise ImageError(
                    f"{label_text}: the volume does not overlap the tumour mask on "
                    "the reference grid (check the image geometry)"
                )
            image = _resample(image, reference, rs["resample_interpolator"])
        feats, diag = extract_series(image, roi, resolved, bool(row["reference"]), label_text)
        if covered < 1.0:
            note = (
                f"{1 - covered:.1%} of the tumour lies outside the {series} field of view "
                "(resampled as 0)"
            )
            diag["warnings"] = "; ".join(w for w in (diag["warnings"], note) if w)
        for key, value in feats.items():
            target = shape if "_shape_" in key else features
            target[f"{series}_{key}"] = value
        diagnostics[series] = {
            **diag,
            "spacing_x": spacing[0],
            "spacing_y": spacing[1],
            "spacing_z": spacing[2],
            "volume_mean": mean,
            "modality": modality,
            "suv_factor": factor,
        }
    ordered = {**shape, **features}
    return pd.Series(ordered, name=name, dtype=float), diagnostics
