"""Evaluation of the convolutional autoencoder: held-out reconstruction, latent stability under
re-segmentation and noise, and the downstream value of the code for survival prediction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA

from radsem.deep.crops import Case, CropSpec, crop_cases, perturb_mask
from radsem.errors import DataError

__all__ = ["reconstruction_benchmark", "latent_stability", "downstream_cindex"]


def _as_array(X) -> tuple[np.ndarray, pd.Index]:
    from radsem.deep.crops import Crops

    if isinstance(X, Crops):
        return X.data, X.patient_id
    data = np.asarray(X, dtype=np.float32)
    return data, pd.RangeIndex(len(data))


def reconstruction_benchmark(
    estimator, X, *, test_size: float = 0.25, random_state: int = 0
) -> pd.DataFrame:
    """Held-out reconstruction error of a CAE against PCA and the mean crop.

    Parameters
    ----------
    estimator : ConvAutoencoder
        Unfitted (it is cloned and fitted on the training patients only).
    X : ndarray or Crops
    test_size : float
        Share of patients held out.

    Returns
    -------
    DataFrame
        One row per model (``cae``, ``pca``, ``mean``): ``model, n_components, mse_train,
        mse_test, r2_test`` where errors are mean squared errors per voxel on crops
        standardised per channel with training-set statistics, and
        ``r2_test = 1 - mse_test / mse_test(mean)``.

    Notes
    -----
    PCA uses as many components as the CAE has latent dimensions, on the flattened
    standardised crops; the ``mean`` model predicts the voxel-wise training mean for
    every patient. All three see the same split.
    """
    data, _ = _as_array(X)
    n = len(data)
    n_test = int(round(test_size * n))
    if not 0 < test_size < 1 or n_test < 1 or n - n_test < 4:
        raise DataError(f"cannot hold out {test_size!r} of {n} patients for testing")
    perm = np.random.default_rng(random_state).permutation(n)
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    axes = (0,) + tuple(range(2, data.ndim))
    shape = (1, -1) + (1,) * (data.ndim - 2)
    mean = data[train].mean(axis=axes, dtype=np.float64).reshape(shape)
    sd = data[train].std(axis=axes, dtype=np.float64).reshape(shape)
    sd[sd < 1e-8] = 1.0

    def std(a: np.ndarray) -> np.ndarray:
        return ((a - mean) / sd).reshape(len(a), -1)

    z_train, z_test = std(data[train]), std(data[test])
    cae = clone(estimator).fit(data[train])
    rows = []
    rec_train, rec_test = std(cae.reconstruct(data[train])), std(cae.reconstruct(data[test]))
    k = int(cae.latent_dim)
    rows.append(("cae", k, np.mean((z_train - rec_train) ** 2), np.mean((z_test - rec_test) ** 2)))
    n_comp = min(k, len(train) - 1, z_train.shape[1])
    pca = PCA(n_components=n_comp, random_state=random_state).fit(z_train)
    rows.append(
        (
            "pca",
            n_comp,
            np.mean((z_train - pca.inverse_transform(pca.transform(z_train))) ** 2),
            np.mean((z_test - pca.inverse_transform(pca.transform(z_test))) ** 2),
        )
    )
    centre = z_train.mean(axis=0)
    rows.append(("mean", 0, np.mean((z_train - centre) ** 2), np.mean((z_test - centre) ** 2)))
    out = pd.DataFrame(rows, columns=["model", "n_components", "mse_train", "mse_test"])
    out["r2_test"] = 1.0 - out["mse_test"] / out.loc[out["model"] == "mean", "mse_test"].iloc[0]
    return out


def _perturbed(
    cases: Sequence[Case], kind: str, noise_sd: float, rng: np.random.Generator
) -> list[Case]:
    out = []
    for c in cases:
        if kind in ("dilate", "erode"):
            out.append(
                Case(c.image, perturb_mask(c.mask, kind, 1), c.spacing, c.patient_id, c.channels)
            )
        elif kind == "noise":
            mask = np.asarray(c.mask) > 0
            sd = np.asarray(c.image, dtype=float)[:, mask].std(axis=1)
            noise = rng.normal(size=c.image.shape) * (noise_sd * sd).reshape(-1, 1, 1, 1)
            out.append(Case(c.image + noise, c.mask, c.spacing, c.patient_id, c.channels))
        else:
            raise DataError(f"unknown perturbation {kind!r}; use 'dilate', 'erode' or 'noise'")
    return out


def _icc(wide: pd.DataFrame, icc: str) -> tuple[float, float, float]:
    import pingouin as pg

    long = wide.reset_index(names="target").melt(
        id_vars="target", var_name="rater", value_name="value"
    )
    tab = pg.intraclass_corr(long, targets="target", raters="rater", ratings="value")
    row = tab.loc[tab["Type"] == icc].iloc[0]
    ci = row["CI95"] if "CI95" in tab.columns else row["CI95%"]
    return float(row["ICC"]), float(ci[0]), float(ci[1])


def latent_stability(
    estimator,
    cases: Sequence[Case],
    spec: CropSpec | None = None,
    *,
    perturbations: Sequence[str] = ("dilate", "erode", "noise"),
    noise_sd: float = 0.1,
    icc: str = "ICC(C,1)",
    random_state: int = 0,
) -> pd.DataFrame:
    """Intraclass correlation of each latent feature between original and perturbed inputs.

    Parameters
    ----------
    estimator : ConvAutoencoder
        Fitted on crops cut with ``spec``.
    cases : sequence of Case
        Raw volumes and masks (the perturbations act on these before cropping).
    spec : CropSpec
        The crop settings used to train ``estimator``.
    perturbations : sequence of {"dilate", "erode", "noise"}
        Re-segmentation (mask dilated / eroded by one voxel in-plane) and Gaussian noise with
        standard deviation ``noise_sd`` times each channel's intensity SD inside the mask.
    icc : str
        pingouin's ICC type: ``"ICC(C,1)"`` (= ICC(3,1), consistency) or ``"ICC(A,1)"``
        (= ICC(2,1), absolute agreement).

    Returns
    -------
    DataFrame
        ``perturbation, feature, icc, ci_lower, ci_upper``, plus ``perturbation == "all"``
        rows where the original and every perturbed version are the raters.

    Notes
    -----
    ICCs come from :func:`pingouin.intraclass_corr` (two-way ANOVA; Shrout & Fleiss 1979,
    McGraw & Wong 1996); targets are patients, raters are the input versions.
    """
    if icc not in ("ICC(C,1)", "ICC(A,1)", "ICC3", "ICC2"):
        raise DataError(f"icc must be 'ICC(C,1)' or 'ICC(A,1)', got {icc!r}")
    icc = {"ICC3": "ICC(C,1)", "ICC2": "ICC(A,1)"}.get(icc, icc)
    if len(cases) < 5:
        raise DataError(f"latent stability needs at least 5 patients, got {len(cases)}")
    spec = spec or CropSpec(dims=estimator.dims)
    rng = np.random.default_rng(random_state)
    base = estimator.transform(crop_cases(cases, spec))
    versions = {"original": base}
    for kind in perturbations:
        versions[kind] = estimator.transform(
            crop_cases(_perturbed(cases, kind, noise_sd, rng), spec)
        )
    rows = []
    groups = [(k, ["original", k]) for k in perturbations] + [("all", list(versions))]
    for name, keys in groups:
        for feat in base.columns:
            wide = pd.DataFrame({k: versions[k][feat].to_numpy() for k in keys})
            if wide.var().max() <= 0:
                rows.append((name, feat, np.nan, np.nan, np.nan))
                continue
            rows.append((name, feat, *_icc(wide, icc)))
    return pd.DataFrame(rows, columns=["perturbation", "feature", "icc", "ci_lower", "ci_upper"])


def _fit_cox(x: np.ndarray, time: np.ndarray, event: np.ndarray, alpha: float):
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    return CoxPHSurvivalAnalysis(alpha=alpha, n_iter=200).fit(x, Surv.from_arrays(event, time))


def _cindex(model, x, time, event) -> float:
    from sksurv.metrics import concordance_index_censored

    return float(concordance_index_censored(event, time, model.predict(x))[0])


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = train.mean(axis=0), train.std(axis=0)
    sd[sd < 1e-12] = 1.0
    return (train - mu) / sd, (test - mu) / sd


def _inner_alpha(x, time, event, alphas, seed) -> float:
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(alphas))
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    for tr, te in cv.split(x, event):
        xtr, xte = _standardise(x[tr], x[te])
        for i, a in enumerate(alphas):
            scores[i] += _cindex(_fit_cox(xtr, time[tr], event[tr], a), xte, time[te], event[te])
    return float(alphas[int(np.argmax(scores))])


def downstream_cindex(
    latent: pd.DataFrame,
    radiomics: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    other: Mapping[str, pd.DataFrame] | None = None,
    time: str = "time",
    event: str = "event",
    n_splits: int = 5,
    n_repeats: int = 1,
    alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
    random_state: int = 0,
) -> pd.DataFrame:
    """Cross-validated C-index of a ridge-penalised Cox model on latent vs radiomic features.

    Parameters
    ----------
    latent, radiomics : DataFrame
        Feature tables indexed by patient (more sets can be passed in ``other``).
    outcome : DataFrame
        Indexed by patient (or with a ``patient_id`` column), with ``time`` and ``event``.
    n_splits, n_repeats : int
        Repeated stratified (on the event) K-fold cross-validation.
    alphas : sequence of float
        Ridge penalties; one is chosen per outer fold by an inner 3-fold CV on the C-index.

    Returns
    -------
    DataFrame
        ``feature_set, n_features, n_patients, cindex_mean, cindex_sd, cindex_min,
        cindex_max`` over the outer folds. All sets use the same patients and folds (the
        patients present in every table), so differences are paired.

    Notes
    -----
    Features are standardised inside each training fold. Harrell's C on the held-out fold
    (:func:`sksurv.metrics.concordance_index_censored`); the Cox model is
    :class:`sksurv.linear_model.CoxPHSurvivalAnalysis` with penalty
    :math:`\\tfrac{\\alpha}{2}\\lVert\\beta\\rVert^2`. The CAE is unsupervised, so fitting it on
    all patients leaks no outcome information into the folds.
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    if "patient_id" in outcome.columns:
        outcome = outcome.set_index("patient_id")
    missing = [c for c in (time, event) if c not in outcome.columns]
    if missing:
        raise DataError(f"outcome lacks columns {missing}")
    sets = {"latent": latent, "radiomics": radiomics, **dict(other or {})}
    common = outcome.index[outcome[[time, event]].notna().all(axis=1)]
    for name, df in sets.items():
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"feature set {name!r} must be a DataFrame indexed by patient")
        common = common.intersection(df.index[df.notna().all(axis=1)])
    t = outcome.loc[common, time].to_numpy(dtype=float)
    e = outcome.loc[common, event].to_numpy().astype(bool)
    if len(common) < 4 * n_splits or e.sum() < n_splits:
        raise DataError(
            f"{len(common)} patients with {int(e.sum())} events are too few for "
            f"{n_splits}-fold cross-validation"
        )
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    folds = list(cv.split(np.zeros(len(t)), e))
    rows = []
    for name, df in sets.items():
        x = df.loc[common].to_numpy(dtype=float)
        scores = []
        for i, (tr, te) in enumerate(folds):
            alpha = _inner_alpha(x[tr], t[tr], e[tr], list(alphas), random_state + i)
            xtr, xte = _standardise(x[tr], x[te])
            scores.append(_cindex(_fit_cox(xtr, t[tr], e[tr], alpha), xte, t[te], e[te]))
        s = np.asarray(scores)
        rows.append((name, x.shape[1], len(common), s.mean(), s.std(ddof=1), s.min(), s.max()))
    return pd.DataFrame(
        rows,
        columns=[
            "feature_set",
            "n_features",
            "n_patients",
            "cindex_mean",
            "cindex_sd",
            "cindex_min",
            "cindex_max",
        ],
    )
