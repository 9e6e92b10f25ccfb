"""Step two of the two-step estimator: every correlation with the step-one margins fixed.

Ordinal pairs (polychoric) and ordinal-continuous pairs (polyserial) are each solved in one
batch; continuous pairs get the Pearson correlation (complete data) or, when some values are
missing (``missing="pairwise"``), the bivariate-normal ML correlation with the means and
variances fixed at their available-case values (lavaan's ``lav_bvreg``). Every pair uses the
rows where both of its variables are observed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from radsem._warnings import user_stacklevel
from radsem.errors import DataWarning
from radsem.estimation.families.ordinal.margins import Margin
from radsem.estimation.families.ordinal.polychoric import fit_polychoric_pairs
from radsem.estimation.families.ordinal.polyserial import fit_polyserial_pairs
from radsem.estimation.families.ordinal.thresholds import extended_thresholds

__all__ = ["PolychoricBatch", "lower_pairs", "fit_correlations"]

_NORM = 1.0 / np.sqrt(2.0 * np.pi)
_BOUND = 0.999


@dataclass
class PolychoricBatch:
    """The ordinal pairs solved together: ``(vech index, i, j)``, their contingency tables
    (rows = variable ``j``, columns = variable ``i``), extended thresholds and correlations."""

    pairs: list[tuple[int, int, int]]
    tables: np.ndarray
    ext1: np.ndarray
    ext2: np.ndarray
    rho: np.ndarray


def lower_pairs(p: int) -> list[tuple[int, int]]:
    """Lower-triangle pairs (i > j) in lavaan's column-major ``vech(diagonal = FALSE)`` order."""
    return [(i, j) for j in range(p - 1) for i in range(j + 1, p)]


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    xc = x - x.mean()
    yc = y - y.mean()
    den = np.sqrt(np.sum(xc * xc) * np.sum(yc * yc))
    return float(np.sum(xc * yc) / den) if den > 0 else 0.0


def _polychoric(margins, variables, poly, cor, complete):
    kmax = max(len(m.levels) for m in margins if m.kind == "ordered")
    n_p = len(poly)
    tables = np.zeros((n_p, kmax, kmax))
    ext1 = np.empty((n_p, kmax + 1))
    ext2 = np.empty((n_p, kmax + 1))
    sizes = np.empty((n_p, 2), dtype=int)
    start = np.empty(n_p)
    labels = []
    if complete:
        ord_idx = [v for v, m in enumerate(margins) if m.kind == "ordered"]
        code_cor = np.eye(len(margins))
        code_cor[np.ix_(ord_idx, ord_idx)] = np.corrcoef(
            np.stack([margins[v].codes for v in ord_idx]).astype(float)
        )
    for r, (_, i, j) in enumerate(poly):
        # lavaan: rows = variable j (the earlier one), columns = variable i
        row, col = margins[j], margins[i]
        both = row.present & col.present
        k1, k2 = len(row.levels), len(col.levels)
        a, b = row.codes[both], col.codes[both]
        tables[r, :k1, :k2] = np.bincount(a * k2 + b, minlength=k1 * k2).reshape(k1, k2)
        ext1[r] = extended_thresholds(row.tau, kmax + 1)
        ext2[r] = extended_thresholds(col.tau, kmax + 1)
        sizes[r] = (k1, k2)
        # lavaan's start: Pearson correlation of the codes (pairwise complete)
        start[r] = code_cor[j, i] if complete else _pearson(a.astype(float), b.astype(float))
        labels.append(f"{variables[i]} and {variables[j]}")
    fitted = fit_polychoric_pairs(tables, ext1, ext2, start, sizes, labels)
    zero_pairs = []
    for r, (_, i, j) in enumerate(poly):
        cor[i, j] = cor[j, i] = fitted.rho[r]
        if fitted.zero_cells[r]:
            zero_pairs.append((variables[j], variables[i]))
    return PolychoricBatch(poly, tables, ext1, ext2, fitted.rho), zero_pairs


def _polyserial(margins, variables, mixed, cor):
    n_obs = margins[0].present.size
    n_m = len(mixed)
    z = np.empty((n_obs, n_m))
    upper = np.empty((n_obs, n_m))
    lower = np.empty((n_obs, n_m))
    present = np.empty((n_obs, n_m), dtype=bool)
    start = np.empty(n_m)
    labels = []
    for r, (_, i, j) in enumerate(mixed):
        num, ordv = (
            (margins[i], margins[j]) if margins[i].kind == "numeric" else (margins[j], margins[i])
        )
        sd = np.sqrt(num.var)
        z[:, r] = (num.filled_values - num.mean) / sd
        ext = extended_thresholds(ordv.tau)
        codes = ordv.filled_codes
        upper[:, r] = ext[codes + 1]
        lower[:, r] = ext[codes]
        both = num.present & ordv.present
        present[:, r] = both
        # lavaan's start: cor(y, codes) * sd(codes) / sum(dnorm(tau)), halved beyond 0.9
        codes_f = ordv.codes[both].astype(float)
        observed = ordv.codes[ordv.present].astype(float)
        ss = np.sum((observed - observed.mean()) ** 2)
        sd_codes = np.sqrt(ss / max(observed.size - 1, 1) * (n_obs - 1) / n_obs)
        start[r] = (
            _pearson(num.values[both], codes_f)
            * sd_codes
            / np.sum(_NORM * np.exp(-0.5 * ordv.tau**2))
        )
        if abs(start[r]) > 0.9:
            start[r] /= 2.0
        labels.append(f"{variables[i]} and {variables[j]}")
    # scale-free version of lavaan's exclusion rule (see the polyserial module docstring)
    dens = _NORM * np.exp(-0.5 * z * z)
    rho = fit_polyserial_pairs(z, upper, lower, dens, start, labels, present=present)
    for r, (_, i, j) in enumerate(mixed):
        cor[i, j] = cor[j, i] = rho[r]


def _bivariate_normal_rho(zi: np.ndarray, zj: np.ndarray) -> float:
    """ML correlation of standardised pairs with means and variances fixed (lavaan's bvreg)."""

    def negloglik(rho: float) -> float:
        one_minus = 1.0 - rho * rho
        quad = (zi * zi - 2.0 * rho * zi * zj + zj * zj) / one_minus
        return 0.5 * np.sum(np.log(one_minus) + quad)

    result = minimize_scalar(
        negloglik, bounds=(-_BOUND, _BOUND), method="bounded", options={"xatol": 1e-12}
    )
    return float(result.x)


def fit_correlations(
    margins: list[Margin], variables: list[str], pairs: list[tuple[int, int]]
) -> tuple[np.ndarray, tuple[tuple[str, str], ...], PolychoricBatch | None]:
    """Correlation matrix, the ordinal pairs with empty cells, and the polychoric batch."""
    cor = np.eye(len(margins))
    complete = all(m.present.all() for m in margins)
    poly, mixed = [], []
    for q, (i, j) in enumerate(pairs):
        kinds = (margins[i].kind, margins[j].kind)
        if kinds == ("ordered", "ordered"):
            poly.append((q, i, j))
        elif kinds[0] != kinds[1]:
            mixed.append((q, i, j))
        else:
            mi, mj = margins[i], margins[j]
            if complete:
                cor[i, j] = cor[j, i] = _pearson(mi.values, mj.values)
            else:
                both = mi.present & mj.present
                zi = (mi.values[both] - mi.mean) / np.sqrt(mi.var)
                zj = (mj.values[both] - mj.mean) / np.sqrt(mj.var)
                cor[i, j] = cor[j, i] = _bivariate_normal_rho(zi, zj)
    batch, zero_pairs = None, []
    if poly:
        batch, zero_pairs = _polychoric(margins, variables, poly, cor, complete)
    if mixed:
        _polyserial(margins, variables, mixed, cor)
    for i, j in pairs:
        if abs(cor[i, j]) > 0.99:
            warnings.warn(
                f"the correlation between {variables[i]} and {variables[j]} is (nearly) 1.0 "
                f"({cor[i, j]:.4f})",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
    return cor, tuple(zero_pairs), batch
