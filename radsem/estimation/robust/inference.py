"""Robust inference for a fitted :class:`~radsem.estimation.core.problem.SemProblem`.

One call gathers what lavaan reports for ``estimator = "MLR"`` (and the ``.robust`` fit
indices of ``missing = "ml"``): the Huber-White covariance of the estimates, the Yuan-Bentler
(Mplus variant) scaled test of the model and of the baseline model, and the ``.scaled`` /
``.robust`` fit measures. It works for complete data (ML) and for missing data (FIML, when
the problem's estimator is :class:`~radsem.estimation.missing.fiml.FIML`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.indices import robust_fit_measures
from radsem.estimation.missing.likelihood import (
    fiml_information_expected,
    fiml_information_firstorder,
    fiml_information_observed,
    fiml_loglik,
    missing_patterns,
)
from radsem.estimation.robust.baseline import baseline_fit, baseline_test, moment_block
from radsem.estimation.robust.fiml_correction import (
    complete_chisq,
    fiml_corrected,
    normal_information,
)
from radsem.estimation.robust.sandwich import ScaledTest, robust_vcov, yuan_bentler_mplus

__all__ = ["RobustResult", "robust_inference", "constrained_inverse"]


@dataclass(frozen=True)
class RobustResult:
    """Robust quantities of a fit.

    Attributes
    ----------
    vcov : ndarray or None
        Sandwich covariance of the ``nfree`` parameters (``se = "robust.huber.white"``);
        None when only the ``.robust`` indices of ``missing = "ml"`` were requested.
    test : ScaledTest or None
        The model's Yuan-Bentler (Mplus) scaled test.
    fit_measures : dict
        lavaan's names: ``chisq.scaled, df.scaled, pvalue.scaled, chisq.scaling.factor,
        baseline.chisq.scaled, ..., cfi.scaled, cfi.robust, rmsea.robust, ...``.
    """

    vcov: np.ndarray | None
    test: ScaledTest | None
    fit_measures: dict = field(default_factory=dict)


def constrained_inverse(info: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``K (K' I K)^-1 K'``: lavaan's bordered inverse of the information under equality
    constraints (``K`` spans the null space of the constraint Jacobian)."""
    red = basis.T @ info @ basis
    return basis @ np.linalg.pinv(red, rcond=1e-12, hermitian=True) @ basis.T


def _group_pieces(problem, theta):
    est = problem.estimator
    fiml = hasattr(est, "h1") and hasattr(est, "patterns")
    out = []
    for st, (mu, sigma) in zip(problem.stats, problem.implied_moments(theta), strict=True):
        if fiml:
            mp = est.patterns(st)
            h1 = est.h1(st)
            h1_mean, h1_cov, h1_logl = h1.mean, h1.cov, h1.logl
        else:
            mp = missing_patterns(st.data)
            h1_mean, h1_cov = st.mean, st.cov
            h1_logl = fiml_loglik(mp, h1_mean, h1_cov)
        out.append((mp, mu, sigma, h1_mean, h1_cov, h1_logl))
    return fiml, out


@small_blas
def robust_inference(
    problem,
    theta: np.ndarray,
    chisq: float,
    df: float,
    information: str = "observed",
    scaled: bool = True,
) -> RobustResult:
    """MLR inference for a fitted problem (lavaan 0.6-14 defaults).

    Parameters
    ----------
    problem : SemProblem
        With the ``ML`` or :class:`FIML` estimator.
    theta : ndarray
        The estimates (all ``nfree`` parameters).
    chisq, df : float
        The standard test statistic and its degrees of freedom.
    information : {"observed", "expected"}
        Bread of the sandwich and ``E_inv`` of the scaled test (lavaan's MLR default is
        ``"observed"``: the Hessian of the fit function).
    scaled : bool, default True
        False for plain ML with missing data: only the FIML-corrected ``.robust`` indices
        (lavaan's version V6) are returned, no sandwich and no scaled test.

    Returns
    -------
    RobustResult

    Notes
    -----
    Meat: first-order information from the casewise scores at the model-implied moments
    (``h1.information.meat = "structured"``); scaled test: :func:`yuan_bentler_mplus` with
    the unstructured h1 information at the sample (complete data) or EM (missing data)
    moments. The baseline is lavaan's independence model (:mod:`robust_baseline`). Fixed
    exogenous covariates (``fixed.x``), with complete data and with ``missing = "ml"``:
    the rows of their moments (means, (co)variances among them) are zero in every h1
    matrix and in the casewise scores, the baseline keeps their block at the sample (EM)
    values, and the FIML-corrected statistics invert the h1 information on its non-zero
    rows (lavaan's ``lav_matrix_symmetric_inverse``). Checked against lavaan 0.6-14
    (``tests/estimation/test_fixedx_missing.py``).
    """
    spec = problem.spec
    exo = tuple(spec.exogenous) if getattr(spec, "fixed_x", False) else ()
    x_idx = [list(spec.observed).index(v) for v in exo] or None
    # lavaan's covariates (ov.x) whatever fixed.x: with fixed.x = FALSE the baseline frees
    # their covariance block, and the FIML-corrected Wc zeroes their rows (lavaan refits
    # the model with lavaan()'s default fixed.x = TRUE there)
    ov_x = [list(spec.observed).index(v) for v in getattr(spec.names, "ov_x", ())] or None
    fiml, groups = _group_pieces(problem, theta)
    if not fiml and not scaled:
        raise EstimationError("scaled=False is only meaningful for missing='ml' (FIML)")
    meanstructure = problem.meanstructure
    nobs = [mp.nobs for mp, *_ in groups]
    deltas = problem.delta(theta)
    # lavaan's h1 information of the test: the unstructured one, of the same type
    # (observed or expected) as the information of the standard errors
    h1_info = fiml_information_expected if information == "expected" else fiml_information_observed
    a1, a1_obs, b1u, b1s, bases = [], [], [], [], []
    for mp, mu, sigma, h1_mean, h1_cov, _ in groups:
        rows = moment_block(mp.nvar, meanstructure)
        sub = np.ix_(rows, rows)
        a1_obs.append(fiml_information_observed(mp, h1_mean, h1_cov, x_idx)[sub])
        a1.append(h1_info(mp, h1_mean, h1_cov, x_idx)[sub] if fiml else a1_obs[-1])
        b1u.append(fiml_information_firstorder(mp, h1_mean, h1_cov, x_idx)[sub])
        b1s.append(fiml_information_firstorder(mp, mu, sigma, x_idx)[sub])
        bases.append(
            baseline_fit(
                mp, meanstructure, x_idx or (), () if exo else ov_x or (), information=information
            )
        )
    h1_logl = sum(g[5] for g in groups)
    bchisq, bdf, _, bscaled, _ = baseline_test(bases, h1_logl, a1, b1u, nobs)
    vcov = test = None
    out: dict[str, float] = {}
    cons = problem.constraints
    basis = cons.active_basis(theta)[0] if cons is not None else np.eye(theta.size)
    if scaled:
        info = problem.hessian(theta) if information == "observed" else problem.information(theta)
        e_inv = constrained_inverse(info, basis)
        vcov, b0 = robust_vcov(e_inv, deltas, b1s, nobs)
        test = yuan_bentler_mplus(chisq, df, a1, b1u, b0, e_inv, nobs, problem.nfree)
        out.update(
            {
                "chisq.scaled": test.stat,
                "df.scaled": df,
                "pvalue.scaled": test.pvalue,
                "chisq.scaling.factor": test.scaling_factor,
                "baseline.chisq.scaled": bscaled.stat,
                "baseline.df.scaled": bdf,
                "baseline.pvalue.scaled": bscaled.pvalue,
                "baseline.chisq.scaling.factor": bscaled.scaling_factor,
                "scaling.factor.h1": test.scaling_factor_h1,
                "scaling.factor.h0": test.scaling_factor_h0,
            }
        )
    corrected = None
    if fiml:
        n = sum(nobs)
        xx3 = sum(complete_chisq(mp.nobs, hm, hc, mu, sg) for mp, mu, sg, hm, hc, _ in groups)
        xx3n = sum(
            complete_chisq(mp.nobs, hm, hc, b.mean, b.cov)
            for (mp, _, _, hm, hc, _), b in zip(groups, bases, strict=True)
        )
        wc = [normal_information(g[4], meanstructure, ov_x) for g in groups]
        base_deltas = _stack_baseline_deltas(bases)
        e_inv = e_inv_null = None  # observed: lavaan's (Delta' Wm Delta)^-1 (the default)
        if information == "first.order":  # lavaan's inverted first-order information (h1)
            e_inv, e_inv_null = _first_order_inverses(deltas, bases, b1u, nobs, basis)
        elif information == "expected":  # lavaan: the expected, unstructured information
            e_inv = _unstructured_inverse(deltas, a1, nobs, basis)
            e_inv_null = _unstructured_inverse(base_deltas, a1, nobs, None)
        corrected = fiml_corrected(
            xx3,
            df,
            xx3n,
            bdf,
            a1_obs,
            b1u,
            wc,
            deltas,
            base_deltas,
            nobs,
            version="V3" if scaled else "V6",
            E_inv=e_inv,
            E_inv_null=e_inv_null,
            basis=basis,
        )
    else:
        n = sum(nobs)
    out.update(
        robust_fit_measures(
            chisq, df, test, bchisq, bdf, bscaled if scaled else None, n, len(groups), corrected
        )
    )
    return RobustResult(vcov, test, out)


def _unstructured_inverse(deltas, h1, nobs, basis) -> np.ndarray:
    """``K (K' [sum_g f_g Delta_g' H_g Delta_g] K)^-1 K'`` for per group h1 informations."""
    n = np.asarray(nobs, float)
    info = sum(f * d.T @ h @ d for f, d, h in zip(n / n.sum(), deltas, h1, strict=True))
    return constrained_inverse(info, np.eye(info.shape[0]) if basis is None else basis)


def _stack_baseline_deltas(bases) -> list[np.ndarray]:
    """Per group baseline Jacobians embedded in the stacked baseline parameter vector."""
    total = sum(b.npar for b in bases)
    out = []
    start = 0
    for b in bases:
        d = np.zeros((b.delta.shape[0], total))
        d[:, start : start + b.npar] = b.delta
        out.append(d)
        start += b.npar
    return out


def _first_order_inverses(deltas, bases, jm, nobs, basis):
    """``(sum_g f_g Delta_g' Jm_g Delta_g)^-1`` of the model (bordered with the constraints'
    basis) and of the baseline: lavaan's inverted information with
    ``information = "first.order"`` and unstructured h1 (``lav_fit_fiml_corrected``)."""
    fg = np.asarray(nobs, float) / float(np.sum(nobs))
    info = sum(f * (d.T @ j @ d) for f, d, j in zip(fg, deltas, jm, strict=True))
    bdeltas = _stack_baseline_deltas(bases)
    binfo = sum(f * (d.T @ j @ d) for f, d, j in zip(fg, bdeltas, jm, strict=True))
    return constrained_inverse(info, basis), np.linalg.pinv(binfo, rcond=1e-12, hermitian=True)
