"""Kaplan-Meier estimates with R ``survfit`` confidence intervals, medians and numbers at risk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from radsem.errors import DataError
from radsem.survival._data import survival_data

__all__ = ["kaplan_meier", "KaplanMeierResult"]

_CONF_TYPES = ("log", "log-log", "plain")


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier curves (one per group) as tidy tables.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct time per group: time, n_risk, n_event, n_censor, surv, std_err
        (standard error of surv, as ``summary(survfit)``), lower, upper, group.
    median : pandas.DataFrame
        Median survival per group with its confidence limits (R's ``print(survfit)``).
    """

    table: pd.DataFrame
    median: pd.DataFrame
    conf_type: str
    conf_level: float
    _data: dict

    def at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Numbers at risk (time >= t) per group at the given times (rows: groups)."""
        times = np.atleast_1d(np.asarray(times, float))
        out = {}
        for g, t in self._data.items():
            out[g] = [(t >= x).sum() for x in times]
        return pd.DataFrame(out, index=pd.Index(times, name="time")).T.rename_axis("group")

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """The step function evaluated at ``times`` (rows: groups)."""
        times = np.atleast_1d(np.asarray(times, float))
        rows = {}
        for g, sub in self.table.groupby("group", sort=False):
            pos = np.searchsorted(sub["time"].to_numpy(), times, side="right") - 1
            s = sub["surv"].to_numpy()
            rows[g] = np.where(pos >= 0, s[np.maximum(pos, 0)], 1.0)
        return pd.DataFrame(rows, index=pd.Index(times, name="time")).T.rename_axis("group")


def _km_one(t: np.ndarray, e: np.ndarray, conf_type: str, z: float) -> pd.DataFrame:
    ut = np.unique(t)
    n_event = np.bincount(np.searchsorted(ut, t), weights=e, minlength=len(ut))
    n_tot = np.bincount(np.searchsorted(ut, t), minlength=len(ut)).astype(float)
    n_risk = n_tot[::-1].cumsum()[::-1]
    n_censor = n_tot - n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - n_event / n_risk)
        green = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
        se_log = np.sqrt(green)
        se_log = np.where(surv > 0, se_log, np.nan)
        lower, upper = _confint(surv, se_log, conf_type, z)
    return pd.DataFrame(
        {
            "time": ut,
            "n_risk": n_risk.astype(int),
            "n_event": n_event.astype(int),
            "n_censor": n_censor.astype(int),
            "surv": surv,
            "std_err": se_log * surv,
            "lower": lower,
            "upper": upper,
        }
    )


def _confint(surv, se, conf_type, z):
    if conf_type == "log":
        lower = np.exp(np.log(surv) - z * se)
        upper = np.minimum(np.exp(np.log(surv) + z * se), 1.0)
    elif conf_type == "log-log":
        inner = (surv > 0) & (surv < 1)
        ll = np.log(-np.log(np.where(inner, surv, 0.5)))
        step = z * se / np.log(np.where(inner, surv, 0.5))
        lower = np.where(inner, np.exp(-np.exp(ll - step)), np.where(surv >= 1, 1.0, np.nan))
        upper = np.where(inner, np.exp(-np.exp(ll + step)), np.where(surv >= 1, 1.0, np.nan))
    else:
        lower = np.maximum(surv - z * se * surv, 0.0)
        upper = np.minimum(surv + z * se * surv, 1.0)
    # where the variance is zero (no event yet) R reports the estimate itself
    nz = np.isfinite(se) & (se == 0)
    lower = np.where(nz, surv, lower)
    upper = np.where(nz, surv, upper)
    return lower, upper


def _first_below_half(y: np.ndarray, x: np.ndarray) -> float:
    """R's rule: first time the curve is <= 0.5, midpoint when it sits exactly at 0.5."""
    tol = np.sqrt(np.finfo(float).eps)
    keep = ~np.isnan(y) & (y < 0.5 + tol)
    if not keep.any():
        return np.nan
    xs, ys = x[keep], y[keep]
    if abs(ys[0] - 0.5) < tol and np.any(ys < ys[0]):
        return float((xs[0] + xs[np.argmax(ys < ys[0])]) / 2)
    return float(xs[0])


def kaplan_meier(
    data: pd.DataFrame,
    time: str,
    event: str,
    group: str | None = None,
    *,
    conf_type: str = "log",
    conf_level: float = 0.95,
) -> KaplanMeierResult:
    """Kaplan-Meier survival curves, as R ``survfit(Surv(time, event) ~ group)``.

    Parameters
    ----------
    data : pandas.DataFrame
    time, event : str
        Follow-up time (>= 0) and 0/1 event indicator.
    group : str, optional
        One curve per level.
    conf_type : {"log", "log-log", "plain"}
        R's ``conf.type`` (default "log", as R).
    conf_level : float

    Returns
    -------
    KaplanMeierResult

    Notes
    -----
    S(t) = prod_{t_i <= t} (1 - d_i / n_i); Greenwood variance of log S,
    sum d_i / (n_i (n_i - d_i)). Intervals: "log" exp(log S +- z se), "log-log"
    exp(-exp(log(-log S) -+ z se / log S)), "plain" S +- z se S. Checked against R survival 3.5
    ``survfit`` on lung and veteran (tests/survival).
    """
    if conf_type not in _CONF_TYPES:
        raise DataError(f"conf_type must be one of {', '.join(_CONF_TYPES)}, got {conf_type!r}")
    if not 0 < conf_level < 1:
        raise DataError("conf_level must be between 0 and 1")
    sd = survival_data(
        data, time, event, [group] if group else [], missing="raise", require_events=False
    )
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    groups = pd.Series(sd.frame[group].to_numpy()) if group else pd.Series(["all"] * len(sd.time))
    tables, medians, raw = [], [], {}
    for g in sorted(pd.unique(groups), key=lambda v: (str(type(v)), v)):
        sel = (groups == g).to_numpy()
        tab = _km_one(sd.time[sel], sd.event[sel], conf_type, z)
        tab["group"] = g
        tables.append(tab)
        raw[g] = sd.time[sel]
        x = tab["time"].to_numpy()
        medians.append(
            {
                "group": g,
                "n": int(sel.sum()),
                "events": int(sd.event[sel].sum()),
                "median": _first_below_half(tab["surv"].to_numpy(), x),
                "ci_lower": _first_below_half(tab["lower"].to_numpy(), x),
                "ci_upper": _first_below_half(tab["upper"].to_numpy(), x),
            }
        )
    table = pd.concat(tables, ignore_index=True)
    return KaplanMeierResult(
        table, pd.DataFrame(medians).set_index("group"), conf_type, conf_level, raw
    )
