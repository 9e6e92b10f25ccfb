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

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from radsem.deep.imagegen_data import ImageSet, binarise_mask, check_gene_table
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
    data: np.ndarray, spacing: Sequence[float], index: Sequence[str] | None = None
) -> pd.DataFrame:
    """Tumour features of crops ``(n, 4, Z, Y, X)`` (T2, DWI, ADC, mask probability).

    ``volume_ml``: voxels of the mask (probability > 0.5, largest component) x voxel volume;
    ``mean_adc``, ``mean_t2``, ``mean_dwi``: means inside the mask; ``heterogeneity``: the
    coefficient of variation of T2 inside the mask. Empty masks give NaN intensities.
    """
    vox_ml = float(np.prod(spacing)) / 1000.0
    rows = []
    for v in np.asarray(data):
        m = binarise_mask(v[3])
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
    """Result of :func:`evaluate_generator` (tables are pandas objects)."""

    spearman: pd.DataFrame
    counterfactual: pd.DataFrame
    distribution: pd.DataFrame
    memorisation: pd.DataFrame
    fit_seconds: float
    fit_cpu_seconds: float
    n_train: int
    n_test: int
    model: object = field(repr=False)
    gallery: dict = field(repr=False, default_factory=dict)

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


def _flat(model, data: np.ndarray) -> np.ndarray:
    return model._to_tensor(data).numpy().reshape(len(data), -1).astype(np.float64)


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0).min(axis=1) / a.shape[1])


def _memorisation(model, train: np.ndarray, test: np.ndarray, gen: np.ndarray) -> pd.DataFrame:
    tr = _flat(model, train)
    d_real = _nearest(_flat(model, test), tr)
    d_gen = _nearest(_flat(model, gen), tr)
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


def evaluate_generator(
    images: ImageSet,
    expression: pd.DataFrame,
    *,
    estimator=None,
    truth: dict | None = None,
    test_size: float = 0.3,
    n_draws: int = 3,
    n_shuffles: int = 20,
    traversal: str = "hypoxia",
    random_state: int = 0,
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
        Share of patients held out.
    n_draws : int
        Draws of ``z`` per held-out patient for the counterfactuals and the Spearman spread.
    n_shuffles : int
        Further random derangements of the expression across held-out patients for the
        shuffled control at the prior-mean ``z`` (``rho_shuffled_mean``, ``rho_shuffled_sd``):
        one shuffle's rho varies by about 1 / sqrt(n - 1) around the control's expectation
        (0 when nothing but the expression links generated and real features), so one
        shuffle alone can miss a threshold by chance. 0 skips them (NaN).

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
        generated and each held-out real crop to its nearest training crop.
    """
    from radsem.deep.imagegen import ExpressionImageGenerator

    expr = check_gene_table(expression)
    ids = [p for p in images.patient_id if p in set(expr.index)]
    n = len(ids)
    n_test = int(round(test_size * n))
    if not 0 < test_size < 1 or n_test < 5 or n - n_test < 8:
        raise DataError(
            f"cannot hold out {test_size!r} of {n} patients with images and "
            "expression (need >= 5 held out and >= 8 for training)"
        )
    if int(n_shuffles) < 0:
        raise DataError(f"n_shuffles must be >= 0, got {n_shuffles}")
    rng = np.random.default_rng(random_state)
    perm = rng.permutation(n)
    test = [ids[i] for i in sorted(perm[:n_test])]
    train = [ids[i] for i in sorted(perm[n_test:])]
    est = clone(estimator) if estimator is not None else ExpressionImageGenerator()
    est.set_params(random_state=random_state)
    t0, c0 = time.perf_counter(), time.process_time()
    model = est.fit(images.subset(train), expr.loc[train])
    fit_seconds, fit_cpu_seconds = time.perf_counter() - t0, time.process_time() - c0

    sp = images.spacing
    real_test = crop_features(images.subset(test).data, sp, test)
    real_all = crop_features(images.subset(ids).data, sp, ids)
    x_test = expr.loc[test]
    draws = [model.sample(x_test, random_state + 1000 + d)[0] for d in range(n_draws)]
    gen_feats = [crop_features(d, sp, test) for d in draws]
    mean_feats = crop_features(model.sample(x_test, random_state, mode="mean")[0], sp, test)
    shuffled = x_test.iloc[_derangement(len(test), rng)]
    shuffled.index = x_test.index
    shuf_feats = crop_features(model.sample(shuffled, random_state + 1000)[0], sp, test)
    shuf_mean = crop_features(model.sample(shuffled, random_state, mode="mean")[0], sp, test)
    shuffle_rng = np.random.default_rng([random_state, 16])
    more_shuffles = []
    for _ in range(int(n_shuffles)):
        other = x_test.iloc[_derangement(len(test), shuffle_rng)]
        other.index = x_test.index
        more_shuffles.append(
            crop_features(model.sample(other, random_state, mode="mean")[0], sp, test)
        )

    def rho(a: pd.Series, b: pd.Series) -> tuple[float, float]:
        ok = a.notna() & b.notna()
        if ok.sum() < 3 or a[ok].nunique() < 2 or b[ok].nunique() < 2:
            return np.nan, np.nan
        res = stats.spearmanr(a[ok], b[ok])
        return float(res.statistic), float(res.pvalue)

    rows = []
    for f in FEATURES:
        r1, p1 = rho(real_test[f], gen_feats[0][f])
        rs = [rho(real_test[f], g[f])[0] for g in gen_feats]
        rm = rho(real_test[f], mean_feats[f])[0]
        rsh, psh = rho(real_test[f], shuf_feats[f])
        rshm = rho(real_test[f], shuf_mean[f])[0]
        finite = [r for r in rs if np.isfinite(r)]
        mean_rs = float(np.mean(finite)) if finite else np.nan
        rmore = [r for r in (rho(real_test[f], g[f])[0] for g in more_shuffles) if np.isfinite(r)]
        rsh_mean = float(np.mean(rmore)) if rmore else np.nan
        rsh_sd = float(np.std(rmore, ddof=1)) if len(rmore) > 1 else np.nan
        rows.append((f, r1, p1, mean_rs, rm, rsh, psh, rshm, rsh_mean, rsh_sd))
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

    counterfactual = pd.DataFrame(
        columns=["mechanism", "feature", "true_sign", "n", "right_direction", "mean_change"]
    )
    gallery = {
        "test": test[:4],
        "real": images.subset(test[:4]).data,
        "generated": draws[0][:4],
        "spacing": sp,
    }
    if truth is not None:
        directions = true_directions(truth)
        mm = _mechanism_genes(truth)
        scale = pd.Series(model.gene_scale_, index=model.genes_)
        crow = []
        for mech, group in directions.groupby("mechanism", sort=False):
            genes = mm.loc[(mm["mechanism"] == mech) & mm["gene"].isin(model.genes_)]
            if genes.empty:
                continue
            shifted = x_test.copy()
            for g, load in zip(genes["gene"], genes["loading"], strict=True):
                shifted[g] = shifted[g] + 2.0 * np.sign(load) * scale[g]
            cf = [
                crop_features(model.sample(shifted, random_state + 1000 + d)[0], sp, test)
                for d in range(n_draws)
            ]
            for _, row in group.iterrows():
                f = row["feature"]
                diff = np.concatenate(
                    [(c[f] - g[f]).to_numpy() for c, g in zip(cf, gen_feats, strict=True)]
                )
                ok = np.isfinite(diff)
                right = np.sign(diff[ok]) == row["sign"]
                crow.append(
                    (
                        mech,
                        f,
                        int(row["sign"]),
                        int(ok.sum()),
                        float(right.mean()) if ok.any() else np.nan,
                        float(np.mean(diff[ok])) if ok.any() else np.nan,
                    )
                )
        counterfactual = pd.DataFrame(crow, columns=counterfactual.columns)
        tgenes = mm.loc[(mm["mechanism"] == traversal) & mm["gene"].isin(model.genes_)]
        if not tgenes.empty:
            steps = [-2.0, -1.0, 0.0, 1.0, 2.0]
            base = x_test.iloc[[0] * len(steps)].copy()
            base.index = pd.Index([f"{traversal}{s:+.0f}SD" for s in steps], name="patient_id")
            for g, load in zip(tgenes["gene"], tgenes["loading"], strict=True):
                base[g] = base[g] + np.asarray(steps) * np.sign(load) * scale[g]
            gallery["traversal"] = model.sample(base, random_state, mode="mean")[0]
            gallery["traversal_steps"] = steps
            gallery["traversal_name"] = traversal
            gallery["traversal_patient"] = test[0]

    distribution = _distribution(real_all, real_test, gen_feats[0], rng)
    memorisation = _memorisation(
        model, images.subset(train).data, images.subset(test).data, draws[0]
    )
    return ImageGenEvaluation(
        spearman=spearman,
        counterfactual=counterfactual,
        distribution=distribution,
        memorisation=memorisation,
        fit_seconds=fit_seconds,
        fit_cpu_seconds=fit_cpu_seconds,
        n_train=len(train),
        n_test=len(test),
        model=model,
        gallery=gallery,
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

    sec = Section(title)
    sec.add(
        f"Conditional VAE trained on {evaluation.n_train} patients in "
        f"{evaluation.fit_seconds:.0f} s ({evaluation.fit_cpu_seconds:.0f} s CPU); "
        f"{evaluation.n_test} held-out patients."
    )
    sec.add(
        ResultTable(
            evaluation.spearman,
            title="Generated vs real features (Spearman)",
            caption="Held-out patients; shuffled: expression permuted across "
            "patients before generating (should be near 0).",
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
            "reference: random real-vs-real halves of the same size.",
        )
    )
    sec.add(
        ResultTable(
            evaluation.memorisation,
            title="Memorisation check",
            caption="RMS distance (standardised voxels) to the nearest training "
            "crop; generated crops much closer than held-out real ones "
            "would indicate copying.",
        )
    )
    sec.add(
        figure_from_matplotlib(
            gallery_figure(evaluation),
            caption="Real and generated crops of held-out patients "
            "(largest tumour slice, mask outlined).",
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
