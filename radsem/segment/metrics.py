"""Overlap and boundary agreement of a predicted with a reference mask (MONAI's metrics)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["mask_metrics"]


def _onehot(mask: np.ndarray):
    import torch

    m = torch.as_tensor(np.asarray(mask, dtype=bool))
    return torch.stack([~m, m]).unsqueeze(0).float()


def mask_metrics(
    pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float] = (1.0, 1.0, 1.0)
) -> dict[str, float]:
    """Dice, 95th-percentile Hausdorff distance and volume difference of two binary masks.

    Parameters
    ----------
    pred, ref : ndarray of bool, shape (Z, Y, X)
        Predicted and reference mask on the same grid.
    spacing : (sz, sy, sx)
        Voxel size in mm (for ``hd95_mm`` and the volumes).

    Returns
    -------
    dict
        ``dice`` (MONAI ``DiceMetric``; 0 when exactly one mask is empty), ``hd95_vox`` and
        ``hd95_mm`` (MONAI ``HausdorffDistanceMetric``, percentile 95, symmetric, in voxels and
        in mm; NaN when either mask is empty), ``volume_pred_ml``, ``volume_ref_ml`` and
        ``volume_diff_pct`` (100 (pred - ref) / ref).
    """
    from monai.metrics import DiceMetric, HausdorffDistanceMetric

    pred = np.asarray(pred, dtype=bool)
    ref = np.asarray(ref, dtype=bool)
    if pred.shape != ref.shape:
        from radsem.errors import ImageError

        raise ImageError(
            f"predicted mask {pred.shape} and reference mask {ref.shape} differ in shape"
        )
    voxel_ml = float(np.prod(spacing)) / 1000.0
    out = {
        "volume_pred_ml": float(pred.sum()) * voxel_ml,
        "volume_ref_ml": float(ref.sum()) * voxel_ml,
    }
    out["volume_diff_pct"] = (
        100.0 * (out["volume_pred_ml"] - out["volume_ref_ml"]) / out["volume_ref_ml"]
        if ref.any()
        else float("nan")
    )
    if not pred.any() or not ref.any():
        out.update(
            dice=1.0 if pred.any() == ref.any() else 0.0,
            hd95_vox=float("nan"),
            hd95_mm=float("nan"),
        )
        return out
    p, r = _onehot(pred), _onehot(ref)
    out["dice"] = float(DiceMetric(include_background=False)(p, r).item())
    hd = HausdorffDistanceMetric(include_background=False, percentile=95.0)
    with warnings.catch_warnings():
        # MONAI 1.5-1.6 passes its own deprecated argument internally (FutureWarning)
        warnings.filterwarnings(
            "ignore", message=".*always_return_as_numpy", category=FutureWarning
        )
        out["hd95_vox"] = float(hd(p, r).item())
        out["hd95_mm"] = float(hd(p, r, spacing=[float(s) for s in spacing]).item())
    return out
