"""Ordered-categorical data: thresholds, polychoric/polyserial correlations and their
asymptotic covariance (lavaan's two-step sample statistics for WLSMV), also given exogenous
covariates (lavaan's conditional.x)."""

from radsem.estimation.families.ordinal.coding import cut_into_categories
from radsem.estimation.families.ordinal.correlation import (
    PolychoricResult,
    polychoric,
    polychoric_matrix,
    polyserial,
)
from radsem.estimation.families.ordinal.estimate import fit_ordinal
from radsem.estimation.families.ordinal.fit import OrdinalFit
from radsem.estimation.families.ordinal.samplestats import (
    CategoricalStats,
    categorical_sample_stats,
)
from radsem.estimation.families.ordinal.samplestats_conditional import (
    ConditionalStats,
    conditional_sample_stats,
)
from radsem.estimation.measures.lrt_ordinal import wlsmv_difference_test

__all__ = [
    "CategoricalStats",
    "categorical_sample_stats",
    "ConditionalStats",
    "conditional_sample_stats",
    "cut_into_categories",
    "polychoric",
    "polychoric_matrix",
    "polyserial",
    "PolychoricResult",
    "fit_ordinal",
    "OrdinalFit",
    "wlsmv_difference_test",
]
