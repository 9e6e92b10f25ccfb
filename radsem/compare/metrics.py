"""Out-of-sample discrimination and calibration metrics for survival predictions.

Every function takes the *training* outcome (for the censoring distribution of the
inverse-probability-of-censoring weights), the *test* outcome and the predictions made for the
test patients by a model fitted on the training patients only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem._warnings import user_stacklevel
from radsem.errors import ConvergenceWarning, DataError
from radsem.survival import concordance_index, cox, kaplan_meier

_MAX_ITER = 50

__all__ = [
    "Outcome",
    "harrell_c",
    "uno_c",
    "time_dependent_auc",
    "integrated_brier",
    "calibration",
    "calibration_table",
    "decision_curve",
    "evaluate",
]


class Outcome:
    """A right-censored outcome: follow-up times and 0/1 event indicators.

    Parameters
    ----------
    time, event : array-like
        Follow-up time (finite, >= 0) and event indicator (0/1 or bool).
    """

    def __init__(self, time, event):
        t = np.asarray(time, dtype=float).ravel()
        e_raw = np.asarray(event).ravel()
        if t.shape != e_raw.shape:
            raise DataError(f"time has {t.size} values but event has {e_raw.size}")
        if t.size == 0:
            raise DataError("the outcome has no observations")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise DataError("follow-up times must be finite and >= 0")
        e = e_raw.astype(float)
        if not np.all(np.isin(e, (0.0, 1.0))):
            raise DataError("event indicators must be 0/1 (or boolean)")
        self.time = t
        self.event = e.astype(bool)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, time: str, event: str) -> Outcome:
        """The outcome held in two columns of ``frame``."""
        for col in (time, event):
            if col not in frame.columns:
                raise DataError(f"column {col!r} is not in the data")
        return cls(frame[time].to_numpy(), frame[event].to_numpy())

    def __len__(self) -> int:
        return self.time.size

    def structured(self) -> np.ndarray:
        """scikit-survival's structured array (``event``, ``time``)."""
        y = np.empty(self.time.size, dtype=[("event", bool), ("time", float)])
        y["event"], y["time"] = self.event, self.time
        return y

    def truncate(self, tau: float) -> Outcome:
        """Administratively censor at ``tau`` (times above become censored at ``tau``)."""
        return Outcome(np.minimum(self.time, tau), self.event & (self.time <= tau))


def _as_outcome(y) -> Outcome:
    if isinstance(y, Outcome):
        return y
    if isinstance(y, tuple) and len(y) == 2:
        return Outcome(*y)
    raise DataError("an outcome must be an Outcome or a (time, event) tuple")


def _risk(risk, n: int) -> np.ndarray:
    r = np.asarray(risk, dtype=float).ravel()
    if r.size != n:
        raise DataError(f"{r.size} predictions for {n} test patients")
    if not np.all(np.isfinite(r)):
        raise DataError("predictions contain missing or infinite values")
    return r


def _max_tau(train: Outcome) -> float:
    """The largest time at which the training censoring survival G(t) is still positive."""
    t = np.sort(np.unique(train.time))
    # G(t) drops to zero only at the last time when the last observation is censored
    last = train.time == t[-1]
    if np.any(~train.event[last]):
        return float(t[-2]) if t.size > 1 else 0.0
    return float(t[-1])


def harrell_c(test, risk) -> tuple[float, float]:
    """Harrell's C of test predictions with R's infinitesimal-jackknife SE.

    Returns
    -------
    (float, float)
        C and its standard error (:func:`radsem.survival.concordance_index`, checked against
        R ``survival::concordance``).
    """
    test = _as_outcome(test)
    c = concordance_index(test.time, test.event, _risk(risk, len(test)))
    return c.concordance, c.std_err


def uno_c(train, test, risk, tau: float | None = None) -> float:
    """Uno's IPCW concordance, truncated at ``tau``.

    Parameters
    ----------
    train, test : Outcome or (time, event)
    risk : array-like
        Test predictions, higher = worse prognosis.
    tau : float, optional
        Truncation time (default: the largest time with positive training censoring survival);
        larger values are clipped to it.

    Notes
    -----
    C_tau = sum_ij D_i G(T_i)^-2 1(T_i < T_j, T_i < tau) 1(r_i > r_j) /
    sum_ij D_i G(T_i)^-2 1(T_i < T_j, T_i < tau), G the Kaplan-Meier estimate of the censoring
    distribution in the training data (Uno et al. 2011), ties in r counted 1/2. Computed by
    scikit-survival's ``concordance_index_ipcw``.
    """
    from sksurv.metrics import concordance_index_ipcw

    train, test = _as_outcome(train), _as_outcome(test)
    r = _risk(risk, len(test))
    tmax = _max_tau(train)
    tau = tmax if tau is None else min(float(tau), tmax)
    tt = test.truncate(tau)
    if not tt.event.any():
        return np.nan
    return float(concordance_index_ipcw(train.structured(), tt.structured(), r, tau=tau)[0])


def time_dependent_auc(train, test, risk, horizons: Sequence[float]) -> pd.Series:
    """Cumulative/dynamic AUC(t) at the given horizons (NaN where not estimable).

    Notes
    -----
    AUC(t) = P(r_i > r_j | T_i <= t, T_j > t) with cases weighted by 1 / G(T_i) (Uno et al.
    2007; Hung & Chiang 2010), by scikit-survival's ``cumulative_dynamic_auc``. A horizon is
    NaN when the test fold has no case or no control at it, or it lies beyond the training
    censoring support.
    """
    from sksurv.metrics import cumulative_dynamic_auc

    train, test = _as_outcome(train), _as_outcome(test)
    r = _risk(risk, len(test))
    tmax = _max_tau(train)
    tt = test.truncate(tmax)
    out = {}
    for h in np.atleast_1d(np.asarray(horizons, dtype=float)):
        cases = tt.event & (tt.time <= h)
        ok = h < tmax and cases.any() and np.any(tt.time > h)
        out[float(h)] = (
            float(cumulative_dynamic_auc(train.structured(), tt.structured(), r, [h])[0][0])
            if ok
            else np.nan
        )
    return pd.Series(out, name="auc", dtype=float).rename_axis("horizon")


def integrated_brier(
    train, test, survival: pd.DataFrame | np.ndarray, times: Sequence[float]
) -> float:
    """Integrated Brier score of predicted survival curves over ``times``.

    Parameters
    ----------
    survival : (n_test, len(times)) array
        Predicted S(t | x) for each test patient at each time.
    times : sequence of float
        Increasing grid; points outside the test follow-up range (or the training censoring
        support) are dropped, and fewer than two remaining points give NaN.

    Notes
    -----
    IPCW Brier score (Graf et al. 1999) BS(t) = mean_i [S(t|x_i)^2 D_i 1(T_i <= t) / G(T_i) +
    (1 - S(t|x_i))^2 1(T_i > t) / G(t)], integrated with the trapezoidal rule and divided by the
    span of the grid, by scikit-survival's ``integrated_brier_score``.
    """
    from sksurv.metrics import integrated_brier_score

    train, test = _as_outcome(train), _as_outcome(test)
    times = np.asarray(times, dtype=float)
    S = np.asarray(survival, dtype=float)
    if S.shape != (len(test), times.size):
        raise DataError(f"survival must be {len(test)} x {times.size}, got {S.shape}")
    tmax = min(_max_tau(train), test.time.max())
    keep = (times >= test.time.min()) & (times < tmax)
    if keep.sum() < 2:
        return np.nan
    return float(
        integrated_brier_score(
            train.structured(), test.truncate(tmax).structured(), S[:, keep], times[keep]
        )
    )


def _separated(test: Outcome, r: np.ndarray) -> bool:
    """Monotone partial likelihood: every event has the largest (or every one the smallest)
    predictor value of its risk set, so the Cox slope is infinite."""
    order = np.argsort(-test.time, kind="stable")
    ts, rs, es = test.time[order], r[order], test.event[order]
    last = np.searchsorted(-ts, -ts, side="right") - 1  # risk set = times >= t_i
    hi, lo = np.maximum.accumulate(rs)[last], np.minimum.accumulate(rs)[last]
    return bool(np.all(rs[es] >= hi[es]) or np.all(rs[es] <= lo[es]))


def calibration(test, risk) -> float:
    """Calibration slope: the Cox coefficient of the test outcome on the linear predictor.

    Notes
    -----
    Fits h(t | x) = h0(t) exp(b * lp) in the test patients; b = 1 is ideal, b < 1 means the
    predictions are too extreme (overfitting). Only meaningful when ``risk`` is a linear
    predictor (all radsem built-in models return one). NaN without events, for a constant
    predictor, or when the predictor separates the events (monotone likelihood).
    """
    test = _as_outcome(test)
    r = _risk(risk, len(test))
    if not test.event.any() or np.ptp(r) == 0 or _separated(test, r):
        return np.nan
    # fit on the standardised predictor (better conditioned when lp hardly varies), rescale
    sd = float(np.std(r))
    frame = pd.DataFrame({"time": test.time, "event": test.event.astype(int), "lp": r / sd})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # judged below
        fit = cox(frame, "time", "event", ["lp"], max_iter=_MAX_ITER)
    if not fit.converged and fit.n_iter >= _MAX_ITER:
        warnings.warn(
            "calibration slope: the Cox fit did not converge; slope set to NaN",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
        return np.nan
    # without separation the 1-D partial likelihood is strictly concave with a finite maximum,
    # so a stop before max_iter (radsem.survival's "log-likelihood no longer changes" exit) is
    # the optimum to machine precision, even when flagged as not converged
    return float(fit.params["lp"]) / sd


def calibration_table(
    test, risk, survival_at_horizon, horizon: float, n_groups: int = 3
) -> pd.DataFrame:
    """Observed (Kaplan-Meier) vs mean predicted survival at ``horizon`` by risk group.

    Patients are split into ``n_groups`` groups of (near) equal size by the quantiles of
    ``risk``; columns ``group, n, events, predicted, observed``.
    """
    test = _as_outcome(test)
    r = _risk(risk, len(test))
    s = _risk(survival_at_horizon, len(test))
    if n_groups < 1 or n_groups > len(test):
        raise DataError(f"n_groups must be between 1 and {len(test)}")
    order = np.argsort(r, kind="stable")
    group = np.empty(len(test), dtype=int)
    for g, idx in enumerate(np.array_split(order, n_groups)):
        group[idx] = g + 1
    frame = pd.DataFrame({"time": test.time, "event": test.event.astype(int), "group": group})
    km = kaplan_meier(frame, "time", "event", group="group").survival_at([horizon])
    rows = []
    for g in range(1, n_groups + 1):
        sel = group == g
        obs = km.loc[g].iloc[0] if g in km.index else np.nan
        rows.append(
            {
                "group": g,
                "n": int(sel.sum()),
                "events": int(test.event[sel].sum()),
                "predicted": float(s[sel].mean()),
                "observed": float(obs),
            }
        )
    return pd.DataFrame(rows)


def decision_curve(
    test,
    event_probability,
    horizon: float,
    thresholds: Sequence[float] = tuple(np.arange(0.05, 0.51, 0.05)),
) -> pd.DataFrame:
    """Net benefit of acting when the predicted event probability by ``horizon`` is >= pt.

    Returns
    -------
    DataFrame
        ``threshold, n_positive, net_benefit, treat_all`` (treat none is 0).

    Notes
    -----
    Time-to-event decision curve (Vickers et al. 2008): with p+ the share of patients at or
    above the threshold pt and r+ = 1 - S_KM(h) among them, NB = r+ p+ - (1 - r+) p+ pt / (1 - pt);
    treat all: r - (1 - r) pt / (1 - pt) with r = 1 - S_KM(h) in everyone.
    """
    test = _as_outcome(test)
    p = _risk(event_probability, len(test))
    frame = pd.DataFrame({"time": test.time, "event": test.event.astype(int)})
    r_all = 1.0 - float(kaplan_meier(frame, "time", "event").survival_at([horizon]).iloc[0, 0])
    rows = []
    for pt in np.asarray(thresholds, dtype=float):
        if not 0 < pt < 1:
            raise DataError(f"thresholds must be in (0, 1), got {pt}")
        pos = p >= pt
        odds = pt / (1 - pt)
        nb = 0.0
        if pos.any():
            km = kaplan_meier(frame[pos], "time", "event").survival_at([horizon])
            r_pos = 1.0 - float(km.iloc[0, 0])
            nb = r_pos * pos.mean() - (1 - r_pos) * pos.mean() * odds
        rows.append(
            {
                "threshold": pt,
                "n_positive": int(pos.sum()),
                "net_benefit": nb,
                "treat_all": r_all - (1 - r_all) * odds,
            }
        )
    return pd.DataFrame(rows)


def evaluate(
    train,
    test,
    risk,
    survival: pd.DataFrame | None = None,
    horizons: Sequence[float] = (),
    ibs_times: Sequence[float] | None = None,
    tau: float | None = None,
) -> dict[str, float]:
    """All metrics for one test fold, as a flat ``{metric: value}`` dict.

    Keys: ``harrell_c, harrell_c_se, uno_c, calibration_slope``, ``auc@h`` per horizon and, when
    ``survival`` (rows: test patients, columns: times covering ``horizons`` and ``ibs_times``)
    is given, ``ibs`` and ``oe@h`` (observed / expected event probability at h: Kaplan-Meier
    1 - S(h) over the mean predicted 1 - S(h|x)).
    """
    train, test = _as_outcome(train), _as_outcome(test)
    r = _risk(risk, len(test))
    c, se = harrell_c(test, r)
    out = {
        "harrell_c": c,
        "harrell_c_se": se,
        "uno_c": uno_c(train, test, r, tau=tau),
        "calibration_slope": calibration(test, r),
    }
    for h, v in time_dependent_auc(train, test, r, horizons).items():
        out[f"auc@{h:g}"] = v
    if survival is not None:
        if ibs_times is not None and len(ibs_times) >= 2:
            out["ibs"] = integrated_brier(
                train, test, survival[list(ibs_times)].to_numpy(), ibs_times
            )
        frame = pd.DataFrame({"time": test.time, "event": test.event.astype(int)})
        km = kaplan_meier(frame, "time", "event").survival_at(list(horizons))
        for j, h in enumerate(horizons):
            expected = 1.0 - float(survival[h].mean())
            observed = 1.0 - float(km.iloc[0, j])
            out[f"oe@{h:g}"] = observed / expected if expected > 0 else np.nan
    return out
