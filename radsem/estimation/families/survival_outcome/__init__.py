"""Latent variables predicting a censored time: joint maximum likelihood of a structural
equation model and a proportional-hazards outcome, and two-step alternatives."""

from radsem.estimation.families.survival_outcome.api import METHODS, latent_survival
from radsem.estimation.families.survival_outcome.estimator import LatentSurvivalModel
from radsem.estimation.families.survival_outcome.result import LatentSurvivalFit
from radsem.syntax.survival import SurvivalOutcome, split_survival

__all__ = [
    "latent_survival",
    "LatentSurvivalFit",
    "LatentSurvivalModel",
    "SurvivalOutcome",
    "split_survival",
    "METHODS",
]
