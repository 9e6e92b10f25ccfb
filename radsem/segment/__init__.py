"""Automatic tumour segmentation (Li et al., BMC Cancer 2025, adapted to pelvic MRI).

A small 3D attention U-Net (MONAI) on T2 + DWI + ADC resampled to the T2 grid, trained on
patches with ``DiceCELoss`` and applied by sliding-window inference, followed by region growing
and largest-component clean-up; a DWI threshold + largest component is the baseline every
evaluation reports. scikit-learn style::

    seg = UNetSegmenter(epochs=12, random_state=0).fit("cohort/")
    seg.save("model/")
    result = predict_masks(UNetSegmenter.load("model/"), "cohort/", out="masks/")

torch and MONAI are imported only when a model is built, trained or loaded.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "UNetSegmenter",
    "ThresholdSegmenter",
    "SegmentationResult",
    "predict_masks",
    "with_predicted_masks",
    "read_case",
    "Case",
    "mask_metrics",
    "evaluate_segmentation",
    "feature_agreement",
    "load_segmenter",
    "FORMAT_VERSION",
]

_WHERE = {
    "UNetSegmenter": "unet",
    "ThresholdSegmenter": "baseline",
    "SegmentationResult": "cohort",
    "predict_masks": "cohort",
    "with_predicted_masks": "cohort",
    "read_case": "volumes",
    "Case": "volumes",
    "mask_metrics": "metrics",
    "evaluate_segmentation": "evaluate",
    "feature_agreement": "evaluate",
    "FORMAT_VERSION": "model_io",
}


def load_segmenter(folder: Any, n_threads: int = 1):
    """Load a model folder written by ``radsem segment train`` (alias of
    :meth:`UNetSegmenter.load`)."""
    from radsem.segment.unet import UNetSegmenter

    return UNetSegmenter.load(folder, n_threads=n_threads)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"radsem.segment.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'radsem.segment' has no attribute {name!r}")
