"""Step two with exogenous covariates: residual correlations of every pair, with their scores.

With the step-one regressions (:mod:`~radsem.estimation.families.ordinal.regressions`) fixed,
each pair's correlation is that of the two residuals given the covariates (Muthén 1984):

* two ordinal variables (conditional polychoric): observation ``i`` falls in cell
  ``(a, b)`` with probability
  :math:`\\Phi_2(u_1, u_2; \\rho) - \\Phi_2(l_1, u_2; \\rho) - \\Phi_2(u_1, l_2; \\rho)
  + \\Phi_2(l_1, l_2; \\rho)`, the limits :math:`u = \\tau_c - x_i^\\top\\beta`,
  :math:`l = \\tau_{c-1} - x_i^\\top\\beta` being observation-specific;
* a continuous and an ordinal variable (conditional polyserial): the polyserial likelihood of
  :mod:`~radsem.estimation.families.ordinal.polyserial` with the standardised residual
  :math:`z = (y - \\mu - x^\\top\\beta_y)/\\sigma` and the shifted limits of the ordinal one;
* two continuous variables: the correlation of the two least-squares residuals (the ML
  estimate with the regressions fixed).

Each function returns the correlation, its casewise score and the casewise scores of the pair's
log-likelihood with respect to both variables' step-one parameters (thresholds or intercept,
slopes, residual variance): the cross-products of the two give :math:`A_{21}` of Muthén's
asymptotic covariance. These are the quantities of lavaan 0.6-14's ``lav_bvord``,
``lav_bvmix`` and ``lav_bvreg`` with ``eXo``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from radsem.estimation.families.ordinal.bivariate_normal import bvn_cdf, bvn_pdf
from radsem.estimation.families.ordinal.polyserial import (
    fit_polyserial_pairs,
    polyserial_scores,
)
from radsem.estimation.families.ordinal.regressions import RegressionMargin

__all__ = ["PairScores", "conditional_pair"]

_BOUND = 0.999
_EPS = np.finfo(float).eps
_NORM = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass
class PairScores:
    """One pair after step two.

    ``rho`` the correlation, ``sc_rho`` its casewise score; ``uni1`` / ``uni2`` the casewise
    scores of the pair's log-likelihood with respect to the step-one parameters of the first
    and second variable, columns ``[tau..., slopes..., (variance)]``.
    """

    rho: float
    sc_rho: np.ndarray
    uni1: np.ndarray
    uni2: np.ndarray


def _pdf(x: np.ndarray) -> np.ndarray:
    finite = np.isfinite(x)
    xf = np.where(finite, x, 0.0)
    return np.where(finite, _NORM * np.exp(-0.5 * xf * xf), 0.0)


class _Corners:
    """The four corners ``(u1, u2), (l1, u2), (u1, l2), (l1, l2)`` of every observation's
    rectangle, with signs ``+ - - +``; the bivariate normal is evaluated only where both limits
    are finite (a corner at ``-inf`` contributes 0, one at ``+inf`` a univariate margin)."""

    def __init__(self, u1, l1, u2, l2) -> None:
        self.n = u1.size
        h = np.concatenate([u1, l1, u1, l1])
        k = np.concatenate([u2, u2, l2, l2])
        self.fin = np.isfinite(h) & np.isfinite(k)
        self.h, self.k = h[self.fin], k[self.fin]
        # margins: +inf on one side and finite on the other; +inf on both gives 1
        margin = np.zeros(h.size)
        hp, kp = np.isposinf(h), np.isposinf(k)
        margin[hp & np.isfinite(k)] = ndtr(k[hp & np.isfinite(k)])
        margin[kp & np.isfinite(h)] = ndtr(h[kp & np.isfinite(h)])
        margin[hp & kp] = 1.0
        self.margin = margin
        self.sign = np.repeat([1.0, -1.0, -1.0, 1.0], self.n)

    def _combine(self, finite_values: np.ndarray, base: np.ndarray) -> np.ndarray:
        out = base.copy()
        out[self.fin] = finite_values
        return (self.sign * out).reshape(4, self.n).sum(axis=0)

    def prob(self, rho: float) -> np.ndarray:
        """Cell probability of every observation."""
        return self._combine(bvn_cdf(self.h, self.k, rho), self.margin)

    def dprob(self, rho: float) -> tuple[np.ndarray, np.ndarray]:
        """First and second derivatives of the cell probabilities with respect to rho."""
        h, k = self.h, self.k
        dens = bvn_pdf(h, k, rho)
        om = 1.0 - rho * rho
        factor = rho / om + h * k / om - rho * (h * h - 2.0 * rho * h * k + k * k) / (om * om)
        zero = np.zeros(self.sign.size)
        return self._combine(dens, zero), self._combine(dens * factor, zero)


def _cond(t, upper, lower, rho):
    """``Phi((upper - rho t)/R) - Phi((lower - rho t)/R)`` with infinite limits handled."""
    root = np.sqrt(1.0 - rho * rho)
    tf = np.where(np.isfinite(t), t, 0.0)

    def cdf(lim):
        fin = np.isfinite(lim)
        val = ndtr((np.where(fin, lim, 0.0) - rho * tf) / root)
        return np.where(fin, val, np.where(lim > 0, 1.0, 0.0))

    return cdf(upper) - cdf(lower)


def _ordinal_uni_scores(m: RegressionMargin, x, d_upper, d_lower):
    """Scores wrt (tau, slopes) from the derivatives wrt each observation's limits."""
    n_th = m.tau.size
    n = d_upper.size
    out = np.zeros((n, n_th + x.shape[1]))
    rows = np.arange(n)
    up_ok = m.codes < n_th
    out[rows[up_ok], m.codes[up_ok]] += d_upper[up_ok]
    low_ok = m.codes > 0
    out[rows[low_ok], m.codes[low_ok] - 1] += d_lower[low_ok]
    out[:, n_th:] = -x * (d_upper + d_lower)[:, None]
    return out


def _polychoric_rho(u1, l1, u2, l2) -> float:
    """ML residual correlation: Newton's method on the exact derivatives, Brent as fallback."""

    corners = _Corners(u1, l1, u2, l2)

    def probs(rho):
        prob = np.maximum(corners.prob(rho), _EPS)
        return prob, float(np.sum(np.log(prob)))

    rho = 0.0
    prob, current = probs(rho)
    for _ in range(50):
        d1, d2 = corners.dprob(rho)
        ratio = d1 / prob
        score = float(np.sum(ratio))
        hess = float(np.sum(d2 / prob - ratio * ratio))
        if not hess < 0.0:
            break
        new = float(np.clip(rho + np.clip(-score / hess, -0.5, 0.5), -_BOUND, _BOUND))
        new_prob, value = probs(new)
        while value < current - 1e-12 * abs(current) and abs(new - rho) > 1e-14:
            new = 0.5 * (rho + new)
            new_prob, value = probs(new)
        moved = abs(new - rho)
        rho, prob, current = new, new_prob, value
        if moved < 1e-12:
            return rho
    res = minimize_scalar(
        lambda r: -probs(r)[1], bounds=(-_BOUND, _BOUND), method="bounded", options={"xatol": 1e-11}
    )
    return float(res.x)


def _polychoric(m1: RegressionMargin, m2: RegressionMargin, x: np.ndarray) -> PairScores:
    u1, l1 = m1.bounds()
    u2, l2 = m2.bounds()
    rho = _polychoric_rho(u1, l1, u2, l2)
    corners = _Corners(u1, l1, u2, l2)
    prob = np.maximum(corners.prob(rho), _EPS)
    dprob = corners.dprob(rho)[0]
    sc_rho = dprob / prob
    d_u1 = _pdf(u1) * _cond(u1, u2, l2, rho) / prob
    d_l1 = -_pdf(l1) * _cond(l1, u2, l2, rho) / prob
    d_u2 = _pdf(u2) * _cond(u2, u1, l1, rho) / prob
    d_l2 = -_pdf(l2) * _cond(l2, u1, l1, rho) / prob
    return PairScores(
        rho,
        sc_rho,
        _ordinal_uni_scores(m1, x, d_u1, d_l1),
        _ordinal_uni_scores(m2, x, d_u2, d_l2),
    )


def _polyserial(num: RegressionMargin, ordv: RegressionMargin, x: np.ndarray) -> PairScores:
    sd = np.sqrt(num.var)
    resid = num.residual
    z = resid / sd
    upper, lower = ordv.bounds()
    codes = ordv.codes.astype(float)
    # start: correlation of residual and codes, rescaled as lavaan's polyserial start
    cc = codes - codes.mean()
    den = np.sqrt(np.sum(cc * cc) * np.sum(resid * resid))
    r0 = float(np.sum(cc * resid) / den) if den > 0 else 0.0
    # (thresholds at the average linear predictor, where the codes' scale is measured)
    tau = ordv.tau - ordv.eta.mean()
    start = r0 * np.sqrt(np.mean(cc * cc)) / np.sum(_NORM * np.exp(-0.5 * tau**2))
    start = float(np.clip(start, -0.9, 0.9))
    dens = _NORM * np.exp(-0.5 * z * z)
    rho = float(
        fit_polyserial_pairs(
            z[:, None],
            upper[:, None],
            lower[:, None],
            dens[:, None],
            np.array([start]),
            ["pair"],
        )[0]
    )
    sc = polyserial_scores(z, upper, lower, ordv.codes, ordv.tau.size, sd, rho)
    uni_num = np.column_stack([sc["mu"], x * sc["mu"][:, None], sc["var"]])
    uni_ord = np.column_stack([sc["th"], -x * sc["th"].sum(axis=1)[:, None]])
    return PairScores(rho, sc["rho"], uni_num, uni_ord)


def _pearson(
    m1: RegressionMargin, m2: RegressionMargin, x: np.ndarray, rho: float | None = None
) -> PairScores:
    e1, e2 = m1.residual, m2.residual
    v1, v2 = m1.var, m2.var
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    if rho is None:
        rho = float(np.sum(e1 * e2) / np.sqrt(np.sum(e1 * e1) * np.sum(e2 * e2)))
    om = 1.0 - rho * rho
    quad = e1 * e1 / v1 - 2.0 * rho * e1 * e2 / (s1 * s2) + e2 * e2 / v2
    sc_rho = rho / om + e1 * e2 / (s1 * s2 * om) - quad * rho / om**2
    mu1 = (e1 / v1 - rho * e2 / (s1 * s2)) / om
    mu2 = (e2 / v2 - rho * e1 / (s1 * s2)) / om
    var1 = -0.5 / v1 + (e1 * e1 / v1**2 - rho * e1 * e2 / (v1 * s1 * s2)) / (2.0 * om)
    var2 = -0.5 / v2 + (e2 * e2 / v2**2 - rho * e1 * e2 / (v2 * s1 * s2)) / (2.0 * om)
    return PairScores(
        rho,
        sc_rho,
        np.column_stack([mu1, x * mu1[:, None], var1]),
        np.column_stack([mu2, x * mu2[:, None], var2]),
    )


def _ml_residual_rho(m1: RegressionMargin, m2: RegressionMargin) -> float:
    """ML correlation of two standardised residuals with the regressions fixed (rows with both
    observed; lavaan's ``lav_bvreg``). Equals the Pearson correlation of the residuals when
    the regressions were fitted on the same rows."""
    z1 = m1.residual / np.sqrt(m1.var)
    z2 = m2.residual / np.sqrt(m2.var)

    def negloglik(rho: float) -> float:
        om = 1.0 - rho * rho
        return 0.5 * float(np.sum(np.log(om) + (z1 * z1 - 2.0 * rho * z1 * z2 + z2 * z2) / om))

    res = minimize_scalar(
        negloglik, bounds=(-_BOUND, _BOUND), method="bounded", options={"xatol": 1e-12}
    )
    return float(res.x)


def conditional_pair(
    m1: RegressionMargin, m2: RegressionMargin, x: np.ndarray, pairwise: bool = False
) -> PairScores:
    """Residual correlation of two endogenous variables given the covariates ``x``.

    Parameters
    ----------
    m1, m2 : RegressionMargin
        Step-one fits of the two variables.
    x : numpy.ndarray, shape (N, nx)
        The covariates.
    pairwise : bool
        The margins were fitted on other rows (``missing="pairwise"``): two continuous
        variables get the ML residual correlation with the regressions fixed rather than
        the Pearson correlation of the residuals. Rows where either variable is missing
        (``present``) are left out, with zero scores.

    Returns
    -------
    PairScores
        ``uni1`` belongs to ``m1`` and ``uni2`` to ``m2`` whatever their kinds.
    """
    both = m1.observed() & m2.observed()
    if not both.all():  # missing="pairwise": the rows where both are observed
        sub = conditional_pair(m1.subset(both), m2.subset(both), x[both], pairwise=True)
        n = both.size

        def fill(a):
            out = np.zeros((n, *a.shape[1:]))
            out[both] = a
            return out

        return PairScores(sub.rho, fill(sub.sc_rho), fill(sub.uni1), fill(sub.uni2))
    if m1.kind == "ordered" and m2.kind == "ordered":
        return _polychoric(m1, m2, x)
    if m1.kind == "numeric" and m2.kind == "numeric":
        return _pearson(m1, m2, x, _ml_residual_rho(m1, m2) if pairwise else None)
    if m1.kind == "numeric":
        return _polyserial(m1, m2, x)
    out = _polyserial(m2, m1, x)
    return PairScores(out.rho, out.sc_rho, out.uni2, out.uni1)
