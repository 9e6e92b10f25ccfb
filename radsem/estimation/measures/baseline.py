"""The baseline (independence) model of lavaan, fitted with the user's estimator."""

from __future__ import annotations

import pandas as pd

__all__ = ["baseline_partable"]


def baseline_partable(
    observed, exogenous, ngroups: int, meanstructure: bool, fixed_x: bool = True
) -> pd.DataFrame:
    """lavaan's independence model: free variances (and means) of the observed variables;
    the exogenous covariates (``ov.x``) keep a saturated covariance block -- fixed at the
    sample values with fixed.x (``exo = 1``), free parameters otherwise."""
    rows = []
    free = 0
    exo = set(exogenous)
    for g in range(1, ngroups + 1):
        for v in observed:
            if v in exo:
                continue
            free += 1
            rows.append((v, "~~", v, g, free, 0))
        xs = [v for v in observed if v in exo]
        for a, va in enumerate(xs):
            for vb in xs[a:]:
                free += 0 if fixed_x else 1
                rows.append((va, "~~", vb, g, 0 if fixed_x else free, int(fixed_x)))
        if meanstructure:
            for v in observed:
                if v in exo:
                    free += 0 if fixed_x else 1
                    rows.append((v, "~1", "", g, 0 if fixed_x else free, int(fixed_x)))
                else:
                    free += 1
                    rows.append((v, "~1", "", g, free, 0))
    df = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "free", "exo"])
    df["ustart"] = float("nan")
    return df
