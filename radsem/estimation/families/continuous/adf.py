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


def _gamma(st: SampleStats, meanstructure: bool) -> np.ndarray:
    from radsem.estimation.robust.inference_sb import gamma_adf_x

    if np.isnan(st.data).any():
        raise EstimationError("the WLS / DWLS weight matrix needs complete data")
    return gamma_adf_x(st.data, meanstructure)


class WLS(_LeastSquares):
    """Weighted least squares with the full ADF weight ``W = Gamma^-1``."""

    name = "WLS"

    def _make_weight(self, st: SampleStats) -> np.ndarray:
        g = _gamma(st, self.meanstructure)
        try:
            return np.linalg.inv(g)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the ADF weight matrix (Gamma) is singular: WLS needs more cases than sample "
                "moments; try estimator='DWLS'"
            ) from exc


class DWLS(_LeastSquares):
    """Diagonally weighted least squares, ``W = diag(Gamma)^-1``."""

    name = "DWLS"

    def _make_weight(self, st: SampleStats) -> np.ndarray:
        d = np.diag(_gamma(st, self.meanstructure))
        if np.any(d <= 0):
            raise EstimationError("the ADF weight matrix (Gamma) has a zero diagonal entry")
        return np.diag(1.0 / d)

    def quadratic(self, st, mu, sigma, d: np.ndarray) -> np.ndarray:
        """``d' W d`` for the diagonal weight."""
        w = np.diag(self._w(st))
        return d.T @ (w[:, None] * d)
