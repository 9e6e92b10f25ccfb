"""Setting up a WLSMV / ULSMV / WLS fit of ordered outcomes given exogenous covariates.

lavaan's default with ordered variables and observed exogenous covariates is
``conditional.x = TRUE``: the covariates are conditioned on, the sample statistics are the
probit (and linear) regressions of the endogenous variables on them and the residual
correlations (:mod:`~radsem.estimation.families.ordinal.samplestats_conditional`), and the model
is compared with them through its reduced form
(:mod:`~radsem.estimation.families.ordinal.implied_conditional`).
"""

from __future__ import annotations

import warnings

from radsem._warnings import user_stacklevel
from radsem.errors import DataWarning

__all__ = ["conditional_setup"]


def _usable(frame, endo: list[str], exo: list[str]):
    """``missing="pairwise"``: rows with a missing covariate, or with no observed endogenous
    variable, are removed (with a warning), as lavaan does."""
    keep = frame[exo].notna().all(axis=1) & frame[endo].notna().any(axis=1)
    dropped = int((~keep).sum())
    if dropped:
        warnings.warn(
            f"{dropped} of {len(frame)} rows have a missing covariate or no observed "
            "endogenous variable and were removed (missing='pairwise' with conditional_x)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return frame.loc[keep]


def conditional_setup(spec, frames, levels, missing, parameterization, free_slopes_baseline):
    """Per-group conditional sample statistics and the reduced-form model.

    With ``missing="pairwise"`` every regression and residual correlation uses the rows where
    its variables are observed (rows with a missing covariate are removed, with a warning).
    """
    from radsem.estimation.families.ordinal.implied_conditional import ConditionalOrdinalModel
    from radsem.estimation.families.ordinal.samplestats_conditional import (
        conditional_sample_stats,
    )

    exo = set(spec.exogenous)
    endo = [v for v in spec.observed if v not in exo]
    if missing == "pairwise":
        frames = [_usable(frame, endo, list(spec.exogenous)) for frame in frames]
    stats = [
        conditional_sample_stats(
            frame, endo, spec.ordered, spec.exogenous, levels=levels, missing=missing
        )
        for frame in frames
    ]
    model = ConditionalOrdinalModel(
        spec, len(frames), parameterization, stats, free_slopes_baseline
    )
    return stats, model
