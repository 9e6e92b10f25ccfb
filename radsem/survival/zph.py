"""Test of proportional hazards as R survival 3.x ``cox.zph`` (score test of beta(t))."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from radsem.errors import DataError
from radsem.survival._coxcore import cox_terms
from radsem.survival.cox import CoxResult

__all__ = ["cox_zph"]


def _transform(kind: str, time: np.ndarray, event: np.ndarray) -> np.ndarray:
    if kind == "identity":
        return time.astype(float)
    if kind == "log":
        if np.any(time[event > 0] <= 0):
            raise DataError(
                "transform='log' needs event times > 0; some events are at time 0 "
                "(use transform='km' or 'rank')"
            )
        with np.errstate(divide="ignore"):
            return np.log(time)
    if kind == "rank":
        return stats.rankdata(time)
    if kind == "km":
        ut = np.unique(time)
        pos = np.searchsorted(ut, time)
        d = np.bincount(pos, weights=event, minlength=len(ut))
        n = np.bincount(pos, minlength=len(ut))[::-1].cumsum()[::-1]
        surv = np.cumprod(1 - d / n)
        left = np.concatenate([[1.0], surv])[pos]  # S(t-) : value before this time
        return 1.0 - left
    raise DataError(f"transform must be 'km', 'rank', 'identity' or 'log', got {kind!r}")


def _terms(result: CoxResult) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for j, name in enumerate(result.design.names):
        term = name.split("[T.", 1)[0] if "[T." in name else name
        out.setdefault(term, []).append(j)
    return out


def cox_zph(result: CoxResult, transform: str = "km", terms: bool = True) -> pd.DataFrame:
    """Score tests of proportional hazards per term and globally (R survival >= 3.0 cox.zph).

    Parameters
    ----------
    result : CoxResult
        A fitted, unpenalised Cox model.
    transform : {"km", "rank", "identity", "log"}
        Time scale g(t) of the alternative beta_j(t) = beta_j + gamma_j g(t); "km" is
        1 - S(t-) of the pooled Kaplan-Meier, as R's default.
    terms : bool
        Test the dummies of a categorical covariate jointly (R's default) or one by one.

    Returns
    -------
    pandas.DataFrame
        Index: terms and "GLOBAL"; columns chisq, df, p.

    Notes
    -----
    The model is extended with covariates x_j g(t) (g centred at its mean over the events) and
    the score test of gamma = 0 is computed at (beta-hat, 0): with per-event-time score
    contributions U_k and information contributions I_k, U_gamma = sum_k g_k U_k and the
    information of (beta, gamma) has blocks sum I_k, sum g_k I_k and sum g_k^2 I_k. A term's
    test is u' I_sub^-1 u with u = (0, U_gamma_term) over beta and that term's gammas
    (Grambsch & Therneau 1994; Therneau's survival 3.x implementation). This differs from the
    older Schoenfeld-residual regression approximation used by lifelines (issue #997).
    Checked against R survival 3.5 cox.zph on lung and veteran.
    """
    if not isinstance(result, CoxResult):
        raise DataError(
            f"cox_zph needs a fitted Cox model (radsem.survival.cox), got {type(result).__name__}"
        )
    if result.firth or result.penalizer:
        raise DataError("cox_zph needs an unpenalised Cox fit")
    f = result._fit
    rs, tm = f["risk_sets"], f["terms"]
    if tm.info_k is None:  # large models keep only the total information; recompute per time
        tm = cox_terms(rs, result.params.to_numpy(), result.ties == "efron", per_time=True)
    g_obs = _transform(transform, f["time"], f["event"])
    ev = f["event"] > 0
    g_obs = g_obs - g_obs[ev].mean()
    # value of g at each event-time group (same for all deaths of the group)
    g_sorted = g_obs[rs.order]
    gk = np.zeros(len(rs.start))
    gk[rs.group_of_death] = g_sorted[rs.death_idx]
    u = np.einsum("k,kp->p", gk, tm.score_k)
    i0 = tm.info_k.sum(axis=0)
    i1 = np.einsum("k,kpq->pq", gk, tm.info_k)
    i2 = np.einsum("k,kpq->pq", gk**2, tm.info_k)
    p = len(u)
    imat = np.block([[i0, i1], [i1, i2]])
    groups = _terms(result) if terms else {n: [j] for j, n in enumerate(result.design.names)}
    rows = {}
    for name, cols in groups.items():
        keep = list(range(p)) + [p + j for j in cols]
        uu = np.concatenate([np.zeros(p), u[cols]])
        stat = float(uu @ np.linalg.solve(imat[np.ix_(keep, keep)], uu))
        rows[name] = (stat, len(cols))
    uu = np.concatenate([np.zeros(p), u])
    rows["GLOBAL"] = (float(uu @ np.linalg.solve(imat, uu)), p)
    table = pd.DataFrame(rows, index=["chisq", "df"]).T
    table["df"] = table["df"].astype(int)
    table["p"] = stats.chi2.sf(table["chisq"], table["df"])
    return table
