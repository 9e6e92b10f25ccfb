"""Fold-fitted biomarker scorers for :class:`radsem.compare.ScoreCox`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from radsem.errors import DataError, EstimationError

__all__ = ["sem_scorer"]


def sem_scorer(
    model: str, *, kind: str = "cfa", method: str = "regression", **options
) -> Callable[[pd.DataFrame], Callable[[pd.DataFrame], pd.DataFrame]]:
    """A scorer that fits an SEM on the training fold and scores any patients with it.

    Parameters
    ----------
    model : str
        lavaan model syntax (e.g. ``models/hpv_mechanisms_cfa.lav``).
    kind : {"cfa", "sem"}
        :func:`radsem.cfa` or :func:`radsem.sem`.
    method : {"regression", "bartlett"}
        Factor-score method of ``SemFit.predict``.
    **options
        Passed to the fit (``estimator=``, ...).

    Returns
    -------
    callable
        ``scorer(train) -> transform``, ``transform(frame) -> DataFrame`` of factor scores (one
        column per latent variable), for ``ScoreCox(scorer=...)``.

    Notes
    -----
    Both score methods are affine in the indicators, s = nu + W (y - mu), with W, mu and nu
    from the training fit. The map is recovered exactly from the training rows' scores by least
    squares of s on [1, y] (residuals are checked to be at rounding level), then applied to new
    patients, so test patients never enter the SEM fit. Indicators must be complete (single
    group).
    """
    if kind not in ("cfa", "sem"):
        raise DataError(f"kind must be 'cfa' or 'sem', got {kind!r}")

    def scorer(train: pd.DataFrame):
        import radsem

        fit = getattr(radsem, kind)(model, train, **options)
        observed = list(fit.spec.observed)
        Y = _indicators(train, observed)
        S = fit.predict(method=method)
        if "group" in S.columns:
            raise DataError("sem_scorer supports single-group models only")
        if len(S) != len(Y) or S.isna().any().any():
            raise DataError("the SEM dropped training rows; indicators must be complete")
        A = np.column_stack([np.ones(len(Y)), Y])
        B, *_ = np.linalg.lstsq(A, S.to_numpy(), rcond=None)
        resid = np.abs(A @ B - S.to_numpy()).max()
        if not resid <= 1e-6 * max(1.0, np.abs(S.to_numpy()).max()):
            raise EstimationError(
                f"factor scores are not affine in the indicators on the "
                f"training fold (max residual {resid:.2g}); more training "
                "rows than indicators are needed"
            )
        names = list(S.columns)

        def transform(frame: pd.DataFrame) -> pd.DataFrame:
            Yn = _indicators(frame, observed)
            return pd.DataFrame(
                np.column_stack([np.ones(len(Yn)), Yn]) @ B, index=frame.index, columns=names
            )

        transform.fit_ = fit
        return transform

    return scorer


def _indicators(frame: pd.DataFrame, observed: list[str]) -> np.ndarray:
    missing = [c for c in observed if c not in frame.columns]
    if missing:
        raise DataError(f"indicator column(s) {', '.join(missing[:5])} not in the data")
    Y = frame[observed].to_numpy(dtype=float)
    if not np.isfinite(Y).all():
        raise DataError("sem_scorer needs complete indicators (missing values found)")
    return Y
