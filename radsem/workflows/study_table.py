"""The study table of the mechanism models: one row per patient from a cohort's tables."""

from __future__ import annotations

import pandas as pd

__all__ = ["sem_table"]


def sem_table(cohort) -> pd.DataFrame:
    """One row per patient for the mechanism models: age, ``advanced`` (FIGO III/IV = 1) and the
    log2 expression with lavaan-safe gene names (missing where a patient has no expression).

    Parameters
    ----------
    cohort : Cohort or SimulatedCohort
        Anything with ``clinical`` and ``expression`` tables keyed by ``patient_id``.

    Returns
    -------
    DataFrame
        Indexed by ``patient_id``.
    """
    from radsem.simulate import lavaan_name

    clinical = cohort.clinical.set_index("patient_id")
    expression = cohort.expression.set_index("patient_id")
    expression.columns = [lavaan_name(c) for c in expression.columns]
    data = clinical[["age"]].join(expression, how="left")
    data["advanced"] = clinical["figo_stage"].isin(["III", "IV"]).astype(float)
    return data
