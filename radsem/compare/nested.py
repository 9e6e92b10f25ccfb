"""Likelihood-ratio test of nested Cox models (clinical vs clinical + biomarker)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from scipy import stats

from radsem.errors import DataError, ModelSpecificationError
from radsem.survival import cox

__all__ = ["nested_lr_test"]


def nested_lr_test(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    base: Sequence[str],
    added: Sequence[str],
    strata: str | Sequence[str] | None = None,
) -> pd.Series:
    """Does adding covariates (e.g. a biomarker) to a Cox model improve its fit?

    Parameters
    ----------
    data : DataFrame
    time, event : str
    base : sequence of str
        Covariates of the smaller model (may be empty: the test is then the model's own LR test).
    added : sequence of str
        Covariates added in the larger model.
    strata : str or list, optional
        Stratification columns of both models.

    Returns
    -------
    pandas.Series
        ``loglik_base, loglik_full, statistic, df, pvalue, n``.

    Notes
    -----
    LR = 2 (l_full - l_base) ~ chi^2 with df = number of added coefficients, both models fitted on
    the same rows (rows missing any covariate of the larger model are dropped from both), as R
    ``anova(coxph(base), coxph(full))``. This is an in-sample test of added value; use
    :func:`radsem.compare.compare_models` for out-of-sample performance.
    """
    base, added = list(base), list(added)
    if not added:
        raise ModelSpecificationError("added is empty: nothing to test")
    overlap = sorted(set(base) & set(added))
    if overlap:
        raise ModelSpecificationError(f"covariates in both base and added: {', '.join(overlap)}")
    cols = (
        base + added + [time, event] + ([strata] if isinstance(strata, str) else list(strata or []))
    )
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(map(repr, missing))} not in the data")
    rows = data.dropna(subset=cols)
    full = cox(rows, time, event, base + added, strata=strata)
    if base:
        small = cox(rows, time, event, base, strata=strata)
        l0, p0 = small.loglik[1], len(small.params)
    else:
        l0, p0 = full.loglik[0], 0
    lr = 2.0 * (full.loglik[1] - l0)
    df = len(full.params) - p0
    return pd.Series(
        {
            "loglik_base": l0,
            "loglik_full": full.loglik[1],
            "statistic": lr,
            "df": df,
            "pvalue": float(stats.chi2.sf(lr, df)),
            "n": len(rows),
        }
    )
