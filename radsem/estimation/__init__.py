"""radsem's own SEM estimation engine (ML, GLS, ULS) with lavaan's numbers."""

from radsem.estimation.api import cfa, growth, lavaan, sem
from radsem.estimation.families.continuous.fit import SemFit
from radsem.estimation.result import FitResult

__all__ = ["sem", "cfa", "growth", "lavaan", "SemFit", "FitResult"]
