"""Factor scores for ordered indicators: empirical Bayes modal (EBM), as lavaan's ``lavPredict``.

For one case with responses ``y`` the score is the mode of the posterior of the latent
variables ``eta``::

    log p(eta | y) = log N(eta; alpha, Phi) + sum_j log P(y_j | eta) + const

with ``alpha``/``Phi`` the model-implied latent means and covariance and, for an ordered
indicator ``j`` in category ``k``, ``P(y_j | eta) = Phi((tau_k - lambda_j' eta) / sqrt(theta_j))
- Phi((tau_{k-1} - lambda_j' eta) / sqrt(theta_j))`` (``theta_j`` the residual variance of
``y*_j``; computed in the delta parameterisation); continuous indicators contribute their
normal density. Cases with the same response pattern share one optimisation: Newton steps
(analytic gradient and Hessian, the log-posterior is concave) for all patterns at once, started
at ``alpha``, with step halving.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from radsem.errors import EstimationError
from radsem.estimation.core.optimize import small_blas

__all__ = ["ebm_scores"]

_LOG_EPS = 1e-300


def _group_pieces(fit, g: int):
    model = fit.problem.model
    ram, theta_ram = model.ram_model(fit.theta)
    values = ram.values(theta_ram)
    a_mat, s_mat, _ = ram.matrices(values, g)
    b, omega, nu = ram.implied_full(theta_ram, g)
    p = len(model.observed)
    if np.abs(a_mat[:p, :p]).max(initial=0.0) > 0 or np.abs(a_mat[p:, :p]).max(initial=0.0) > 0:
        raise EstimationError(
            "factor scores for ordered indicators are available when observed variables only "
            "load on latent variables (no regressions on or of observed variables)"
        )
    lam = a_mat[:p, p:]
    theta_diag = np.diag(s_mat)[:p]
    if np.abs(s_mat[:p, :p] - np.diag(theta_diag)).max(initial=0.0) > 0:
        raise EstimationError("factor scores for ordered indicators need uncorrelated residuals")
    return lam, theta_diag, omega[p:, p:], nu[p:], nu[:p]


def _codes(fit, frame: pd.DataFrame, g: int) -> np.ndarray:
    """Category index (0-based) of each ordered variable, NaN for continuous columns."""
    model = fit.problem.model
    st = fit.problem.stats[g]
    out = np.full((len(frame), len(model.observed)), np.nan)
    for k, v in enumerate(model.observed):
        if v in model.ordered:
            levels = list(st.levels.get(v, ())) if getattr(st, "levels", None) else []
            col = frame[v]
            if not levels:
                levels = sorted(col.dropna().unique())
            lookup = {lev: i for i, lev in enumerate(levels)}
            out[:, k] = [np.nan if pd.isna(val) else lookup.get(val, np.nan) for val in col]
        else:
            out[:, k] = pd.to_numeric(frame[v]).to_numpy(dtype=float, na_value=np.nan)
    return out


@small_blas
def ebm_scores(fit) -> pd.DataFrame:
    """EBM factor scores on the rows of ``fit.data`` (its index labels, NaN for rows the fit
    did not use)."""
    from radsem.estimation.measures.predict import to_input_rows

    model = fit.problem.model
    lat = list(model.latent)
    data = fit.data.reset_index(drop=True)  # positions: the input's labels are put back below
    group = fit.options.get("group")
    frames = []
    labels = fit.spec.group_labels
    for g in range(model.ngroups):
        frame = data if group is None else data[data[group] == labels[g]]
        if fit.options.get("missing") != "pairwise":  # cases used in a listwise fit
            frame = frame.dropna(subset=list(model.observed))
        else:  # as lavaan: cases with at least one observed indicator, missing items skipped
            frame = frame.dropna(subset=list(model.observed), how="all")
        lam, th_var, phi, alpha, mu = _group_pieces(fit, g)
        values = model.values(fit.theta)
        tau = {}
        for r in model.th_rows[g]:
            tau.setdefault(model.par.at[r, "lhs"], []).append(values[r])
        codes = _codes(fit, frame, g)
        scores = _score_patterns(codes, model, lam, th_var, phi, alpha, mu, tau)
        frames.append((g, frame.index.to_numpy(), scores))
    return to_input_rows(fit, frames, lat)


def _score_patterns(codes, model, lam, th_var, phi, alpha, mu, tau) -> np.ndarray:
    """Posterior modes of all distinct response patterns at once (damped Newton steps)."""
    ordered = [k for k, v in enumerate(model.observed) if v in model.ordered]
    numeric = [k for k, v in enumerate(model.observed) if v not in model.ordered]
    keys, first, inverse = np.unique(
        np.nan_to_num(codes, nan=-1.0), axis=0, return_index=True, return_inverse=True
    )
    rows = codes[first]
    lo = np.empty((len(rows), len(ordered)))
    hi = np.empty_like(lo)
    for c, k in enumerate(ordered):
        cut = np.concatenate([[-np.inf], np.asarray(tau[model.observed[k]], float), [np.inf]])
        miss = ~np.isfinite(rows[:, k]) | (rows[:, k] < 0)
        cat = np.where(miss, 0, rows[:, k]).astype(int)
        lo[:, c], hi[:, c] = cut[cat] - mu[k], cut[cat + 1] - mu[k]
        lo[miss, c], hi[miss, c] = -np.inf, np.inf  # a missing item contributes P = 1
    post = _Posterior(
        lo,
        hi,
        lam[ordered],
        np.sqrt(th_var[ordered]),
        rows[:, numeric] - mu[numeric] if numeric else None,
        lam[numeric],
        th_var[numeric],
        np.linalg.inv(phi),
        alpha,
    )
    eta = np.tile(alpha, (len(rows), 1))
    f = post.value(eta)
    for _ in range(200):
        grad, hess = post.derivatives(eta)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        if np.max(np.abs(step)) < 1e-11:
            break
        alpha_k = np.ones(len(rows))
        for _ in range(30):  # halve the step of patterns whose posterior did not increase
            trial = eta - alpha_k[:, None] * step
            f_new = post.value(trial)
            bad = ~(f_new <= f + 1e-12)
            if not bad.any():
                break
            alpha_k[bad] *= 0.5
        eta, f = trial, f_new
    else:
        raise EstimationError("factor scores: the posterior modes did not converge")
    return eta[inverse.ravel()]


class _Posterior:
    """Negative log posterior of the latent variables, vectorised over response patterns."""

    def __init__(self, lo, hi, lam_o, sd_o, y_num, lam_n, var_n, phi_inv, alpha) -> None:
        self.lo, self.hi, self.lam_o, self.sd_o = lo, hi, lam_o, sd_o
        self.y_num, self.lam_n, self.var_n = y_num, lam_n, var_n
        self.phi_inv, self.alpha = phi_inv, alpha

    def _z(self, eta):
        m = eta @ self.lam_o.T
        return (self.lo - m) / self.sd_o, (self.hi - m) / self.sd_o

    def value(self, eta) -> np.ndarray:
        d = eta - self.alpha
        val = 0.5 * np.einsum("ni,ij,nj->n", d, self.phi_inv, d)
        zl, zh = self._z(eta)
        val -= np.log(np.maximum(special.ndtr(zh) - special.ndtr(zl), _LOG_EPS)).sum(axis=1)
        if self.y_num is not None:
            r = np.nan_to_num(self.y_num - eta @ self.lam_n.T)  # missing values: no term
            val += 0.5 * (r**2 / self.var_n).sum(axis=1)
        return val

    def derivatives(self, eta):
        d = eta - self.alpha
        grad = d @ self.phi_inv
        zl, zh = self._z(eta)
        prob = np.maximum(special.ndtr(zh) - special.ndtr(zl), _LOG_EPS)
        pl, ph = _pdf(zl), _pdf(zh)
        g1 = -(ph - pl) / (self.sd_o * prob)  # d log P / d m
        zpl = np.where(np.isfinite(zl), zl, 0.0) * pl
        zph = np.where(np.isfinite(zh), zh, 0.0) * ph
        g2 = (zph - zpl) / (self.sd_o**2 * prob) * -1.0 - g1**2  # d2 log P / d m2
        grad -= g1 @ self.lam_o
        hess = self.phi_inv[None] - np.einsum("nj,ja,jb->nab", g2, self.lam_o, self.lam_o)
        if self.y_num is not None:
            seen = np.isfinite(self.y_num)
            r = np.where(seen, self.y_num - eta @ self.lam_n.T, 0.0)
            grad -= (r / self.var_n) @ self.lam_n
            hess = hess + np.einsum("nj,ja,jb->nab", seen / self.var_n, self.lam_n, self.lam_n)
        return grad, hess


def _pdf(z: np.ndarray) -> np.ndarray:
    zz = np.where(np.isfinite(z), z, 0.0)
    return np.where(np.isfinite(z), np.exp(-0.5 * zz**2) / np.sqrt(2 * np.pi), 0.0)
