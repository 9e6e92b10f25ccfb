"""The segmentation network, built from MONAI by name and a small JSON-ready configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from radsem.errors import DataError

__all__ = ["ARCHITECTURES", "build_network"]

#: Supported architectures: MONAI's attention U-Net (Oktay et al. 2018, as used by Li et al.)
#: and its residual U-Net.
ARCHITECTURES = ("attention_unet", "unet")


def build_network(config: Mapping[str, Any]):
    """A MONAI 3D network with 3 input channels (T2, DWI, ADC) and 2 outputs (background,
    tumour).

    ``config``: ``architecture`` (one of :data:`ARCHITECTURES`), ``channels`` (feature maps
    per level) and ``strides`` (one per down-sampling, each an int or a (z, y, x) triple;
    ``(1, 2, 2)`` first suits the thick slices of pelvic T2).
    """
    from monai.networks.nets import AttentionUnet, UNet

    arch = config.get("architecture")
    if arch not in ARCHITECTURES:
        raise DataError(f"architecture must be one of {list(ARCHITECTURES)}, got {arch!r}")
    channels = tuple(int(c) for c in config["channels"])
    strides = tuple(
        tuple(int(v) for v in s) if isinstance(s, (list, tuple)) else int(s)
        for s in config["strides"]
    )
    if len(channels) < 2 or len(strides) != len(channels) - 1 or min(channels) < 1:
        raise DataError(f"channels {channels} need one stride fewer than levels, got {strides}")
    if arch == "attention_unet":
        return AttentionUnet(
            spatial_dims=3,
            in_channels=3,
            out_channels=2,
            channels=channels,
            strides=strides,
            dropout=float(config.get("dropout", 0.0)),
        )
    return UNet(
        spatial_dims=3,
        in_channels=3,
        out_channels=2,
        channels=channels,
        strides=strides,
        num_res_units=1,
        dropout=float(config.get("dropout", 0.0)),
    )
