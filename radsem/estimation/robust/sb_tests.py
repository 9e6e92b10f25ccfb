"""The Satorra-Bentler family of robust test statistics (lavaan's ``test =`` option).

Definitions (Satorra & Bentler 1994; Asparouhov & Muthen 2010; Yuan & Bentler 2000), in
lavaan 0.6-14's conventions: per group ``f_g = n_g / N``, the weight ``V_g`` (the estimator's
weight matrix; for ML the expected h1 information at the implied moments), the model Jacobian
``Delta_g``, the per case inverse information ``E^-1`` of the free parameters, and ``Gamma_g``
the asymptotic covariance of the sample moments (times ``n_g``). With ``V = blockdiag(f_g
V_g)``, ``G = blockdiag(Gamma_g / f_g)`` and ``U = V - V Delta E^-1 Delta' V``:

* ``satorra.bentler``: ``c = tr(U G) / df``, ``T = T_ML / c`` (same df);
* ``mean.var.adjusted`` (Satterthwaite): ``df* = tr(U G)^2 / tr((U G)^2)``,
  ``c = tr(U G) / df*``, ``T = T_ML / c`` on ``df*`` degrees of freedom;
* ``scaled.shifted``: ``a = sqrt(df / tr((U G)^2))``, ``T = a T_ML + df - a tr(U G)``;
  reported scaling factor ``1/a`` and shift ``df - a tr(U G)``;
* ``yuan.bentler``: ``G`` replaced by ``Omega_g = A1_g^-1 B1_g A1_g^-1`` with the
  unstructured expected (``A1``) and first-order (``B1``) h1 information at the sample
  moments; ``scaling.factor.h1 = sum_g tr(A1_g^-1 B1_g) / ndat``, ``scaling.factor.h0 =
  sum_g tr(f_g B1s_g Delta_g E^-1 Delta_g') / npar`` (``B1s``: first-order information at the
  implied moments).

A statistic with ``df = 0`` keeps the standard value and gets a NaN scaling factor (lavaan).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from radsem.errors import EstimationError

__all__ = [
    "SCALED_TESTS",
    "RobustTest",
    "canonical_tests",
    "ug_traces",
    "scaled_statistic",
    "TEST_LABELS",
]

#: lavaan's scaled tests, in lavaan's spelling
SCALED_TESTS = (
    "satorra.bentler",
    "yuan.bentler",
    "yuan.bentler.mplus",
    "mean.var.adjusted",
    "scaled.shifted",
)

#: lavaan's labels of the tests (``mimic = "lavaan"``)
TEST_LABELS = {
    "satorra.bentler": "Satorra-Bentler correction",
    "yuan.bentler": "Yuan-Bentler correction",
    "yuan.bentler.mplus": "Yuan-Bentler correction (Mplus variant)",
    "mean.var.adjusted": "mean and variance adjusted correction",
    "scaled.shifted": "simple second-order correction",
    "bollen.stine": "Bollen-Stine bootstrap",
}

_ALIASES = {
    "standard": ("standard", "chisq", "chi", "chi-square", "chi.square"),
    "satorra.bentler": (
        "satorra",
        "sb",
        "satorra.bentler",
        "satorra-bentler",
        "m.adjusted",
        "m",
        "mean.adjusted",
        "mean-adjusted",
    ),
    "yuan.bentler": ("yuan", "yb", "yuan.bentler", "yuan-bentler"),
    "yuan.bentler.mplus": ("yuan.bentler.mplus", "yuan-bentler.mplus", "yuan-bentler-mplus"),
    "mean.var.adjusted": (
        "mean.var.adjusted",
        "mean-var-adjusted",
        "mv",
        "second.order",
        "satterthwaite",
        "mv.adjusted",
    ),
    "scaled.shifted": ("mplus6", "scale.shift", "scaled.shifted", "scaled-shifted"),
    "bollen.stine": ("bootstrap", "boot", "bollen.stine", "bollen-stine"),
    "none": ("none",),
    "default": ("default",),
}
_RENAME = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}


def canonical_tests(test) -> tuple[str, ...]:
    """lavaan's ``lav_test_rename(check = TRUE)``: canonical names, unscaled tests first.

    Raises
    ------
    EstimationError
        With lavaan's wording for an unknown name, or ``"default"``/``"none"`` combined with
        other tests. The Browne residual tests are not available in radsem.
    """
    items = [test] if isinstance(test, str) else list(test)
    if not items or not all(isinstance(t, str) for t in items):
        raise EstimationError(f"test must be a string or a list of strings, got {test!r}")
    names = [_RENAME.get(t.lower(), None) for t in items]
    bad = [t for t, n in zip(items, names, strict=True) if n is None]
    if bad:
        raise EstimationError(f"invalid value(s) in test= argument: {' '.join(bad)}")
    if len(names) > 1 and "default" in names:
        raise EstimationError(
            'if test= argument contains "default", it cannot contain additional elements'
        )
    if len(names) > 1 and "none" in names:
        raise EstimationError(
            'if test= argument contains "none", it cannot contain additional elements'
        )
    unscaled = [n for n in names if n not in SCALED_TESTS]
    scaled = [n for n in names if n in SCALED_TESTS]
    return tuple(dict.fromkeys(unscaled + scaled))


@dataclass(frozen=True)
class RobustTest:
    """One robust test statistic, with lavaan's names.

    Attributes
    ----------
    test : str
    stat, df, pvalue : float
    scaling_factor : float
        ``c`` (``1/a`` for ``scaled.shifted``).
    shift : float
        ``scaled.shifted`` only (NaN otherwise).
    trace_ugamma, trace_ugamma2 : float
    scaling_factor_h1, scaling_factor_h0 : float
        ``yuan.bentler`` only.
    """

    test: str
    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    shift: float = np.nan
    trace_ugamma: float = np.nan
    trace_ugamma2: float = np.nan
    scaling_factor_h1: float = np.nan
    scaling_factor_h0: float = np.nan


def ug_traces(
    gamma: Sequence[np.ndarray],
    delta: Sequence[np.ndarray],
    weight: Sequence[np.ndarray],
    e_inv: np.ndarray,
    nobs: Sequence[float],
    second: bool = True,
) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` over all groups (see module docstring).

    Parameters
    ----------
    gamma, delta, weight : list of ndarray
        Per group ``Gamma_g`` (times ``n_g``), ``Delta_g``, ``V_g`` (per case).
    e_inv : ndarray
        Inverse (per case, group-weighted) information of the free parameters.
    nobs : list of float
    second : bool
        Also compute ``tr((U Gamma)^2)`` (needs the whole ``U Gamma``).
    """
    n = np.asarray(nobs, dtype=float)
    fg = n / n.sum()
    v_all = linalg.block_diag(*[f * w for f, w in zip(fg, weight, strict=True)])
    g_all = linalg.block_diag(*[g / f for f, g in zip(fg, gamma, strict=True)])
    vd = v_all @ np.vstack(delta)
    u = v_all - vd @ e_inv @ vd.T
    tr1 = float(np.sum(u * g_all))
    if not second:
        return tr1, np.nan
    ug = u @ g_all
    return tr1, float(np.sum(ug * ug.T))


def _p(stat: float, df: float) -> float:
    return float(stats.chi2.sf(stat, df)) if np.isfinite(stat) and df > 0 else np.nan


def scaled_statistic(
    test: str, chisq: float, df: float, trace_ug: float, trace_ug2: float = np.nan
) -> RobustTest:
    """The statistic of one scaled test from the traces (lavaan's definitions)."""
    if df <= 0:
        return RobustTest(test, float(chisq), df, _p(chisq, df), np.nan, np.nan, trace_ug)
    if test in ("satorra.bentler", "yuan.bentler", "yuan.bentler.mplus"):
        c = trace_ug / df
        c = c if c >= 0 else np.nan
        stat = chisq / c
        return RobustTest(
            test, float(stat), df, _p(stat, df), float(c), np.nan, trace_ug, trace_ug2
        )
    if test == "mean.var.adjusted":
        dfs = trace_ug**2 / trace_ug2
        c = trace_ug / dfs
        c = c if c >= 0 else np.nan
        stat = chisq / c
        return RobustTest(
            test, float(stat), float(dfs), _p(stat, dfs), float(c), np.nan, trace_ug, trace_ug2
        )
    if test == "scaled.shifted":
        a = np.sqrt(df / trace_ug2)
        shift = df - a * trace_ug
        stat = chisq * a + shift
        c = 1.0 / a if a > 0 else np.nan
        return RobustTest(
            test, float(stat), df, _p(stat, df), float(c), float(shift), trace_ug, trace_ug2
        )
    raise EstimationError(f"unknown scaled test {test!r}")
