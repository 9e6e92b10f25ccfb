"""Per-voxel loss weights that give a crop's tumour a fixed share of the total weight."""

from __future__ import annotations

from radsem._optional import require

torch = require("torch", "tumour-weighted losses of the deep models")

__all__ = ["tumour_balance_weights"]


def tumour_balance_weights(mask: torch.Tensor, share: float = 0.5) -> torch.Tensor:
    """Per-voxel weights giving the tumour ``share`` of each crop's weight and the rest of the
    crop ``1 - share`` (equal shares by default).

    Parameters
    ----------
    mask : Tensor
        ``(n, 1, ...)`` tumour fraction per voxel.
    share : float
        The tumour's share of the weight, in (0, 1).

    Returns
    -------
    Tensor
        Same shape; per crop the weights sum to the number of voxels, ``share`` of it on the
        tumour (weighted by the fraction) and the rest on the background. A tumour of less
        than one voxel counts as one voxel (its share shrinks rather than its weights
        exploding); an empty mask leaves only the background's part.
    """
    n_vox = mask[0].numel()
    shape = (-1,) + (1,) * (mask.ndim - 1)
    t_sum = mask.flatten(1).sum(1).clamp(min=1.0).reshape(shape)
    b_sum = (1 - mask).flatten(1).sum(1).clamp(min=1.0).reshape(shape)
    return n_vox * (share * mask / t_sum + (1.0 - share) * (1 - mask) / b_sum)
