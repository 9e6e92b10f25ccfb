"""Scaled and robust incremental fit indices and RMSEA (lavaan's ``.scaled``/``.robust``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from radsem.errors import EstimationError

__all__ = [
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue",
    "incremental_indices",
    "rmsea_indices",
    "robust_fit_measures",
    "CorrectedTest",
]


@dataclass(frozen=True)
class CorrectedTest:
    """The corrected test statistics behind the ``.robust`` indices: lavaan's ``XX3, df3,
    c.hat3, XX3.scaled, XX3.null, df3.null, c.hat3.null``.

    FIML-corrected with missing data (:mod:`radsem.estimation.robust.fiml_correction`), catML
    with ordered data (:mod:`radsem.estimation.measures.baseline_ordinal`).
    """

    xx3: float
    df3: float
    c_hat3: float
    xx3_scaled: float
    xx3_null: float
    df3_null: float
    c_hat3_null: float


def _nan(*values) -> bool:
    return any(v is None or not np.isfinite(v) for v in values)


def _use_chat(df: float, c_hat: float, c_hat_null: float) -> bool:
    return df > 0 and c_hat != 1 and c_hat_null != 1


def cfi(
    x2: float,
    df: float,
    x2_null: float,
    df_null: float,
    c_hat: float = 1.0,
    c_hat_null: float = 1.0,
) -> float:
    """Comparative fit index; with ``c_hat`` the robust CFI of Brosseau-Liard & Savalei (2014).

    ``1 - max(X2 - c df, 0) / max(X2 - c df, X2_0 - c_0 df_0, 0)``.
    """
    if _nan(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return np.nan
    if not _use_chat(df, c_hat, c_hat_null):
        c_hat = c_hat_null = 1.0
    t1 = max(x2 - c_hat * df, 0.0)
    t2 = max(x2 - c_hat * df, x2_null - c_hat_null * df_null, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def tli(
    x2: float,
    df: float,
    x2_null: float,
    df_null: float,
    c_hat: float = 1.0,
    c_hat_null: float = 1.0,
) -> float:
    """Tucker-Lewis (non-normed) index, robust with ``c_hat`` (as lavaan's ``tli``/``nnfi``)."""
    if _nan(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return np.nan
    if not _use_chat(df, c_hat, c_hat_null):
        c_hat = c_hat_null = 1.0
    t1 = (x2 - c_hat * df) * df_null
    t2 = (x2_null - c_hat_null * df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    return 1.0


def _zero(value: float) -> bool:
    """R's ``isTRUE(all.equal(value, 0))`` (absolute tolerance 1.5e-8 near zero)."""
    return abs(value) < 1.5e-8


def _rni(x2, df, x2_null, df_null, c_hat=1.0, c_hat_null=1.0) -> float:
    if _nan(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return np.nan
    if not _use_chat(df, c_hat, c_hat_null):
        c_hat = c_hat_null = 1.0
    t1 = x2 - c_hat * df
    t2 = x2_null - c_hat_null * df_null
    if not (np.isfinite(t1) and np.isfinite(t2)) or _zero(t2):
        return np.nan
    return 1.0 - t1 / t2


def rmsea(x2: float, df: float, n: float, groups: int = 1, c_hat: float = 1.0) -> float:
    """``sqrt(max(X2/(N df) - c/N, 0)) sqrt(G)`` (0 when ``df = 0``)."""
    if _nan(x2, df, n, c_hat):
        return np.nan
    if df <= 0:
        return 0.0
    return math.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * math.sqrt(groups)


def rmsea_ci(
    x2: float, df: float, n: float, groups: int = 1, c_hat: float = 1.0, level: float = 0.90
) -> tuple[float, float]:
    """RMSEA confidence interval from the non-central chi-square (as lavaan, exact roots).

    The non-centrality ``lambda`` solving ``P(chi2_df(lambda) <= X2) = p`` comes from
    ``scipy.special.chndtrinc`` (cdflib's inversion, exact to rounding); lavaan's
    ``uniroot`` brackets ``[0, X2]`` (lower) and ``[0, max(N, 4 X2)]`` (upper), so the same
    guards decide when a bound is 0.
    """
    if _nan(x2, df, n, c_hat):
        return np.nan, np.nan
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2
    scale = math.sqrt(groups)
    if df < 1:
        return 0.0, 0.0
    central = float(special.chdtr(df, x2))
    if central - upper_p < 0:
        lo = 0.0
    else:
        lo = math.sqrt(c_hat * _ncp(x2, df, upper_p) / (n * df)) * scale
    n_rmsea = max(n, 4 * x2)
    if float(special.chndtr(x2, df, n_rmsea)) - lower_p > 0 or central - lower_p < 0:
        hi = 0.0
    else:
        hi = math.sqrt(c_hat * _ncp(x2, df, lower_p) / (n * df)) * scale
    return lo, hi


def _ncp(x2: float, df: float, p: float) -> float:
    """Non-centrality with ``P(chi2_df(ncp) <= x2) = p`` (0 when the central cdf is ``p``)."""
    if float(special.chdtr(df, x2)) == p:
        return 0.0
    return float(special.chndtrinc(x2, df, p))


def rmsea_pvalue(
    x2: float,
    df: float,
    n: float,
    groups: int = 1,
    c_hat: float = 1.0,
    h0: float = 0.05,
    close: bool = True,
) -> float:
    """Test of close fit (``P(X2 >= x2 | rmsea = h0)``) or, ``close=False``, of not-close fit."""
    if _nan(x2, df, n, c_hat) or df <= 0:
        return np.nan
    ncp = n * df / c_hat * h0**2 / groups
    cdf = float(special.chndtr(x2, df, ncp)) if ncp > 0 else float(special.chdtr(df, x2))
    return 1.0 - cdf if close else cdf


def incremental_indices(
    x2, df, x2_null, df_null, suffix="", c_hat=1.0, c_hat_null=1.0, others=True
) -> dict[str, float]:
    """``cfi, tli`` (and ``nnfi, rfi, nfi, pnfi, ifi, rni``) with a name suffix."""
    out = {
        f"cfi{suffix}": cfi(x2, df, x2_null, df_null, c_hat, c_hat_null),
        f"tli{suffix}": tli(x2, df, x2_null, df_null, c_hat, c_hat_null),
    }
    if not others:
        return out
    out[f"nnfi{suffix}"] = out[f"tli{suffix}"]
    if suffix != ".robust":
        out[f"rfi{suffix}"] = _rfi(x2, df, x2_null, df_null)
        out[f"nfi{suffix}"] = _nfi(x2, df, x2_null, df_null)
        out[f"pnfi{suffix}"] = _pnfi(x2, df, x2_null, df_null)
        out[f"ifi{suffix}"] = _ifi(x2, df, x2_null)
    out[f"rni{suffix}"] = _rni(x2, df, x2_null, df_null, c_hat, c_hat_null)
    return out


# rfi, nfi, pnfi, ifi: the case distinctions of lavaan 0.6-14 (lav_fit_rfi etc.), including
# the NA (NaN) cases of a zero baseline (e.g. a model of one observed variable)


def _rfi(x2, df, x2_null, df_null) -> float:
    if _nan(x2, df, x2_null, df_null) or df > df_null:
        return np.nan
    if df > 0 and df_null > 0:
        t1 = x2_null / df_null - x2 / df
        t2 = x2_null / df_null
        if not (np.isfinite(t1) and np.isfinite(t2)):
            return np.nan
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def _nfi(x2, df, x2_null, df_null) -> float:
    if _nan(x2, df, x2_null, df_null) or df > df_null or _zero(x2_null):
        return np.nan
    return (x2_null - x2) / x2_null if df > 0 else 1.0


def _pnfi(x2, df, x2_null, df_null) -> float:
    if _nan(x2, df, x2_null, df_null) or not (df_null > 0 and x2_null > 0):
        return np.nan
    return df / df_null * (x2_null - x2) / x2_null


def _ifi(x2, df, x2_null) -> float:
    if _nan(x2, df, x2_null):
        return np.nan
    t1 = x2_null - x2
    t2 = x2_null - df
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    if t2 < 0:
        return 1.0
    return np.nan if _zero(t2) else t1 / t2


def hoelter_cn(x2: float, df: float, n: float, alpha: float, exact_start: bool = False) -> float:
    """Hoelter's critical N (lavaan's ``cn_05`` / ``cn_01``): ``chi2_{1-alpha}(df) N / X2 + 1``.

    With ``df = 0`` the quantile is 0, and lavaan reports NA when its statistic is below
    machine epsilon, else ``0 / (X2 / N) + 1 = 1``. Its optimiser leaves a saturated model's
    statistic above epsilon unless the starting values already are the solution (only
    variances and means of observed variables free, started at their sample values:
    ``exact_start``); radsem's saturated fits end at zero either way, so ``exact_start``
    stands for lavaan's test.
    """
    if df == 0:
        return np.nan if exact_start else 1.0
    if not x2 > 0:
        return np.inf
    return float(stats.chi2.ppf(1.0 - alpha, df)) * n / x2 + 1.0


def exact_start(par) -> bool:
    """True when every free parameter of a parameter table is a variance or a mean of an
    observed variable (lavaan starts those at the sample values: see :func:`hoelter_cn`)."""
    free = par[par["free"].to_numpy(int) > 0]
    lat = set(par.loc[par["op"] == "=~", "lhs"])
    var = (free["op"] == "~~") & (free["lhs"] == free["rhs"])
    ok = (var | (free["op"] == "~1")) & ~free["lhs"].isin(lat)
    return bool(ok.all())


def rmsea_indices(
    x2, df, n, groups=1, c_hat=1.0, suffix="", x2_ci=None, level=0.90
) -> dict[str, float]:
    """``rmsea``, its CI and close/not-close p-values with a name suffix.

    ``x2_ci`` is the statistic used for the interval and p-values when it differs from the
    one in the point estimate (lavaan uses the *scaled* statistic there for ``.robust``).
    """
    x2c = x2 if x2_ci is None else x2_ci
    lo, hi = rmsea_ci(x2c, df, n, groups, c_hat, level)
    return {
        f"rmsea{suffix}": rmsea(x2, df, n, groups, c_hat),
        f"rmsea.ci.lower{suffix}": lo,
        f"rmsea.ci.upper{suffix}": hi,
        f"rmsea.pvalue{suffix}": rmsea_pvalue(x2c, df, n, groups, c_hat, 0.05, True),
        f"rmsea.notclose.pvalue{suffix}": rmsea_pvalue(x2c, df, n, groups, c_hat, 0.08, False),
    }


def robust_fit_measures(
    chisq: float,
    df: float,
    scaled,
    baseline_chisq: float,
    baseline_df: float,
    baseline_scaled,
    n: float,
    groups: int = 1,
    fiml=None,
) -> dict[str, float]:
    """lavaan's ``.scaled`` and ``.robust`` CFI/TLI/NNFI/RNI and RMSEA family.

    Parameters
    ----------
    chisq, df : float
        Standard test statistic of the model.
    scaled : ScaledTest or None
        The model's scaled test (:mod:`radsem.estimation.robust.sandwich`); None for plain ML with
        missing data, where lavaan still reports the ``.robust`` indices (from ``fiml``).
    baseline_chisq, baseline_df : float
        Standard statistic of the baseline (independence) model.
    baseline_scaled : ScaledTest
    n : float
        Total sample size; ``groups`` the number of groups.
    fiml : CorrectedTest, optional
        With missing data: the FIML-corrected quantities of Savalei (2010) (lavaan's
        ``lav_fit_fiml_corrected``, version V3), which replace the statistic and the
        scaling factor in the ``.robust`` indices.

    Notes
    -----
    ``.scaled`` indices plug the scaled statistics (model and baseline) into the usual
    formulas; ``rmsea.scaled`` uses ``X2`` with ``df = tr(U Gamma)``. ``.robust`` indices
    (Brosseau-Liard, Savalei & Li 2012; Brosseau-Liard & Savalei 2014) use
    ``X2 - c df`` with the scaling factor ``c``; the robust RMSEA interval and p-values use
    the scaled statistic and ``c``. Checked against ``fitMeasures()`` of lavaan 0.6-14.
    """
    out: dict[str, float] = {}
    if scaled is None:
        if fiml is None:
            raise EstimationError("robust fit measures need a scaled test or FIML-corrected values")
        return _robust_only(df, baseline_df, n, groups, fiml)
    x2s, c = scaled.stat, scaled.scaling_factor
    out.update(incremental_indices(x2s, df, baseline_scaled.stat, baseline_df, ".scaled"))
    if fiml is None:
        xx3, df3, c3, xx3s = chisq, df, c, x2s
        xx3n, c3n = baseline_chisq, baseline_scaled.scaling_factor
    else:
        xx3, df3, c3, xx3s = fiml.xx3, fiml.df3, fiml.c_hat3, fiml.xx3_scaled
        xx3n, c3n = fiml.xx3_null, fiml.c_hat3_null
    out.update(incremental_indices(xx3, df, xx3n, baseline_df, ".robust", c3, c3n))
    tr = scaled.trace_ugamma if np.isfinite(scaled.trace_ugamma) and scaled.trace_ugamma else np.nan
    out.update(rmsea_indices(chisq, tr, n, groups, suffix=".scaled"))
    if df3 == 0:  # saturated: lavaan's robust RMSEA (and its interval) is 0, c undefined
        c3, xx3s = 1.0, xx3
    rob = rmsea_indices(xx3, df3, n, groups, c3, ".robust", x2_ci=xx3s)
    out.update(rob)
    return out


def _robust_only(df, baseline_df, n, groups, fiml) -> dict[str, float]:
    out = incremental_indices(
        fiml.xx3, df, fiml.xx3_null, baseline_df, ".robust", fiml.c_hat3, fiml.c_hat3_null
    )
    out.update(
        rmsea_indices(fiml.xx3, fiml.df3, n, groups, fiml.c_hat3, ".robust", x2_ci=fiml.xx3_scaled)
    )
    return out
