"""Cross-validated comparison of image codes: expression-conditioned autoencoder vs the
unconditional CAE vs PCA, on how well the codes explain the expression (mechanism scores and
principal components), how well they reconstruct the crops, and how stable they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold

from radsem.deep.crops import Crops
from radsem.errors import DataError

__all__ = ["mechanism_scores", "PCACodes", "compare_codes", "summarise_codes"]


def mechanism_scores(
    expression: pd.DataFrame,
    gene_sets: Mapping[str, Mapping[str, float]],
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Gene-set scores: the mean of the signed, standardised genes of each set.

    Parameters
    ----------
    expression : DataFrame
        Patients x genes.
    gene_sets : mapping
        ``{mechanism: {gene: sign}}``; a negative sign for genes that fall as the mechanism
        rises (e.g. the p53 targets under E6).
    reference : DataFrame, optional
        Patients whose means and SDs standardise the genes (the training fold); default
        ``expression`` itself.
    """
    ref = expression if reference is None else reference
    out = {}
    for mech, genes in gene_sets.items():
        cols = [g for g in genes if g in expression.columns]
        if not cols:
            raise DataError(f"no gene of set {mech!r} is in the expression table")
        sd = ref[cols].std().replace(0, 1.0)
        z = (expression[cols] - ref[cols].mean()) / sd
        out[mech] = (z * pd.Series({g: np.sign(genes[g]) for g in cols})).mean(axis=1)
    return pd.DataFrame(out, index=expression.index)


class PCACodes:
    """PCA of flattened crops standardised per channel, with the CAE's ``transform`` /
    ``reconstruct`` interface (the baseline of the comparison)."""

    def __init__(self, n_components: int = 8, dims: int = 3) -> None:
        self.n_components = n_components
        self.dims = dims

    def _std(self, data: np.ndarray) -> np.ndarray:
        shape = (1, -1) + (1,) * (data.ndim - 2)
        return ((data - self.mean_.reshape(shape)) / self.scale_.reshape(shape)).reshape(
            len(data), -1
        )

    def fit(self, X, y=None) -> PCACodes:
        data = X.data if isinstance(X, Crops) else np.asarray(X, dtype=np.float32)
        axes = (0,) + tuple(range(2, data.ndim))
        self.mean_ = data.mean(axis=axes, dtype=np.float64)
        sd = data.std(axis=axes, dtype=np.float64)
        sd[sd < 1e-8] = 1.0
        self.scale_ = sd
        self.shape_ = data.shape[1:]
        k = min(self.n_components, len(data) - 1)
        self.pca_ = PCA(n_components=k, svd_solver="full").fit(self._std(data))
        return self

    def transform(self, X) -> pd.DataFrame:
        data, index = (
            (X.data, X.patient_id)
            if isinstance(X, Crops)
            else (np.asarray(X, dtype=np.float32), pd.RangeIndex(len(X)))
        )
        z = self.pca_.transform(self._std(data))
        return pd.DataFrame(z, index=index, columns=[f"latent_{i}" for i in range(z.shape[1])])

    def reconstruction_error(self, X) -> pd.Series:
        data, index = (
            (X.data, X.patient_id)
            if isinstance(X, Crops)
            else (np.asarray(X, dtype=np.float32), pd.RangeIndex(len(X)))
        )
        s = self._std(data)
        rec = self.pca_.inverse_transform(self.pca_.transform(s))
        return pd.Series(((s - rec) ** 2).mean(axis=1), index=index, name="mse")


def _r2(y_true: np.ndarray, y_pred: np.ndarray, train_mean: np.ndarray) -> float:
    """Held-out R2 per column against the training mean, averaged over columns."""
    ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - train_mean) ** 2).sum(axis=0)
    return float(np.mean(1.0 - ss_res / ss_tot))


def _codes_r2(
    tr_codes: pd.DataFrame, te_codes: pd.DataFrame, tr_y: pd.DataFrame, te_y: pd.DataFrame
) -> float:
    mu, sd = tr_codes.mean(), tr_codes.std().replace(0, 1.0)
    a = ((tr_codes - mu) / sd).to_numpy()
    b = ((te_codes - mu) / sd).to_numpy()
    ridge = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(a, tr_y.to_numpy())
    return _r2(te_y.to_numpy(), ridge.predict(b), tr_y.to_numpy().mean(axis=0))


def compare_codes(
    crops: Crops,
    expression: pd.DataFrame,
    gene_sets: Mapping[str, Mapping[str, float]],
    *,
    cae=None,
    conditioned=None,
    target: str = "mechanisms",
    n_pcs: int = 4,
    n_splits: int = 3,
    random_state: int = 0,
    return_models: bool = False,
    warm_start: bool = False,
    reference: Mapping[str, pd.DataFrame] | None = None,
    folds: Sequence[int] | None = None,
):
    """K-fold comparison of conditioned CAE, unconditional CAE and PCA codes.

    Parameters
    ----------
    crops : Crops
        Image crops of every patient with images (patients without expression train the
        autoencoders' reconstruction only). A last channel named ``"mask"``
        (``CropSpec(with_mask=True)``) is the tumour mask: PCA and the reconstruction error
        use the other channels only.
    expression : DataFrame
        Patients x genes (patients with images and expression are scored).
    gene_sets : mapping
        ``{mechanism: {gene: sign}}`` for :func:`mechanism_scores`.
    cae, conditioned : estimators, optional
        Unfitted :class:`~radsem.deep.cae.ConvAutoencoder` and
        :class:`~radsem.deep.condae.ConditionedAutoencoder` (cloned per fold).
    target : {"mechanisms", "pcs"}
        What the conditioned model's auxiliary head predicts.
    n_pcs : int
        Expression principal components scored (and used as targets when ``target="pcs"``).

    return_models : bool
        Also return the three models fitted on the first fold's training patients.
    warm_start : bool
        Start the conditioned model from the fold's fitted unconditional CAE
        (``ConditionedAutoencoder.fit(..., init=cae)``; both share the fold's seed).
    reference : mapping, optional
        ``{name: DataFrame}`` of fixed per-patient features (e.g. hand-made tumour features,
        nothing fitted) scored with the same ridge regressions, as a reference for how much of
        the expression the images carry; ``mse_test`` is NaN for them.
    folds : sequence of int, optional
        Run only these folds of the same K-fold split (to spread the folds over processes;
        the rows of separate calls concatenate to those of one call). With
        ``return_models`` the models are those of the first fold run.

    Returns
    -------
    DataFrame (and, with ``return_models``, a dict of the first fold's fitted models)
        One row per fold and model: ``fold, model, r2_mechanisms, r2_pcs, mse_test``.
        R² is held-out (ridge regression from the standardised codes, penalty chosen by
        leave-one-out on the training fold), averaged over the scores / PCs; targets are
        standardised and the PCs fitted on the training fold only. ``mse_test``: mean squared
        reconstruction error per voxel of the held-out crops (standardised units).
    """
    from radsem.deep.cae import ConvAutoencoder
    from radsem.deep.condae import ConditionedAutoencoder

    if target not in ("mechanisms", "pcs"):
        raise DataError(f"target must be 'mechanisms' or 'pcs', got {target!r}")
    if "patient_id" in expression.columns:
        expression = expression.set_index("patient_id")
    expression = expression.dropna()
    cae = cae if cae is not None else ConvAutoencoder(progress=False)
    conditioned = conditioned if conditioned is not None else ConditionedAutoencoder(progress=False)
    ids = crops.patient_id
    n = len(ids)
    if n < 3 * n_splits:
        raise DataError(f"{n} patients are too few for {n_splits}-fold cross-validation")
    has_mask = bool(crops.channels) and crops.channels[-1] == "mask"

    def images_only(c: Crops) -> Crops:
        return Crops(c.data[:, :-1], c.patient_id, c.channels[:-1]) if has_mask else c

    rows = []
    first: dict = {}
    if folds is not None and not set(folds) <= set(range(n_splits)):
        raise DataError(f"folds must be numbers 0 to {n_splits - 1}, got {list(folds)}")
    splits = KFold(n_splits=n_splits, shuffle=True, random_state=random_state).split(np.zeros(n))
    for k, (tr, te) in enumerate(splits):
        if folds is not None and k not in folds:
            continue
        tr_ids, te_ids = ids[tr], ids[te]
        tr_x = Crops(crops.data[tr], tr_ids, crops.channels)
        te_x = Crops(crops.data[te], te_ids, crops.channels)
        e_tr = expression.loc[expression.index.intersection(tr_ids)]
        e_te = expression.loc[expression.index.intersection(te_ids)]
        if len(e_tr) < 5 or len(e_te) < 3:
            raise DataError(
                f"fold {k}: too few patients with expression ({len(e_tr)} training,"
                f" {len(e_te)} held out)"
            )
        mech_tr = mechanism_scores(e_tr, gene_sets)
        mech_te = mechanism_scores(e_te, gene_sets, reference=e_tr)
        g_mu, g_sd = e_tr.mean(), e_tr.std().replace(0, 1.0)
        pca = PCA(n_components=min(n_pcs, len(e_tr) - 1), random_state=0)
        pcs_tr = pd.DataFrame(pca.fit_transform((e_tr - g_mu) / g_sd), index=e_tr.index)
        pcs_te = pd.DataFrame(pca.transform((e_te - g_mu) / g_sd), index=e_te.index)
        y = mech_tr if target == "mechanisms" else pcs_tr
        uncond = clone(cae).set_params(random_state=random_state + k).fit(tr_x)
        cond = clone(conditioned).set_params(random_state=random_state + k)
        cond = cond.fit(tr_x, y, init=uncond) if warm_start else cond.fit(tr_x, y)
        models = {
            "conditioned": cond,
            "unconditional": uncond,
            "pca": PCACodes(int(cae.latent_dim)).fit(images_only(tr_x)),
        }
        if not first:
            first = models
        for name, feats in (reference or {}).items():
            r2m = _codes_r2(feats.loc[e_tr.index], feats.loc[e_te.index], mech_tr, mech_te)
            r2p = _codes_r2(feats.loc[e_tr.index], feats.loc[e_te.index], pcs_tr, pcs_te)
            rows.append((k, name, r2m, r2p, float("nan")))
        for name, model in models.items():
            x_tr, x_te = (images_only(tr_x), images_only(te_x)) if name == "pca" else (tr_x, te_x)
            codes_tr, codes_te = model.transform(x_tr), model.transform(x_te)
            r2m = _codes_r2(codes_tr.loc[e_tr.index], codes_te.loc[e_te.index], mech_tr, mech_te)
            r2p = _codes_r2(codes_tr.loc[e_tr.index], codes_te.loc[e_te.index], pcs_tr, pcs_te)
            mse = (
                float(model.reconstruction_error(x_te).mean())
                if name == "pca"
                else float(_std_mse(model, te_x, models["pca"]))
            )
            rows.append((k, name, r2m, r2p, mse))
    out = pd.DataFrame(rows, columns=["fold", "model", "r2_mechanisms", "r2_pcs", "mse_test"])
    return (out, first) if return_models else out


def _std_mse(model, X: Crops, pca: PCACodes) -> float:
    """Reconstruction MSE per voxel in the PCA's standardisation (same units for all models;
    the image channels the PCA was fitted on)."""
    n_img = len(pca.mean_)
    rec = model.reconstruct(X)[:, :n_img]
    return float(((pca._std(X.data[:, :n_img]) - pca._std(rec)) ** 2).mean())


def summarise_codes(folds: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over folds per model, with the conditioned-minus-unconditional R² gain and
    the reconstruction ratio (conditioned / unconditional)."""
    agg = folds.groupby("model", sort=False)[["r2_mechanisms", "r2_pcs", "mse_test"]].agg(
        ["mean", "std"]
    )
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    return agg
