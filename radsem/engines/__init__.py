"""Other engines fitting the same lavaan-syntax model (lavaan through rpy2, semopy), and the
engine-against-engine cross-check.  R/semopy are imported only when an engine is used."""

from radsem.engines.compare import CrossCheck, compare_fits, cross_check, fit_engine
from radsem.engines.lavaan import LavaanFit, fit_lavaan, lavaan_available
from radsem.engines.semopy import SemopyFit, fit_semopy

__all__ = [
    "fit_lavaan",
    "fit_semopy",
    "fit_engine",
    "cross_check",
    "compare_fits",
    "CrossCheck",
    "LavaanFit",
    "SemopyFit",
    "lavaan_available",
]
