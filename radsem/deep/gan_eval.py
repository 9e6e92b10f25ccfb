"""Evaluation of a conditional expression GAN, per level of the conditioning label."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import FactorAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from radsem.deep.gan import ConditionalWGAN, _as_expression, _as_labels
from radsem.errors import DataError

__all__ = [
    "mmd2_rbf",
    "correlation_distance",
    "c2st_auroc",
    "evaluate_gan",
    "augmentation_stability",
]


def mmd2_rbf(x: np.ndarray, y: np.ndarray, bandwidth: float | None = None) -> float:
    """Unbiased squared maximum mean discrepancy with a Gaussian (RBF) kernel.

    Notes
    -----
    :math:`k(a, b) = \\exp(-\\lVert a-b\\rVert^2 / (2\\sigma^2))` with :math:`\\sigma` the median
    pairwise distance of the pooled sample (median heuristic) unless ``bandwidth`` is given;
    :math:`\\widehat{MMD}^2_u` of Gretton et al. (2012, JMLR 13:723), which can be slightly
    negative when the two samples come from the same distribution.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    z = np.vstack([x, y])
    sq = np.maximum(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1), 0.0)
    if bandwidth is None:
        off = sq[np.triu_indices(len(z), 1)]
        bandwidth = float(np.sqrt(np.median(off))) or 1.0
    k = np.exp(-sq / (2.0 * bandwidth**2))
    m, n = len(x), len(y)
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2.0 * kxy.mean()
    )


def correlation_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Frobenius norm of the difference of the gene-gene Pearson correlation matrices.

    Genes constant in a sample get zero correlations. Needs at least 3 rows in each sample.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or len(y) < 3:
        return float("nan")

    def corr(a: np.ndarray) -> np.ndarray:
        a = a - a.mean(axis=0)
        sd = np.sqrt((a**2).sum(axis=0))
        sd[sd < 1e-12] = np.inf
        a = a / sd
        c = a.T @ a
        np.fill_diagonal(c, 1.0)
        return c

    return float(np.linalg.norm(corr(x) - corr(y), "fro"))


def c2st_auroc(
    real: np.ndarray, synthetic: np.ndarray, classifier: str = "forest", random_state: int = 0
) -> float:
    """Classifier two-sample test: cross-validated AUROC of telling real from synthetic rows.

    0.5 means the classifier cannot tell them apart (ideal); 1 means perfectly separable.
    """
    x = np.vstack([real, synthetic])
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    folds = int(min(5, len(real), len(synthetic)))
    if folds < 2:
        return float("nan")
    if classifier == "forest":
        model = RandomForestClassifier(
            n_estimators=100, min_samples_leaf=2, random_state=random_state, n_jobs=1
        )
    elif classifier == "logistic":
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    else:
        raise DataError(f"classifier must be 'forest' or 'logistic', got {classifier!r}")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    prob = cross_val_predict(model, x, y, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, prob))


def _subtype_classifier():
    return make_pipeline(
        StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
    )


def evaluate_gan(
    estimator: ConditionalWGAN,
    expression: pd.DataFrame,
    labels,
    *,
    test_size: float = 0.3,
    refit: bool = True,
    classifier: str = "forest",
    random_state: int = 0,
) -> pd.DataFrame:
    """Per-class fidelity and utility of a conditional GAN, judged on held-out real patients.

    Parameters
    ----------
    estimator : ConditionalWGAN
        With ``refit=True`` (default) it is cloned and trained on the training split only, so
        the held-out patients were never seen; with ``refit=False`` a fitted model is used as
        is (its figures are optimistic if it saw the test patients).
    expression, labels : as in :meth:`ConditionalWGAN.fit`.
    test_size : float
        Share of real patients held out, stratified on the primary label.
    classifier : {"forest", "logistic"}
        The two-sample-test classifier (a random forest also detects differences in spread).

    Returns
    -------
    DataFrame
        One row per level of the primary label, then ``label == "all"``:
        ``label, n_train, n_test, n_synthetic, c2st_auroc, mmd2, mmd2_baseline,
        corr_distance, corr_distance_baseline, tstr_accuracy, trtr_accuracy``.

    Notes
    -----
    For each level, ``n_train`` synthetic rows are generated (the size of the real training
    sample, so both comparisons have the same sampling noise). ``mmd2`` and
    ``corr_distance`` compare synthetic with held-out real rows; the ``_baseline`` columns
    compare real training with held-out real rows: synthetic data are as good as a fresh
    real sample when the two are similar. ``c2st_auroc`` is a cross-validated AUROC of real
    (all real rows of the level) against as many synthetic rows. TSTR trains a penalised
    logistic subtype classifier on synthetic rows and tests it on held-out real rows; TRTR
    trains it on the real training rows (per level: recall; ``all``: accuracy). Genes are
    standardised with the training mean and SD before every comparison.
    """
    expr = _as_expression(expression)
    labs = _as_labels(labels, expr.index)
    primary = labs.iloc[:, 0].astype(object)
    try:
        tr, te = train_test_split(
            np.arange(len(expr)),
            test_size=test_size,
            stratify=primary.astype(str),
            random_state=random_state,
        )
    except ValueError as exc:
        raise DataError(f"cannot split the patients for evaluation: {exc}") from exc
    tr, te = np.sort(tr), np.sort(te)
    model = clone(estimator).fit(expr.iloc[tr], labs.iloc[tr]) if refit else estimator
    x = expr.to_numpy(float)
    mu, sd = x[tr].mean(axis=0), x[tr].std(axis=0)
    sd[sd < 1e-12] = 1.0
    z = (x - mu) / sd
    levels = sorted(primary.unique(), key=str)
    counts = {lv: int((primary == lv).sum()) for lv in levels}
    synth = model.augment(
        expr.iloc[tr], labs.iloc[tr], n_per_class=counts, random_state=random_state + 1
    )
    zs = (synth[list(expr.columns)].to_numpy(float) - mu) / sd
    ys = synth[labs.columns[0]].to_numpy(object)
    y = primary.to_numpy(object)
    multi = len(levels) > 1
    if multi:
        pred_s = _subtype_classifier().fit(zs, ys.astype(str)).predict(z[te])
        pred_r = _subtype_classifier().fit(z[tr], y[tr].astype(str)).predict(z[te])
    rows = []
    for lv in levels:
        r_tr, r_te = z[tr][y[tr] == lv], z[te][y[te] == lv]
        s_all = zs[ys == lv]
        s_tr = s_all[: len(r_tr)]
        r_all = z[y == lv]
        hit = y[te] == lv
        rows.append(
            (
                lv,
                len(r_tr),
                len(r_te),
                len(s_all),
                c2st_auroc(r_all, s_all[: len(r_all)], classifier, random_state),
                mmd2_rbf(s_tr, r_te),
                mmd2_rbf(r_tr, r_te),
                correlation_distance(s_tr, r_te),
                correlation_distance(r_tr, r_te),
                float(np.mean(pred_s[hit] == str(lv))) if multi and hit.any() else np.nan,
                float(np.mean(pred_r[hit] == str(lv))) if multi and hit.any() else np.nan,
            )
        )
    s_tr_all = np.vstack([zs[ys == lv][: int((y[tr] == lv).sum())] for lv in levels])
    rows.append(
        (
            "all",
            len(tr),
            len(te),
            len(zs),
            c2st_auroc(z, zs[: len(z)], classifier, random_state),
            mmd2_rbf(s_tr_all, z[te]),
            mmd2_rbf(z[tr], z[te]),
            correlation_distance(s_tr_all, z[te]),
            correlation_distance(z[tr], z[te]),
            float(np.mean(pred_s == y[te].astype(str))) if multi else np.nan,
            float(np.mean(pred_r == y[te].astype(str))) if multi else np.nan,
        )
    )
    return pd.DataFrame(
        rows,
        columns=[
            "label",
            "n_train",
            "n_test",
            "n_synthetic",
            "c2st_auroc",
            "mmd2",
            "mmd2_baseline",
            "corr_distance",
            "corr_distance_baseline",
            "tstr_accuracy",
            "trtr_accuracy",
        ],
    )


def _one_factor_loadings(x: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Standardised loadings of a one-factor model, sign-aligned with ``reference``."""
    x = x - x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd < 1e-12] = 1.0
    fa = FactorAnalysis(n_components=1, max_iter=5000, tol=1e-4, random_state=0)
    lam = fa.fit(x / sd).components_[0]
    ref = np.ones_like(lam) if reference is None else reference
    return lam if float(lam @ ref) >= 0 else -lam


def augmentation_stability(
    estimator: ConditionalWGAN,
    expression: pd.DataFrame,
    labels,
    *,
    indicators: Sequence[str] | None = None,
    n_indicators: int = 5,
    n_boot: int = 50,
    n_synthetic: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Does GAN augmentation stabilise a per-subtype one-factor measurement model?

    For each level of the primary label, the real rows are bootstrapped ``n_boot`` times; on
    each resample a one-factor model of the ``indicators`` is fitted without and with
    ``n_synthetic`` synthetic rows of that level added.

    Parameters
    ----------
    estimator : ConditionalWGAN
        A fitted model (fitted on ``expression``/``labels`` if it is not).
    indicators : sequence of str, optional
        The genes measuring the factor; by default the ``n_indicators`` genes with the largest
        absolute loading on the first principal component of all standardised real rows.
    n_synthetic : int, optional
        Synthetic rows added per resample (default: as many as the real rows of the level).

    Returns
    -------
    DataFrame
        ``label, n_real, n_synthetic, n_indicators, loading_sd_real,
        loading_sd_augmented, sd_ratio, bias_real, bias_augmented``: the mean over
        indicators of the bootstrap SD of the standardised loadings; ``bias_*`` is the mean
        absolute difference between the bootstrap-mean loadings and the loadings on all real
        rows of the level.

    Notes
    -----
    One-factor maximum-likelihood factor analysis
    (:class:`sklearn.decomposition.FactorAnalysis`) on z-scored indicators, so loadings are
    standardised; signs are aligned to the full-sample solution. Fresh synthetic rows are
    drawn for every resample, but the GAN is not refitted, so part of the reduction in spread
    is mechanical (synthetic rows add no new information about the real population); read
    ``bias_augmented`` alongside the SDs.
    """
    expr = _as_expression(expression)
    labs = _as_labels(labels, expr.index)
    if not hasattr(estimator, "generator_"):
        estimator.fit(expr, labs)
    if indicators is None:
        zall = expr.to_numpy(float)
        zall = (zall - zall.mean(axis=0)) / np.where(zall.std(axis=0) > 0, zall.std(axis=0), 1)
        pc1 = np.linalg.svd(zall, full_matrices=False)[2][0]
        indicators = list(expr.columns[np.argsort(-np.abs(pc1))[:n_indicators]])
    indicators = list(indicators)
    unknown = [g for g in indicators if g not in expr.columns]
    if unknown or len(indicators) < 3:
        raise DataError(f"indicators must be at least 3 genes of expression; unknown: {unknown}")
    rng = np.random.default_rng(random_state)
    primary = labs.iloc[:, 0]
    rows = []
    for lv in sorted(primary.unique(), key=str):
        mask = (primary == lv).to_numpy()
        real = expr.loc[mask, indicators].to_numpy(float)
        n = len(real)
        if n < 4:
            raise DataError(f"level {lv!r} has {n} real rows; a one-factor model needs >= 4")
        n_syn = n if n_synthetic is None else int(n_synthetic)
        ref = _one_factor_loadings(real, None)
        lam_r, lam_a = [], []
        for _ in range(n_boot):
            boot = real[rng.integers(0, n, size=n)]
            cond = labs.loc[mask].iloc[rng.integers(0, n, size=n_syn)]
            syn = estimator.sample(cond, random_state=int(rng.integers(2**31)))[indicators]
            lam_r.append(_one_factor_loadings(boot, ref))
            lam_a.append(_one_factor_loadings(np.vstack([boot, syn.to_numpy(float)]), ref))
        lam_r, lam_a = np.array(lam_r), np.array(lam_a)
        sd_r = float(lam_r.std(axis=0, ddof=1).mean())
        sd_a = float(lam_a.std(axis=0, ddof=1).mean())
        rows.append(
            (
                lv,
                n,
                n_syn,
                len(indicators),
                sd_r,
                sd_a,
                sd_a / sd_r,
                float(np.abs(lam_r.mean(axis=0) - ref).mean()),
                float(np.abs(lam_a.mean(axis=0) - ref).mean()),
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "label",
            "n_real",
            "n_synthetic",
            "n_indicators",
            "loading_sd_real",
            "loading_sd_augmented",
            "sd_ratio",
            "bias_real",
            "bias_augmented",
        ],
    )
