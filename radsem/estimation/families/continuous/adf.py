"""Least-squares estimators with an ADF weight for continuous data (lavaan's ``WLS``, ``DWLS``).

``WLS`` (Browne's asymptotically distribution-free estimator) weights the residual moments
``e = (ybar - mu, vech(S - Sigma))`` by ``W = Gamma^-1``, ``DWLS`` by the inverse of the
diagonal of ``Gamma``, with ``Gamma`` the ADF covariance of the sample moments
(:func:`radsem.estimation.robust.inference_sb.gamma_adf_x`, divisor ``N``), as lavaan's
``NACOV``; ``S`` is the unbiased covariance (lavaan's sample statistics for least squares).
"""

from __future__ import annotations

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.core.objective import _LeastSquares
from radsem.estimation.core.samplestats import SampleStats

__all__ = ["WLS", "DWLS"]


def _gamma(st: SampleStats, meanstructure: bool, x_idx) -> np.ndarray:
    from radsem.estimation.robust.inference_sb import gamma_adf_x

    if np.isnan(st.data).any():
        raise EstimationError("the WLS / DWLS weight matrix needs complete data")
    return gamma_adf_x(st.data, meanstructure, x_idx)


class _ADF(_LeastSquares):
    def __init__(self, meanstructure: bool, x_idx=()) -> None:
        super().__init__(meanstructure)
        self.x_idx = tuple(int(i) for i in x_idx)


class WLS(_ADF):
    """Weighted least squares with the full ADF weight ``W = Gamma^-1``.

    With fixed exogenous covariates (``x_idx``) the rows of their moments in ``Gamma`` are
    zero and ``W`` is the inverse on the other rows (zeros elsewhere), as lavaan's
    ``lav_matrix_symmetric_inverse``.
    """

    name = "WLS"

    def _make_weight(self, st: SampleStats) -> np.ndarray:
        from radsem.estimation.robust.fiml_correction import zero_safe_inverse

        g = _gamma(st, self.meanstructure, self.x_idx)
        try:
            return zero_safe_inverse(g) if self.x_idx else np.linalg.inv(g)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the ADF weight matrix (Gamma) is singular: WLS needs more cases than sample "
                "moments; try estimator='DWLS'"
            ) from exc


class DWLS(_ADF):
    """Diagonally weighted least squares, ``W = diag(Gamma)^-1`` (0 for the zero entries of
    fixed covariates' moments, as lavaan)."""

    name = "DWLS"

    def _make_weight(self, st: SampleStats) -> np.ndarray:
        d = np.diag(_gamma(st, self.meanstructure, self.x_idx))
        zero = d == 0 if self.x_idx else np.zeros(d.shape, bool)
        if np.any(d[~zero] <= 0):
            raise EstimationError("the ADF weight matrix (Gamma) has a zero diagonal entry")
        out = np.zeros_like(d)
        out[~zero] = 1.0 / d[~zero]
        return np.diag(out)

    def quadratic(self, st, mu, sigma, d: np.ndarray) -> np.ndarray:
        """``d' W d`` for the diagonal weight."""
        w = np.diag(self._w(st))
        return d.T @ (w[:, None] * d)
