"""Baseline model and the ``.robust`` (catML) ingredients of the WLSMV fit measures.

Baseline (independence) model, as lavaan's: thresholds (and means and variances of
continuous variables) free, all correlations zero. Its least-squares statistic
``sum_g (n_g - 1) e_g' W_g e_g`` and scaled-and-shifted version use the same traces as the
model (:mod:`radsem.estimation.robust.inference_ordinal`) with the baseline's Jacobian (identity on
the marginal elements).

Robust CFI/TLI/RMSEA for categorical data (Savalei 2021, lavaan 0.6-13+ ``lav_fit_catml_dwls``):
the DWLS estimate is plugged into the normal-theory ML discrepancy of the polychoric
correlation matrix ``R`` ("catML")::

    XX3   = sum_g n_g [log|P_g| + tr(R_g P_g^-1) - log|R_g| - p]      (P = implied correlations)
    c3    = tr(U' V U Gamma_c) / df3,  U = I - Delta_c E^+ Delta_c' W_c

with ``V`` the normal-theory (structured) information of the correlations at ``P``,
``Delta_c``, ``W_c`` and ``Gamma_c`` the correlation parts of the Jacobian, the DWLS weight and
``Gamma`` (weighted by ``f_g``, ``f_g`` and ``1/f_g``), ``E^+`` the DWLS inverse information;
for the baseline ``XX3_0 = -sum_g n_g log|R_g|`` and ``c3_0 = tr(Gamma_c) / df3_0``. lavaan
reports these only when all observed variables are ordered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radsem.estimation.core.matrices import vech_indices
from radsem.estimation.core.objective import normal_weight
from radsem.estimation.measures.indices import CorrectedTest
from radsem.estimation.robust.inference_ordinal import block_diag, scaled_shifted

__all__ = ["BaselineTest", "baseline_test", "catml_robust"]


@dataclass(frozen=True)
class BaselineTest:
    """The independence model's test: statistic, df, scaled-shifted statistic and factor."""

    chisq: float
    df: float
    chisq_scaled: float
    scaling_factor: float
    shift: float
    trace_ug: float = np.nan


def _baseline_free(problem) -> np.ndarray:
    """Elements free in the baseline: thresholds, means, variances (and, with conditional.x,
    the slopes unless ``baseline_conditional_x_free_slopes=False``)."""
    model = problem.model
    return np.asarray(getattr(model, "baseline_free", np.arange(model.n_marginal)), int)


def baseline_test(problem) -> BaselineTest:
    """Fit the independence model (closed form: weighted least squares on the thresholds)."""
    fg = problem.nobs / problem.ntotal
    chisq, deltas, infos = 0.0, [], []
    slots = _baseline_free(problem)
    nth = [slots.size] * len(problem.stats)
    for st, w, n, k in zip(problem.stats, problem.W, problem.nobs, nth, strict=True):
        s = np.asarray(st.wls_obs, float)
        d0 = np.zeros((s.size, k))
        d0[slots, np.arange(k)] = 1.0
        a = d0.T @ w @ d0
        t_hat = np.linalg.solve(a, d0.T @ w @ s) if k else np.zeros(0)
        e = s - d0 @ t_hat
        chisq += (n - 1.0) * float(e @ w @ e)
        deltas.append(d0)
        infos.append(a)
    ndat = sum(st.wls_obs.size for st in problem.stats)
    df = float(ndat - sum(nth))
    # E^+ of the baseline: block diagonal, one block of thresholds per group
    e_inv = block_diag([np.linalg.pinv(f * a) for f, a in zip(fg, infos, strict=True)])
    d_all = block_diag(deltas)
    v_all = block_diag([f * w for f, w in zip(fg, problem.W, strict=True)])
    g_all = block_diag(
        [np.asarray(st.gamma, float) / f for f, st in zip(fg, problem.stats, strict=True)]
    )
    vd = v_all @ d_all
    ug = (v_all - vd @ e_inv @ vd.T) @ g_all
    tr = float(np.trace(ug))
    scaled, factor, shift = scaled_shifted(chisq, df, tr, float(np.sum(ug * ug.T)))
    return BaselineTest(chisq, df, scaled, factor, shift, tr)


def _ml_cor(r: np.ndarray, p_mat: np.ndarray) -> float:
    """``log|P| + tr(R P^-1) - log|R| - p``."""
    pinv = np.linalg.inv(p_mat)
    return float(
        np.linalg.slogdet(p_mat)[1] + np.sum(r * pinv) - np.linalg.slogdet(r)[1] - r.shape[0]
    )


def _force_pd(cov: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    vals, vecs = np.linalg.eigh(cov)
    if vals.min() >= tol:
        return cov
    vals = np.maximum(vals, tol)
    out = (vecs * vals) @ vecs.T
    sd = np.sqrt(np.diag(out))
    return out / np.outer(sd, sd)


def catml_robust(
    problem, theta: np.ndarray, e_inv: np.ndarray, df: float, npar_cor: int
) -> CorrectedTest:
    """The catML quantities at the DWLS estimate ``theta``.

    ``npar_cor`` is the number of parameters of the correlation structure (all parameters
    but the thresholds and means), so that ``df3 = #correlations - npar_cor``.
    """
    fg = problem.nobs / problem.ntotal
    model = problem.model
    p = len(model.observed)
    cr, cc = model.cor_r, model.cor_c
    xx3 = xx3_null = 0.0
    v_blocks, w_blocks, g_blocks, d_blocks = [], [], [], []
    # position of each off-diagonal correlation in vech (diagonal included) order
    vr, vc = vech_indices(p)
    vpos = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(vr, vc, strict=True))}
    off = np.array([vpos[(int(a), int(b))] for a, b in zip(cr, cc, strict=True)], int)
    for g, (st, imp, w, jac) in enumerate(
        zip(problem.stats, model.implied(theta), problem.W, model.jacobian(theta), strict=True)
    ):
        r = _force_pd(np.asarray(st.cov, float))
        pm = np.eye(p)
        rho = imp.wls[model.n_marginal :]
        pm[cr, cc] = pm[cc, cr] = rho
        n = problem.nobs[g]
        xx3 += n * _ml_cor(r, pm)
        xx3_null += -n * float(np.linalg.slogdet(r)[1])
        k = model.n_marginal
        v_full = normal_weight(np.linalg.inv(pm), False)
        v_blocks.append(fg[g] * v_full[np.ix_(off, off)])
        w_blocks.append(fg[g] * w[k:, k:])
        g_blocks.append(np.asarray(st.gamma, float)[k:, k:] / fg[g])
        d_blocks.append(jac[k:])
    v_all, w_all, g_all = block_diag(v_blocks), block_diag(w_blocks), block_diag(g_blocks)
    d_all = np.vstack(d_blocks)
    u = np.eye(w_all.shape[0]) - d_all @ e_inv @ d_all.T @ w_all
    ks = float(np.trace(u.T @ v_all @ u @ g_all))
    ncor = w_all.shape[0]
    df3 = float(ncor - npar_cor)
    c3 = ks / df3 if df3 > 0 else np.nan
    return CorrectedTest(
        xx3,
        df3,
        c3,
        xx3 / c3 if df3 > 0 else np.nan,
        xx3_null,
        float(ncor),
        float(np.trace(g_all)) / ncor,
    )
