"""CAE-guided selection of radiomic features: keep features the image code explains, drop twins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from radsem.errors import DataError

__all__ = ["FeatureSelection", "select_radiomic_features"]


@dataclass(frozen=True)
class FeatureSelection:
    """Result of :func:`select_radiomic_features`.

    Attributes
    ----------
    selected : list of str
        Chosen radiomic features, best explained first.
    table : DataFrame
        One row per radiomic feature: ``feature, r2_cv, rank, selected, reason,
        redundant_with, abs_corr``.
    """

    selected: list[str]
    table: pd.DataFrame


def _align(latent: pd.DataFrame, radiomics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    for name, df in (("latent", latent), ("radiomics", radiomics)):
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"{name} must be a DataFrame indexed by patient")
        if df.index.has_duplicates:
            raise DataError(f"{name} has duplicated patient ids in its index")
        nonnum = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        if nonnum:
            raise DataError(f"{name} has non-numeric columns {nonnum[:5]}")
    common = latent.index.intersection(radiomics.index)
    lat, rad = latent.loc[common], radiomics.loc[common]
    if lat.isna().any().any():
        raise DataError("latent features contain missing values")
    return lat, rad


def select_radiomic_features(
    latent: pd.DataFrame,
    radiomics: pd.DataFrame,
    *,
    corr_threshold: float = 0.9,
    min_r2: float = 0.0,
    max_features: int | None = None,
    n_splits: int = 5,
    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0),
    random_state: int = 0,
) -> FeatureSelection:
    """Rank radiomic features by how well the CAE code predicts them, then prune redundancy.

    Parameters
    ----------
    latent : DataFrame
        Latent codes (``ConvAutoencoder.transform``), indexed by patient.
    radiomics : DataFrame
        Radiomic features (numeric), indexed by patient; rows are matched on the index.
    corr_threshold : float
        A feature is dropped as redundant when its absolute Pearson correlation with an
        already selected (better explained) feature reaches this value.
    min_r2 : float
        Features with cross-validated R^2 at or below this are not selected.
    max_features : int, optional
        Stop after this many selected features.
    n_splits : int
        Folds of the (shuffled, seeded) cross-validation.
    alphas : tuple of float
        Ridge penalties; the best one is chosen per feature by efficient leave-one-out
        inside each training fold.

    Returns
    -------
    FeatureSelection

    Notes
    -----
    For each feature :math:`f`, out-of-fold predictions :math:`\\hat f` come from a ridge
    regression of :math:`f` on the standardised latent code;
    :math:`R^2_{cv} = 1 - \\sum (f - \\hat f)^2 / \\sum (f - \\bar f)^2` (negative when the code
    predicts worse than the mean). Pruning is greedy in decreasing :math:`R^2_{cv}`.
    Features with missing values or no variance are reported with reason
    ``"missing"`` / ``"constant"`` and never selected.
    """
    if not 0 < corr_threshold <= 1:
        raise DataError(f"corr_threshold must be in (0, 1], got {corr_threshold!r}")
    lat, rad = _align(latent, radiomics)
    n = len(lat)
    if n < max(2 * n_splits, 10):
        raise DataError(
            f"only {n} patients have both latent and radiomic features; "
            f"need at least {max(2 * n_splits, 10)}"
        )
    reason = pd.Series("", index=rad.columns, dtype=object)
    reason[rad.isna().any()] = "missing"
    sd = rad.std()
    reason[(reason == "") & ~(sd > 1e-12 * rad.abs().max().clip(lower=1.0))] = "constant"
    usable = list(reason.index[reason == ""])
    r2 = pd.Series(np.nan, index=rad.columns, dtype=float)
    if usable:
        y = rad[usable].to_numpy(dtype=float)
        y = (y - y.mean(axis=0)) / y.std(axis=0)
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=alphas, alpha_per_target=True))
        cv = KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        pred = cross_val_predict(model, lat.to_numpy(dtype=float), y, cv=cv)
        r2[usable] = 1.0 - ((y - pred) ** 2).sum(axis=0) / (y**2).sum(axis=0)
    order = r2[usable].sort_values(ascending=False, kind="stable").index
    corr = rad[usable].corr().abs() if usable else pd.DataFrame()
    selected: list[str] = []
    redundant_with = pd.Series(None, index=rad.columns, dtype=object)
    abs_corr = pd.Series(np.nan, index=rad.columns, dtype=float)
    for feat in order:
        if r2[feat] <= min_r2:
            reason[feat] = "low_r2"
            continue
        if selected:
            c = corr.loc[feat, selected]
            if c.max() >= corr_threshold:
                reason[feat] = "redundant"
                redundant_with[feat] = c.idxmax()
                abs_corr[feat] = float(c.max())
                continue
        if max_features is not None and len(selected) >= max_features:
            reason[feat] = "max_features"
            continue
        selected.append(feat)
        reason[feat] = "selected"
    table = pd.DataFrame(
        {
            "feature": rad.columns,
            "r2_cv": r2.to_numpy(),
            "reason": reason.to_numpy(),
            "redundant_with": redundant_with.to_numpy(),
            "abs_corr": abs_corr.to_numpy(),
        }
    )
    table["selected"] = table["reason"] == "selected"
    table["rank"] = table["r2_cv"].rank(ascending=False, method="first")
    table = table.sort_values(["rank"], na_position="last").reset_index(drop=True)
    table = table[["feature", "r2_cv", "rank", "selected", "reason", "redundant_with", "abs_corr"]]
    return FeatureSelection(selected, table)
