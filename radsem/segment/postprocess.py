"""Clean-up of a probability map into one tumour: largest component, then region growing.

As Li et al. (BMC Cancer 2025) followed their attention U-Net by region growing, the voxels
with probability above ``high`` form seeds; the largest seed component is kept and grown into
its connected neighbours with probability above ``low`` (hysteresis), and holes are filled.
"""

from __future__ import annotations

import numpy as np

__all__ = ["largest_component", "grow_region", "touches_border"]


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component of a binary volume (empty stays empty)."""
    import SimpleITK as sitk

    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return mask.copy()
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    labels = sitk.RelabelComponent(sitk.ConnectedComponent(image, True), sortByObjectSize=True)
    return sitk.GetArrayFromImage(labels) == 1


def grow_region(prob: np.ndarray, high: float = 0.5, low: float = 0.3) -> np.ndarray:
    """Largest component of ``prob > high`` grown into connected voxels with ``prob > low``,
    holes filled.

    Parameters
    ----------
    prob : ndarray, shape (Z, Y, X)
        Tumour probability.
    high, low : float
        Seed and growth thresholds (``0 < low <= high < 1``).
    """
    import SimpleITK as sitk

    core = largest_component(prob > high)
    if not core.any():
        return core
    image = sitk.GetImageFromArray((prob > low).astype(np.uint8))
    labels = sitk.GetArrayFromImage(sitk.ConnectedComponent(image, True))
    keep = np.unique(labels[core])
    grown = np.isin(labels, keep[keep > 0]) | core
    filled = sitk.BinaryFillhole(sitk.GetImageFromArray(grown.astype(np.uint8)), True, 1)
    return sitk.GetArrayFromImage(filled) > 0


def touches_border(mask: np.ndarray) -> bool:
    """True when the mask has a voxel on a face of the volume: the tumour may extend beyond
    the field of view (its volume and shape are then truncated)."""
    mask = np.asarray(mask, dtype=bool)
    return bool(any(np.take(mask, i, axis=a).any() for a in range(3) for i in (0, -1)))
