"""Models of continuous observed variables (normal theory, FIML)."""

from radsem.estimation.families.continuous.estimate import ESTIMATORS, fit_continuous

__all__ = ["fit_continuous", "ESTIMATORS"]
