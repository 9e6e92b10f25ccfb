"""Step one with exogenous covariates (lavaan's ``conditional.x = TRUE``): univariate regressions.

Muthén (1984): with covariates ``x`` every endogenous variable is first regressed on them alone.

* An ordinal variable ``y`` with categories ``0..K-1`` gets an ordered probit regression
  :math:`P(y \\le k \\mid x) = \\Phi(\\tau_k - x^\\top\\beta)`: thresholds :math:`\\tau` and
  slopes :math:`\\beta` of the latent response :math:`y^* = x^\\top\\beta + \\varepsilon`,
  :math:`\\varepsilon \\sim N(0, 1)`, by maximum likelihood (Newton's method on the exact
  Hessian, started at the marginal thresholds and zero slopes).
* A continuous variable gets the normal linear regression
  :math:`y = \\mu + x^\\top\\beta + e`, :math:`e \\sim N(0, \\sigma^2)`: least-squares
  intercept and slopes and the ML residual variance (divisor ``N``).

Each fit also returns its casewise scores (derivatives of the observation's log-likelihood with
respect to thresholds or intercept, slopes and residual variance), the ingredients of the
asymptotic covariance of :mod:`~radsem.estimation.families.ordinal.samplestats_conditional`.
These are the quantities of lavaan 0.6-14's ``lav_uvord`` / ``lav_uvreg``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from radsem.errors import DataError, EstimationError
from radsem.estimation.families.ordinal.thresholds import (
    extended_thresholds,
    thresholds_from_codes,
)

__all__ = ["RegressionMargin", "probit_regression", "linear_regression"]

_NORM = 1.0 / np.sqrt(2.0 * np.pi)
SEPARATION = 5.0
"""A probit slope moving the latent response by more than this many standard deviations per
standard deviation of a covariate is taken as (quasi-)separation (the ML estimate is infinite)."""


def _pdf(x: np.ndarray) -> np.ndarray:
    finite = np.isfinite(x)
    xf = np.where(finite, x, 0.0)
    return np.where(finite, _NORM * np.exp(-0.5 * xf * xf), 0.0)


@dataclass
class RegressionMargin:
    """One endogenous variable after step one with covariates.

    Attributes
    ----------
    kind : {"ordered", "numeric"}
    codes : numpy.ndarray or None
        Category codes ``0..K-1`` (ordinal).
    values : numpy.ndarray or None
        The observations (continuous).
    levels : tuple
        Category labels (ordinal).
    tau : numpy.ndarray
        Thresholds (ordinal) or the one-element intercept (continuous).
    slopes : numpy.ndarray
        Regression slopes on the covariates.
    var : float
        Residual variance (1 for an ordinal variable).
    eta : numpy.ndarray
        ``x @ slopes`` per observation.
    sc_th, sc_sl : numpy.ndarray
        Casewise scores with respect to ``tau`` and ``slopes`` (``N x len``).
    sc_var : numpy.ndarray or None
        Casewise scores with respect to the residual variance (continuous).
    """

    kind: str
    tau: np.ndarray
    slopes: np.ndarray
    eta: np.ndarray
    sc_th: np.ndarray
    sc_sl: np.ndarray
    codes: np.ndarray | None = None
    values: np.ndarray | None = None
    levels: tuple = ()
    var: float = 1.0
    sc_var: np.ndarray | None = None
    present: np.ndarray | None = None

    def observed(self) -> np.ndarray:
        """Rows where the variable is observed (all rows unless ``present`` says otherwise)."""
        return np.ones(self.eta.size, bool) if self.present is None else self.present

    def expanded(self, present: np.ndarray, x: np.ndarray) -> RegressionMargin:
        """This fit (made on the rows ``present``) on all rows of ``x``: scores zero and codes
        0 (values 0) where the variable is missing (``missing="pairwise"``)."""
        n = present.size

        def fill(a, value=0.0):
            if a is None:
                return None
            out = np.full((n, *a.shape[1:]), value, dtype=a.dtype)
            out[present] = a
            return out

        return RegressionMargin(
            self.kind,
            tau=self.tau,
            slopes=self.slopes,
            eta=x @ self.slopes,
            sc_th=fill(self.sc_th),
            sc_sl=fill(self.sc_sl),
            codes=fill(self.codes, 0),
            values=fill(self.values),
            levels=self.levels,
            var=self.var,
            sc_var=fill(self.sc_var),
            present=present.copy(),
        )

    def subset(self, rows: np.ndarray) -> RegressionMargin:
        """The margin restricted to ``rows`` (boolean), for a pair's common rows."""

        def cut(a):
            return None if a is None else a[rows]

        return RegressionMargin(
            self.kind,
            tau=self.tau,
            slopes=self.slopes,
            eta=self.eta[rows],
            sc_th=self.sc_th[rows],
            sc_sl=self.sc_sl[rows],
            codes=cut(self.codes),
            values=cut(self.values),
            levels=self.levels,
            var=self.var,
            sc_var=cut(self.sc_var),
        )

    @property
    def residual(self) -> np.ndarray:
        """``y - mu - x beta`` of a continuous variable."""
        return self.values - self.tau[0] - self.eta

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per observation the upper and lower limits ``tau_c - eta``, ``tau_{c-1} - eta`` of
        the latent response (``+-inf`` at the ends) of an ordinal variable."""
        ext = extended_thresholds(self.tau)
        return ext[self.codes + 1] - self.eta, ext[self.codes] - self.eta


def _probit_pieces(codes, x, params, n_th):
    tau, beta = params[:n_th], params[n_th:]
    eta = x @ beta
    ext = extended_thresholds(tau)
    upper = ext[codes + 1] - eta
    lower = ext[codes] - eta
    prob = ndtr(upper) - ndtr(lower)
    large = lower > 0.0  # accuracy in the upper tail
    prob = np.where(large, ndtr(-lower) - ndtr(-upper), prob)
    return eta, upper, lower, prob


def _probit_derivatives(codes, x, params, n_th):
    """Log-likelihood, casewise scores (N, q) and Hessian (q, q)."""
    n, nx = x.shape
    q = n_th + nx
    eta, upper, lower, prob = _probit_pieces(codes, x, params, n_th)
    if np.any(prob <= 0.0):
        return -np.inf, None, None
    pu, pl = _pdf(upper), _pdf(lower)
    ga, gb = pu / prob, -pl / prob
    fu = np.where(np.isfinite(upper), upper, 0.0)
    fl = np.where(np.isfinite(lower), lower, 0.0)
    haa = -fu * pu / prob - ga * ga
    hbb = fl * pl / prob - gb * gb
    hab = -ga * gb
    # Jacobian of (upper, lower) with respect to (tau, beta): rows N x 2 x q
    ju = np.zeros((n, q))
    jl = np.zeros((n, q))
    rows = np.arange(n)
    up_ok = codes < n_th
    ju[rows[up_ok], codes[up_ok]] = 1.0
    low_ok = codes > 0
    jl[rows[low_ok], codes[low_ok] - 1] = 1.0
    ju[:, n_th:] = -x
    jl[:, n_th:] = -x
    scores = ju * ga[:, None] + jl * gb[:, None]
    hess = (
        (ju * haa[:, None]).T @ ju
        + (jl * hbb[:, None]).T @ jl
        + (ju * hab[:, None]).T @ jl
        + (jl * hab[:, None]).T @ ju
    )
    return float(np.sum(np.log(prob))), scores, hess


def probit_regression(
    codes: np.ndarray,
    levels: tuple,
    x: np.ndarray,
    name: str = "y",
    max_iter: int = 200,
    covariates: tuple[str, ...] = (),
) -> RegressionMargin:
    """Ordered probit regression of an ordinal variable on covariates, by maximum likelihood.

    Parameters
    ----------
    codes : numpy.ndarray of int
        Categories ``0..K-1`` (no missing values).
    levels : tuple
        The K category labels.
    x : numpy.ndarray, shape (N, nx)
        Covariates.
    name : str
        Variable name for messages.
    max_iter : int
        Newton iterations.
    covariates : tuple of str
        Covariate names for messages.

    Returns
    -------
    RegressionMargin

    Raises
    ------
    EstimationError
        When Newton's method does not converge, or a covariate separates the categories
        (standardised slope above :data:`SEPARATION`: the ML estimate is infinite).
    """
    n_th = len(levels) - 1
    params = np.concatenate([thresholds_from_codes(codes, len(levels)), np.zeros(x.shape[1])])
    loglik, scores, hess = _probit_derivatives(codes, x, params, n_th)
    for _ in range(max_iter):
        grad = scores.sum(axis=0)
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                f"the probit regression of {name} on the covariates is not identified "
                "(singular information): check the covariates for collinearity"
            ) from exc
        if float(grad @ step) <= 0.0:  # not an ascent direction: gradient step
            step = grad / max(1.0, float(np.abs(grad).max()))
        t = 1.0
        for _halving in range(60):
            new = params + t * step
            tau = new[:n_th]
            if np.all(np.diff(tau) > 0.0):
                new_ll, new_sc, new_h = _probit_derivatives(codes, x, new, n_th)
                if new_ll >= loglik - 1e-12 * abs(loglik):
                    break
            t *= 0.5
        else:
            break
        moved = np.max(np.abs(new - params))
        params, loglik, scores, hess = new, new_ll, new_sc, new_h
        if moved < 1e-12 or np.max(np.abs(scores.sum(axis=0))) < 1e-12:
            break
    grad = scores.sum(axis=0)
    if not np.all(np.isfinite(params)) or np.max(np.abs(grad)) > 1e-6 * max(1.0, len(codes)):
        raise EstimationError(
            f"the probit regression of {name} on the covariates did not converge (a covariate "
            "may separate its categories)"
        )
    # (quasi-)separation: the likelihood keeps rising as a slope grows without bound, and
    # Newton's method stops where the gradient underflows, at a huge standardised slope
    std_slopes = np.abs(params[n_th:]) * x.std(axis=0)
    if std_slopes.size and std_slopes.max() > SEPARATION:
        k = int(np.argmax(std_slopes))
        label = repr(covariates[k]) if len(covariates) > k else f"number {k + 1}"
        raise EstimationError(
            f"the probit regression of {name!r} on the covariates diverges: covariate {label} "
            f"(almost) separates its categories (standardised slope {std_slopes.max():.1f}); "
            "merge categories or drop the covariate"
        )
    eta = x @ params[n_th:]
    return RegressionMargin(
        "ordered",
        tau=params[:n_th].copy(),
        slopes=params[n_th:].copy(),
        eta=eta,
        sc_th=scores[:, :n_th],
        sc_sl=scores[:, n_th:],
        codes=codes,
        levels=tuple(levels),
    )


def linear_regression(values: np.ndarray, x: np.ndarray, name: str = "y") -> RegressionMargin:
    """Normal linear regression of a continuous variable on covariates (ML variance).

    Returns
    -------
    RegressionMargin
        ``tau`` holds the intercept; scores are
        :math:`e/\\sigma^2` (intercept), :math:`x e/\\sigma^2` (slopes) and
        :math:`-1/(2\\sigma^2) + e^2/(2\\sigma^4)` (variance).
    """
    n = values.size
    design = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    resid = values - design @ coef
    var = float(resid @ resid / n)
    if not var > 0.0:
        raise DataError(f"{name} is fitted exactly by the covariates (zero residual variance)")
    base = resid / var
    return RegressionMargin(
        "numeric",
        tau=coef[:1].copy(),
        slopes=coef[1:].copy(),
        eta=x @ coef[1:],
        sc_th=base[:, None],
        sc_sl=x * base[:, None],
        values=values,
        var=var,
        sc_var=-0.5 / var + resid * resid / (2.0 * var * var),
    )
