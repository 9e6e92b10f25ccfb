"""Cohort-level convenience: the inputs of the deep models from a :func:`radsem.io.read_cohort`
result (``.images``, ``.expression``, ``.clinical``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning

__all__ = ["cohort_expression"]


def cohort_expression(
    cohort, conditions: Sequence[str] = ("hpv_type",)
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expression and condition labels of the patients that have both.

    Parameters
    ----------
    cohort : Cohort
        Anything with ``expression`` (``patient_id`` + log2 genes) and ``clinical``
        (``patient_id`` + the condition columns) DataFrames.
    conditions : sequence of str
        Clinical columns to condition on; the first is the primary label (e.g. ``hpv_type``,
        then ``hpv_clade`` or ``histology``).

    Returns
    -------
    expression : DataFrame
        Genes only, indexed by ``patient_id``.
    labels : DataFrame
        The condition columns, same index. Patients with expression but a missing label are
        dropped with a :class:`~radsem.errors.DataWarning` saying how many.
    """
    expr = getattr(cohort, "expression", None)
    clin = getattr(cohort, "clinical", None)
    if not isinstance(expr, pd.DataFrame) or not isinstance(clin, pd.DataFrame):
        raise DataError("cohort must have 'expression' and 'clinical' DataFrames")
    for name, df in (("expression", expr), ("clinical", clin)):
        if "patient_id" not in df.columns:
            raise DataError(f"cohort {name} table lacks a patient_id column")
    missing = [c for c in conditions if c not in clin.columns]
    if missing or not conditions:
        raise DataError(f"clinical table lacks condition columns {missing or list(conditions)}")
    expr = expr.set_index("patient_id")
    labels = clin.set_index("patient_id").loc[:, list(conditions)]
    labels = labels.reindex(expr.index)
    keep = labels.notna().all(axis=1)
    if not keep.all():
        warnings.warn(
            f"{int((~keep).sum())} of {len(keep)} patients with expression have no "
            f"{'/'.join(conditions)} label and were left out",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return expr.loc[keep], labels.loc[keep]
