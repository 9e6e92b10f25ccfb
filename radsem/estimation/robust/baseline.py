"""The baseline (independence) model at the moment level, with its robust test.

lavaan's default baseline frees the means (with a mean structure) and the variances of the
observed variables and fixes every covariance to zero. Its likelihood factorises over the
variables, also with missing values, so its ML estimates are the available-case means and
ML variances and no optimiser is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from radsem.errors import EstimationError
from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.missing.em import em_saturated
from radsem.estimation.missing.likelihood import (
    MissingPatterns,
    fiml_information_expected,
    fiml_information_firstorder,
    fiml_information_observed,
    fiml_loglik,
    missing_patterns,
)
from radsem.estimation.robust.sandwich import ScaledTest, yuan_bentler_mplus

__all__ = ["BaselineFit", "baseline_fit", "baseline_test", "moment_block"]


def moment_block(p: int, meanstructure: bool) -> np.ndarray:
    """Indices of the ``(mu, vech Sigma)`` entries used with / without a mean structure."""
    pstar = p * (p + 1) // 2
    return np.arange(p + pstar) if meanstructure else np.arange(p, p + pstar)


@dataclass(frozen=True)
class BaselineFit:
    """The independence model of one group.

    Attributes
    ----------
    mean, cov : ndarray
        Its estimated moments (``cov`` diagonal).
    logl : float
    delta : ndarray
        Jacobian of the used moments w.r.t. its parameters (means then variances).
    information : ndarray
        Its per-case observed information ``Delta' A1(structured) Delta``.
    B1 : ndarray
        First-order h1 information at its moments (for its sandwich / scaled test).
    """

    mean: np.ndarray
    cov: np.ndarray
    logl: float
    delta: np.ndarray
    information: np.ndarray
    B1: np.ndarray  # noqa: N815 - lavaan's name

    @property
    def npar(self) -> int:
        """Number of free parameters of the baseline model in this group."""
        return int(self.delta.shape[1])


def baseline_fit(
    mp: MissingPatterns,
    meanstructure: bool = True,
    x_idx=(),
    x_free=(),
    information: str | bool = "observed",
) -> BaselineFit:
    """Fit the independence model to one group's data (missing values allowed).

    Parameters
    ----------
    mp : MissingPatterns
    meanstructure : bool
    x_idx : sequence of int
        Fixed exogenous covariates (``fixed.x = TRUE``; fully observed).
    x_free : sequence of int
        Exogenous covariates with ``fixed.x = FALSE``: lavaan's baseline then frees the
        covariances among them (a saturated block), besides their means and variances.
    information : {"observed", "expected"} or bool, default "observed"
        Type of h1 information in its ``information`` (lavaan fits the baseline with the
        user model's options; with complete data both types coincide). ``False``: no
        ``information`` and ``B1`` (both None, for callers that need only the estimates and
        ``delta``); ``True`` is ``"observed"``.

    Notes
    -----
    Estimates: per-variable means and ML variances of the observed values (the exact FIML
    solution, since the likelihood factorises). A free covariate block (``x_free``) is the
    saturated normal model of those columns: sample moments, or EM estimates when they
    have missing values. The model is linear in its parameters, so its observed
    information is ``Delta' A1 Delta`` with ``A1`` the observed h1 information at the
    baseline moments. With fixed exogenous covariates (``x_idx``; they must be fully
    observed) their means and (co)variances stay at the sample values and their rows of
    the h1 matrices are zero, as in lavaan. Checked against lavaan's ``baseline.chisq``,
    ``baseline.chisq.scaling.factor`` and the FIML-corrected ``c.hat3.null``.
    """
    x = mp.data
    mean = np.nanmean(x, axis=0)
    var = np.nanmean((x - mean) ** 2, axis=0)
    if np.any(var <= 0):
        raise EstimationError("the baseline model needs every variable to have variance")
    p = mean.size
    cov = np.diag(var)
    xi = np.asarray(list(x_idx), dtype=int)
    if xi.size:
        if np.isnan(x[:, xi]).any():
            raise EstimationError(
                "fixed exogenous covariates must be fully observed (lavaan "
                "removes the cases with a missing covariate)"
            )
        xs = x[:, xi] - x[:, xi].mean(axis=0)
        cov[np.ix_(xi, xi)] = xs.T @ xs / mp.nobs
    xf = np.setdiff1d(np.asarray(list(x_free), dtype=int), xi)
    if xf.size > 1:
        xm, xc = _saturated_block(x[:, xf])
        mean[xf] = xm
        cov[np.ix_(xf, xf)] = xc
    free_v = np.setdiff1d(np.arange(p), xi)
    r, c = vech_indices(p)
    diag_pos = np.flatnonzero(r == c)
    in_xf = np.isin(np.arange(p), xf) if xf.size > 1 else np.zeros(p, bool)
    off_pos = np.flatnonzero((r != c) & in_xf[r] & in_xf[c])
    rows = moment_block(p, meanstructure)
    nmean = free_v.size if meanstructure else 0
    nvar = free_v.size
    full = np.zeros((p + r.size, nmean + nvar + off_pos.size))
    if meanstructure:
        full[free_v, np.arange(nmean)] = 1.0
    full[p + diag_pos[free_v], nmean + np.arange(nvar)] = 1.0
    full[p + off_pos, nmean + nvar + np.arange(off_pos.size)] = 1.0
    delta = full[rows]
    if not information:
        return BaselineFit(mean, cov, np.nan, delta, None, None)
    xarg = xi if xi.size else None
    h1_info = fiml_information_expected if information == "expected" else fiml_information_observed
    a1 = h1_info(mp, mean, cov, xarg)[np.ix_(rows, rows)]
    b1 = fiml_information_firstorder(mp, mean, cov, xarg)[np.ix_(rows, rows)]
    return BaselineFit(mean, cov, fiml_loglik(mp, mean, cov), delta, delta.T @ a1 @ delta, b1)


def _saturated_block(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML mean and covariance of some columns: sample moments, or EM (run to a tight
    tolerance, the baseline's exact optimum) when values are missing."""
    if not np.isnan(block).any():
        m = block.mean(axis=0)
        d = block - m
        return m, d.T @ d / block.shape[0]
    keep = ~np.all(np.isnan(block), axis=1)
    sub = missing_patterns(block[keep])
    em = em_saturated(sub, max_iter=10_000, tol=1e-10, warn=False)
    return em.mean, em.cov


def baseline_test(
    baselines: list[BaselineFit],
    h1_logl: float,
    A1_h1: list[np.ndarray],  # noqa: N803
    B1_h1: list[np.ndarray],  # noqa: N803
    nobs: list[int],
) -> tuple[float, float, float, ScaledTest, np.ndarray]:
    """Standard and Yuan-Bentler (Mplus) scaled test of the baseline model over groups.

    Returns ``(chisq, df, pvalue, scaled, E_inv)`` where ``E_inv`` is the inverse of the
    baseline's total information (needed by the FIML-corrected robust indices).
    """
    n = np.asarray(nobs, float)
    fg = n / n.sum()
    chisq = 2.0 * (h1_logl - sum(b.logl for b in baselines))
    ndat = sum(int(np.count_nonzero(np.diag(a))) for a in A1_h1)  # fixed-x rows are zero
    npar = sum(b.npar for b in baselines)
    df = float(ndat - npar)
    info = _block_diag([f * b.information for f, b in zip(fg, baselines, strict=True)])
    try:
        e_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the baseline model's information matrix is singular") from exc
    # embed per-group B0 into the stacked parameter space
    b0 = []
    start = 0
    for b in baselines:
        block = np.zeros((npar, npar))
        sl = slice(start, start + b.npar)
        block[sl, sl] = b.delta.T @ b.B1 @ b.delta
        b0.append(block)
        start += b.npar
    scaled = yuan_bentler_mplus(chisq, df, A1_h1, B1_h1, b0, e_inv, nobs, npar)
    return chisq, df, float(stats.chi2.sf(chisq, df)), scaled, e_inv


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    start = 0
    for b in blocks:
        k = b.shape[0]
        out[start : start + k, start : start + k] = b
        start += k
    return out
