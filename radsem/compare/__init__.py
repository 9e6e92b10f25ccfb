"""Honest comparison of survival model families: cross-validated metrics with uncertainty."""

from radsem.compare.binary import (
    binary_auc,
    binary_decision_curve,
    binary_metrics,
    horizon_labels,
    paired_auc,
)
from radsem.compare.cae import CAECox, CropStore
from radsem.compare.estimator import SurvivalEstimator, as_survival_estimator
from radsem.compare.folds import FoldResult
from radsem.compare.harness import ComparisonResult, compare_models, corrected_ci
from radsem.compare.label import LabelComparison, compare_label
from radsem.compare.logistic import Logistic, as_binary_estimator
from radsem.compare.metrics import Outcome, evaluate
from radsem.compare.models import (
    ClinicalCox,
    ClusterCox,
    CoxFamily,
    PenalisedCox,
    ScoreCox,
    SurvivalModel,
    advanced_stage,
)
from radsem.compare.nested import nested_lr_test
from radsem.compare.optimism import optimism_bootstrap
from radsem.compare.paired import paired_concordance
from radsem.compare.permutation import permutation_interval
from radsem.compare.scorers import sem_scorer

__all__ = [
    "compare_models",
    "ComparisonResult",
    "corrected_ci",
    "SurvivalModel",
    "SurvivalEstimator",
    "as_survival_estimator",
    "as_binary_estimator",
    "FoldResult",
    "CoxFamily",
    "ClinicalCox",
    "PenalisedCox",
    "ClusterCox",
    "ScoreCox",
    "advanced_stage",
    "Outcome",
    "evaluate",
    "paired_concordance",
    "optimism_bootstrap",
    "nested_lr_test",
    "sem_scorer",
    "CAECox",
    "CropStore",
    "Logistic",
    "horizon_labels",
    "binary_auc",
    "paired_auc",
    "binary_metrics",
    "binary_decision_curve",
    "compare_label",
    "LabelComparison",
    "permutation_interval",
]
