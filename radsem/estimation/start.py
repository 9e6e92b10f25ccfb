"""Starting values in the spirit of lavaan's ``start = "simple"``/``"default"``.

User start values (``start(v)*x``) and fixed values win; exogenous covariates (fixed.x) get
their sample (co)variances and means; loadings use a FABIN-like ratio of covariances; residual
variances half the observed variance; latent variances 0.05 (lavaan's value) or a covariance
based guess; intercepts the sample means; everything else 0. Starting values only affect how
fast the optimiser converges, not where.
"""

from __future__ import annotations

import numpy as np

__all__ = ["start_values"]


def _loading_guess(cov: np.ndarray, marker: int, j: int, others: list[int]) -> float:
    ratios = [cov[j, k] / cov[marker, k] for k in others
              if k not in (j, marker) and abs(cov[marker, k]) > 1e-8]  # fmt: skip
    if not ratios:
        return 1.0
    val = float(np.median(ratios))
    return val if np.isfinite(val) and 0.05 < abs(val) < 20 else 1.0


def start_values(model, stats: list, std_lv: bool) -> np.ndarray:
    """Values of all parameter rows to start from (fixed rows keep their values).

    Parameters
    ----------
    model : RamModel
    stats : list of SampleStats, one per group
    std_lv : bool
    """
    par = model.par
    vals = model.fixed_values.copy()
    free = par["free"].to_numpy(int)
    ustart = par["ustart"].to_numpy(float)
    obs = {v: k for k, v in enumerate(model.observed)}
    for g, st in enumerate(stats, start=1):
        cov, mean = st.cov, st.mean
        rows = np.flatnonzero(par["group"].to_numpy(int) == g)
        sub = par.iloc[rows]
        indicators: dict[str, list[int]] = {}
        for lhs, rhs in zip(sub.loc[sub["op"] == "=~", "lhs"], sub.loc[sub["op"] == "=~", "rhs"],
                            strict=True):  # fmt: skip
            if rhs in obs:
                indicators.setdefault(lhs, []).append(obs[rhs])
        for pos in rows:
            if free[pos] == 0 or np.isfinite(ustart[pos]):
                continue
            lhs, op, rhs = par.at[pos, "lhs"], par.at[pos, "op"], par.at[pos, "rhs"]
            vals[pos] = _one(op, lhs, rhs, obs, cov, mean, indicators, std_lv)
    return vals


def _one(op, lhs, rhs, obs, cov, mean, indicators, std_lv) -> float:
    if op == "=~":
        ind = indicators.get(lhs, [])
        if rhs not in obs or not ind:
            return 1.0
        j = obs[rhs]
        if std_lv:
            return float(np.sqrt(max(cov[j, j], 1e-8) * 0.5))
        return _loading_guess(cov, ind[0], j, ind) if j != ind[0] else 1.0
    if op == "~~":
        if lhs in obs and rhs in obs:
            i, j = obs[lhs], obs[rhs]
            return 0.5 * cov[i, i] if i == j else 0.0
        if lhs == rhs:
            return 1.0 if std_lv else 0.05
        return 0.0
    if op == "~1":
        return float(mean[obs[lhs]]) if lhs in obs else 0.0
    return 0.0
