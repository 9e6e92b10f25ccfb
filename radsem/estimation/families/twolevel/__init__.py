"""Two-level SEM (lavaan's ``cluster =`` with ``level: 1`` / ``level: 2`` blocks).

Full-information ML for two-level data with unbalanced clusters (lavaan 0.6-14's estimator):
:mod:`.data` splits the data into within and between parts with the sufficient statistics
per cluster size, :mod:`.spec` builds the parameter table of both levels, :mod:`.implied`
turns the two blocks into the within and between moments, :mod:`.likelihood` evaluates the
log-likelihood and its gradient, :mod:`.problem` binds them to the parameters, :mod:`.h1`
fits the saturated and baseline two-level models, :mod:`.measures` computes the fit
measures and :mod:`.fit` is the fit object returned by ``radsem.sem(..., cluster=...)``.
"""

from radsem.estimation.families.twolevel.estimate import fit_twolevel

__all__ = ["fit_twolevel"]
