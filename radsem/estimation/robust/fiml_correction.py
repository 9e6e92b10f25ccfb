"""FIML-corrected statistics for robust CFI/TLI/RMSEA with missing data.

Savalei (2010) and Zhang & Savalei (2023): with missing data the robust fit indices use
the model's test statistic *as if* the EM (saturated) moments had been observed on complete
data, and a scaling factor that corrects for the missing-data information loss. lavaan
0.6-14 computes them in ``lav_fit_fiml_corrected`` (version "V3" when a scaled test is
requested, "V6" otherwise); this module reproduces both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.measures.indices import CorrectedTest
from radsem.estimation.missing.likelihood import dup_quadratic, x_moment_mask

__all__ = [
    "complete_chisq",
    "normal_information",
    "zero_safe_inverse",
    "fiml_corrected",
]


def complete_chisq(
    nobs: int,
    mean: np.ndarray,
    cov: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    meanstructure: bool = True,
) -> float:
    """Normal-theory chi-square ``N F_ML`` of moments ``(mu, Sigma)`` for complete-data
    statistics ``(mean, cov)``: ``N [log|Sigma| - log|S| + tr(S Sigma^-1) - p + d' Sigma^-1 d]``.
    """
    w = np.linalg.inv(sigma)
    d = mean - mu if meanstructure else np.zeros_like(mean)
    val = (
        np.linalg.slogdet(sigma)[1]
        - np.linalg.slogdet(cov)[1]
        + np.sum(cov * w)
        - cov.shape[0]
        + d @ w @ d
    )
    return float(nobs * val)


def normal_information(sigma: np.ndarray, meanstructure: bool = True, x_idx=None) -> np.ndarray:
    """Complete-data (expected) h1 information ``blockdiag(W, 1/2 D'(W kron W)D)``.

    The rows and columns of the moments of fixed exogenous covariates (``x_idx``: their
    means and the (co)variances among them) are zero, as lavaan's h1 information with
    ``fixed.x = TRUE``.
    """
    w = np.linalg.inv(sigma)
    s2 = 0.5 * dup_quadratic(w, w)
    p = w.shape[0]
    out = np.zeros((p + s2.shape[0],) * 2)
    out[:p, :p] = w
    out[p:, p:] = s2
    if x_idx is not None and len(x_idx):
        cols = x_moment_mask(p, x_idx)
        out[cols, :] = 0.0
        out[:, cols] = 0.0
    return out if meanstructure else out[p:, p:]


def zero_safe_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric matrix on its non-zero rows; all-zero rows stay zero.

    lavaan inverts the h1 information this way when ``fixed.x`` covariates have zeroed
    its rows (``lav_matrix_symmetric_inverse``).
    """
    zero = (np.abs(a).sum(axis=0) == 0) & (np.abs(a).sum(axis=1) == 0)
    keep = np.flatnonzero(~zero)
    out = np.zeros_like(a, dtype=float)
    out[np.ix_(keep, keep)] = np.linalg.inv(a[np.ix_(keep, keep)])
    return out


def _bdiag(blocks):
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    k = 0
    for b in blocks:
        out[k : k + b.shape[0], k : k + b.shape[0]] = b
        k += b.shape[0]
    return out


def _k_stat(u, wmi, wc, gamma, version):
    if version == "V3":
        return float(np.trace(u @ wmi @ wc @ wmi @ u @ gamma))
    return float(np.trace(wc @ wmi @ u @ wmi))


def fiml_corrected(
    xx3: float,
    df3: float,
    xx3_null: float,
    df3_null: float,
    Wm: Sequence[np.ndarray],  # noqa: N803 - Savalei's names
    Jm: Sequence[np.ndarray],  # noqa: N803
    Wc: Sequence[np.ndarray],  # noqa: N803
    delta: Sequence[np.ndarray],
    delta_null: Sequence[np.ndarray],
    nobs: Sequence[int],
    version: str = "V3",
    E_inv: np.ndarray | None = None,  # noqa: N803
    E_inv_null: np.ndarray | None = None,  # noqa: N803
    basis: np.ndarray | None = None,
) -> CorrectedTest:
    """FIML-corrected statistic and scaling factors for the model and the baseline.

    Parameters
    ----------
    xx3, df3 : float
        :func:`complete_chisq` of the model at its FIML estimates with the EM moments as
        the sample statistics, and the model df.
    xx3_null, df3_null : float
        The same for the baseline model (at its FIML estimates).
    Wm, Jm : list of ndarray
        Per group observed and first-order h1 information with missing data, at the EM
        moments (unstructured).
    Wc : list of ndarray
        Per group complete-data h1 information at the EM moments (:func:`normal_information`).
    delta, delta_null : list of ndarray
        Per group Jacobians of the model and of the baseline model.
    nobs : list of int
        Group sizes.
    version : {"V3", "V6"}
        "V3" with a scaled test (MLR), "V6" without (ML).
    E_inv, E_inv_null : ndarray, optional
        Inverse information of the model / baseline. By default, as lavaan (which switches
        to ``h1.information = "unstructured"``, ``observed.information = "h1"`` there):
        ``(sum_g f_g Delta_g' Wm_g Delta_g)^-1``.
    basis : ndarray, optional
        Null-space basis ``K`` of the model's equality constraints; the default ``E_inv``
        is then lavaan's bordered inverse ``K (K' E K)^-1 K'``.

    Notes
    -----
    With ``f_g = N_g/N`` and block-diagonal stacking over groups of ``f_g Wm_g``,
    ``f_g Wc_g``, ``Wm_g^-1 / f_g`` and ``Gamma_g = Wm_g^-1 Jm_g Wm_g^-1 / f_g``:
    ``U = Wm - Wm Delta E_inv Delta' Wm``; V3: ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)``,
    V6: ``k = tr(Wc Wm^-1 U Wm^-1)``; ``c_hat3 = k / df3``, ``XX3.scaled = XX3 / c_hat3``.
    Checked against lavaan 0.6-14's ``lav_fit_fiml_corrected``.
    """
    version = version.upper()
    if version not in ("V3", "V6"):
        raise EstimationError(f"version must be 'V3' or 'V6', got {version!r}")
    n = np.asarray(nobs, float)
    fg = n / n.sum()
    wmi = [zero_safe_inverse(w) for w in Wm]
    wm_all = _bdiag([f * w for f, w in zip(fg, Wm, strict=True)])
    wc_all = _bdiag([f * w for f, w in zip(fg, Wc, strict=True)])
    wmi_all = _bdiag([w / f for f, w in zip(fg, wmi, strict=True)])
    gamma = _bdiag([wi @ j @ wi / f for f, wi, j in zip(fg, wmi, Jm, strict=True)])

    def k_for(dlt, einv, k=None):
        d = np.vstack(list(dlt))
        if einv is None:
            k = np.eye(d.shape[1]) if k is None else k
            red = k.T @ d.T @ wm_all @ d @ k
            einv = k @ np.linalg.pinv(red, rcond=1e-12, hermitian=True) @ k.T
        u = wm_all - wm_all @ d @ einv @ d.T @ wm_all
        return _k_stat(u, wmi_all, wc_all, gamma, version)

    # a saturated model (df3 = 0) gives lavaan's k / 0 = +-Inf (or NaN) and XX3.scaled = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        c3 = float(np.float64(k_for(delta, E_inv, basis)) / df3)
        c3n = float(np.float64(k_for(delta_null, E_inv_null)) / df3_null)
        xx3_scaled = float(np.float64(xx3) / c3)
    return CorrectedTest(
        float(xx3), float(df3), c3, xx3_scaled, float(xx3_null), float(df3_null), c3n
    )
