"""R-square of the dependent variables, as lavaan's ``lavInspect(fit, "r2")``.

lavaan (``lav_object_inspect_rsquare``): for every variable that is an indicator (``rhs`` of
``=~``) or an outcome (``lhs`` of ``~``), ``R^2 = 1 - std.all`` of its (residual) variance
row, NA where that exceeds 1 (a negative residual variance); in the order of the variance
rows of the parameter table, per group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rsquare_rows", "rsquare_series"]


def rsquare_rows(pe: pd.DataFrame) -> pd.DataFrame:
    """``lhs, group, r2`` for the dependent variables of each group (see module docstring).

    ``pe`` is a ``parameter_estimates()`` table (with its ``std_all`` column).
    """
    out = []
    for g in sorted(int(x) for x in pe["group"].unique() if int(x) > 0):
        t = pe[pe["group"] == g]
        ys = set(t.loc[t["op"] == "=~", "rhs"]) | set(t.loc[t["op"] == "~", "lhs"])
        var = t[(t["op"] == "~~") & (t["lhs"] == t["rhs"]) & t["lhs"].isin(ys)]
        r2 = 1.0 - var["std_all"].to_numpy(float)
        r2 = np.where(r2 > 1.0, np.nan, r2)
        out.append(pd.DataFrame({"lhs": var["lhs"].to_numpy(), "group": g, "r2": r2}))
    if not out:
        return pd.DataFrame({"lhs": [], "group": [], "r2": []})
    return pd.concat(out, ignore_index=True)


def rsquare_series(pe: pd.DataFrame, group_labels) -> pd.Series | dict[str, pd.Series]:
    """One Series per group named ``"r2"`` indexed by variable; a dict by group label for
    more than one group (lavaan's list)."""
    rows = rsquare_rows(pe)
    series = {
        lab: pd.Series(
            rows.loc[rows["group"] == g, "r2"].to_numpy(float),
            index=pd.Index(rows.loc[rows["group"] == g, "lhs"].to_list(), name="variable"),
            name="r2",
        )
        for g, lab in enumerate(group_labels, start=1)
    }
    if len(series) == 1:
        return next(iter(series.values()))
    return series
