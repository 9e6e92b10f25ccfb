"""Sample statistics of ordered-categorical (and mixed) data for WLS/DWLS estimation.

One call computes, for one group, everything lavaan 0.6-14 stores in its sample statistics for
categorical data: thresholds, the polychoric / polyserial / Pearson correlation matrix (as
covariances for continuous variables), the vector ``wls.obs``, its asymptotic covariance
``gamma`` (NACOV) and the diagonal DWLS weights.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem.errors import DataError, DataWarning, ModelSpecificationError
from radsem.estimation.ordinal.coding import encode_ordinal
from radsem.estimation.ordinal.nacov import ScoreBlocks, muthen_gamma
from radsem.estimation.ordinal.polychoric import fit_polychoric_pairs, polychoric_cell_scores
from radsem.estimation.ordinal.polyserial import fit_polyserial_pairs, polyserial_scores
from radsem.estimation.ordinal.thresholds import (
    extended_thresholds,
    threshold_scores,
    thresholds_from_codes,
)

__all__ = ["CategoricalStats", "categorical_sample_stats"]

_NORM = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class CategoricalStats:
    """Sample statistics of one group with ordinal variables (lavaan's layout).

    Attributes
    ----------
    variables : tuple of str
        Observed variables in model order.
    ordered : tuple of str
        The ordinal ones among them.
    nobs : int
        Number of observations used (after listwise deletion).
    thresholds : dict of str -> numpy.ndarray
        Thresholds of each ordinal variable, increasing.
    cov : numpy.ndarray
        ``lavInspect(fit, "sampstat")$cov``: polychoric correlations between ordinal variables,
        polyserial correlation times the standard deviation between an ordinal and a continuous
        variable, ML covariances between continuous variables, 1 / ML variances on the diagonal.
    mean : numpy.ndarray
        ML means of continuous variables, 0 for ordinal variables.
    wls_obs : numpy.ndarray
        ``lavInspect(fit, "wls.obs")``: thresholds (minus the mean for a continuous variable)
        variable by variable, then the variances of continuous variables, then the
        off-diagonal of ``cov`` column by column (``vech(cov, diagonal = FALSE)``).
    gamma : numpy.ndarray
        ``lavInspect(fit, "gamma")``: N times the asymptotic covariance of ``wls_obs``.
    wls_v : numpy.ndarray
        Diagonal DWLS weights, ``1 / diag(gamma)`` (``diag(lavInspect(fit, "wls.v"))``).
    wls_labels : tuple of str
        A name per element of ``wls_obs``: ``"x1|t1"``, ``"y1~1"`` (minus mean), ``"y1~~y1"``,
        ``"x1~~x2"``.
    levels : dict of str -> tuple
        Category labels of each ordinal variable, in order.
    zero_cell_pairs : tuple of (str, str)
        Pairs of ordinal variables whose contingency table has an empty cell.
    """

    variables: tuple[str, ...]
    ordered: tuple[str, ...]
    nobs: int
    thresholds: dict[str, np.ndarray]
    cov: np.ndarray
    mean: np.ndarray
    wls_obs: np.ndarray
    gamma: np.ndarray
    wls_v: np.ndarray
    wls_labels: tuple[str, ...] = ()
    levels: dict[str, tuple] = field(default_factory=dict)
    zero_cell_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def cor(self) -> np.ndarray:
        """The correlation matrix (``cov`` rescaled to unit diagonal)."""
        sd = np.sqrt(np.diag(self.cov))
        return self.cov / np.outer(sd, sd)


def _check_inputs(data, variables, ordered, exogenous):
    if exogenous:
        raise ModelSpecificationError(
            "exogenous covariates with ordinal outcomes (lavaan's conditional.x = TRUE) are not "
            f"supported: {list(exogenous)}; model them as endogenous (fixed.x = FALSE) or remove "
            "them"
        )
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    variables = [str(v) for v in variables]
    if len(set(variables)) != len(variables):
        raise DataError(f"variables are repeated: {variables}")
    if not variables:
        raise DataError("no variables given")
    missing_cols = [v for v in variables if v not in data.columns]
    if missing_cols:
        raise DataError(f"variables not found in the data: {missing_cols}")
    ordered = [str(v) for v in ordered]
    unknown = [v for v in ordered if v not in variables]
    if unknown:
        raise DataError(f"ordered variables {unknown} are not among the model's variables")
    if not ordered:
        raise DataError("no ordered variables: use the continuous sample statistics instead")
    return variables, [v for v in variables if v in set(ordered)]


def _listwise(data: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    frame = data[variables]
    complete = frame.notna().all(axis=1)
    dropped = int((~complete).sum())
    if dropped:
        warnings.warn(
            f"{dropped} of {len(frame)} rows have missing values in the model's variables and "
            "were removed (listwise deletion, lavaan's default with ordinal data)",
            DataWarning,
            stacklevel=3,
        )
        frame = frame.loc[complete]
    return frame


def _numeric_column(series: pd.Series, name: str) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
        raise DataError(f"column {name!r} is not numeric; declare it in ordered= if it is ordinal")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise DataError(f"column {name!r} contains non-finite values")
    return values


@dataclass
class _Univariate:
    kind: str  # "ordered" | "numeric"
    codes: np.ndarray | None = None
    levels: tuple = ()
    tau: np.ndarray | None = None
    values: np.ndarray | None = None
    mean: float = 0.0
    var: float = 1.0


def _step_one(frame, variables, ordered, levels):
    uni = []
    ordered_set = set(ordered)
    for name in variables:
        if name in ordered_set:
            codes, labels = encode_ordinal(
                frame[name], name=name, levels=None if levels is None else levels.get(name)
            )
            tau = thresholds_from_codes(codes, len(labels))
            uni.append(_Univariate("ordered", codes=codes, levels=labels, tau=tau))
        else:
            values = _numeric_column(frame[name], name)
            mean = float(values.mean())
            var = float(np.mean((values - mean) ** 2))
            if not var > 0.0:
                raise DataError(f"continuous column {name!r} has zero variance")
            uni.append(_Univariate("numeric", values=values, mean=mean, var=var))
    return uni


def _pearson(x, y):
    xc = x - x.mean()
    yc = y - y.mean()
    den = np.sqrt(np.sum(xc * xc) * np.sum(yc * yc))
    return float(np.sum(xc * yc) / den) if den > 0 else 0.0


def _pairs(p):
    """Lower-triangle pairs (i > j) in lavaan's column-major vech order."""
    return [(i, j) for j in range(p - 1) for i in range(j + 1, p)]


@dataclass
class _PolyBatch:
    """The ordinal pairs solved together: (pstar index, i, j), tables, thresholds, rho."""

    pairs: list[tuple[int, int, int]]
    tables: np.ndarray
    ext1: np.ndarray
    ext2: np.ndarray
    rho: np.ndarray


def _fit_correlations(uni, variables, pairs):
    n_var = len(uni)
    cor = np.eye(n_var)
    poly = [
        (q, i, j)
        for q, (i, j) in enumerate(pairs)
        if uni[i].kind == "ordered" and uni[j].kind == "ordered"
    ]
    mixed = [(q, i, j) for q, (i, j) in enumerate(pairs) if uni[i].kind != uni[j].kind]
    zero_pairs = []
    batch = None
    if poly:
        kmax = max(len(u.levels) for u in uni if u.kind == "ordered")
        n_p = len(poly)
        tables = np.zeros((n_p, kmax, kmax))
        ext1 = np.empty((n_p, kmax + 1))
        ext2 = np.empty((n_p, kmax + 1))
        sizes = np.empty((n_p, 2), dtype=int)
        start = np.empty(n_p)
        labels = []
        ord_idx = [v for v, u in enumerate(uni) if u.kind == "ordered"]
        code_cor = np.eye(n_var)
        code_cor[np.ix_(ord_idx, ord_idx)] = np.corrcoef(
            np.stack([uni[v].codes for v in ord_idx]).astype(float)
        )
        for r, (_, i, j) in enumerate(poly):
            # lavaan: rows = variable j (the earlier one), columns = variable i
            row, col = uni[j], uni[i]
            k1, k2 = len(row.levels), len(col.levels)
            tables[r, :k1, :k2] = np.bincount(
                row.codes * k2 + col.codes, minlength=k1 * k2
            ).reshape(k1, k2)
            ext1[r] = extended_thresholds(row.tau, kmax + 1)
            ext2[r] = extended_thresholds(col.tau, kmax + 1)
            sizes[r] = (k1, k2)
            start[r] = code_cor[j, i]  # lavaan's start: Pearson correlation of the codes
            labels.append(f"{variables[i]} and {variables[j]}")
        fitted = fit_polychoric_pairs(tables, ext1, ext2, start, sizes, labels)
        for r, (_, i, j) in enumerate(poly):
            cor[i, j] = cor[j, i] = fitted.rho[r]
            if fitted.zero_cells[r]:
                zero_pairs.append((variables[j], variables[i]))
        batch = _PolyBatch(poly, tables, ext1, ext2, fitted.rho)
    if mixed:
        n_obs = len(uni[0].codes if uni[0].codes is not None else uni[0].values)
        n_m = len(mixed)
        z = np.empty((n_obs, n_m))
        upper = np.empty((n_obs, n_m))
        lower = np.empty((n_obs, n_m))
        dens = np.empty((n_obs, n_m))
        start = np.empty(n_m)
        labels = []
        for r, (_, i, j) in enumerate(mixed):
            num, ordv = (uni[i], uni[j]) if uni[i].kind == "numeric" else (uni[j], uni[i])
            sd = np.sqrt(num.var)
            z[:, r] = (num.values - num.mean) / sd
            ext = extended_thresholds(ordv.tau)
            upper[:, r] = ext[ordv.codes + 1]
            lower[:, r] = ext[ordv.codes]
            # scale-free version of lavaan's rule (see polyserial module docstring)
            dens[:, r] = _NORM * np.exp(-0.5 * z[:, r] ** 2)
            codes = ordv.codes.astype(float)
            sd_codes = codes.std()
            start[r] = (
                _pearson(num.values, codes) * sd_codes / np.sum(_NORM * np.exp(-0.5 * ordv.tau**2))
            )
            if abs(start[r]) > 0.9:
                start[r] /= 2.0
            labels.append(f"{variables[i]} and {variables[j]}")
        rho = fit_polyserial_pairs(z, upper, lower, dens, start, labels)
        for r, (_, i, j) in enumerate(mixed):
            cor[i, j] = cor[j, i] = rho[r]
    for i, j in pairs:
        if uni[i].kind == "numeric" and uni[j].kind == "numeric":
            cor[i, j] = cor[j, i] = _pearson(uni[i].values, uni[j].values)
        if abs(cor[i, j]) > 0.99:
            warnings.warn(
                f"the correlation between {variables[i]} and {variables[j]} is (nearly) 1.0 "
                f"({cor[i, j]:.4f})",
                DataWarning,
                stacklevel=3,
            )
    return cor, tuple(zero_pairs), batch


def _layout(uni):
    """Column indices of every variable's univariate parameters in the score matrix."""
    th_cols, col = [], 0
    for u in uni:
        width = len(u.tau) if u.kind == "ordered" else 1
        th_cols.append(np.arange(col, col + width))
        col += width
    n_th = col
    var_col = {}
    for v, u in enumerate(uni):
        if u.kind == "numeric":
            var_col[v] = col
            col += 1
    return th_cols, var_col, n_th, col


def _univariate_scores(uni, th_cols, var_col, n_uni, n_obs):
    scores = np.zeros((n_obs, n_uni))
    for v, u in enumerate(uni):
        if u.kind == "ordered":
            scores[:, th_cols[v]] = threshold_scores(u.codes, u.tau)
        else:
            resid = u.values - u.mean
            scores[:, th_cols[v][0]] = resid / u.var
            scores[:, var_col[v]] = -0.5 / u.var + resid * resid / (2.0 * u.var * u.var)
    return scores


def _polychoric_scores(uni, batch, th_cols, sc_cor, a21):
    d_rho, d_th1, d_th2 = polychoric_cell_scores(batch.ext1, batch.ext2, batch.rho)
    weight = batch.tables * d_rho
    a_row = np.einsum("pab,pabk->pk", weight, d_th1)
    a_col = np.einsum("pab,pabk->pk", weight, d_th2)
    q_idx = np.array([q for q, _, _ in batch.pairs])
    codes = {v: uni[v].codes for _, i, j in batch.pairs for v in (i, j)}
    rows = np.stack([codes[j] for _, _, j in batch.pairs], axis=1)
    cols = np.stack([codes[i] for _, i, _ in batch.pairs], axis=1)
    # rows of the table = variable j, columns = variable i
    sc_cor[:, q_idx] = d_rho[np.arange(q_idx.size)[None, :], rows, cols]
    for r, (q, i, j) in enumerate(batch.pairs):
        a21[q, th_cols[j]] = a_row[r, : th_cols[j].size]
        a21[q, th_cols[i]] = a_col[r, : th_cols[i].size]


def _pair_scores(uni, pairs, cor, batch, th_cols, var_col, n_uni, n_obs):
    pstar = len(pairs)
    sc_cor = np.zeros((n_obs, pstar))
    a21 = np.zeros((pstar, n_uni))
    if batch is not None:
        _polychoric_scores(uni, batch, th_cols, sc_cor, a21)
    h21 = np.zeros((pstar, n_uni))
    h22 = np.eye(pstar)
    for q, (i, j) in enumerate(pairs):
        rho = cor[i, j]
        ui, uj = uni[i], uni[j]
        if ui.kind == "ordered" and uj.kind == "ordered":
            continue  # all ordinal pairs at once below
        elif ui.kind == "numeric" and uj.kind == "numeric":
            sd_i, sd_j = np.sqrt(ui.var), np.sqrt(uj.var)
            ci, cj = ui.values - ui.mean, uj.values - uj.mean
            one_minus = 1.0 - rho * rho
            quad = ci * ci / ui.var - 2.0 * rho * ci * cj / (sd_i * sd_j) + cj * cj / uj.var
            s_rho = (
                rho / one_minus
                + ci * cj / (sd_i * sd_j * one_minus)
                - quad * rho / (one_minus * one_minus)
            )
            mu_i = (ci / ui.var - rho * cj / (sd_i * sd_j)) / one_minus
            mu_j = (cj / uj.var - rho * ci / (sd_i * sd_j)) / one_minus
            var_i = -0.5 / ui.var + (
                ci * ci / ui.var**2 - rho * ci * cj / (ui.var * sd_i * sd_j)
            ) / (2.0 * one_minus)
            var_j = -0.5 / uj.var + (
                cj * cj / uj.var**2 - rho * ci * cj / (uj.var * sd_i * sd_j)
            ) / (2.0 * one_minus)
            sc_cor[:, q] = s_rho
            a21[q, th_cols[i][0]] = s_rho @ mu_i
            a21[q, th_cols[j][0]] = s_rho @ mu_j
            a21[q, var_col[i]] = s_rho @ var_i
            a21[q, var_col[j]] = s_rho @ var_j
            h21[q, var_col[i]] = sd_j * rho / (2.0 * sd_i)
            h21[q, var_col[j]] = sd_i * rho / (2.0 * sd_j)
            h22[q, q] = sd_i * sd_j
        else:
            c, o = (i, j) if ui.kind == "numeric" else (j, i)
            num, ordv = uni[c], uni[o]
            sd = np.sqrt(num.var)
            z = (num.values - num.mean) / sd
            ext = extended_thresholds(ordv.tau)
            sc = polyserial_scores(
                z, ext[ordv.codes + 1], ext[ordv.codes], ordv.codes, len(ordv.tau), sd, rho
            )
            sc_cor[:, q] = sc["rho"]
            a21[q, th_cols[c][0]] = sc["rho"] @ sc["mu"]
            a21[q, var_col[c]] = sc["rho"] @ sc["var"]
            a21[q, th_cols[o]] = sc["rho"] @ sc["th"]
            h21[q, var_col[c]] = rho / (2.0 * sd)
            h22[q, q] = sd
    return sc_cor, a21, h21, h22


def categorical_sample_stats(
    data: pd.DataFrame,
    variables: Sequence[str],
    ordered: Sequence[str],
    *,
    levels: Mapping[str, Sequence] | None = None,
    exogenous: Sequence[str] = (),
    nacov: bool | None = True,
) -> CategoricalStats:
    """Thresholds, polychoric/polyserial correlations, ``wls.obs``, gamma and DWLS weights.

    The two-step estimator of lavaan 0.6-14 for one group (no covariates): thresholds and
    continuous means/variances from each margin, then every correlation by maximum likelihood
    with them fixed, then the asymptotic covariance of all of them from casewise scores.

    Parameters
    ----------
    data : pandas.DataFrame
        One group's data. Ordinal columns may hold integers, strings or ordered pandas
        Categoricals (category order = level order; otherwise sorted observed values).
    variables : sequence of str
        Observed variables in model order (``spec.observed``).
    ordered : sequence of str
        The ordinal variables among them (at least one); the others are continuous.
    levels : mapping, optional
        Category labels per ordinal variable, to code every group of a multi-group analysis on
        the same categories (a category empty in this group is then an error, as in lavaan).
    exogenous : sequence of str, optional
        Exogenous covariates; not supported (lavaan's ``conditional.x``), raises.
    nacov : bool or None
        Compute ``gamma`` and ``wls_v`` (default). ``False``: skip them (filled with NaN), for
        correlations only. ``None``: compute them unless a correlation is exactly +-1 (then NaN)
        instead of raising.

    Returns
    -------
    CategoricalStats

    Raises
    ------
    ModelSpecificationError
        When exogenous covariates are given.
    DataError
        Unknown columns, an ordinal column with one category, empty categories, more than 50
        categories, non-finite or non-numeric continuous values.

    Warns
    -----
    DataWarning
        Rows with missing values removed (listwise); a correlation beyond 0.99; a 2 x 2 table
        with two empty cells.

    Notes
    -----
    See :mod:`radsem.estimation.ordinal.polychoric`, :mod:`~radsem.estimation.ordinal.
    polyserial` and :mod:`~radsem.estimation.ordinal.nacov` for the maths. Checked against
    ``lavInspect(fit, "sampstat" / "wls.obs" / "gamma" / "wls.v")`` of
    ``lavaan::cfa(..., ordered = ..., estimator = "WLSMV")`` in lavaan 0.6-14: the
    HolzingerSwineford1939 indicators cut into 3 categories, binary items, 5-category items
    with empty cells, and ordinal + continuous mixtures.

    Examples
    --------
    >>> import pandas as pd
    >>> from radsem.datasets import load
    >>> from radsem.estimation.ordinal import categorical_sample_stats, cut_into_categories
    >>> hs = cut_into_categories(load("HolzingerSwineford1939")[["x1", "x2", "x3"]], 3)
    >>> stats = categorical_sample_stats(hs, ["x1", "x2", "x3"], ["x1", "x2", "x3"])
    >>> stats.wls_obs.shape, stats.gamma.shape
    ((9,), (9, 9))
    """
    variables, ordered = _check_inputs(data, variables, ordered, exogenous)
    frame = _listwise(data, variables)
    if len(frame) < 2:
        raise DataError(f"only {len(frame)} complete rows: too few to estimate correlations")
    # small matrices: BLAS threads cost more than they save (and the caller may be parallel)
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _compute(frame, variables, ordered, levels, nacov)


class _NoLimit:
    def limit(self, **_kwargs):
        return contextlib.nullcontext()


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return _NoLimit()
    return ThreadpoolController()


def _gamma(uni, pairs, cor, batch, n_obs):
    th_cols, var_col, n_th, n_uni = _layout(uni)
    sc_uni = _univariate_scores(uni, th_cols, var_col, n_uni, n_obs)
    sc_cor, a21, h21, h22 = _pair_scores(uni, pairs, cor, batch, th_cols, var_col, n_uni, n_obs)
    groups = []
    for v in range(len(uni)):
        cols = list(th_cols[v]) + ([var_col[v]] if v in var_col else [])
        groups.append(np.array(cols))
    mean_cols = np.array(
        [th_cols[v][0] for v, u in enumerate(uni) if u.kind == "numeric"], dtype=int
    )
    return muthen_gamma(ScoreBlocks(sc_uni, groups, sc_cor, a21, h21, h22, mean_cols))


def _compute(frame, variables, ordered, levels, nacov) -> CategoricalStats:
    uni = _step_one(frame, variables, ordered, levels)
    n_obs = len(frame)
    pairs = _pairs(len(variables))
    cor, zero_pairs, batch = _fit_correlations(uni, variables, pairs)
    sd = np.array([np.sqrt(u.var) for u in uni])
    cov = cor * np.outer(sd, sd)
    perfect = [(i, j) for i, j in pairs if abs(cor[i, j]) >= 1.0]
    if perfect and nacov is True:
        i, j = perfect[0]
        raise DataError(
            f"the polychoric correlation of {variables[j]} and {variables[i]} is "
            f"{cor[i, j]:+.0f} (a 2 x 2 table with two empty cells): its sampling variance, and "
            "so the WLS weights, are not defined; drop or merge one of the two variables"
        )
    want = nacov is None or bool(nacov)
    if want and not perfect:
        gamma = _gamma(uni, pairs, cor, batch, n_obs)
    else:
        size = sum(len(u.tau) if u.kind == "ordered" else 2 for u in uni) + len(pairs)
        gamma = np.full((size, size), np.nan)

    th_values, labels = [], []
    for name, u in zip(variables, uni, strict=True):
        if u.kind == "ordered":
            th_values.extend(u.tau)
            labels.extend(f"{name}|t{k + 1}" for k in range(len(u.tau)))
        else:
            th_values.append(-u.mean)
            labels.append(f"{name}~1")
    num_vars = [v for v, u in enumerate(uni) if u.kind == "numeric"]
    wls_obs = np.concatenate(
        [
            np.asarray(th_values, dtype=float),
            np.array([uni[v].var for v in num_vars]),
            np.array([cov[i, j] for i, j in pairs]),
        ]
    )
    labels.extend(f"{variables[v]}~~{variables[v]}" for v in num_vars)
    labels.extend(f"{variables[j]}~~{variables[i]}" for i, j in pairs)
    diag = np.diag(gamma)
    if want and not perfect and (not np.all(np.isfinite(diag)) or np.any(diag <= 0.0)):
        raise DataError("the asymptotic variances of the sample statistics are not all positive")
    return CategoricalStats(
        variables=tuple(variables),
        ordered=tuple(ordered),
        nobs=n_obs,
        thresholds={
            name: u.tau.copy()
            for name, u in zip(variables, uni, strict=True)
            if u.kind == "ordered"
        },
        cov=cov,
        mean=np.array([u.mean if u.kind == "numeric" else 0.0 for u in uni]),
        wls_obs=wls_obs,
        gamma=gamma,
        wls_v=1.0 / diag,
        wls_labels=tuple(labels),
        levels={
            name: u.levels for name, u in zip(variables, uni, strict=True) if u.kind == "ordered"
        },
        zero_cell_pairs=zero_pairs,
    )
