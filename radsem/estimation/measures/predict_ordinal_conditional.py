"""EBM factor scores of ordered indicators given exogenous covariates (conditional.x).

As :mod:`~radsem.estimation.measures.predict_ordinal`, with the covariates in both parts of the
posterior of case ``i``::

    log p(eta | y_i, x_i) = log N(eta; E[eta | x_i], Phi_x) + sum_j log P(y_ij | eta, x_i)

where ``E[eta | x_i] = nu_eta + (I - B)^-1 Gamma (x_i - mean(x))`` and ``Phi_x = (I - B)^-1
Psi (I - B)^-T`` are the latent variables' conditional mean and covariance, and the latent
response of indicator ``j`` is ``y*_j = nu_j + lambda_j' eta + k_j' x_i + e_j`` (``k_j`` its
direct effects of the covariates). Every case is its own pattern; with
``missing="pairwise"`` a missing item contributes nothing (as lavaan).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.core.optimize import small_blas
from radsem.estimation.measures.predict_ordinal import _codes, _Posterior

__all__ = ["ebm_scores_conditional"]


def _pieces(model, theta: np.ndarray, g: int):
    ram, theta_ram = model.ram_model(theta)
    values = ram.values(theta_ram)
    a_mat, s_mat, m_vec = ram.matrices(values, g)
    p = len(model.observed)
    e, x = model.endo, model.exo
    if (
        np.abs(a_mat[np.ix_(e, e)]).max(initial=0.0) > 0
        or np.abs(a_mat[p:, e]).max(initial=0.0) > 0
    ):
        raise EstimationError(
            "factor scores for ordered indicators are available when observed variables only "
            "load on latent variables and depend on covariates (no regressions among the "
            "endogenous observed variables)"
        )
    th = np.diag(s_mat)[e]
    if np.abs(s_mat[np.ix_(e, e)] - np.diag(th)).max(initial=0.0) > 0:
        raise EstimationError("factor scores for ordered indicators need uncorrelated residuals")
    lat = np.arange(p, a_mat.shape[0])
    inv = np.linalg.inv(np.eye(lat.size) - a_mat[np.ix_(lat, lat)])
    gamma = inv @ a_mat[np.ix_(lat, x)]  # reduced-form effects of x on the latents
    phi = inv @ s_mat[np.ix_(lat, lat)] @ inv.T
    alpha0 = inv @ m_vec[lat]  # latent means at x = 0
    lam = a_mat[np.ix_(e, lat)]
    k_mat = a_mat[np.ix_(e, x)]
    return lam, th, phi, alpha0, gamma, m_vec[e], k_mat


@small_blas
def ebm_scores_conditional(fit, problem, theta: np.ndarray) -> pd.DataFrame:
    """EBM factor scores of a conditional.x fit on the rows of ``fit.data`` (its index labels,
    NaN for rows the fit did not use).

    Parameters
    ----------
    fit : ConditionalOrdinalFit
        For the data, options and group labels.
    problem : OrdinalProblem
        The fitted problem (model with the reduced form, sample statistics).
    theta : numpy.ndarray
        The estimates.
    """
    from radsem.estimation.measures.predict import to_input_rows

    model = problem.model
    lat = list(model.latent)
    data = fit.data.reset_index(drop=True)
    group = fit.options.get("group")
    labels = fit.spec.group_labels
    endo = [model.observed[k] for k in model.endo]
    xs = [model.observed[k] for k in model.exo]
    values = model.values(theta)
    frames = []
    for g in range(model.ngroups):
        frame = data if group is None else data[data[group] == labels[g]]
        if fit.options.get("missing") == "pairwise":  # missing items contribute P = 1
            frame = frame.dropna(subset=xs).dropna(subset=endo, how="all")
        else:
            frame = frame.dropna(subset=list(model.observed))
        lam, th, phi, alpha0, gamma, nu, k_mat = _pieces(model, theta, g)
        x = frame[xs].to_numpy(dtype=float)
        alpha = alpha0[None, :] + x @ gamma.T
        offset = nu[None, :] + x @ k_mat.T  # intercepts and direct effects of y*
        codes = _codes(fit, frame, g)[:, model.endo]
        ordered = [k for k, v in enumerate(endo) if v in model.ordered]
        numeric = [k for k, v in enumerate(endo) if v not in model.ordered]
        tau = {}
        for r in model.th_rows[g]:
            tau.setdefault(model.par.at[r, "lhs"], []).append(values[r])
        lo = np.empty((len(frame), len(ordered)))
        hi = np.empty_like(lo)
        for c, k in enumerate(ordered):
            cut = np.concatenate([[-np.inf], np.asarray(tau[endo[k]], float), [np.inf]])
            miss = ~np.isfinite(codes[:, k])
            cat = np.where(miss, 0, codes[:, k]).astype(int)
            lo[:, c] = np.where(miss, -np.inf, cut[cat] - offset[:, k])
            hi[:, c] = np.where(miss, np.inf, cut[cat + 1] - offset[:, k])
        post = _Posterior(
            lo,
            hi,
            lam[ordered],
            np.sqrt(th[ordered]),
            codes[:, numeric] - offset[:, numeric] if numeric else None,
            lam[numeric],
            th[numeric],
            np.linalg.inv(phi),
            alpha,
        )
        eta = alpha.copy()
        f = post.value(eta)
        for _ in range(200):
            grad, hess = post.derivatives(eta)
            step = np.linalg.solve(hess, grad[..., None])[..., 0]
            if np.max(np.abs(step), initial=0.0) < 1e-11:
                break
            size = np.ones(len(eta))
            for _ in range(30):
                trial = eta - size[:, None] * step
                f_new = post.value(trial)
                bad = ~(f_new <= f + 1e-12)
                if not bad.any():
                    break
                size[bad] *= 0.5
            eta, f = trial, f_new
        else:
            raise EstimationError("factor scores: the posterior modes did not converge")
        frames.append((g, frame.index.to_numpy(), eta))
    return to_input_rows(fit, frames, lat)
