"""Numerical core of the Cox partial likelihood (Breslow and Efron ties, strata, case weights).

Everything works on data sorted by (stratum, time) and grouped into *event-time groups*: the
distinct (stratum, time) pairs that contain at least one event. For each group k the risk set is
every subject of the stratum with time >= t_k, so risk-set sums are reverse cumulative sums.
The code follows the formulas of Therneau & Grambsch (2000), *Modeling Survival Data*, ch. 3,
which are the ones R's ``survival::coxph`` implements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RiskSets", "CoxTerms", "cox_terms", "newton_cox", "score_residuals", "base_hazard"]


@dataclass(frozen=True)
class RiskSets:
    """Data sorted by stratum and time, with the event-time groups precomputed."""

    X: np.ndarray  # (n, p) covariates (centred), sorted
    time: np.ndarray
    event: np.ndarray  # bool
    weights: np.ndarray
    strata: np.ndarray  # int codes
    order: np.ndarray  # sorted position -> original row
    start: np.ndarray  # (K,) first sorted index of the group's risk set
    end: np.ndarray  # (K,) one past the last index of the group's stratum
    group_of_death: np.ndarray  # (n_deaths,) group id of each death (sorted order)
    death_idx: np.ndarray  # sorted indices of the deaths
    n_deaths: np.ndarray  # (K,) number of tied deaths
    w_deaths: np.ndarray  # (K,) summed weights of tied deaths
    group_time: np.ndarray  # (K,)
    group_stratum: np.ndarray  # (K,)

    @classmethod
    def build(cls, X, time, event, weights, strata) -> RiskSets:
        order = np.lexsort((time, strata))
        Xs, ts, es = X[order], time[order], event[order].astype(bool)
        ws, ss = weights[order], strata[order]
        n = len(ts)
        new_block = np.ones(n, dtype=bool)
        new_block[1:] = (ts[1:] != ts[:-1]) | (ss[1:] != ss[:-1])
        block_id = np.cumsum(new_block) - 1
        block_start = np.flatnonzero(new_block)
        strat_change = np.ones(n, dtype=bool)
        strat_change[1:] = ss[1:] != ss[:-1]
        strat_start = np.flatnonzero(strat_change)
        strat_end = np.append(strat_start[1:], n)
        strat_of_obs = np.cumsum(strat_change) - 1
        death_idx = np.flatnonzero(es)
        blocks_with_death, group_of_death = np.unique(block_id[death_idx], return_inverse=True)
        start = block_start[blocks_with_death]
        end = strat_end[strat_of_obs[start]]
        k = len(blocks_with_death)
        n_deaths = np.bincount(group_of_death, minlength=k).astype(float)
        w_deaths = np.bincount(group_of_death, weights=ws[death_idx], minlength=k)
        return cls(
            Xs,
            ts,
            es,
            ws,
            ss,
            order,
            start,
            end,
            group_of_death,
            death_idx,
            n_deaths,
            w_deaths,
            ts[start],
            ss[start],
        )


def _revcum(a: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum with a trailing zero row: out[i] = sum(a[i:])."""
    out = np.zeros((a.shape[0] + 1,) + a.shape[1:])
    out[:-1] = np.cumsum(a[::-1], axis=0)[::-1]
    return out


def _cum_at_obs(rs: RiskSets, values: np.ndarray) -> np.ndarray:
    """For each subject, the sum of ``values`` over event groups of its stratum with t_k <= t_i."""
    out = np.zeros((len(rs.time),) + values.shape[1:])
    for s in np.unique(rs.group_stratum):
        obs = np.flatnonzero(rs.strata == s)
        grp = np.flatnonzero(rs.group_stratum == s)
        cum = np.cumsum(values[grp], axis=0)
        pos = np.searchsorted(rs.group_time[grp], rs.time[obs], side="right") - 1
        ok = pos >= 0
        out[obs[ok]] = cum[pos[ok]]
    return out


@dataclass
class CoxTerms:
    """Log partial likelihood and its per-event-time score and information contributions."""

    loglik: float
    score_k: np.ndarray  # (K, p)
    info_k: np.ndarray | None  # (K, p, p), None when only the total was computed
    haz_k: np.ndarray  # (K,) hazard increment (Efron-corrected when ties="efron")
    xhaz_k: np.ndarray  # (K, p) sum of m * xbar_l / den_l
    fhaz_k: np.ndarray  # (K,) tied-death correction sum m f_l / den_l
    fxhaz_k: np.ndarray  # (K, p)
    xbar_mean_k: np.ndarray  # (K, p) mean over l of the weighted means a_l

    @property
    def score(self) -> np.ndarray:
        return self.score_k.sum(axis=0)

    info_total: np.ndarray | None = None

    @property
    def info(self) -> np.ndarray:
        return self.info_total if self.info_k is None else self.info_k.sum(axis=0)


def cox_terms(rs: RiskSets, beta: np.ndarray, efron: bool, per_time: bool = True) -> CoxTerms:
    """Evaluate the partial likelihood at ``beta`` (risk scores shifted for stability).

    With ``per_time=False`` only the total information is formed, as
    X' diag(r_i (H_i - delta_i F_i)) X - sum_k sum_l m a_l a_l' (H_i: cumulative hazard sums up
    to t_i, F_i: Efron correction of a tied death), in O(n p^2) memory-light time instead of
    the O(n p^2) memory of per-time risk-set sums; used by the Newton iterations.
    """
    X = rs.X
    eta = X @ beta
    eta = eta - eta.max() if len(eta) else eta
    r = rs.weights * np.exp(eta)
    c0 = _revcum(r)
    c1 = _revcum(r[:, None] * X)
    s0 = c0[rs.start] - c0[rs.end]
    s1 = c1[rs.start] - c1[rs.end]
    k, p = s1.shape
    di, g = rs.death_idx, rs.group_of_death
    d0 = np.bincount(g, weights=r[di], minlength=k)
    d1 = np.zeros((k, p))
    np.add.at(d1, g, r[di, None] * X[di])
    if per_time:
        c2 = _revcum(r[:, None, None] * X[:, :, None] * X[:, None, :])
        s2 = c2[rs.start] - c2[rs.end]
        d2 = np.zeros((k, p, p))
        np.add.at(d2, g, r[di, None, None] * X[di, :, None] * X[di, None, :])
    aa_total = np.zeros((p, p))
    wx = np.zeros((k, p))
    np.add.at(wx, g, rs.weights[di, None] * X[di])
    wdeta = np.bincount(g, weights=rs.weights[di] * eta[di], minlength=k)

    nd = rs.n_deaths
    m = rs.w_deaths / nd
    loglik = wdeta.sum()
    score = wx.copy()
    info = np.zeros((k, p, p))
    haz = np.zeros(k)
    xhaz = np.zeros((k, p))
    fhaz = np.zeros(k)
    fxhaz = np.zeros((k, p))
    abar = np.zeros((k, p))
    n_terms = int(nd.max()) if efron and k else 1
    for ell in range(n_terms):
        active = nd > ell if efron else np.ones(k, dtype=bool)
        f = (ell / nd[active]) if efron else np.zeros(active.sum())
        mm = m[active] if efron else rs.w_deaths[active]
        den = s0[active] - f * d0[active]
        a = (s1[active] - f[:, None] * d1[active]) / den[:, None]
        loglik -= np.sum(mm * np.log(den))
        score[active] -= mm[:, None] * a
        if per_time:
            b = (s2[active] - f[:, None, None] * d2[active]) / den[:, None, None]
            info[active] += mm[:, None, None] * (b - a[:, :, None] * a[:, None, :])
        else:
            aa_total += (a * mm[:, None]).T @ a
        haz[active] += mm / den
        xhaz[active] += (mm / den)[:, None] * a
        fhaz[active] += mm * f / den
        fxhaz[active] += (mm * f / den)[:, None] * a
        abar[active] += a / (nd[active][:, None] if efron else 1.0)
    if per_time:
        return CoxTerms(float(loglik), score, info, haz, xhaz, fhaz, fxhaz, abar)
    weight = r * _cum_at_obs(rs, haz)
    weight[di] -= r[di] * fhaz[g]
    total = (X * weight[:, None]).T @ X - aa_total
    return CoxTerms(float(loglik), score, None, haz, xhaz, fhaz, fxhaz, abar, total)


def newton_cox(rs, efron, init=None, penalizer=0.0, max_iter=50, tol=1e-10):
    """Newton-Raphson with step halving (as R's coxph), for an optional ridge penalty.

    Returns ``(beta, terms, n_iter, converged, last_step)``; ``last_step`` is the Newton step that
    would follow the returned solution, large when a coefficient diverges (monotone likelihood).
    """
    p = rs.X.shape[1]
    beta = np.zeros(p) if init is None else np.asarray(init, dtype=float).copy()

    def evaluate(b):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            t = cox_terms(rs, b, efron, per_time=False)  # overflow -> non-finite loglik
        pen_ll = t.loglik - 0.5 * penalizer * float(b @ b)
        u = t.score - penalizer * b
        i = t.info + penalizer * np.eye(p)
        return t, pen_ll, u, i

    terms, ll, u, imat = evaluate(beta)
    converged = False
    step = np.zeros(p)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        step = _solve(imat, u)
        halvings = 0
        while True:
            cand = beta + step
            t2, ll2, u2, i2 = evaluate(cand)
            if np.isfinite(ll2) and ll2 >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
            halvings += 1
            if halvings > 30:
                break
        if not (np.isfinite(ll2) and ll2 >= ll - 1e-12 * abs(ll)):
            break  # no step along the Newton direction is usable: keep the current beta
        change = abs(ll2 - ll)
        beta, terms, ll, u, imat = cand, t2, ll2, u2, i2
        if change <= tol * max(1.0, abs(ll)) and np.max(np.abs(step), initial=0) < 1e-6:
            converged = True
            break
        if change <= 1e-13 * max(1.0, abs(ll)):
            break
    last_step = _solve(imat, u)
    if not converged and np.isfinite(ll) and np.max(np.abs(last_step), initial=0) < 1e-6:
        # the log-likelihood stopped changing at machine precision one iteration before the
        # step-size test could pass: the score equations are solved (the next Newton step moves
        # no coefficient by 1e-6), which is convergence; a diverging coefficient keeps a large
        # step and is still reported
        converged = True
    if p <= 60:  # per-event-time information (needed by cox_zph) when affordable
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            terms = cox_terms(rs, beta, efron, per_time=True)  # diverging beta: reported later
    return beta, terms, n_iter, converged, last_step


def _solve(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def score_residuals(rs: RiskSets, beta: np.ndarray, terms: CoxTerms) -> np.ndarray:
    """Unweighted score residuals per subject (sorted order), as R's ``residuals(type="score")``.

    Notes
    -----
    U_i = delta_i (x_i - abar(t_i)) - exp(eta_i) sum_{k: t_k <= t_i} [x_i dH_k - dXH_k], with the
    Efron down-weighting of a tied death at its own event time. Sum_i w_i U_i is the total score.
    """
    X = rs.X
    eta = X @ beta
    shift = eta.max() if len(eta) else 0.0
    risk = np.exp(eta - shift)
    n, p = X.shape
    hcum = _cum_at_obs(rs, terms.haz_k)
    xhcum = _cum_at_obs(rs, terms.xhaz_k)
    resid = -risk[:, None] * (X * hcum[:, None] - xhcum)
    di, g = rs.death_idx, rs.group_of_death
    resid[di] += X[di] - terms.xbar_mean_k[g]
    resid[di] += risk[di, None] * (X[di] * terms.fhaz_k[g][:, None] - terms.fxhaz_k[g])
    return resid


def base_hazard(rs: RiskSets, terms: CoxTerms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Baseline cumulative hazard steps per stratum at eta = shifted scale.

    Returns (stratum, time, cumulative hazard) at each event-time group; the caller rescales for
    the shift used in :func:`cox_terms` (the hazard increments are for r = w exp(eta - max eta)).
    """
    cum = np.zeros_like(terms.haz_k)
    for s in np.unique(rs.group_stratum):
        idx = np.flatnonzero(rs.group_stratum == s)
        cum[idx] = np.cumsum(terms.haz_k[idx])
    return rs.group_stratum, rs.group_time, cum
