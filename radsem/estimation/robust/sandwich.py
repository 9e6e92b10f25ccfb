"""Robust inference: Gamma matrices, sandwich covariances and scaled test statistics.

Moment-level building blocks (per group lists of h1 matrices, the model Jacobian ``Delta``
and the inverted information ``E_inv``); the fit object wires them in. Conventions as in
lavaan: h1 information matrices are per case, ``E_inv`` is the inverse of the total
(group-weighted, per case) model information, ``nobs`` are group sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from radsem.errors import DataError, EstimationError
from radsem.estimation.core.matrices import vech_indices

__all__ = [
    "gamma_adf",
    "gamma_nt",
    "sandwich",
    "robust_vcov",
    "ScaledTest",
    "yuan_bentler_mplus",
    "satorra_bentler",
    "scaled_test",
]


def gamma_adf(data: np.ndarray, meanstructure: bool = True) -> np.ndarray:
    """Asymptotic (distribution-free) covariance of the sample moments, times N.

    Parameters
    ----------
    data : array_like, shape (N, p)
        Complete data (no missing values).
    meanstructure : bool, default True
        Include the means (first ``p`` rows/columns) before ``vech`` of the covariances.

    Notes
    -----
    ``Gamma = (1/N) sum_i z_i z_i'`` with ``z_i = (y_i - ybar, vech((y_i - ybar)(y_i -
    ybar)') - vech(S))`` and ``S`` the ML covariance (lavaan's ``NACOV`` for
    ``estimator = "MLM"``, the biased variant). Checked against ``lavInspect(fit, "gamma")``.
    """
    y = np.asarray(data, dtype=float)
    if y.ndim != 2 or np.isnan(y).any():
        raise DataError("gamma_adf needs a complete 2-d data matrix (no missing values)")
    n, p = y.shape
    if n < 2:
        raise DataError("gamma_adf needs at least two cases")
    yc = y - y.mean(axis=0)
    r, c = vech_indices(p)
    z = yc[:, r] * yc[:, c]
    z -= z.mean(axis=0)
    if meanstructure:
        z = np.hstack([yc, z])
    return z.T @ z / n


def gamma_nt(cov: np.ndarray, meanstructure: bool = True) -> np.ndarray:
    """Normal-theory Gamma: ``blockdiag(Sigma, 2 D+ (Sigma kron Sigma) D+')``.

    Element ``((i,j),(k,l))`` of the covariance block is ``s_ik s_jl + s_il s_jk``.
    """
    s = np.asarray(cov, dtype=float)
    r, c = vech_indices(s.shape[0])
    g = s[np.ix_(r, r)] * s[np.ix_(c, c)] + s[np.ix_(r, c)] * s[np.ix_(c, r)]
    if not meanstructure:
        return g
    p = s.shape[0]
    out = np.zeros((p + g.shape[0],) * 2)
    out[:p, :p] = s
    out[p:, p:] = g
    return out


def sandwich(bread_inv: np.ndarray, meat: np.ndarray) -> np.ndarray:
    """Huber-White sandwich ``A^-1 B A^-1`` (both per case; divide by N for the vcov)."""
    a = np.asarray(bread_inv, dtype=float)
    b = np.asarray(meat, dtype=float)
    if a.shape != b.shape or a.shape[0] != a.shape[1]:
        raise EstimationError(f"bread {a.shape} and meat {b.shape} must be equal square matrices")
    out = a @ b @ a
    return 0.5 * (out + out.T)


def robust_vcov(
    E_inv: np.ndarray,  # noqa: N803 - lavaan's name
    delta: Sequence[np.ndarray],
    B1: Sequence[np.ndarray],  # noqa: N803
    nobs: Sequence[int],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """lavaan's ``robust.huber.white`` covariance of the parameters.

    Parameters
    ----------
    E_inv : ndarray (q, q)
        Inverse of the (per case, group-weighted) model information used for the
        standard SEs (observed for MLR).
    delta : list of ndarray
        Per group Jacobian of ``(mu, vech Sigma)`` w.r.t. the free parameters.
    B1 : list of ndarray
        Per group first-order h1 information (casewise scores at the *model-implied*
        moments, cross-product over ``N_g``).
    nobs : list of int

    Returns
    -------
    vcov : ndarray
        ``E_inv B0 E_inv / N`` with ``B0 = sum_g (N_g/N) Delta_g' B1_g Delta_g``.
    B0_groups : list of ndarray
        ``Delta_g' B1_g Delta_g`` (needed by :func:`yuan_bentler_mplus`).
    """
    n = np.asarray(nobs, dtype=float)
    total = n.sum()
    b0g = [d.T @ b @ d for d, b in zip(delta, B1, strict=True)]
    b0 = sum(fg * b for fg, b in zip(n / total, b0g, strict=True))
    return sandwich(E_inv, b0) / total, b0g


@dataclass(frozen=True)
class ScaledTest:
    """A scaled test statistic, with lavaan's names.

    Attributes
    ----------
    stat, df, pvalue : float
        Scaled statistic ``chisq / scaling_factor``, its df and p-value.
    scaling_factor : float
    trace_ugamma : float
        ``tr(U Gamma)``; ``scaling_factor = trace_ugamma / df``.
    scaling_factor_h1, scaling_factor_h0 : float
        lavaan's ``scaling.factor.h1`` and ``.h0`` (for the Yuan-Bentler test).
    test : str
        ``"yuan.bentler.mplus"`` or ``"satorra.bentler"``.
    """

    stat: float
    df: float
    pvalue: float
    scaling_factor: float
    trace_ugamma: float
    scaling_factor_h1: float
    scaling_factor_h0: float
    test: str


def scaled_test(
    chisq: float,
    df: float,
    trace: float,
    h1: float = np.nan,
    h0: float = np.nan,
    test: str = "yuan.bentler.mplus",
) -> ScaledTest:
    """Scale a chi-square by ``c = trace / df`` (NaN when ``df <= 0`` or ``c < 0``)."""
    if df <= 0:
        return ScaledTest(float(chisq), df, np.nan, np.nan, float(trace), h1, h0, test)
    c = trace / df
    if c < 0:
        c = np.nan
    stat = chisq / c
    return ScaledTest(
        float(stat),
        df,
        float(stats.chi2.sf(stat, df)),
        float(c),
        float(trace),
        float(h1),
        float(h0),
        test,
    )


def _inv_skip_zero(a1: np.ndarray) -> tuple[np.ndarray, int]:
    """Inverse over the rows/columns with a non-zero diagonal (fixed-x entries are zero)."""
    keep = np.diag(a1) != 0
    out = np.zeros_like(a1)
    try:
        out[np.ix_(keep, keep)] = np.linalg.inv(a1[np.ix_(keep, keep)])
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the h1 information matrix is singular") from exc
    return out, int(keep.sum())


def yuan_bentler_mplus(
    chisq: float,
    df: float,
    A1: Sequence[np.ndarray],  # noqa: N803
    B1: Sequence[np.ndarray],  # noqa: N803
    B0: Sequence[np.ndarray],  # noqa: N803
    E_inv: np.ndarray,  # noqa: N803
    nobs: Sequence[int],
    npar: int,
) -> ScaledTest:
    """Yuan-Bentler scaled chi-square, Mplus variant (lavaan's ``yuan.bentler.mplus``, MLR).

    Parameters
    ----------
    chisq, df : float
        The standard (ML) test statistic and its degrees of freedom.
    A1, B1 : list of ndarray
        Per group *unstructured* h1 information (observed for MLR; for complete data the
        expected and observed coincide at the sample moments) and first-order h1
        information, both at the saturated (sample or EM) moments.
    B0 : list of ndarray
        Per group ``Delta' B1_structured Delta`` from :func:`robust_vcov`.
    E_inv : ndarray
        Inverse of the model information (as used for the standard errors).
    nobs : list of int
    npar : int
        Number of free parameters (for ``scaling.factor.h0``).

    Notes
    -----
    ``tr(U Gamma) = sum_g [tr(A1_g^-1 B1_g) - (N_g/N) tr(B0_g E_inv)]`` and
    ``c = tr(U Gamma) / df``; ``scaling.factor.h1 = sum_g tr(A1_g^-1 B1_g) / ndat``,
    ``scaling.factor.h0 = sum_g (N_g/N) tr(B0_g E_inv) / npar``. Checked against lavaan
    0.6-14 (``chisq.scaling.factor``, ``scaling.factor.h1/h0``).
    """
    n = np.asarray(nobs, dtype=float)
    fg = n / n.sum()
    h1 = h0 = 0.0
    ndat = 0
    for g in range(len(A1)):
        a_inv, k = _inv_skip_zero(np.asarray(A1[g]))
        h1 += float(np.sum(B1[g] * a_inv.T))
        h0 += float(fg[g] * np.sum(B0[g] * E_inv.T))
        ndat += k
    return scaled_test(chisq, df, h1 - h0, h1 / ndat, h0 / npar, "yuan.bentler.mplus")


def satorra_bentler(
    chisq: float,
    df: float,
    A1: Sequence[np.ndarray],  # noqa: N803
    gamma: Sequence[np.ndarray],
    delta: Sequence[np.ndarray],
    E_inv: np.ndarray,  # noqa: N803
    nobs: Sequence[int],
) -> ScaledTest:
    """Satorra-Bentler scaled chi-square (lavaan's ``satorra.bentler``, estimator MLM).

    Notes
    -----
    With ``A1_g`` the (expected, structured) h1 information weighted by ``f_g = N_g/N``,
    ``Gamma_g`` the ADF Gamma divided by ``f_g``, ``U = A1 - A1 Delta E_inv Delta' A1``:
    ``c = sum_g tr(U_g Gamma_g) / df``.
    """
    n = np.asarray(nobs, dtype=float)
    fg = n / n.sum()
    trace = 0.0
    for g in range(len(A1)):
        a1 = A1[g] * fg[g]
        d = delta[g]
        u = a1 - a1 @ d @ E_inv @ d.T @ a1
        trace += float(np.sum(u * (gamma[g] / fg[g])))
    return scaled_test(chisq, df, trace, test="satorra.bentler")
