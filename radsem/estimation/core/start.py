"""Starting values in the spirit of lavaan's ``start = "simple"``/``"default"``.

User start values (``start(v)*x``) and fixed values win; exogenous covariates (fixed.x) get
their sample (co)variances and means; loadings use a FABIN-like ratio of covariances; residual
variances half the observed variance; intercepts the sample means; everything else 0.

Variances of exogenous latent variables measured by two or more observed indicators start at
the least-squares fit of the indicators' sample covariances given the starting loadings,
``phi = sum_{i<j} s_ij l_i l_j / sum_{i<j} (l_i l_j)^2``, kept within
``[0.05, min_i s_ii / l_i^2]``; other latent variances start at 0.05 (lavaan's value). With
lavaan's constant 0.05 the implied covariances of the indicators are almost zero, where the
expected information of the loadings (proportional to ``phi^2``) is nearly singular: the first
Fisher-scoring step then changes the loadings by far too much (flipping their signs) and can send
the iterates along a ridge towards an improper solution at infinity (observed with equal
loadings across groups). Starting values only affect how fast the optimiser converges and which
basin it ends in, not the optimum itself.
"""

from __future__ import annotations

import numpy as np

__all__ = ["start_values"]


def _loading_guess(
    cov: np.ndarray, marker: int, j: int, others: list[int], scale: float = 1.0
) -> float:
    """``lambda_j = lambda_marker * median_k(s_jk / s_mk)`` (the marker's own loading,
    fixed or 1, sets scale and sign)."""
    ratios = [
        cov[j, k] / cov[marker, k]
        for k in others
        if k not in (j, marker) and abs(cov[marker, k]) > 1e-8
    ]
    if not ratios:
        return 1.0
    val = float(np.median(ratios))
    return scale * val if np.isfinite(val) and 0.05 < abs(val) < 20 else scale


def start_values(model, stats: list, std_lv: bool, simple: bool = False) -> np.ndarray:
    """Values of all parameter rows to start from (fixed rows keep their values).

    Parameters
    ----------
    model : RamModel
    stats : list of SampleStats, one per group
    std_lv : bool
    simple : bool
        Latent variances at lavaan's constant 0.05 instead of the covariance-based values
        (the alternative start tried when the first optimisation fails).
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
        markers: dict[str, float] = {}
        for pos in rows[(par["op"].to_numpy()[rows] == "=~")]:
            lhs, rhs = par.at[pos, "lhs"], par.at[pos, "rhs"]
            if rhs in obs:
                if lhs not in indicators:  # first indicator: its fixed value, else 1
                    fixed = free[pos] == 0 and np.isfinite(vals[pos]) and vals[pos] != 0
                    markers[lhs] = float(vals[pos]) if fixed else 1.0
                indicators.setdefault(lhs, []).append(obs[rhs])
        for pos in rows:
            if free[pos] == 0 or np.isfinite(ustart[pos]):
                continue
            lhs, op, rhs = par.at[pos, "lhs"], par.at[pos, "op"], par.at[pos, "rhs"]
            vals[pos] = _one(
                op, lhs, rhs, obs, cov, mean, indicators, std_lv, markers.get(lhs, 1.0)
            )
        if not (std_lv or simple):
            _latent_variances(sub, rows, vals, free, ustart, obs, cov)
    return vals


def _latent_variances(sub, rows, vals, free, ustart, obs, cov) -> None:
    """Covariance-based start of exogenous latent variances (in place, see module notes)."""
    endogenous = set(sub.loc[sub["op"] == "~", "lhs"])
    lhs, op, rhs = sub["lhs"].to_numpy(), sub["op"].to_numpy(), sub["rhs"].to_numpy()
    for k, pos in enumerate(rows):
        name = lhs[k]
        if (
            op[k] != "~~"
            or rhs[k] != name
            or name in obs
            or name in endogenous
            or free[pos] == 0
            or np.isfinite(ustart[pos])
        ):
            continue
        meas = [
            (obs[rhs[m]], vals[rows[m]])
            for m in np.flatnonzero((op == "=~") & (lhs == name))
            if rhs[m] in obs and abs(vals[rows[m]]) > 1e-8
        ]
        if len(meas) < 2:
            continue
        idx = np.array([i for i, _ in meas])
        lam = np.array([v for _, v in meas])
        iu = np.triu_indices(len(idx), 1)
        prod = np.outer(lam, lam)[iu]
        phi = float(cov[np.ix_(idx, idx)][iu] @ prod / (prod @ prod))
        upper = float(np.min(np.diag(cov)[idx] / lam**2))
        if np.isfinite(phi) and np.isfinite(upper):
            vals[pos] = min(max(phi, 0.05), max(upper, 0.05))


def _one(op, lhs, rhs, obs, cov, mean, indicators, std_lv, marker=1.0) -> float:
    if op == "=~":
        ind = indicators.get(lhs, [])
        if rhs not in obs or not ind:
            return 1.0
        j = obs[rhs]
        if std_lv:
            return float(np.sqrt(max(cov[j, j], 1e-8) * 0.5))
        return _loading_guess(cov, ind[0], j, ind, marker) if j != ind[0] else marker
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
