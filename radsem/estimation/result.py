"""The contract every fitted model honours: :class:`FitResult`.

radsem's own fits (:class:`~radsem.estimation.families.continuous.fit.SemFit`,
:class:`~radsem.estimation.families.ordinal.fit.OrdinalFit`,
:class:`~radsem.estimation.families.survival_outcome.result.LatentSurvivalFit`,
:class:`~radsem.estimation.families.twolevel.fit.TwoLevelFit`) and the fits of
the cross-check engines (:class:`~radsem.engines.lavaan.LavaanFit`,
:class:`~radsem.engines.semopy.SemopyFit`) all implement it, so reports, workflows and the
engine cross-check take any of them. Code outside a fit class uses these members, never a fit's
private attributes.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = ["FitResult"]


@runtime_checkable
class FitResult(Protocol):
    """A fitted model (structural typing: any object with these members is one).

    Examples
    --------
    >>> import radsem
    >>> from radsem.datasets import load
    >>> fit = radsem.cfa("visual =~ x1 + x2 + x3", load("HolzingerSwineford1939"))
    >>> isinstance(fit, radsem.FitResult)
    True
    """

    @property
    def nobs(self) -> int:
        """Number of cases used in the fit (all groups)."""
        ...

    @property
    def converged(self) -> bool:
        """Whether the optimiser converged."""
        ...

    @property
    def problem(self) -> Any:
        """The engine's estimation problem: radsem's problem object (implied moments,
        Jacobian, sample statistics) for radsem's fits, the R ``lavaan`` object for lavaan,
        the ``semopy.Model`` for semopy."""
        ...

    @property
    def theta(self) -> np.ndarray:
        """Estimates of the free parameters, in the engine's order (lavaan's numbering for
        radsem and lavaan)."""
        ...

    def parameter_estimates(self) -> pd.DataFrame:
        """One row per parameter: ``lhs, op, rhs, group, label, est, se, z, pvalue, ...``."""
        ...

    def fit_measures(self) -> pd.Series:
        """Fit measures under lavaan's names (``npar``, ``chisq``, ``df``, ``cfi``, ...)."""
        ...

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the estimates, labelled."""
        ...

    def summary(self) -> str:
        """A text report."""
        ...
