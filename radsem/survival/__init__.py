"""Survival analysis with R ``survival`` numbers: Cox models (Efron/Breslow, strata, robust,
ridge, Firth), Kaplan-Meier, log-rank tests, concordance and the cox.zph PH test."""

from radsem.survival.concordance import Concordance, concordance_index
from radsem.survival.cox import CoxResult, cox
from radsem.survival.kaplan_meier import KaplanMeierResult, kaplan_meier
from radsem.survival.logrank import LogrankResult, logrank
from radsem.survival.zph import cox_zph

__all__ = [
    "cox",
    "CoxResult",
    "concordance_index",
    "Concordance",
    "kaplan_meier",
    "KaplanMeierResult",
    "logrank",
    "LogrankResult",
    "cox_zph",
]
