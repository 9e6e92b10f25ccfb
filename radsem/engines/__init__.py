"""Other engines fitting the same lavaan-syntax model (lavaan through rpy2, semopy), and the
engine-against-engine cross-check.  R/semopy are imported only when an engine is used."""

from radsem.engines.crosscheck import CrossCheck, cross_check, cross_check_fits, fit_engine
from radsem.engines.lavaan import LavaanFit, fit_lavaan, lavaan_available
from radsem.engines.semopy import SemopyFit, fit_semopy

__all__ = [
    "fit_lavaan",
    "fit_semopy",
    "fit_engine",
    "cross_check",
    "cross_check_fits",
    "CrossCheck",
    "LavaanFit",
    "SemopyFit",
    "lavaan_available",
]


def __getattr__(name: str):
    if name == "compare_fits":  # the name before issue 18 (documented in docs/engines.md)
        import warnings

        warnings.warn(
            "radsem.engines.compare_fits is deprecated; use radsem.engines.cross_check_fits",
            DeprecationWarning,
            stacklevel=2,
        )
        return cross_check_fits
    raise AttributeError(f"module 'radsem.engines' has no attribute {name!r}")
