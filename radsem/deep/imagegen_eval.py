"""Evaluation of the expression -> image generator on held-out patients.

Radiomic features of generated vs real crops of the same held-out patients (Spearman per
feature) next to the same with expression shuffled across patients; counterfactuals (one
mechanism's genes moved by +2 SD) against the true effect directions of a simulated cohort;
distribution distance of generated vs real features against real-vs-real halves; a memorisation
check; and a report section with a gallery and a traversal along one gene set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from radsem.deep.imagegen_data import MASK_RULES, ImageSet, binarise_mask, check_gene_table
from radsem.errors import DataError

__all__ = [
    "FEATURES",
    "crop_features",
    "true_directions",
    "ImageGenEvaluation",
    "evaluate_generator",
    "imagegen_section",
    "rare_subtype_augmentation",
]

#: Features measured on real and generated crops (inside the binarised mask).
FEATURES = ("volume_ml", "mean_adc", "heterogeneity", "mean_t2", "mean_dwi")
_DRIVERS = {"volume_ml": "radius", "mean_adc": "adc", "heterogeneity": "heterogeneity"}


def crop_features(
    data: np.ndarray,
    spacing: Sequence[float],
    index: Sequence[str] | None = None,
    mask_rule: str = "0.5",
) -> pd.DataFrame:
    """Tumour features of crops ``(n, 4, Z, Y, X)`` (T2, DWI, ADC, mask probability).

    ``volume_ml``: voxels of the mask (binarised by ``mask_rule``, see
    :func:`~radsem.deep.imagegen_data.binarise_mask`; largest component) x voxel volume;
    ``mean_adc``, ``mean_t2``, ``mean_dwi``: means inside the mask; ``heterogeneity``: the
    coefficient of variation of T2 inside the mask. Empty masks give NaN intensities.
    """
    vox_ml = float(np.prod(spacing)) / 1000.0
    rows = []
    for v in np.asarray(data):
        m = binarise_mask(v[3], rule=mask_rule)
        if not m.any():
            rows.append((0.0, np.nan, np.nan, np.nan, np.nan))
            continue
        t2 = v[0][m].astype(np.float64)
        het = float(t2.std() / t2.mean()) if t2.mean() > 0 else np.nan
        rows.append(
            (m.sum() * vox_ml, float(v[2][m].mean()), het, float(t2.mean()), float(v[1][m].mean()))
        )
    idx = pd.Index(index if index is not None else range(len(rows)), name="patient_id")
    return pd.DataFrame(rows, columns=list(FEATURES), index=idx)


def true_directions(truth: dict) -> pd.DataFrame:
    """Signs of the true effects of each mechanism on the driven features (simulated cohort).

    From ``truth["parameters"]["tumour"]``: ``radius_<m>`` drives ``volume_ml``, ``adc_<m>``
    drives ``mean_adc``, ``heterogeneity_<m>`` drives ``heterogeneity``; zero effects are left out.
    Returns ``mechanism, feature, effect, sign``.
    """
    try:
        tumour = truth["parameters"]["tumour"]
        mechanisms = list(truth["parameters"]["mechanisms"])
    except (KeyError, TypeError) as exc:
        raise DataError(
            "truth has no parameters.tumour / parameters.mechanisms "
            "(a simulated cohort's truth.json is needed)"
        ) from exc
    rows = []
    for mech in mechanisms:
        for feat, prefix in _DRIVERS.items():
            effect = float(tumour.get(f"{prefix}_{mech}", 0.0))
            if effect != 0.0:
                rows.append((mech, feat, effect, int(np.sign(effect))))
    return pd.DataFrame(rows, columns=["mechanism", "feature", "effect", "sign"])


def _mechanism_genes(truth: dict) -> pd.DataFrame:
    mm = pd.DataFrame(truth.get("measurement_model", []))
    if mm.empty or not {"gene", "mechanism", "loading"} <= set(mm.columns):
        raise DataError("truth has no measurement_model (gene, mechanism, loading)")
    return mm


@dataclass
class ImageGenEvaluation:
    """Result of :func:`evaluate_generator` (tables are pandas objects).

    ``fit_seconds`` and ``fit_cpu_seconds`` are per generator (the mean over folds when
    cross-fitted); ``n_train`` is the training patients of a generator (the smallest fold's),
    ``n_test`` the held-out patients evaluated (all of them when cross-fitted); ``model`` is
    the first fold's generator (gallery and traversal), ``models`` every fold's.
    """

    spearman: pd.DataFrame
    spearman_within_folds: pd.DataFrame
    counterfactual: pd.DataFrame
    distribution: pd.DataFrame
    memorisation: pd.DataFrame
    fit_seconds: float
    fit_cpu_seconds: float
    n_train: int
    n_test: int
    model: object = field(repr=False)
    gallery: dict = field(repr=False, default_factory=dict)
    n_folds: int = 1
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)
    fold_spearman: pd.DataFrame = field(default_factory=pd.DataFrame)
    models: list = field(repr=False, default_factory=list)

    @property
    def counterfactual_rate(self) -> float:
        """Share of (patient, draw, mechanism, feature) counterfactuals in the true direction."""
        if self.counterfactual.empty:
            return float("nan")
        return float(
            np.average(self.counterfactual["right_direction"], weights=self.counterfactual["n"])
        )


def _energy(a: np.ndarray, b: np.ndarray) -> float:
    def mean_dist(x, y):
        return float(np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)).mean())

    return 2 * mean_dist(a, b) - mean_dist(a, a) - mean_dist(b, b)


def _distribution(
    real_all: pd.DataFrame,
    real_test: pd.DataFrame,
    gen: pd.DataFrame,
    rng: np.random.Generator,
    n_halves: int = 50,
) -> pd.DataFrame:
    feats = list(FEATURES)
    sd = real_all[feats].std().replace(0, 1.0)
    r_all = (real_all[feats] / sd).dropna().to_numpy()
    r_test = (real_test[feats] / sd).dropna().to_numpy()
    g = (gen[feats] / sd).dropna().to_numpy()
    m = min(len(r_test), len(r_all) // 2)
    if m < 2:
        raise DataError("too few real patients with a tumour for the distribution distance")
    rows = []
    ref = {f: [] for f in [*feats, "all (energy)"]}
    for _ in range(n_halves):
        perm = rng.permutation(len(r_all))
        a, b = r_all[perm[:m]], r_all[perm[m : 2 * m]]
        for j, f in enumerate(feats):
            ref[f].append(stats.wasserstein_distance(a[:, j], b[:, j]))
        ref["all (energy)"].append(_energy(a, b))
    ok = len(g) >= 2  # generated crops whose mask is empty have no intensity features
    for j, f in enumerate(feats):
        rows.append(
            (
                f,
                stats.wasserstein_distance(g[:, j], r_test[:, j]) if ok else np.nan,
                np.mean(ref[f]),
                np.quantile(ref[f], 0.95),
            )
        )
    rows.append(
        (
            "all (energy)",
            _energy(g, r_test) if ok else np.nan,
            np.mean(ref["all (energy)"]),
            np.quantile(ref["all (energy)"], 0.95),
        )
    )
    out = pd.DataFrame(
        rows, columns=["feature", "generated_vs_real", "real_vs_real_mean", "real_vs_real_q95"]
    )
    out["ratio"] = out["generated_vs_real"] / out["real_vs_real_mean"]
    return out


def _distribution_halves(
    real: pd.DataFrame, gen: pd.DataFrame, rng: np.random.Generator, n_halves: int = 50
) -> pd.DataFrame:
    """Generated features of one random half of the patients vs real features of the other
    half, against real vs real halves (same sizes), averaged over ``n_halves`` splits."""
    feats = list(FEATURES)
    sd = real[feats].std().replace(0, 1.0)
    r = (real[feats] / sd).to_numpy()
    g = (gen.loc[real.index, feats] / sd).to_numpy()
    ok_r, ok_g = ~np.isnan(r).any(axis=1), ~np.isnan(g).any(axis=1)
    m = len(r) // 2
    if m < 2:
        raise DataError("too few real patients with a tumour for the distribution distance")
    names = [*feats, "all (energy)"]
    ref = {f: [] for f in names}
    out = {f: [] for f in names}
    for _ in range(n_halves):
        perm = rng.permutation(len(r))
        a_pos, b_pos = perm[:m], perm[m : 2 * m]
        a, b = r[a_pos][ok_r[a_pos]], r[b_pos][ok_r[b_pos]]
        ga = g[a_pos][ok_g[a_pos]]  # generated crops with an empty mask have no intensities
        for j, f in enumerate(feats):
            ref[f].append(stats.wasserstein_distance(a[:, j], b[:, j]))
            out[f].append(stats.wasserstein_distance(ga[:, j], b[:, j]) if len(ga) else np.nan)
        ref["all (energy)"].append(_energy(a, b))
        out["all (energy)"].append(_energy(ga, b) if len(ga) >= 2 else np.nan)
    rows = [
        (f, float(np.mean(out[f])), float(np.mean(ref[f])), float(np.quantile(ref[f], 0.95)))
        for f in names
    ]
    res = pd.DataFrame(
        rows, columns=["feature", "generated_vs_real", "real_vs_real_mean", "real_vs_real_q95"]
    )
    res["ratio"] = res["generated_vs_real"] / res["real_vs_real_mean"]
    return res


def _flat(model, data: np.ndarray) -> np.ndarray:
    return model._to_tensor(data).numpy().reshape(len(data), -1).astype(np.float64)


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0).min(axis=1) / a.shape[1])


def _memorisation_table(d_real: np.ndarray, d_gen: np.ndarray) -> pd.DataFrame:
    q05 = float(np.quantile(d_real, 0.05))
    rows = [
        ("held-out real -> nearest training", float(np.median(d_real)), float(d_real.min()), 0.05),
        (
            "generated -> nearest training",
            float(np.median(d_gen)),
            float(d_gen.min()),
            float((d_gen < q05).mean()),
        ),
    ]
    return pd.DataFrame(
        rows, columns=["comparison", "median_rms", "min_rms", "share_below_real_q05"]
    )


def _derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    while True:
        perm = rng.permutation(n)
        if n < 2 or not (perm == np.arange(n)).any():
            return perm


def _check_folds(n_folds, n: int, test_size: float) -> int:
    """1 for the single split (``n_folds`` None or 1), else the validated number of folds."""
    if n_folds is None:
        k = 1
    elif isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 1:
        raise DataError(
            f"n_folds must be an integer >= 2 (or None / 1 for one split), got {n_folds!r}"
        )
    else:
        k = int(n_folds)
    if k == 1:
        n_test = int(round(test_size * n))
        if not 0 < test_size < 1 or n_test < 5 or n - n_test < 8:
            raise DataError(
                f"cannot hold out {test_size!r} of {n} patients with images and "
                "expression (need >= 5 held out and >= 8 for training)"
            )
        return 1
    if k > n:
        raise DataError(f"n_folds={k} is more than the {n} patients with images and expression")
    smallest_train = n - -(-n // k)
    if smallest_train < 8:
        raise DataError(
            f"n_folds={k} leaves {smallest_train} of {n} patients to train a fold's "
            "generator (need >= 8)"
        )
    return k


def _fold_seed(random_state: int, fold: int, n_folds: int) -> int:
    """The single split keeps ``random_state``; fold ``k`` of a cross-fit gets its own seed."""
    if n_folds == 1:
        return int(random_state)
    return int(np.random.SeedSequence([int(random_state), int(fold)]).generate_state(1)[0] >> 1)


def _rho(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    ok = a.notna() & b.notna()
    if ok.sum() < 3 or a[ok].nunique() < 2 or b[ok].nunique() < 2:
        return np.nan, np.nan
    res = stats.spearmanr(a[ok], b[ok])
    return float(res.statistic), float(res.pvalue)


def _median(values: pd.Series) -> float:
    finite = values.dropna()
    return float(finite.median()) if len(finite) else np.nan


def _mean_finite(values: Sequence[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else np.nan


@dataclass
class _Fold:
    """What one fold's generator produced for its held-out patients."""

    model: object
    seed: int
    train: list
    test: list
    fit_seconds: float
    fit_cpu_seconds: float
    draws: list  # features of each z draw
    mean: pd.DataFrame  # features at the prior-mean z
    first_draw: np.ndarray  # crops of the first draw (memorisation, gallery)
    d_real: np.ndarray  # held-out real crop -> nearest training crop
    d_gen: np.ndarray  # generated crop (first draw) -> nearest training crop
    cf: dict  # (mechanism, feature) -> counterfactual changes over draws


def _counterfactual_changes(
    model,
    x_test: pd.DataFrame,
    test: list,
    truth: dict,
    draws: list,
    n_draws: int,
    seed: int,
    sp,
    mask_rule: str = "0.5",
) -> dict:
    directions = true_directions(truth)
    mm = _mechanism_genes(truth)
    scale = pd.Series(model.gene_scale_, index=model.genes_)
    out = {}
    for mech, group in directions.groupby("mechanism", sort=False):
        genes = mm.loc[(mm["mechanism"] == mech) & mm["gene"].isin(model.genes_)]
        if genes.empty:
            continue
        shifted = x_test.copy()
        for g, load in zip(genes["gene"], genes["loading"], strict=True):
            shifted[g] = shifted[g] + 2.0 * np.sign(load) * scale[g]
        cf = [
            crop_features(model.sample(shifted, seed + 1000 + d)[0], sp, test, mask_rule)
            for d in range(n_draws)
        ]
        for f in group["feature"]:
            out[(mech, f)] = np.concatenate(
                [(c[f] - g[f]).to_numpy() for c, g in zip(cf, draws, strict=True)]
            )
    return out


def _counterfactual_table(truth: dict, changes: list[dict]) -> pd.DataFrame:
    rows = []
    for _, row in true_directions(truth).iterrows():
        key = (row["mechanism"], row["feature"])
        if key not in changes[0]:
            continue
        diff = np.concatenate([c[key] for c in changes])
        ok = np.isfinite(diff)
        right = np.sign(diff[ok]) == row["sign"]
        rows.append(
            (
                *key,
                int(row["sign"]),
                int(ok.sum()),
                float(right.mean()) if ok.any() else np.nan,
                float(np.mean(diff[ok])) if ok.any() else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=_CF_COLUMNS)


_CF_COLUMNS = ["mechanism", "feature", "true_sign", "n", "right_direction", "mean_change"]


def _spearman_within_folds(
    real: pd.DataFrame,
    groups: list[list],
    draws: list[pd.DataFrame],
    mean: pd.DataFrame,
    shuffled: pd.DataFrame,
    shuffled_mean: pd.DataFrame,
    more_shuffles: list[pd.DataFrame],
) -> pd.DataFrame:
    """Spearman within each fold's held-out patients, averaged over folds (weighted by size)."""

    def within(gen: pd.DataFrame, f: str) -> float:
        vals, weights = [], []
        for ids in groups:
            r = _rho(real.loc[ids, f], gen.loc[ids, f])[0]
            if np.isfinite(r):
                vals.append(r)
                weights.append(len(ids))
        return float(np.average(vals, weights=weights)) if vals else np.nan

    rows = []
    for f in FEATURES:
        more = [r for r in (within(g, f) for g in more_shuffles) if np.isfinite(r)]
        rows.append(
            (
                f,
                within(draws[0], f),
                _mean_finite([within(g, f) for g in draws]),
                within(mean, f),
                within(shuffled, f),
                within(shuffled_mean, f),
                float(np.mean(more)) if more else np.nan,
                float(np.std(more, ddof=1)) if len(more) > 1 else np.nan,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "feature",
            "rho_generated",
            "rho_generated_mean_of_draws",
            "rho_prior_mean_z",
            "rho_shuffled",
            "rho_shuffled_prior_mean_z",
            "rho_shuffled_mean",
            "rho_shuffled_sd",
        ],
    )


def _run_fold(
    est,
    images: ImageSet,
    expr: pd.DataFrame,
    train: list,
    test: list,
    *,
    seed: int,
    n_draws: int,
    truth: dict | None,
    mask_rule: str = "0.5",
    fitted=None,
) -> _Fold:
    if fitted is None:
        est = clone(est)
        est.set_params(random_state=seed)
        t0, c0 = time.perf_counter(), time.process_time()
        model = est.fit(images.subset(train), expr.loc[train])
        fit_seconds, fit_cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    else:  # a generator fitted before on these training patients: not timed again
        model, fit_seconds, fit_cpu_seconds = fitted, np.nan, np.nan
    sp = images.spacing
    x_test = expr.loc[test]
    crops = [model.sample(x_test, seed + 1000 + d)[0] for d in range(n_draws)]
    draws = [crop_features(c, sp, test, mask_rule) for c in crops]
    mean = crop_features(model.sample(x_test, seed, mode="mean")[0], sp, test, mask_rule)
    tr = _flat(model, images.subset(train).data)
    d_real = _nearest(_flat(model, images.subset(test).data), tr)
    d_gen = _nearest(_flat(model, crops[0]), tr)
    cf = (
        {}
        if truth is None
        else _counterfactual_changes(
            model, x_test, test, truth, draws, n_draws, seed, sp, mask_rule
        )
    )
    return _Fold(
        model,
        seed,
        train,
        test,
        fit_seconds,
        fit_cpu_seconds,
        draws,
        mean,
        crops[0],
        d_real,
        d_gen,
        cf,
    )


def _sample_moved(
    folds: list[_Fold],
    fold_of: np.ndarray,
    x: pd.DataFrame,
    source: np.ndarray,
    sp,
    *,
    offset: int,
    mode: str,
    by_patient: bool = False,
    mask_rule: str = "0.5",
) -> pd.DataFrame:
    """Features of patient ``i`` generated from patient ``source[i]``'s expression by the
    generator that did not see ``source[i]`` (the model of its fold), or, ``by_patient``, by
    the generator that did not see ``i``."""
    owner = fold_of if by_patient else fold_of[source]
    parts = []
    for k, fold in enumerate(folds):
        rows = np.flatnonzero(owner == k)
        if len(rows) == 0:
            continue
        moved = x.iloc[source[rows]]
        moved.index = x.index[rows]
        parts.append(
            crop_features(
                fold.model.sample(moved, fold.seed + offset, mode=mode)[0],
                sp,
                moved.index,
                mask_rule,
            )
        )
    return pd.concat(parts).loc[x.index]


def _fold_tables(
    folds: list[_Fold], real: pd.DataFrame, truth: dict | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-fold summary and per-fold Spearman on each fold's own held-out patients."""
    fold_rows, fold_sp = [], []
    for k, fold in enumerate(folds):
        r = real.loc[fold.test]
        for f in FEATURES:
            fold_sp.append(
                (
                    k,
                    f,
                    len(fold.test),
                    _rho(r[f], fold.draws[0][f])[0],
                    _mean_finite([_rho(r[f], g[f])[0] for g in fold.draws]),
                    _rho(r[f], fold.mean[f])[0],
                    _median(r[f]),
                    _median(fold.mean[f]),
                )
            )
        rate = np.nan
        if truth is not None:
            cf = _counterfactual_table(truth, [fold.cf])
            if not cf.empty:
                rate = float(np.average(cf["right_direction"], weights=cf["n"]))
        fold_rows.append(
            (
                k,
                len(fold.train),
                len(fold.test),
                fold.seed,
                fold.fit_seconds,
                fold.fit_cpu_seconds,
                rate,
                float(np.median(fold.d_gen) / np.median(fold.d_real)),
            )
        )
    fold_table = pd.DataFrame(
        fold_rows,
        columns=[
            "fold",
            "n_train",
            "n_test",
            "seed",
            "fit_seconds",
            "fit_cpu_seconds",
            "counterfactual_rate",
            "memorisation_ratio",
        ],
    )
    fold_spearman = pd.DataFrame(
        fold_sp,
        columns=[
            "fold",
            "feature",
            "n",
            "rho_generated",
            "rho_generated_mean_of_draws",
            "rho_prior_mean_z",
            "median_real",
            "median_generated_prior_mean_z",
        ],
    )
    return fold_table, fold_spearman


def _gallery(
    first: _Fold, images: ImageSet, expr: pd.DataFrame, truth: dict | None, traversal: str
) -> dict:
    """Gallery (first held-out patients) and traversal from the first fold's generator."""
    gallery = {
        "test": first.test[:4],
        "real": images.subset(first.test[:4]).data,
        "generated": first.first_draw[:4],
        "spacing": images.spacing,
    }
    if truth is not None:
        mm = _mechanism_genes(truth)
        model = first.model
        scale = pd.Series(model.gene_scale_, index=model.genes_)
        tgenes = mm.loc[(mm["mechanism"] == traversal) & mm["gene"].isin(model.genes_)]
        if not tgenes.empty:
            steps = [-2.0, -1.0, 0.0, 1.0, 2.0]
            base = expr.loc[first.test].iloc[[0] * len(steps)].copy()
            base.index = pd.Index([f"{traversal}{s:+.0f}SD" for s in steps], name="patient_id")
            for g, load in zip(tgenes["gene"], tgenes["loading"], strict=True):
                base[g] = base[g] + np.asarray(steps) * np.sign(load) * scale[g]
            gallery["traversal"] = model.sample(base, first.seed, mode="mean")[0]
            gallery["traversal_steps"] = steps
            gallery["traversal_name"] = traversal
            gallery["traversal_patient"] = first.test[0]
    return gallery


def evaluate_generator(
    images: ImageSet,
    expression: pd.DataFrame,
    *,
    estimator=None,
    truth: dict | None = None,
    test_size: float = 0.3,
    n_folds: int | None = None,
    n_draws: int = 3,
    n_shuffles: int = 20,
    traversal: str = "hypoxia",
    random_state: int = 0,
    mask_rule: str = "expected_volume",
    models: Sequence | None = None,
) -> ImageGenEvaluation:
    """Fit the generator on training patients and evaluate it on held-out patients.

    Parameters
    ----------
    images : ImageSet
        Crops with the mask channel of the cohort.
    expression : DataFrame
        Patients x genes; patients with images and expression are used (split at random).
    estimator : ExpressionImageGenerator, optional
        Unfitted settings (cloned); default settings when omitted.
    truth : dict, optional
        ``truth.json`` of a simulated cohort: enables the counterfactual table and the
        traversal along ``traversal``'s genes.
    test_size : float
        Share of patients held out by the single split (ignored when cross-fitting).
    n_folds : int or None
        None or 1 (the default): one random split, ``test_size`` held out, one generator.
        ``K >= 2``: cross-fitting: the patients are split at random into ``K`` folds, one
        generator per fold is trained on the other folds (same settings; seeds derived from
        ``random_state``), every patient is generated by the generator that did not see them,
        and every table is computed on the pooled held-out results of all patients (each
        held out exactly once). It costs ``K`` trainings instead of one; its figures rest on
        all patients instead of ``test_size`` of them (a Spearman on ``n`` patients varies by
        about ``1 / sqrt(n - 1)``), at training sets of ``(K - 1) / K`` of the patients.
        The default stays the single split so that a call trains one model, as before.
    n_draws : int
        Draws of ``z`` per held-out patient for the counterfactuals and the Spearman spread.
    n_shuffles : int
        Further random derangements of the expression across held-out patients for the
        shuffled control at the prior-mean ``z`` (``rho_shuffled_mean``, ``rho_shuffled_sd``):
        one shuffle's rho varies by about 1 / sqrt(n - 1) around the control's expectation
        (0 when nothing but the expression links generated and real features), so one
        shuffle alone can miss a threshold by chance. 0 skips them (NaN).
    traversal : str
        Mechanism whose genes the traversal figure moves.
    random_state : int
        Seeds the split, the generators, the draws of ``z`` and the shuffles.
    mask_rule : {"expected_volume", "0.5"}
        How generated mask probabilities become the masks the features are measured in
        (:func:`~radsem.deep.imagegen_data.binarise_mask`; the default, the expected-volume
        rule, gave higher volume correlations on the same generators); real crops always use 0.5 of
        their partial-volume mask fraction, so the real features do not change with the rule.
    models : sequence of fitted generators, optional
        The ``models`` of an earlier evaluation with the same ``images``, ``expression``,
        ``test_size``, ``n_folds`` and ``random_state`` (same splits): they are evaluated
        again without training (e.g. under another ``mask_rule``); ``fit_seconds`` are then NaN.

    Returns
    -------
    ImageGenEvaluation
        ``spearman``: per feature, Spearman rho of generated (first draw; mean over draws;
        ``z`` at the prior mean) and of shuffled-expression generated vs real features (one
        draw, and ``z`` at the prior mean; and the mean and SD over ``n_shuffles`` further
        shuffles at the prior mean);
        ``counterfactual``: per mechanism and driven feature, the share of patients x draws
        moving in the true direction when the mechanism's genes move by +2 training SD (in
        the direction of their loading); ``distribution``: Wasserstein-1 per standardised
        feature and the multivariate energy distance, generated vs real held-out, against
        random real-vs-real halves of the same size; ``memorisation``: RMS distance of each
        generated and each held-out real crop to its nearest training crop (of the
        generator's own training patients); ``folds`` and ``fold_spearman``: the same
        figures within each fold (one row / one fold for the single split), with the
        median real and generated (prior-mean ``z``) feature of each fold;
        ``spearman_within_folds``: the Spearman columns computed within each fold's held-out
        patients and averaged over folds (weighted by their size), the shuffled controls from
        the same derangements but each patient's control image generated by its own fold's
        generator (equal to ``spearman`` for the single split).

    Notes
    -----
    Cross-fitted shuffled controls derange the expression across all pooled patients:
    patient ``i``'s control image is generated from patient ``j``'s expression by the
    generator that did not see ``j``, as the images of the main table are; the distribution
    distance compares the generated features of one random half of the patients with the
    real features of the other half, against real-vs-real halves (same sizes), averaged over
    50 splits.

    A pooled rank correlation also ranks patients of different folds against each other,
    whose generators may differ in level (one fold's generator drawing every tumour larger):
    such offsets lower the pooled rho although each generator ranks its own patients as
    well; ``spearman_within_folds`` is free of them (as averaging per-fold AUCs is, against
    pooling the scores of the folds, Forman & Scholz 2010). Counterfactual changes compare
    two images of the same generator and pool without this problem.
    """
    from radsem.deep.imagegen import ExpressionImageGenerator

    expr = check_gene_table(expression)
    ids = [p for p in images.patient_id if p in set(expr.index)]
    n = len(ids)
    k_folds = _check_folds(n_folds, n, test_size)
    if int(n_shuffles) < 0:
        raise DataError(f"n_shuffles must be >= 0, got {n_shuffles}")
    if truth is not None:  # a bad truth fails before any training
        true_directions(truth)
        _mechanism_genes(truth)
    if mask_rule not in MASK_RULES:
        raise DataError(f"mask_rule must be one of {MASK_RULES}, got {mask_rule!r}")
    rng = np.random.default_rng(random_state)
    perm = rng.permutation(n)
    if k_folds == 1:
        test_sets = [np.sort(perm[: int(round(test_size * n))])]
    else:
        test_sets = [np.sort(part) for part in np.array_split(perm, k_folds)]
    est = clone(estimator) if estimator is not None else ExpressionImageGenerator()
    if models is not None and len(models) != len(test_sets):
        raise DataError(f"{len(models)} fitted models given for {len(test_sets)} fold(s)")
    folds = []
    for k, pos in enumerate(test_sets):
        held = set(pos.tolist())
        folds.append(
            _run_fold(
                est,
                images,
                expr,
                [ids[i] for i in range(n) if i not in held],
                [ids[i] for i in pos],
                seed=_fold_seed(random_state, k, k_folds),
                n_draws=n_draws,
                truth=truth,
                mask_rule=mask_rule,
                fitted=None if models is None else models[k],
            )
        )
    move = partial(_sample_moved, mask_rule=mask_rule)

    # pooled held-out patients, in the order of the images
    pooled_pos = np.sort(np.concatenate(test_sets))
    pooled = [ids[i] for i in pooled_pos]
    fold_of = np.empty(n, dtype=int)
    for k, pos in enumerate(test_sets):
        fold_of[pos] = k
    fold_of = fold_of[pooled_pos]
    sp = images.spacing
    real_all = crop_features(images.subset(ids).data, sp, ids)
    real = real_all.loc[pooled]
    gen_feats = [pd.concat([f.draws[d] for f in folds]).loc[pooled] for d in range(n_draws)]
    mean_feats = pd.concat([f.mean for f in folds]).loc[pooled]
    x = expr.loc[pooled]
    source = _derangement(len(pooled), rng)
    shuf_feats = move(folds, fold_of, x, source, sp, offset=1000, mode="sample")
    shuf_mean = move(folds, fold_of, x, source, sp, offset=0, mode="mean")
    shuffle_rng = np.random.default_rng([random_state, 16])
    more_sources = [_derangement(len(pooled), shuffle_rng) for _ in range(int(n_shuffles))]
    more_shuffles = [
        move(folds, fold_of, x, src, sp, offset=0, mode="mean") for src in more_sources
    ]
    if k_folds == 1:
        own = (shuf_feats, shuf_mean, more_shuffles)
    else:  # the same derangements, each patient's control from its own fold's generator
        kw = dict(by_patient=True, mode="mean", offset=0)
        own = (
            move(folds, fold_of, x, source, sp, offset=1000, mode="sample", by_patient=True),
            move(folds, fold_of, x, source, sp, **kw),
            [move(folds, fold_of, x, src, sp, **kw) for src in more_sources],
        )
    spearman_within = _spearman_within_folds(
        real, [f.test for f in folds], gen_feats, mean_feats, *own
    )

    rows = []
    for f in FEATURES:
        r1, p1 = _rho(real[f], gen_feats[0][f])
        rsh, psh = _rho(real[f], shuf_feats[f])
        rmore = [r for r in (_rho(real[f], g[f])[0] for g in more_shuffles) if np.isfinite(r)]
        rows.append(
            (
                f,
                r1,
                p1,
                _mean_finite([_rho(real[f], g[f])[0] for g in gen_feats]),
                _rho(real[f], mean_feats[f])[0],
                rsh,
                psh,
                _rho(real[f], shuf_mean[f])[0],
                float(np.mean(rmore)) if rmore else np.nan,
                float(np.std(rmore, ddof=1)) if len(rmore) > 1 else np.nan,
            )
        )
    spearman = pd.DataFrame(
        rows,
        columns=[
            "feature",
            "rho_generated",
            "p_generated",
            "rho_generated_mean_of_draws",
            "rho_prior_mean_z",
            "rho_shuffled",
            "p_shuffled",
            "rho_shuffled_prior_mean_z",
            "rho_shuffled_mean",
            "rho_shuffled_sd",
        ],
    )
    counterfactual = (
        pd.DataFrame(columns=_CF_COLUMNS)
        if truth is None
        else _counterfactual_table(truth, [f.cf for f in folds])
    )

    fold_table, fold_spearman = _fold_tables(folds, real, truth)
    gallery = _gallery(folds[0], images, expr, truth, traversal)

    if k_folds == 1:
        distribution = _distribution(real_all, real, gen_feats[0], rng)
    else:
        distribution = _distribution_halves(real, gen_feats[0], rng)
    memorisation = _memorisation_table(
        np.concatenate([f.d_real for f in folds]), np.concatenate([f.d_gen for f in folds])
    )
    return ImageGenEvaluation(
        spearman=spearman,
        spearman_within_folds=spearman_within,
        counterfactual=counterfactual,
        distribution=distribution,
        memorisation=memorisation,
        fit_seconds=float(np.mean([f.fit_seconds for f in folds])),
        fit_cpu_seconds=float(np.mean([f.fit_cpu_seconds for f in folds])),
        n_train=min(len(f.train) for f in folds),
        n_test=len(pooled),
        model=folds[0].model,
        gallery=gallery,
        n_folds=k_folds,
        folds=fold_table,
        fold_spearman=fold_spearman,
        models=[f.model for f in folds],
    )


def _slice(vol: np.ndarray) -> int:
    area = (vol[3] > 0.5).sum(axis=(1, 2))
    return int(np.argmax(area)) if area.any() else vol.shape[1] // 2


def _panel(ax, vol: np.ndarray, channel: int, z: int, vmin: float, vmax: float) -> None:
    ax.imshow(vol[channel, z], cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
    if (vol[3, z] > 0.5).any() and (vol[3, z] <= 0.5).any():
        ax.contour(vol[3, z], levels=[0.5], colors="#e0a030", linewidths=0.8)
    ax.set_xticks([])
    ax.set_yticks([])


def gallery_figure(evaluation: ImageGenEvaluation):
    """Real and generated crops of the same held-out patients (T2 and ADC, mask outlined)."""
    from radsem.report.plots import _pyplot

    plt = _pyplot()
    g = evaluation.gallery
    n = len(g["test"])
    fig, axes = plt.subplots(n, 4, figsize=(6.4, 1.7 * n), squeeze=False)
    lims = {}
    for ch in (0, 2):
        both = np.concatenate([g["real"][:, ch].ravel(), g["generated"][:, ch].ravel()])
        lims[ch] = (float(np.quantile(both, 0.01)), float(np.quantile(both, 0.99)))
    titles = ["real T2", "generated T2", "real ADC", "generated ADC"]
    for i in range(n):
        real, gen = g["real"][i], g["generated"][i]
        for j, (vol, ch) in enumerate(((real, 0), (gen, 0), (real, 2), (gen, 2))):
            _panel(axes[i, j], vol, ch, _slice(vol), *lims[ch])
            if i == 0:
                axes[i, j].set_title(titles[j], fontsize=8)
        axes[i, 0].set_ylabel(g["test"][i], fontsize=8)
    fig.tight_layout()
    return fig


def traversal_figure(evaluation: ImageGenEvaluation):
    """Generated crops of one held-out patient as one gene set moves from -2 to +2 SD."""
    from radsem.report.plots import _pyplot

    g = evaluation.gallery
    if "traversal" not in g:
        raise DataError("this evaluation has no traversal (pass truth to evaluate_generator)")
    plt = _pyplot()
    vols, steps = g["traversal"], g["traversal_steps"]
    fig, axes = plt.subplots(2, len(steps), figsize=(1.6 * len(steps), 3.4), squeeze=False)
    for r, ch in enumerate((0, 2)):
        lo, hi = np.quantile(vols[:, ch], 0.01), np.quantile(vols[:, ch], 0.99)
        for j, vol in enumerate(vols):
            _panel(axes[r, j], vol, ch, _slice(vols[len(steps) // 2]), float(lo), float(hi))
            if r == 0:
                axes[r, j].set_title(f"{g['traversal_name']} {steps[j]:+.0f} SD", fontsize=8)
        axes[r, 0].set_ylabel(("T2", "ADC")[r], fontsize=8)
    fig.tight_layout()
    return fig


def imagegen_section(
    evaluation: ImageGenEvaluation, title: str = "Images generated from expression"
):
    """A report :class:`~radsem.report.Section` with the evaluation tables and the gallery."""
    from radsem.report.document import Section, figure_from_matplotlib
    from radsem.report.table import ResultTable

    ev = evaluation
    sec = Section(title)
    if ev.n_folds > 1:
        lo, hi = ev.folds["n_train"].min(), ev.folds["n_train"].max()
        sec.add(
            f"Cross-fitted: {ev.n_folds} conditional VAEs, one per fold, each trained on the "
            f"other folds ({lo if lo == hi else f'{lo}-{hi}'} patients; "
            f"{ev.fit_seconds:.0f} s, {ev.fit_cpu_seconds:.0f} s CPU per model on average); "
            f"each of the {ev.n_test} patients is generated by the model that did not see "
            "them, and the tables pool all of them."
        )
        where = f"All {ev.n_test} patients, each held out once ({ev.n_folds} folds, pooled)"
    else:
        sec.add(
            f"Conditional VAE trained on {ev.n_train} patients in "
            f"{ev.fit_seconds:.0f} s ({ev.fit_cpu_seconds:.0f} s CPU); "
            f"{ev.n_test} held-out patients (one random split)."
        )
        where = "Held-out patients"
    sec.add(
        ResultTable(
            ev.spearman,
            title="Generated vs real features (Spearman)",
            caption=f"{where}; shuffled: expression permuted across "
            "patients before generating (should be near 0); shuffled mean and SD: over "
            "further random permutations (prior-mean z).",
        )
    )
    if ev.n_folds > 1:
        sec.add(
            ResultTable(
                ev.spearman_within_folds,
                title="Generated vs real features within folds (Spearman, mean over folds)",
                caption="Rank correlation within each fold's held-out patients (one "
                "generator), averaged over folds; free of differences in level between the "
                "folds' generators, which lower the pooled rho above. Shuffled: the same "
                "permutations, each patient's control generated by its own fold's generator.",
            )
        )
        rho = ev.fold_spearman.pivot(index="fold", columns="feature", values="rho_prior_mean_z")
        per_fold = ev.folds[
            ["fold", "n_train", "n_test", "fit_cpu_seconds", "counterfactual_rate"]
        ].join(rho[list(FEATURES)].add_prefix("rho_").reset_index(drop=True))
        sec.add(
            ResultTable(
                per_fold,
                title="Per fold",
                caption="Each fold's generator on its own held-out patients: Spearman of "
                "generated (prior-mean z) vs real features, counterfactual direction rate, "
                "training CPU seconds. The spread shows how much one split moves the figures.",
            )
        )
    if not evaluation.counterfactual.empty:
        sec.add(
            ResultTable(
                evaluation.counterfactual,
                title="Counterfactuals (+2 SD)",
                caption=f"Share in the true direction: {evaluation.counterfactual_rate:.2f}.",
            )
        )
    sec.add(
        ResultTable(
            evaluation.distribution,
            title="Distribution distance",
            caption="Wasserstein-1 of standardised features and energy distance; "
            + (
                "generated features of a random half of the patients vs real features of "
                "the other half, against real-vs-real halves, means over 50 splits."
                if ev.n_folds > 1
                else "reference: random real-vs-real halves of the same size."
            ),
        )
    )
    sec.add(
        ResultTable(
            evaluation.memorisation,
            title="Memorisation check",
            caption="RMS distance (standardised voxels) to the nearest training "
            "crop"
            + (" of the generator's own fold" if ev.n_folds > 1 else "")
            + "; generated crops much closer than held-out real ones "
            "would indicate copying.",
        )
    )
    sec.add(
        figure_from_matplotlib(
            gallery_figure(evaluation),
            caption="Real and generated crops of held-out patients "
            "(largest tumour slice, mask outlined)"
            + (", first fold's generator." if ev.n_folds > 1 else "."),
        )
    )
    if "traversal" in evaluation.gallery:
        g = evaluation.gallery
        sec.add(
            figure_from_matplotlib(
                traversal_figure(evaluation),
                caption=f"Traversal: {g['traversal_name']} genes of "
                f"patient {g['traversal_patient']} moved from "
                "-2 to +2 SD (z at the prior mean).",
            )
        )
    return sec


def rare_subtype_augmentation(
    images: ImageSet,
    expression: pd.DataFrame,
    labels: pd.Series,
    *,
    estimator=None,
    gan=None,
    min_count: int = 10,
    test_size: float = 0.3,
    random_state: int = 0,
) -> pd.DataFrame:
    """Does augmenting rare subtypes with synthetic image + expression pairs help the generator?

    Inside the training split only: a conditional WGAN (:class:`~radsem.deep.gan.ConditionalWGAN`)
    fitted on the training expression and subtype labels generates expression for every subtype
    with fewer than ``min_count`` training patients (bringing each up to ``min_count``); the
    generator fitted on the real training patients turns that expression into images (z drawn
    from its prior); a second generator is fitted on real + synthetic pairs. Both are scored on
    the same held-out real patients.

    Parameters
    ----------
    labels : Series
        Subtype per patient (e.g. ``hpv_type``), indexed by patient.
    gan : ConditionalWGAN, optional
        Unfitted settings (default settings when omitted).

    Returns
    -------
    DataFrame
        ``model, patients, n, feature, rho_prior_mean_z, rho_sampled`` for the real-only and
        augmented generators, over all held-out patients and over held-out rare-subtype
        patients, plus ``n_synthetic`` (synthetic pairs added).
    """
    from radsem.deep.gan import ConditionalWGAN
    from radsem.deep.imagegen import ExpressionImageGenerator

    expr = check_gene_table(expression)
    labels = labels.astype(str)
    ids = [p for p in images.patient_id if p in set(expr.index) and p in set(labels.index)]
    n = len(ids)
    n_test = int(round(test_size * n))
    if not 0 < test_size < 1 or n_test < 5 or n - n_test < 8:
        raise DataError(f"cannot hold out {test_size!r} of {n} patients")
    rng = np.random.default_rng(random_state)
    perm = rng.permutation(n)
    test = [ids[i] for i in sorted(perm[:n_test])]
    train = [ids[i] for i in sorted(perm[n_test:])]
    counts = labels.loc[train].value_counts()
    rare = sorted(str(k) for k, v in counts.items() if v < min_count)
    if not rare:
        raise DataError(f"no subtype has fewer than {min_count} training patients")
    est = clone(estimator) if estimator is not None else ExpressionImageGenerator()
    est.set_params(random_state=random_state)
    base = clone(est).fit(images.subset(train), expr.loc[train])
    gan = clone(gan) if gan is not None else ConditionalWGAN(progress=False)
    gan.set_params(random_state=random_state)
    # subtypes with fewer patients than the GAN accepts stay out of the GAN (not augmented)
    usable = [p for p in train if counts[labels[p]] >= int(gan.min_per_class)]
    lab_train = labels.loc[usable].rename("hpv_type")
    wanted = {k: int(min_count - counts[k]) for k in rare if counts[k] >= int(gan.min_per_class)}
    if not wanted:
        raise DataError(
            f"every rare subtype ({rare}) has fewer than {gan.min_per_class} "
            "training patients, too few for the expression GAN"
        )
    gan.fit(expr.loc[usable], lab_train)
    synth = gan.augment(expr.loc[usable], lab_train, n_per_class=wanted, random_state=random_state)
    s_expr = synth.set_index("patient_id")[list(expr.columns)]
    s_img, _ = base.sample(s_expr, random_state + 7)
    aug_images = ImageSet(
        np.concatenate([images.subset(train).data, s_img]),
        pd.Index([*train, *s_expr.index], name="patient_id"),
        images.spacing,
    )
    aug = clone(est).fit(aug_images, pd.concat([expr.loc[train], s_expr]))
    real = crop_features(images.subset(test).data, images.spacing, test)
    rare_test = [p for p in test if labels[p] in set(rare)]
    rows = []
    for name, model in (("real only", base), ("augmented", aug)):
        gen_mean = crop_features(
            model.sample(expr.loc[test], random_state, mode="mean")[0], images.spacing, test
        )
        gen_s = crop_features(
            model.sample(expr.loc[test], random_state + 1000)[0], images.spacing, test
        )
        for group, members in (("all held-out", test), ("rare subtypes", rare_test)):
            for f in ("volume_ml", "mean_adc"):
                vals = []
                for g in (gen_mean, gen_s):
                    a, b = real.loc[members, f], g.loc[members, f]
                    ok = a.notna() & b.notna()
                    if ok.sum() < 3 or a[ok].nunique() < 2 or b[ok].nunique() < 2:
                        vals.append(np.nan)
                    else:
                        vals.append(float(stats.spearmanr(a[ok], b[ok]).statistic))
                rows.append((name, group, len(members), f, *vals, len(s_expr)))
    return pd.DataFrame(
        rows,
        columns=[
            "model",
            "patients",
            "n",
            "feature",
            "rho_prior_mean_z",
            "rho_sampled",
            "n_synthetic",
        ],
    )
