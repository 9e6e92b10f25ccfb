"""Bootstrap confidence intervals from a matrix of draws (one row per replicate).

All functions work column-wise on ``draws`` (``B x k``, non-finite entries ignored per
column) and return a ``k x 2`` array of lower and upper limits.

Notes
-----
Quantiles of the draws are taken as in the R ``boot`` package (and lavaan 0.6-14's
``parameterEstimates``): order statistic ``(B + 1) alpha``, interpolated on the normal
quantile scale between neighbouring order statistics (:func:`boot_quantile`).

* ``perc``: ``[t*_(alpha/2), t*_(1-alpha/2)]``;
* ``basic``: ``[2 t0 - t*_(1-alpha/2), 2 t0 - t*_(alpha/2)]``;
* ``norm``: ``t0 - bias -/+ z_(1-alpha/2) se``, ``bias = mean(t*) - t0``;
* ``bca``: quantiles at ``Phi(w + (w + z_a) / (1 - a (w + z_a)))`` with bias correction
  ``w = Phi^-1(#{t* < t0} / B)`` and acceleration ``a`` (Efron 1987; Davison & Hinkley 1997,
  eq. 5.23); ``bca.simple`` is lavaan's ``a = 0``. The acceleration is
  ``a = sum L_i^3 / (6 (sum L_i^2)^(3/2))`` from empirical influence values ``L_i``:
  jackknife (:func:`jackknife_acceleration`, the textbook choice) or, as lavaan's ``"bca"``,
  the regression of the draws on the bootstrap frequencies
  (:func:`regression_acceleration`, Davison & Hinkley 1997, section 2.7.4).
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
from scipy import stats

from radsem.errors import EstimationError, RadsemWarning

__all__ = [
    "BOOT_CI_TYPES",
    "boot_quantile",
    "percentile_ci",
    "basic_ci",
    "normal_ci",
    "bca_ci",
    "jackknife_acceleration",
    "regression_acceleration",
    "check_boot_ci_type",
]

BOOT_CI_TYPES = ("perc", "basic", "norm", "bca.simple", "bca")


def boot_quantile(t: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, bool]:
    """Quantiles ``alpha`` of the finite values of ``t`` (the ``boot`` package's rule).

    Returns the quantiles and whether an extreme order statistic (the smallest or largest
    draw) had to be used because ``B`` is too small for ``alpha``.
    """
    t = np.sort(np.asarray(t, float)[np.isfinite(t)])
    alpha = np.atleast_1d(np.asarray(alpha, float))
    b = t.size
    if b == 0:
        return np.full(alpha.shape, np.nan), False
    rk = (b + 1) * alpha
    extreme = bool(np.any(~((rk > 1) & (rk < b))))
    k = np.trunc(rk).astype(int)
    out = np.empty(alpha.shape)
    for m, (km, rm, am) in enumerate(zip(k, rk, alpha, strict=True)):
        if km <= 0:
            out[m] = t[0]
        elif km >= b:
            out[m] = t[-1]
        elif km == rm:
            out[m] = t[km - 1]
        else:
            z, zk, zk1 = stats.norm.ppf([am, km / (b + 1), (km + 1) / (b + 1)])
            out[m] = t[km - 1] + (z - zk) / (zk1 - zk) * (t[km] - t[km - 1])
    return out, extreme


def _caller_stacklevel() -> int:
    """Stack level of the first frame outside the radsem package (the user's call)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _warn_extreme(count: int) -> None:
    if count:
        warnings.warn(
            f"{count} bootstrap interval(s) use the smallest or largest draw as an "
            "endpoint (too few replicates for this level); increase R",
            RadsemWarning,
            stacklevel=_caller_stacklevel(),
        )


def _columns(draws: np.ndarray, alphas_per_col) -> np.ndarray:
    draws = np.atleast_2d(np.asarray(draws, float))
    out = np.empty((draws.shape[1], 2))
    extreme = 0
    for j in range(draws.shape[1]):
        out[j], ext = boot_quantile(draws[:, j], alphas_per_col(j))
        extreme += ext
    _warn_extreme(extreme)
    return out


def percentile_ci(draws: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Percentile intervals."""
    a = np.array([(1 - level) / 2, (1 + level) / 2])
    return _columns(draws, lambda j: a)


def basic_ci(est: np.ndarray, draws: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Basic (reverse percentile) intervals ``2 t0 - quantiles``."""
    q = percentile_ci(draws, level)
    est = np.asarray(est, float)
    return np.column_stack([2 * est - q[:, 1], 2 * est - q[:, 0]])


def normal_ci(est: np.ndarray, se: np.ndarray, bias: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Bias-corrected normal intervals ``t0 - bias -/+ z se``."""
    z = stats.norm.ppf((1 + level) / 2)
    centre = np.asarray(est, float) - np.asarray(bias, float)
    se = np.asarray(se, float)
    return np.column_stack([centre - z * se, centre + z * se])


def bca_ci(
    est: np.ndarray, draws: np.ndarray, level: float = 0.95, acceleration: np.ndarray | None = None
) -> np.ndarray:
    """Bias-corrected and accelerated intervals (``acceleration=None``: lavaan's
    ``bca.simple``, ``a = 0``). Columns without variation get ``[t0, t0]``."""
    draws = np.atleast_2d(np.asarray(draws, float))
    est = np.asarray(est, float)
    k = draws.shape[1]
    acc = np.zeros(k) if acceleration is None else np.asarray(acceleration, float)
    za = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    out = np.column_stack([est, est]).astype(float)
    extreme = 0
    for j in range(k):
        t = draws[:, j][np.isfinite(draws[:, j])]
        if t.size < 2 or np.var(t) == 0:
            continue  # no variation (e.g. a parameter fixed by constraints): [t0, t0]
        prop = np.mean(t < est[j])
        if prop in (0.0, 1.0):  # all draws on one side of t0: extreme order statistics
            alphas = np.array([prop, prop])
        else:
            w = stats.norm.ppf(prop)
            a = acc[j] if np.isfinite(acc[j]) else 0.0
            alphas = stats.norm.cdf(w + (w + za) / (1 - a * (w + za)))
        out[j], ext = boot_quantile(t, alphas)
        extreme += ext
    _warn_extreme(extreme)
    return out


def _accel(infl: np.ndarray) -> np.ndarray:
    infl = infl - np.nanmean(infl, axis=0)
    num = np.nansum(infl**3, axis=0)
    den = 6.0 * np.nansum(infl**2, axis=0) ** 1.5
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, 0.0)


def jackknife_acceleration(jack: np.ndarray) -> np.ndarray:
    """Acceleration from leave-one-out estimates ``jack`` (``n x k``, rows of failed refits
    NaN): influence values ``L_i = mean(jack) - jack_i``."""
    jack = np.asarray(jack, float)
    jack = jack[np.isfinite(jack).all(axis=1)]
    return _accel(jack.mean(axis=0) - jack)


def regression_acceleration(draws: np.ndarray, freq: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Acceleration from influence values estimated by least squares of the draws on the
    bootstrap frequencies (lavaan's ``"bca"``).

    Parameters
    ----------
    draws : ndarray (B, k)
        Successful replicates only.
    freq : ndarray (B, N)
        How often each case appears in each replicate.
    first : ndarray of int
        Column of the first case of each group (dropped: frequencies sum to ``n_g``);
        their influence value is 0, as in lavaan.
    """
    keep = np.setdiff1d(np.arange(freq.shape[1]), first)
    x = np.column_stack([np.ones(freq.shape[0]), freq[:, keep]])
    beta = np.linalg.lstsq(x, draws, rcond=None)[0][1:]
    infl = np.zeros((freq.shape[1], draws.shape[1]))
    infl[keep] = beta
    return _accel(infl)


def check_boot_ci_type(boot_ci_type: str) -> None:
    """Raise :class:`EstimationError` for an unknown interval type."""
    if boot_ci_type not in BOOT_CI_TYPES:
        raise EstimationError(
            f"unknown boot_ci_type {boot_ci_type!r}; choose one of {BOOT_CI_TYPES}"
        )
