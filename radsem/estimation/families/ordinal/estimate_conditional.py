"""Setting up a WLSMV / ULSMV / WLS fit of ordered outcomes given exogenous covariates.

lavaan's default with ordered variables and observed exogenous covariates is
``conditional.x = TRUE``: the covariates are conditioned on, the sample statistics are the
probit (and linear) regressions of the endogenous variables on them and the residual
correlations (:mod:`~radsem.estimation.families.ordinal.samplestats_conditional`), and the model
is compared with them through its reduced form
(:mod:`~radsem.estimation.families.ordinal.implied_conditional`).
"""

from __future__ import annotations

from radsem.errors import EstimationError

__all__ = ["conditional_setup"]


def conditional_setup(spec, frames, levels, missing, parameterization, free_slopes_baseline):
    """Per-group conditional sample statistics and the reduced-form model.

    Raises
    ------
    EstimationError
        With ``missing="pairwise"`` (lavaan 0.6-14 has no pairwise conditional statistics).
    """
    from radsem.estimation.families.ordinal.implied_conditional import ConditionalOrdinalModel
    from radsem.estimation.families.ordinal.samplestats_conditional import (
        conditional_sample_stats,
    )

    if missing != "listwise":
        raise EstimationError(
            "missing='pairwise' is not available with exogenous covariates "
            "(conditional_x=True); use missing='listwise'"
        )
    exo = set(spec.exogenous)
    endo = [v for v in spec.observed if v not in exo]
    stats = [
        conditional_sample_stats(frame, endo, spec.ordered, spec.exogenous, levels=levels)
        for frame in frames
    ]
    model = ConditionalOrdinalModel(
        spec, len(frames), parameterization, stats, free_slopes_baseline
    )
    return stats, model
