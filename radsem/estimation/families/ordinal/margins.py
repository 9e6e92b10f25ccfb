"""Step one of the two-step estimator: every variable on its own.

Ordinal variables get integer codes and probit thresholds, continuous variables their ML mean
and variance (divisor N), each from its available cases (with ``missing="pairwise"`` rows where
the variable is missing are simply not used; with listwise deletion there are none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.estimation.families.ordinal.coding import encode_ordinal
from radsem.estimation.families.ordinal.thresholds import thresholds_from_codes

__all__ = ["Margin", "fit_margins"]


@dataclass
class Margin:
    """One variable after step one.

    ``codes`` (ordinal; ``-1`` where missing) or ``values`` (continuous; NaN where missing),
    ``present`` marks the observed rows, ``tau`` the thresholds, ``mean``/``var`` the ML moments
    of a continuous variable (0 and 1 for an ordinal one).
    """

    kind: str  # "ordered" | "numeric"
    present: np.ndarray
    codes: np.ndarray | None = None
    levels: tuple = ()
    tau: np.ndarray | None = None
    values: np.ndarray | None = None
    mean: float = 0.0
    var: float = 1.0

    @property
    def filled_codes(self) -> np.ndarray:
        """Codes with missing entries replaced by 0 (results for those rows are masked)."""
        return np.where(self.present, self.codes, 0)

    @property
    def filled_values(self) -> np.ndarray:
        """Values with missing entries replaced by the mean (masked downstream)."""
        return np.where(self.present, self.values, self.mean)


def _numeric_column(series: pd.Series, name: str) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
        raise DataError(f"column {name!r} is not numeric; declare it in ordered= if it is ordinal")
    if series.dtype == bool:
        return series.to_numpy(dtype=float)
    try:
        values = series.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"column {name!r} is not numeric ({exc})") from exc
    if np.any(np.isinf(values)):
        raise DataError(f"column {name!r} contains non-finite values (inf)")
    return values


def fit_margins(
    frame: pd.DataFrame,
    variables: Sequence[str],
    ordered: Sequence[str],
    levels: Mapping[str, Sequence] | None,
) -> list[Margin]:
    """Codes and thresholds of the ordinal variables, moments of the continuous ones.

    Raises
    ------
    DataError
        See :func:`~radsem.estimation.families.ordinal.coding.encode_ordinal`; a continuous column
        that
        is not numeric, has infinite values, fewer than two observed values or zero variance.
    """
    out = []
    ordered_set = set(ordered)
    for name in variables:
        if name in ordered_set:
            codes, labels = encode_ordinal(
                frame[name], name=name, levels=None if levels is None else levels.get(name)
            )
            present = codes >= 0
            tau = thresholds_from_codes(codes[present], len(labels))
            out.append(Margin("ordered", present, codes=codes, levels=labels, tau=tau))
        else:
            values = _numeric_column(frame[name], name)
            present = ~np.isnan(values)
            observed = values[present]
            if observed.size < 2:
                raise DataError(f"continuous column {name!r} has fewer than two observed values")
            mean = float(observed.mean())
            var = float(np.mean((observed - mean) ** 2))
            if not var > 0.0:
                raise DataError(f"continuous column {name!r} has zero variance")
            out.append(Margin("numeric", present, values=values, mean=mean, var=var))
    return out
