"""Weighted least squares on thresholds and polychoric correlations (DWLS, WLS, ULS).

The fit function is lavaan's::

    F(theta) = sum_g ((n_g - 1) / N) 1/2 (s_g - sigma_g(theta))' W_g (s_g - sigma_g(theta))

with ``s_g`` the sample thresholds and polychoric correlations (``WLS.obs``), ``sigma_g`` their
model-implied counterparts (:class:`~radsem.estimation.families.ordinal.implied.OrdinalModel`) and
``W_g`` the weight matrix: ``diag(Gamma_g)^-1`` for DWLS (the diagonal of the asymptotic
covariance of ``s_g``, times ``N``), ``Gamma_g^-1`` for WLS and ``I`` for ULS. The test statistic
is ``2 N F``. :class:`OrdinalProblem` has the interface
:func:`radsem.estimation.core.optimize.minimize`
expects (``fmin``, ``gradient``, ``information``, ``constraints``): Gauss-Newton on
``sum_g (n_g/N) Delta_g' W_g Delta_g``.
"""

from __future__ import annotations

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.core.constraints import Constraints

__all__ = ["OrdinalProblem", "weight_matrix", "WLS_ESTIMATORS"]

#: least-squares discrepancies available for categorical data
WLS_ESTIMATORS = ("DWLS", "WLS", "ULS")


def weight_matrix(stats, estimator: str) -> np.ndarray:
    """The weight matrix ``W`` of one group (lavaan's ``WLS.V``)."""
    k = stats.wls_obs.size
    if estimator == "DWLS":
        return np.diag(np.asarray(stats.wls_v, float))
    if estimator == "ULS":
        return np.eye(k)
    if estimator == "WLS":
        try:
            return np.linalg.inv(np.asarray(stats.gamma, float))
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the asymptotic covariance matrix (Gamma) of the thresholds and polychoric "
                "correlations is singular, so full WLS is not possible; use estimator='WLSMV' "
                "(diagonal weights)"
            ) from exc
    raise EstimationError(f"unknown least-squares estimator {estimator!r}")


class OrdinalProblem:
    """An :class:`OrdinalModel` bound to categorical sample statistics and a weight matrix.

    Parameters
    ----------
    spec : ModelSpec
    model : OrdinalModel
    stats : list of CategoricalStats
        One per group (``wls_obs``, ``wls_v``, ``gamma``, ``nobs``).
    estimator : {"DWLS", "WLS", "ULS"}
    """

    def __init__(self, spec, model, stats: list, estimator: str = "DWLS") -> None:
        self.spec = spec
        self.model = model
        self.stats = list(stats)
        self.estimator_name = estimator
        self.W = [weight_matrix(st, estimator) for st in self.stats]
        self.nobs = np.array([st.nobs for st in self.stats], dtype=float)
        self.ntotal = float(self.nobs.sum())
        # lavaan weights the least-squares discrepancies by (n_g - 1) / N
        self.weights = (self.nobs - 1.0) / self.ntotal
        self.meanstructure = True
        self.constraints = Constraints(spec, model._raw_values, model.nfree)
        size = model.n_marginal + model.cor_r.size
        for st in self.stats:
            if st.wls_obs.size != size:
                raise EstimationError(
                    f"the sample statistics have {st.wls_obs.size} elements but the model "
                    f"implies {size}; thresholds in the model syntax must match the "
                    "number of categories in the data"
                )

    @property
    def nfree(self) -> int:
        """Number of free parameters (before equality constraints)."""
        return self.model.nfree

    def residuals(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group ``s_g - sigma_g(theta)``."""
        return [
            st.wls_obs - est for st, est in zip(self.stats, self.model.wls_est(theta), strict=True)
        ]

    def fmin(self, theta: np.ndarray) -> float:
        """``sum_g ((n_g - 1)/N) 1/2 e_g' W_g e_g`` (lavaan's ``fmin``)."""
        total = 0.0
        for w, wm, e in zip(self.weights, self.W, self.residuals(theta), strict=True):
            total += w * 0.5 * float(e @ wm @ e)
        return total if np.isfinite(total) else np.inf

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """``-sum_g ((n_g - 1)/N) Delta_g' W_g e_g``."""
        grad = np.zeros(self.nfree)
        for w, wm, e, d in zip(
            self.weights, self.W, self.residuals(theta), self.model.jacobian(theta), strict=True
        ):
            grad -= w * (d.T @ (wm @ e))
        return grad

    def information(self, theta: np.ndarray) -> np.ndarray:
        """``sum_g ((n_g - 1)/N) Delta_g' W_g Delta_g`` (scaled as the fit function)."""
        info = np.zeros((self.nfree, self.nfree))
        for w, wm, d in zip(self.weights, self.W, self.model.jacobian(theta), strict=True):
            info += w * (d.T @ wm @ d)
        return info
