"""Ordered-categorical data: thresholds, polychoric/polyserial correlations and their
asymptotic covariance (lavaan's two-step sample statistics for WLSMV)."""

from radsem.estimation.ordinal.coding import cut_into_categories
from radsem.estimation.ordinal.correlation import (
    PolychoricResult,
    polychoric,
    polychoric_matrix,
    polyserial,
)
from radsem.estimation.ordinal.difftest import wlsmv_difference_test
from radsem.estimation.ordinal.estimate import fit_ordinal
from radsem.estimation.ordinal.fit import OrdinalFit
from radsem.estimation.ordinal.samplestats import CategoricalStats, categorical_sample_stats

__all__ = [
    "CategoricalStats",
    "categorical_sample_stats",
    "cut_into_categories",
    "polychoric",
    "polychoric_matrix",
    "polyserial",
    "PolychoricResult",
    "fit_ordinal",
    "OrdinalFit",
    "wlsmv_difference_test",
]
