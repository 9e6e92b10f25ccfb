"""Two-level SEM (lavaan's ``cluster =`` with ``level: 1`` / ``level: 2`` blocks).

Full-information ML for two-level data with unbalanced clusters (lavaan 0.6-14's estimator):
:mod:`.data` splits the data into within and between parts with the sufficient statistics
per cluster size, :mod:`.spec` builds the parameter table of both levels, :mod:`.problem`
turns the two blocks into the within and between moments and binds them to
:mod:`.likelihood` (log-likelihood and gradient), :mod:`.optimize` maximises it, :mod:`.em`
gives lavaan's saturated-model estimates, :mod:`.h1` the saturated and baseline models,
:mod:`.measures` the fit measures and :mod:`.fit` the fit object returned by
``radsem.sem(..., cluster=...)``. See ``docs/sem-twolevel.md``.
"""

from radsem.estimation.families.twolevel.estimate import fit_twolevel
from radsem.estimation.families.twolevel.fit import TwoLevelFit

__all__ = ["fit_twolevel", "TwoLevelFit"]
