"""Deep models in torch: a convolutional autoencoder for tumour crops (also conditioned on
expression), a conditional WGAN-GP for expression profiles and a conditional VAE generating
tumour images from expression, with their evaluation.

torch is imported only when a torch-based name is first used (``radsem.deep.crops`` needs
numpy/scipy only), and never by ``import radsem``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "Case",
    "CropSpec",
    "Crops",
    "crop_case",
    "crop_cases",
    "crop_cohort",
    "load_cases",
    "perturb_mask",
    "ConvAutoencoder",
    "select_radiomic_features",
    "reconstruction_benchmark",
    "latent_stability",
    "downstream_cindex",
    "ConditionalWGAN",
    "combine_real_synthetic",
    "evaluate_gan",
    "augmentation_stability",
    "cohort_expression",
    "ExpressionImageGenerator",
    "evaluate_generator",
    "ConditionedAutoencoder",
    "compare_codes",
]

_WHERE = {
    "Case": "crops",
    "CropSpec": "crops",
    "Crops": "crops",
    "crop_case": "crops",
    "crop_cases": "crops",
    "crop_cohort": "crops",
    "load_cases": "crops",
    "perturb_mask": "crops",
    "ConvAutoencoder": "cae",
    "select_radiomic_features": "selection",
    "reconstruction_benchmark": "cae_eval",
    "latent_stability": "cae_eval",
    "downstream_cindex": "cae_eval",
    "ConditionalWGAN": "gan",
    "combine_real_synthetic": "gan",
    "evaluate_gan": "gan_eval",
    "augmentation_stability": "gan_eval",
    "cohort_expression": "expression_inputs",
    "ExpressionImageGenerator": "imagegen",
    "evaluate_generator": "imagegen_eval",
    "ConditionedAutoencoder": "condae",
    "compare_codes": "condae_eval",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'radsem.deep' has no attribute {name!r}")
    value = getattr(import_module(f"radsem.deep.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
