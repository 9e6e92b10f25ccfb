"""radsem: cancer radiogenomics with structural equation models.

Heavy optional parts (torch, rpy2, pyradiomics) are imported only by the sub-packages
that need them, so ``import radsem`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from radsem._version import __version__
from radsem.errors import (
    ConvergenceWarning,
    DataError,
    ImageError,
    ImproperSolutionWarning,
    ModelSyntaxError,
    RadsemError,
)

__all__ = [
    "__version__",
    "show_versions",
    "RadsemError",
    "ModelSyntaxError",
    "DataError",
    "ImageError",
    "ConvergenceWarning",
    "ImproperSolutionWarning",
    "sem",
    "cfa",
    "growth",
    "lavaan",
    "anova",
    "load_fit",
    "FitResult",
    "efa",
]

# Public functions that live in sub-packages, resolved on first use (PEP 562) so that
# importing radsem does not import scipy-heavy modules until they are needed.
_LAZY = {
    "show_versions": "radsem._show_versions",
    "sem": "radsem.estimation.api",
    "cfa": "radsem.estimation.api",
    "growth": "radsem.estimation.api",
    "lavaan": "radsem.estimation.api",
    "efa": "radsem.estimation.api",
    "anova": "radsem.estimation.measures.lrt",
    "load_fit": "radsem.estimation.core.saved",
    "FitResult": "radsem.estimation.result",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'radsem' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
