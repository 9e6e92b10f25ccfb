"""Latent variables predicting a censored time: joint maximum likelihood of a structural
equation model and a proportional-hazards outcome, and two-step alternatives."""

from radsem.latent_survival.api import METHODS, latent_survival
from radsem.latent_survival.family import LatentSurvivalModel
from radsem.latent_survival.result import LatentSurvivalFit
from radsem.latent_survival.syntax import SurvivalOutcome, split_survival

__all__ = [
    "latent_survival",
    "LatentSurvivalFit",
    "LatentSurvivalModel",
    "SurvivalOutcome",
    "split_survival",
    "METHODS",
]
