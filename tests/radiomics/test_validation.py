"""Validation against independent references: pyradiomics' own baseline and the IBSI phantom."""

from __future__ import annotations

import ast
import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from radsem.radiomics import resolve_settings
from radsem.radiomics.extract import extract_series, read_volume

DATA = Path(__file__).parent / "data"


def _baseline() -> tuple[dict, dict]:
    with open(DATA / "breast1_baseline.csv", newline="") as handle:
        rows = {r["feature"]: r["value"] for r in csv.DictReader(handle)}
    settings = ast.literal_eval(rows["diagnostics_Configuration_Settings"])
    values = {k: float(v) for k, v in rows.items() if k.startswith("original_")}
    return settings, values


def test_breast1_matches_pyradiomics_baseline():
    """pyradiomics' published breast1 baseline (v3.0.1 data/), same settings, no normalisation.

    All 107 baseline features (shape, first-order, GLCM, GLRLM, GLSZM, GLDM, NGTDM) are compared.
    """
    base_settings, expected = _baseline()
    keep = (
        "binWidth",
        "voxelArrayShift",
        "distances",
        "force2D",
        "force2Ddimension",
        "label",
        "minimumROIDimensions",
        "padDistance",
        "gldm_a",
        "weightingNorm",
    )
    settings = resolve_settings(
        {
            "setting": {k: base_settings[k] for k in keep if base_settings.get(k) is not None},
            "normalize": False,
        }
    )
    feats, diag = extract_series(
        read_volume(DATA / "breast1_image.nrrd"),
        read_volume(DATA / "breast1_label.nrrd"),
        settings,
        True,
        "breast1",
    )
    assert diag["voxels"] == 143  # the baseline's diagnostics_Mask-original_VoxelNum
    common = sorted(set(expected) & set(feats))
    assert len(common) >= 100
    got = np.array([feats[k] for k in common])
    want = np.array([expected[k] for k in common])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# IBSI digital phantom (IBSI 1; Zwanenburg et al., Radiology 2020, doi:10.1148/radiol.2020191145;
# reference manual arXiv:1612.07003). Design by A. Zwanenburg, CC BY 4.0.
#
# Phantom and mask: the published NIfTI files, copied byte for byte into data/ (see data/README.md)
# from github.com/theibsi/data_sets, commit 6da96021bc91faf4c0cb7fd7fa56a4225d2064a8,
# ibsi_1_digital_phantom/nifti/image/phantom.nii.gz and .../nifti/mask/mask.nii.gz.
#
# Reference values: the IBSI reference manual as published at https://ibsi.readthedocs.io, source
# github.com/theibsi/ibsi-doc, commit b952e71e9d40569e8a9ff3c740bc389c04dd6c28, file
# docs/03_Image_features.rst, table "Reference values for the <feature> feature", row
# "dig. phantom" (value column, 3 significant digits). Each entry below carries the IBSI feature
# name and permanent identifier so it can be looked up in that file or in the manual.
# ---------------------------------------------------------------------------------------------
IBSI_IMAGE = DATA / "ibsi1_phantom_image.nii.gz"
IBSI_MASK = DATA / "ibsi1_phantom_mask.nii.gz"
#: SHA-256 of the two files as published at the commit above.
IBSI_SHA256 = {
    IBSI_IMAGE.name: "83773ac2a288aa93cf819a98eaf301c18d35d5876182ec9c18733184e2b7a83a",
    IBSI_MASK.name: "3032d340944b577b83bc559ea7ae9a6034b84633a840eff39570ec17aa1d6281",
}

#: pyradiomics feature -> (IBSI feature, IBSI identifier, IBSI digital-phantom value).
#: Only features whose pyradiomics definition equals the IBSI one on this phantom are listed
#: (intensity statistics on the raw intensities; entropy and uniformity on a bin width of 1, which
#: the manual, "Reference data sets", allows as it leaves the phantom unchanged).
IBSI_REFERENCE = {
    "original_firstorder_Mean": ("Mean intensity", "Q4LE", 2.15),
    "original_firstorder_Variance": ("Intensity variance", "ECT3", 3.05),
    "original_firstorder_Skewness": ("Intensity skewness", "KE2A", 1.08),
    # IBSI publishes excess kurtosis; pyradiomics reports kurtosis (excess + 3), see below.
    "original_firstorder_Kurtosis": ("(Excess) intensity kurtosis", "IPH6", -0.355),
    "original_firstorder_Median": ("Median intensity", "Y12H", 1.0),
    "original_firstorder_Minimum": ("Minimum intensity", "1GSF", 1.0),
    "original_firstorder_10Percentile": ("10th intensity percentile", "QG58", 1.0),
    "original_firstorder_90Percentile": ("90th intensity percentile", "8DWT", 4.0),
    "original_firstorder_Maximum": ("Maximum intensity", "84IY", 6.0),
    "original_firstorder_InterquartileRange": ("Intensity interquartile range", "SALO", 3.0),
    "original_firstorder_Range": ("Intensity range", "2OJQ", 5.0),
    "original_firstorder_MeanAbsoluteDeviation": (
        "Intensity-based mean absolute deviation",
        "4FUA",
        1.55,
    ),
    "original_firstorder_RobustMeanAbsoluteDeviation": (
        "Intensity-based robust mean absolute deviation",
        "1128",
        1.11,
    ),
    "original_firstorder_Energy": ("Intensity-based energy", "N8CA", 567.0),
    "original_firstorder_RootMeanSquared": ("Root mean square intensity", "5ZWQ", 2.77),
    "original_firstorder_Entropy": ("Discretised intensity entropy", "TLU2", 1.27),
    "original_firstorder_Uniformity": ("Discretised intensity uniformity", "BJ5W", 0.512),
    "original_shape_MeshVolume": ("Volume (mesh)", "RNU0", 556.0),
    "original_shape_VoxelVolume": ("Volume (voxel counting)", "YEKZ", 592.0),
    "original_shape_SurfaceArea": ("Surface area (mesh)", "C0JK", 388.0),
    "original_shape_SurfaceVolumeRatio": ("Surface to volume ratio", "2PR5", 0.698),
    "original_shape_Sphericity": ("Sphericity", "QCFX", 0.843),
    "original_shape_Elongation": ("Elongation", "Q3CK", 0.816),
    "original_shape_Flatness": ("Flatness", "N17B", 0.749),
    "original_shape_Maximum3DDiameter": ("Maximum 3D diameter", "L0JK", 13.1),
}

#: Axis lengths (same source): pyradiomics uses the population covariance of the voxel centres.
IBSI_AXES = {
    "original_shape_MajorAxisLength": ("Major axis length", "TDIC", 11.4),
    "original_shape_MinorAxisLength": ("Minor axis length", "P9VJ", 9.31),
    "original_shape_LeastAxisLength": ("Least axis length", "7J51", 8.54),
}


def _half_unit(ref: float, digits: int = 3) -> float:
    """Half a unit in the last of ``digits`` significant digits of ``ref``.

    A computed value within this distance rounds to the published value: the tolerance is the
    precision of the IBSI table itself, tighter than the IBSI "tol." column of the morphological
    features (e.g. 556 +- 4 for the mesh volume) and the only one available for the intensity
    features, whose phantom tolerance the manual gives as "-".
    """
    return 0.5 * 10.0 ** (np.floor(np.log10(abs(ref))) - (digits - 1))


def _ibsi_value(feats: dict, feature: str) -> float:
    value = feats[feature]
    return value - 3.0 if feature == "original_firstorder_Kurtosis" else value


@pytest.fixture(scope="module")
def phantom_images():
    import SimpleITK as sitk

    image = sitk.Cast(sitk.ReadImage(str(IBSI_IMAGE)), sitk.sitkFloat32)
    mask = sitk.Cast(sitk.ReadImage(str(IBSI_MASK)), sitk.sitkUInt8)
    return image, mask


@pytest.fixture(scope="module")
def phantom_features(phantom_images):
    image, mask = phantom_images
    settings = resolve_settings(
        {"normalize": False, "binWidth": 1, "featureClass": {"firstorder": [], "shape": []}}
    )
    return extract_series(image, mask, settings, True, "IBSI phantom")


@pytest.mark.parametrize("path", [IBSI_IMAGE, IBSI_MASK], ids=lambda p: p.name)
def test_ibsi_phantom_files_are_the_published_ones(path):
    assert hashlib.sha256(path.read_bytes()).hexdigest() == IBSI_SHA256[path.name]


def test_ibsi_phantom_matches_manual_description(phantom_images):
    """IBSI manual, "Reference data sets", "Digital phantom": 5 x 4 x 4 (x, y, z) voxels of
    2.0 mm; one internal voxel excluded; grey levels 2 and 5 absent, 1 lowest and 6 highest in
    the ROI."""
    import SimpleITK as sitk

    image, mask = phantom_images
    assert image.GetSize() == mask.GetSize() == (5, 4, 4)
    assert image.GetSpacing() == mask.GetSpacing() == (2.0, 2.0, 2.0)
    values = sitk.GetArrayFromImage(image)
    roi = sitk.GetArrayFromImage(mask).astype(bool)
    assert sorted(set(values[roi].tolist())) == [1.0, 3.0, 4.0, 6.0]
    assert roi.sum() == 74
    interior = roi[1:-1, 1:-1, 1:-1]
    assert (~interior).sum() == 1


@pytest.mark.parametrize("feature", sorted(IBSI_REFERENCE))
def test_ibsi_digital_phantom(phantom_features, feature):
    """Computed value rounds to the published 3 significant digits."""
    feats, diag = phantom_features
    assert diag["voxels"] == 74
    ref = IBSI_REFERENCE[feature][2]
    assert abs(_ibsi_value(feats, feature) - ref) <= _half_unit(ref)


def test_ibsi_phantom_axis_lengths_differ_only_by_covariance_denominator(phantom_features):
    """PCA axis lengths. pyradiomics takes the eigenvalues of the population covariance (divisor
    n = 74) of the voxel centres; the manual does not state the divisor, and its values are
    reproduced to all published digits with the sample covariance (n - 1): factor sqrt(74/73).
    Without it, minor and least axis fall outside the IBSI tolerances (0.06, 0.05)."""
    feats, _ = phantom_features
    factor = np.sqrt(74 / 73)
    for key, (_, _, ref) in IBSI_AXES.items():
        assert abs(feats[key] * factor - ref) <= _half_unit(ref)
    assert abs(feats["original_shape_LeastAxisLength"] - 8.54) > 0.05
