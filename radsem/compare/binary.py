"""Recurrence within a horizon as a binary outcome: labels, censoring weights, metrics, DeLong.

A patient is a *case* when the event happened by the horizon H (event = 1, T <= H), a *control*
when known to be event-free at H (T > H whatever happened later, or censored at H), and
*undetermined* when censored before H. Undetermined patients are either given zero weight while
cases and controls are weighted by the inverse probability of remaining uncensored (IPCW), or
excluded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from radsem.compare.metrics import _as_outcome
from radsem.errors import DataError

__all__ = [
    "horizon_labels",
    "censoring_survival",
    "binary_auc",
    "paired_auc",
    "binary_metrics",
    "binary_decision_curve",
    "binary_calibration_table",
]


def censoring_survival(train) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate G(t) of the censoring distribution (censorings are the events).

    Returns the distinct censoring times and G just after each. Ties: events count as
    happening just before censorings at the same time (the usual convention), so patients with
    an event at t are no longer at risk of censoring at t. With this convention
    n S(t-) G(t-) is the number at risk at t, and the IPCW case share of
    :func:`horizon_labels` equals 1 - KM(H) exactly.
    """
    y = _as_outcome(train)
    cens = ~y.event
    times = np.unique(y.time[cens])
    at_risk = (
        (y.time[None, :] > times[:, None]) | ((y.time[None, :] == times[:, None]) & cens[None, :])
    ).sum(axis=1)
    n_cens = (y.time[None, cens] == times[:, None]).sum(axis=1)
    return times, np.cumprod(1.0 - n_cens / at_risk)


def _g(times: np.ndarray, surv: np.ndarray, t: np.ndarray, left: bool) -> np.ndarray:
    """G(t) (right-continuous) or G(t-) (``left=True``) from :func:`censoring_survival`."""
    idx = np.searchsorted(times, t, side="left" if left else "right")
    return np.concatenate([[1.0], surv])[idx]


def horizon_labels(outcome, horizon: float, train=None, censoring: str = "ipcw") -> pd.DataFrame:
    """Binary labels (event by ``horizon``) and weights for patients of ``outcome``.

    Parameters
    ----------
    outcome : Outcome or (time, event)
        The patients to label.
    horizon : float
        H, in the time unit of the outcome.
    train : Outcome or (time, event), optional
        Patients whose censoring distribution gives the weights (default: ``outcome``).
    censoring : {"ipcw", "exclude"}
        ``"ipcw"``: cases weighted 1 / G(T-), controls 1 / G(H-), undetermined 0.
        ``"exclude"``: cases and controls weighted 1, undetermined 0.

    Returns
    -------
    DataFrame
        ``label`` (1 case, 0 control, NaN undetermined), ``weight``, ``determined``.

    Notes
    -----
    With IPCW the weighted share of cases estimates the cumulative incidence 1 - S(H) without
    bias under independent censoring (it equals 1 - KM(H) when G comes from the same data),
    which excluding censored patients does not (it over-represents early events).
    """
    y = _as_outcome(outcome)
    h = float(horizon)
    if not np.isfinite(h) or h <= 0:
        raise DataError(f"horizon must be a positive number, got {horizon!r}")
    if censoring not in ("ipcw", "exclude"):
        raise DataError(f"censoring must be 'ipcw' or 'exclude', got {censoring!r}")
    case = y.event & (y.time <= h)
    control = (y.time > h) | ((y.time == h) & ~y.event)  # known event-free at H
    label = np.where(case, 1.0, np.where(control, 0.0, np.nan))
    weight = (case | control).astype(float)
    if censoring == "ipcw":
        times, surv = censoring_survival(y if train is None else _as_outcome(train))
        g_case = _g(times, surv, y.time, left=True)
        g_h = float(_g(times, surv, np.array([h]), left=True)[0])
        if g_h <= 0:
            raise DataError(
                f"no follow-up beyond the horizon {h:g}: the censoring survival "
                "G(H) is 0, so controls cannot be weighted; choose a shorter "
                "horizon"
            )
        with np.errstate(divide="ignore"):
            weight = np.where(case, 1.0 / g_case, np.where(control, 1.0 / g_h, 0.0))
        if not np.all(np.isfinite(weight)):
            raise DataError(
                "a case has censoring survival 0 at its event time; the horizon "
                "lies beyond the follow-up of the weighting data"
            )
    return pd.DataFrame({"label": label, "weight": weight, "determined": case | control})


def _placements(score: np.ndarray, y: np.ndarray, w: np.ndarray):
    """Weighted DeLong placements: V10_i (cases) and V01_j (controls), and the AUC."""
    cases, controls = y == 1, y == 0
    xs, ws = score[cases], w[cases]
    ys, wc = score[controls], w[controls]
    order = np.argsort(ys, kind="stable")
    ys_sorted, wc_cum = ys[order], np.concatenate([[0.0], np.cumsum(wc[order])])
    lo = np.searchsorted(ys_sorted, xs, side="left")
    hi = np.searchsorted(ys_sorted, xs, side="right")
    v10 = (wc_cum[lo] + 0.5 * (wc_cum[hi] - wc_cum[lo])) / wc_cum[-1]
    order = np.argsort(xs, kind="stable")
    xs_sorted, ws_cum = xs[order], np.concatenate([[0.0], np.cumsum(ws[order])])
    lo = np.searchsorted(xs_sorted, ys, side="left")
    hi = np.searchsorted(xs_sorted, ys, side="right")
    # share of case weight above y_j, ties counted 1/2
    v01 = ((ws_cum[-1] - ws_cum[hi]) + 0.5 * (ws_cum[hi] - ws_cum[lo])) / ws_cum[-1]
    auc = float(np.sum(ws * v10) / ws.sum())
    return auc, v10, v01, ws, wc


def _check_binary(y, scores: Sequence, weights):
    yy = np.asarray(y, dtype=float).ravel()
    n = yy.size
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        raise DataError(f"{w.size} weights for {n} patients")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise DataError("weights must be finite and >= 0")
    keep = w > 0
    if not np.all(np.isin(yy[keep], (0.0, 1.0))):
        raise DataError("labels must be 0/1 where the weight is positive")
    out = []
    for s in scores:
        s = np.asarray(s, dtype=float).ravel()
        if s.size != n:
            raise DataError(f"{s.size} predictions for {n} patients")
        if not np.all(np.isfinite(s[keep])):
            raise DataError("predictions contain missing or infinite values")
        out.append(s[keep])
    yk, wk = yy[keep], w[keep]
    if yk.sum() == 0 or (1 - yk).sum() == 0:
        raise DataError("the AUC needs at least one case and one control")
    return yk, out, wk


def _var_parts(v10, v01, a, ws, wc):
    """Weighted DeLong variance components, (m/(m-1)) sum w^2 (V - A)^2 / (sum w)^2.

    With unit weights this is DeLong et al.'s S10/m + S01/n exactly."""
    m, n = v10.shape[-1], v01.shape[-1]
    d10 = (v10 - a[:, None]) * ws
    d01 = (v01 - a[:, None]) * wc
    s10 = d10 @ d10.T / ws.sum() ** 2 * m / (m - 1) if m > 1 else np.full((len(a),) * 2, np.nan)
    s01 = d01 @ d01.T / wc.sum() ** 2 * n / (n - 1) if n > 1 else np.full((len(a),) * 2, np.nan)
    return s10 + s01


def binary_auc(y, score, weights=None, alpha: float = 0.05) -> pd.Series:
    """AUC of ``score`` for 0/1 labels with the DeLong standard error and a Wald CI.

    Parameters
    ----------
    y : array-like of 0/1
    score : array-like
        Higher = more likely a case.
    weights : array-like, optional
        Case weights (e.g. IPCW from :func:`horizon_labels`); zero-weight rows are ignored.

    Returns
    -------
    pandas.Series
        ``auc, se, ci_lower, ci_upper, n_cases, n_controls``.

    Notes
    -----
    AUC = sum_ij w_i w_j psi(x_i, y_j) / (sum w_i sum w_j), psi = 1 (x > y), 1/2 (tie). The
    variance is DeLong, DeLong & Clarke-Pearson (1988) from the placement values (computed by
    sorting, as Sun & Xu 2014), with weights as in the weighted U-statistic (the weights are
    treated as fixed). Unweighted, it equals pROC's ``var(roc)`` (checked on pROC's aSAH data).
    """
    yk, (s,), wk = _check_binary(y, [score], weights)
    a, v10, v01, ws, wc = _placements(s, yk, wk)
    var = float(_var_parts(v10[None], v01[None], np.array([a]), ws, wc)[0, 0])
    se = float(np.sqrt(var))
    q = stats.norm.ppf(1 - alpha / 2)
    return pd.Series(
        {
            "auc": a,
            "se": se,
            "ci_lower": a - q * se,
            "ci_upper": a + q * se,
            "n_cases": int((yk == 1).sum()),
            "n_controls": int((yk == 0).sum()),
        }
    )


def paired_auc(y, score_a, score_b, weights=None, alpha: float = 0.05) -> pd.Series:
    """DeLong test of the difference between two correlated AUCs on the same patients.

    Returns
    -------
    pandas.Series
        ``auc_a, auc_b, diff, se, z, pvalue, ci_lower, ci_upper``.

    Notes
    -----
    var(A_a - A_b) = S_aa + S_bb - 2 S_ab with S the DeLong covariance matrix of the two
    AUCs (DeLong et al. 1988, Biometrics 44:837). Checked against pROC's ``roc.test`` values on
    the aSAH data (its test suite: Z = 2.2090 for WFNS vs S100B) and a bootstrap.
    """
    yk, (sa, sb), wk = _check_binary(y, [score_a, score_b], weights)
    aa, v10a, v01a, ws, wc = _placements(sa, yk, wk)
    ab, v10b, v01b, _, _ = _placements(sb, yk, wk)
    S = _var_parts(np.vstack([v10a, v10b]), np.vstack([v01a, v01b]), np.array([aa, ab]), ws, wc)
    diff = aa - ab
    se = float(np.sqrt(max(S[0, 0] + S[1, 1] - 2 * S[0, 1], 0.0)))
    if se > 0:
        z = diff / se
    else:
        z = 0.0 if diff == 0 else np.nan
    q = stats.norm.ppf(1 - alpha / 2)
    return pd.Series(
        {
            "auc_a": aa,
            "auc_b": ab,
            "diff": diff,
            "se": se,
            "z": z,
            "pvalue": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
            "ci_lower": diff - q * se,
            "ci_upper": diff + q * se,
        }
    )


def _logit_fit(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, offset: np.ndarray, max_iter: int = 50
) -> np.ndarray | None:
    """Weighted logistic regression by Newton-Raphson (None when it does not converge)."""
    b = np.zeros(X.shape[1])
    prev = -np.inf
    for _ in range(max_iter):
        eta = offset + X @ b
        p = special.expit(eta)
        ll = float(np.sum(w * (y * eta - np.logaddexp(0, eta))))
        if ll < prev - 1e-10 * abs(prev):
            return None
        H = (X * (w * p * (1 - p))[:, None]).T @ X
        try:
            step = np.linalg.solve(H, X.T @ (w * (y - p)))
        except np.linalg.LinAlgError:
            return None
        b = b + step
        prev = ll
        if np.max(np.abs(step)) < 1e-10:
            return b
    return None


def binary_metrics(y, prob, weights=None) -> dict[str, float]:
    """AUC (+ DeLong SE), Brier score, calibration intercept and slope, observed/expected.

    Notes
    -----
    Weighted by ``weights`` (IPCW). Brier = sum w (y - p)^2 / sum w. Calibration slope b from
    logit P(y) = a + b logit(p); calibration intercept (calibration-in-the-large) a from
    logit P(y) = a + logit(p) (offset), both by weighted maximum likelihood; ideal 1 and 0
    (Van Calster et al. 2019). NaN when the recalibration model does not converge
    (separation). ``oe`` = sum w y / sum w p.
    """
    yk, (p,), wk = _check_binary(y, [prob], weights)
    if np.any((p < 0) | (p > 1)):
        raise DataError("predicted probabilities must be in [0, 1]")
    auc = binary_auc(yk, p, wk)
    lp = special.logit(np.clip(p, 1e-12, 1 - 1e-12))
    ones = np.ones((yk.size, 1))
    slope = _logit_fit(np.column_stack([ones, lp]), yk, wk, np.zeros(yk.size))
    cil = _logit_fit(ones, yk, wk, lp)
    return {
        "auc": auc["auc"],
        "auc_se": auc["se"],
        "brier": float(np.sum(wk * (yk - p) ** 2) / wk.sum()),
        "calibration_intercept": float(cil[0]) if cil is not None else np.nan,
        "calibration_slope": float(slope[1]) if slope is not None else np.nan,
        "oe": float(np.sum(wk * yk) / np.sum(wk * p)),
    }


def binary_decision_curve(
    y, prob, weights=None, thresholds: Sequence[float] = tuple(np.arange(0.05, 0.51, 0.05))
) -> pd.DataFrame:
    """Net benefit of treating when p >= pt (Vickers & Elkin 2006), IPCW-weighted.

    NB(pt) = [sum w y 1(p >= pt) - sum w (1 - y) 1(p >= pt) pt / (1 - pt)] / sum w; treat all
    uses 1(p >= pt) = 1. Columns ``threshold, n_positive, net_benefit, treat_all``.
    """
    yk, (p,), wk = _check_binary(y, [prob], weights)
    total = wk.sum()
    rows = []
    for pt in np.asarray(thresholds, dtype=float):
        if not 0 < pt < 1:
            raise DataError(f"thresholds must be in (0, 1), got {pt}")
        odds = pt / (1 - pt)
        pos = p >= pt
        nb = (np.sum(wk * yk * pos) - np.sum(wk * (1 - yk) * pos) * odds) / total
        rows.append(
            {
                "threshold": pt,
                "n_positive": int(pos.sum()),
                "net_benefit": float(nb),
                "treat_all": float((np.sum(wk * yk) - np.sum(wk * (1 - yk)) * odds) / total),
            }
        )
    return pd.DataFrame(rows)


def binary_calibration_table(y, prob, weights=None, n_groups: int = 3) -> pd.DataFrame:
    """Weighted observed event share vs mean predicted probability by predicted-risk group.

    Columns ``group, n, predicted, observed`` (groups of near-equal size by sorted ``prob``).
    """
    yk, (p,), wk = _check_binary(y, [prob], weights)
    if not 1 <= n_groups <= yk.size:
        raise DataError(f"n_groups must be between 1 and {yk.size}")
    rows = []
    for g, idx in enumerate(np.array_split(np.argsort(p, kind="stable"), n_groups), start=1):
        w = wk[idx]
        rows.append(
            {
                "group": g,
                "n": int(idx.size),
                "predicted": float(np.sum(w * p[idx]) / w.sum()),
                "observed": float(np.sum(w * yk[idx]) / w.sum()),
            }
        )
    return pd.DataFrame(rows)
