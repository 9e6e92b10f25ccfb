"""Protocol harmonisation by regression on acquisition parameters (Halle et al., Sci Rep 2024)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from radsem._warnings import user_stacklevel
from radsem.errors import DataError, DataWarning

__all__ = [
    "ProtocolHarmonizer",
    "protocol_association",
    "COMMON_PARAMETERS",
    "DIFFUSION_PARAMETERS",
    "SERIES_PREFIXES",
]

#: Acquisition parameters used for every series (Halle et al. 2024).
COMMON_PARAMETERS = (
    "voxel_volume",
    "anisotropy",
    "TR",
    "TE",
    "flip_angle",
    "n_averages",
    "field_strength",
    "echo_train_length",
    "phase_encoding",
)
#: Extra parameters for DWI and ADC features.
DIFFUSION_PARAMETERS = ("b_max", "n_b_values")
#: Feature-name prefix -> protocol series.
SERIES_PREFIXES = {"t2_": "T2", "dwi_": "DWI", "adc_": "ADC"}

_FDR = {"bh": "fdr_bh", "by": "fdr_by", None: None, "none": None}


def _series_of(columns: Sequence[str], prefixes: dict[str, str]) -> dict[str, str]:
    out, bad = {}, []
    for col in columns:
        hit = [s for p, s in prefixes.items() if str(col).startswith(p)]
        if hit:
            out[col] = hit[0]
        else:
            bad.append(col)
    if bad:
        raise DataError(
            f"cannot tell the MR series of feature(s) {bad[:5]}: names must start "
            f"with one of {list(prefixes)} (see series_prefixes)"
        )
    return out


def _check_unique(X: pd.DataFrame) -> None:
    """Feature names and patient ids must be unique (rows are matched to protocols by id)."""
    for what, labels in (("feature column", X.columns), ("patient id", X.index)):
        dup = labels[labels.duplicated()].unique().tolist()
        if dup:
            raise DataError(f"duplicated {what}(s) {dup[:5]}; each must appear once")


def _check_features(X, min_rows: int = 3) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            f"features must be a DataFrame indexed by patient_id, got {type(X).__name__}"
        )
    _check_unique(X)
    bad = [
        c
        for c in X.columns
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])
    ]
    if bad:
        raise DataError(f"non-numeric feature column(s) {bad[:5]}; harmonisation needs numbers")
    if X.shape[0] < min_rows:
        raise DataError(f"need at least {min_rows} patient(s), got {X.shape[0]}")
    values = X.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        cols = X.columns[~np.isfinite(values).all(axis=0)].tolist()
        raise DataError(
            f"missing or infinite values in feature(s) {cols[:5]}; impute or drop them first"
        )
    return X


def _protocol_rows(protocol: pd.DataFrame, index: pd.Index, series: str) -> pd.DataFrame:
    if not isinstance(protocol, pd.DataFrame) or not {"patient_id", "series"} <= set(
        protocol.columns
    ):
        raise DataError(
            "the protocol table must be a DataFrame with columns patient_id, "
            "series and the acquisition parameters"
        )
    part = protocol[protocol["series"].astype(str).str.upper() == series]
    part = part.assign(patient_id=part["patient_id"].astype(str))
    if part["patient_id"].duplicated().any():
        dup = part.loc[part["patient_id"].duplicated(), "patient_id"].tolist()
        raise DataError(f"protocol table has several {series} rows for patient(s) {dup[:5]}")
    part = part.set_index("patient_id")
    ids = index.astype(str)
    missing = [p for p in ids if p not in part.index]
    if missing:
        raise DataError(
            f"the protocol table has no {series} row for {len(missing)} patient(s), "
            f"e.g. {missing[:5]}; it must cover every patient"
        )
    return part.loc[ids]


class _Design:
    """Design matrix of one series: numeric parameters + dummy-coded categorical ones."""

    def __init__(
        self, rows: pd.DataFrame, parameters: Sequence[str], series: str, explicit: bool
    ) -> None:
        self.series = series
        used, self.dropped = [], {}
        for p in parameters:
            if p not in rows.columns:
                if explicit:
                    raise DataError(
                        f"protocol parameter {p!r} is not a column of the protocol table"
                    )
                self.dropped[p] = "not in the protocol table"
                continue
            used.append(p)
        self.categories: dict[str, list] = {}
        for p in used:
            if not pd.api.types.is_numeric_dtype(rows[p]):
                self.categories[p] = sorted(rows[p].dropna().astype(str).unique())
        self.numeric = [p for p in used if p not in self.categories]
        full = self._raw(rows)
        self.columns = self._prune(full)

    def _raw(self, rows: pd.DataFrame) -> pd.DataFrame:
        parts = {p: rows[p].astype(float) for p in self.numeric}
        for p, levels in self.categories.items():
            values = rows[p].astype(str).where(rows[p].notna())
            unknown = sorted(set(values.dropna()) - set(levels))
            if unknown:
                raise DataError(
                    f"{self.series} parameter {p!r} has value(s) {unknown} not seen "
                    "when the harmoniser was fitted"
                )
            for level in levels[1:]:
                parts[f"{p}[{level}]"] = (values == level).astype(float).where(values.notna())
        frame = pd.DataFrame(parts, index=rows.index)
        if frame.isna().any().any():
            cols = frame.columns[frame.isna().any()].tolist()
            raise DataError(
                f"missing {self.series} protocol values in {cols} for patient(s) "
                f"{frame.index[frame.isna().any(axis=1)].tolist()[:5]}"
            )
        return frame

    def _prune(self, full: pd.DataFrame) -> list[str]:
        keep: list[str] = []
        base = np.ones((len(full), 1))
        for col in full.columns:
            x = full[col].to_numpy()
            if np.ptp(x) == 0:
                self.dropped[col] = "constant"
                continue
            trial = np.column_stack([base, x])
            if (
                np.linalg.matrix_rank(trial, tol=1e-8 * np.abs(trial).max() * len(x))
                < trial.shape[1]
            ):
                self.dropped[col] = "collinear with " + (", ".join(keep) or "the intercept")
                continue
            base, keep = trial, [*keep, col]
        return keep

    def matrix(self, rows: pd.DataFrame) -> np.ndarray:
        full = self._raw(rows)
        return np.column_stack([np.ones(len(full)), full[self.columns].to_numpy()])


def _ols_f(Z: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, overall F statistics and p-values of OLS fits of every column of Y on Z."""
    n, k = Z.shape
    beta, *_ = np.linalg.lstsq(Z, Y, rcond=None)
    resid = Y - Z @ beta
    rss = (resid**2).sum(axis=0)
    tss = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    df1, df2 = k - 1, n - k
    if df1 < 1 or df2 < 1:
        nan = np.full(Y.shape[1], np.nan)
        return beta, nan, nan
    with np.errstate(divide="ignore", invalid="ignore"):
        f = ((tss - rss) / df1) / (rss / df2)
    f = np.where(tss <= 1e-12 * np.maximum(1.0, (Y**2).sum(axis=0)), 0.0, f)
    f = np.where(np.isinf(f) | np.isnan(f), np.where(rss <= 0, np.inf, 0.0), f)
    return beta, f, stats.f.sf(f, df1, df2)


def _adjust(p: np.ndarray, method: str | None) -> np.ndarray:
    if method is None:
        return p.copy()
    from statsmodels.stats.multitest import multipletests

    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def protocol_association(
    X: pd.DataFrame,
    protocol: pd.DataFrame,
    *,
    parameters: Sequence[str] | None = None,
    fdr: str | None = "bh",
    alpha: float = 0.05,
    series_prefixes: dict[str, str] | None = None,
    diffusion_parameters: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Test each feature for association with the acquisition protocol (overall OLS F-test).

    Returns a DataFrame indexed by feature: ``series, n_parameters, F, pvalue, pvalue_fdr,
    associated`` (``pvalue_fdr < alpha``). Arguments as in :class:`ProtocolHarmonizer`.
    """
    h = ProtocolHarmonizer(
        protocol=protocol,
        alpha=alpha,
        fdr=fdr,
        parameters=parameters,
        diffusion_parameters=diffusion_parameters,
        series_prefixes=series_prefixes,
        zscore=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        h._fit_models(_check_features(X), protocol)
    return h._association_table(h._fits_)


class ProtocolHarmonizer(TransformerMixin, BaseEstimator):
    """Remove acquisition-protocol effects from radiomic features, then z-score them.

    Parameters
    ----------
    protocol : DataFrame, optional
        Long protocol table (``patient_id, series`` + parameters); may cover more patients than
        a CV fold. Can also be passed to ``fit``/``transform``.
    alpha : float
        FDR level: a feature is corrected when its adjusted F-test p-value is below ``alpha``.
    fdr : {"bh", "by", None}
        Multiple-testing correction across features (Benjamini-Hochberg by default).
    parameters : sequence of str, optional
        Parameters for every series (default :data:`COMMON_PARAMETERS`); a listed parameter
        missing from the table is an error, a default one is dropped with a warning.
    diffusion_parameters : sequence of str, optional
        Extra parameters for DWI/ADC features (default :data:`DIFFUSION_PARAMETERS`).
    series_prefixes : dict, optional
        Feature-name prefix to protocol series (default :data:`SERIES_PREFIXES`).
    zscore : bool
        Standardise every feature with the training mean and SD (ddof=1) after correction.

    Attributes
    ----------
    report_ : DataFrame
        Per feature: ``series, F, pvalue, pvalue_fdr, associated`` before and ``*_after``
        correction on the training data.
    n_associated_before_, n_associated_after_ : int
        Counts of protocol-associated features (the paper: 252/293 and 0/293).
    dropped_parameters_ : DataFrame
        ``series, parameter, reason`` for constant or collinear parameters left out.

    Notes
    -----
    For feature k of series s, ``x_k = Z_s b_k + e`` by OLS, where ``Z_s`` holds an intercept,
    the series' numeric parameters and treatment dummies of categorical ones (phase encoding).
    The overall F-test compares this model with the intercept-only one. Where the FDR-adjusted
    p-value is below ``alpha``, ``x_k - (Z_s b_k - mean_train(Z_s b_k))`` is kept (the fitted
    protocol effect is removed, the mean is kept); new patients use the training ``b_k``.
    F statistics and p-values agree with ``statsmodels.OLS`` (tested).
    """

    def __init__(
        self,
        protocol: pd.DataFrame | None = None,
        alpha: float = 0.05,
        fdr: str | None = "bh",
        parameters: Sequence[str] | None = None,
        diffusion_parameters: Sequence[str] | None = None,
        series_prefixes: dict[str, str] | None = None,
        zscore: bool = True,
    ) -> None:
        self.protocol = protocol
        self.alpha = alpha
        self.fdr = fdr
        self.parameters = parameters
        self.diffusion_parameters = diffusion_parameters
        self.series_prefixes = series_prefixes
        self.zscore = zscore

    def _check_params(self) -> None:
        if not (isinstance(self.alpha, (int, float)) and 0 < self.alpha < 1):
            raise DataError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if self.fdr not in _FDR:
            raise DataError(f"fdr must be 'bh', 'by' or None, got {self.fdr!r}")

    def _table(self, protocol) -> pd.DataFrame:
        table = protocol if protocol is not None else self.protocol
        if table is None:
            raise DataError("no protocol table: pass protocol= to the constructor or to fit")
        return table

    def _fit_models(self, X: pd.DataFrame, protocol) -> None:
        self._check_params()
        table = self._table(protocol)
        prefixes = self.series_prefixes or SERIES_PREFIXES
        series_of = _series_of(list(X.columns), prefixes)
        common = list(self.parameters) if self.parameters is not None else list(COMMON_PARAMETERS)
        diffusion = (
            list(self.diffusion_parameters)
            if self.diffusion_parameters is not None
            else list(DIFFUSION_PARAMETERS)
        )
        self.designs_, self._fits_ = {}, {}
        dropped = []
        for series in dict.fromkeys(series_of.values()):
            cols = [c for c in X.columns if series_of[c] == series]
            rows = _protocol_rows(table, X.index, series)
            params = common + (diffusion if series in ("DWI", "ADC") else [])
            explicit = self.parameters is not None
            design = _Design(rows, params, series, explicit)
            for p, why in design.dropped.items():
                dropped.append({"series": series, "parameter": p, "reason": why})
            Z = design.matrix(rows)
            Y = X[cols].to_numpy(dtype=float)
            beta, f, p = _ols_f(Z, Y)
            self.designs_[series] = design
            self._fits_[series] = {
                "columns": cols,
                "beta": beta,
                "F": f,
                "p": p,
                "k": Z.shape[1] - 1,
                "fitted_mean": (Z @ beta).mean(axis=0),
            }
        self.dropped_parameters_ = pd.DataFrame(dropped, columns=["series", "parameter", "reason"])
        if dropped:
            listed = "; ".join(f"{r['series']} {r['parameter']} ({r['reason']})" for r in dropped)
            warnings.warn(
                f"protocol parameters dropped from the harmonisation model: {listed}",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.series_of_ = series_of

    def _association_table(self, fits: dict) -> pd.DataFrame:
        frames = [
            pd.DataFrame(
                {"series": s, "n_parameters": fit["k"], "F": fit["F"], "pvalue": fit["p"]},
                index=pd.Index(fit["columns"], name="feature"),
            )
            for s, fit in fits.items()
        ]
        table = pd.concat(frames).loc[list(self.feature_names_in_)]
        table["pvalue_fdr"] = _adjust(table["pvalue"].to_numpy(), _FDR[self.fdr])
        table["associated"] = table["pvalue_fdr"] < self.alpha
        return table

    def fit(
        self, X: pd.DataFrame, y=None, protocol: pd.DataFrame | None = None
    ) -> ProtocolHarmonizer:
        """Fit the per-feature protocol models on training patients (rows of ``X``)."""
        X = _check_features(X)
        self._fit_models(X, protocol)
        before = self._association_table(self._fits_)
        self.correct_ = before["associated"].to_numpy()
        corrected = self._correct(X, protocol)
        self.mean_ = corrected.mean(axis=0)
        sd = corrected.std(axis=0, ddof=1)
        if (sd <= 0).any():
            warnings.warn(
                f"{int((sd <= 0).sum())} feature(s) are constant after correction; "
                "their z-scores are set to 0",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        self.scale_ = sd.where(sd > 0, 1.0)
        after = protocol_association(
            corrected,
            self._table(protocol),
            parameters=self.parameters,
            fdr=self.fdr,
            alpha=self.alpha,
            series_prefixes=self.series_prefixes,
            diffusion_parameters=self.diffusion_parameters,
        )
        self.report_ = before.join(
            after[["F", "pvalue", "pvalue_fdr", "associated"]], rsuffix="_after"
        )
        self.n_associated_before_ = int(before["associated"].sum())
        self.n_associated_after_ = int(after["associated"].sum())
        return self

    def _correct(self, X: pd.DataFrame, protocol) -> pd.DataFrame:
        table = self._table(protocol)
        out = X.astype(float).copy()
        correct = dict(zip(self.feature_names_in_, self.correct_))
        for series, fit in self._fits_.items():
            cols = [c for c in fit["columns"] if correct[c]]
            if not cols:
                continue
            idx = [fit["columns"].index(c) for c in cols]
            Z = self.designs_[series].matrix(_protocol_rows(table, X.index, series))
            pred = Z @ fit["beta"][:, idx] - fit["fitted_mean"][idx]
            out[cols] = X[cols].to_numpy(dtype=float) - pred
        return out

    def transform(self, X: pd.DataFrame, protocol: pd.DataFrame | None = None) -> pd.DataFrame:
        """Remove the fitted protocol effects (and z-score) for any patients with a protocol."""
        check_is_fitted(self, "correct_")
        X = _check_features(X, min_rows=1)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise DataError(f"features seen in fit are missing: {missing[:5]}")
        X = X[list(self.feature_names_in_)]
        out = self._correct(X, protocol)
        if self.zscore:
            out = (out - self.mean_) / self.scale_
        return out

    def fit_transform(
        self, X: pd.DataFrame, y=None, protocol: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Fit, then transform the same patients."""
        return self.fit(X, y, protocol=protocol).transform(X, protocol=protocol)

    def association_report(
        self, X: pd.DataFrame, protocol: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Protocol association of any feature table (e.g. held-out patients after transform)."""
        check_is_fitted(self, "correct_")
        return protocol_association(
            X,
            self._table(protocol),
            parameters=self.parameters,
            fdr=self.fdr,
            alpha=self.alpha,
            series_prefixes=self.series_prefixes,
            diffusion_parameters=self.diffusion_parameters,
        )
