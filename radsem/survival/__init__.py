"""Survival analysis with R ``survival`` numbers: Cox models (Efron/Breslow, strata, robust,
ridge, Firth), Kaplan-Meier, log-rank tests, concordance and the cox.zph PH test."""

from radsem.survival.concordance import Concordance, concordance_index
from radsem.survival.cox import CoxResult, cox

__all__ = ["cox", "CoxResult", "concordance_index", "Concordance"]
