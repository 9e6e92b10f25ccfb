"""The gene map: every model in one repeated cross-validation, then the network's gene sets
and genes scored on the patients each fold held out."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem.errors import DataError
from radsem.genemap.data import GenemapData
from radsem.genemap.genes import RANKINGS, GeneEvidence, gene_importance_table
from radsem.genemap.interpret import build_layout, gene_attributions, masked_predictions
from radsem.genemap.metrics import _pearson, performance_table
from radsem.genemap.models import MODEL_NAMES, NetworkSettings, make_model
from radsem.genemap.nulls import (
    competitive_p,
    empirical_null_scale,
    fold_standardise,
    intersection_union_p,
    permutation_z,
    self_contained_p,
)

__all__ = [
    "GenemapSettings",
    "GenemapResult",
    "genemap",
    "benjamini_hochberg",
    "set_scores_stability",
]


@dataclass(frozen=True)
class GenemapSettings:
    """Settings of a gene map.

    Attributes
    ----------
    folds, repeats : int
        ``repeats`` times ``folds``-fold cross-validation; every model sees the same folds
        (the performance table).
    mask_repeats : int
        Repeats of the network's cross-validation whose out-of-fold masked predictions are
        averaged before the sets are scored (at least ``repeats``; the first ``repeats`` are
        the folds every model shares). More repeats average out the randomness of folds,
        inner splits and network initialisation in the set scores (Kendall's tau across
        seeds rises with them, docs/genemap.md) at the cost of one network pass each,
        without refitting the other models; the default (18) is what fits in 5 minutes of
        wall time with ``n_jobs=2`` on two cores for 200 patients x 2,000 genes x 10
        features (about 480 s CPU with the stability seed; see docs/genemap.md, "Set-ranking
        stability on two cores"). The genes' selection frequencies and entry
        penalties are averaged over the fits of every masking repeat, their integrated
        gradients over the shared repeats.
    models : tuple of str
        Models to compare (``network`` is always fitted: it is the one interpreted).
    network : NetworkSettings
    n_random : int, optional
        Size-matched random gene sets per distinct set size (the null). Default: the larger
        of 200 and ``2 * n_sets / alpha``, so that a set beating every random set can reach
        Benjamini-Hochberg q < ``alpha`` among ``n_sets`` sets (with 200 random sets and 30
        sets the smallest possible q would be 30 / 201 = 0.15).
    n_permutations : int
        Permutations of the targets in the self-contained test of each set (see
        :mod:`radsem.genemap.nulls`); cheap (no network is refitted), and enough that a
        p-value of 1e-3 is resolved to about 10 %.
    n_boot : int
        Bootstrap resamples of the performance intervals.
    level : float
        Confidence level of the intervals.
    alpha : float
        Benjamini-Hochberg q below which a set -> feature path is written to ``paths.lav``.
    stability_seeds : int
        Extra seeds for which the network and the masking are rerun (new folds, weights and
        random sets) to measure how stable the set rankings are; 0 skips the check.
    ig_steps : int
        Integration steps of integrated gradients.
    gene_ranking : {"set_guided", "flat"}
        What the ``rank`` column of ``gene_importance`` holds: ``"set_guided"`` (genes of a
        set with q < ``alpha`` for the target that the network used come first) or
        ``"flat"`` (importance, then entry penalty); ``rank_flat`` always holds the flat
        ranking (:func:`radsem.genemap.genes.gene_importance_table`).
    """

    folds: int = 5
    repeats: int = 2
    mask_repeats: int = 18
    models: tuple = MODEL_NAMES
    network: NetworkSettings = field(default_factory=NetworkSettings)
    n_random: int | None = None
    n_permutations: int = 10_000
    n_boot: int = 1000
    level: float = 0.95
    alpha: float = 0.05
    stability_seeds: int = 1
    ig_steps: int = 32
    gene_ranking: str = "set_guided"

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODEL_NAMES]
        if unknown:
            raise DataError(f"unknown model(s) {unknown}; choose from {', '.join(MODEL_NAMES)}")
        if self.folds < 2 or self.repeats < 1:
            raise DataError("need folds >= 2 and repeats >= 1")
        if self.mask_repeats < 1:
            raise DataError("need mask_repeats >= 1")
        if self.n_random is not None and self.n_random < 1:
            raise DataError("n_random must be >= 1 (>= 200 for a usable null)")
        if self.n_permutations < 1:
            raise DataError("n_permutations must be >= 1 (>= 1,000 for a usable test)")
        if self.gene_ranking not in RANKINGS:
            raise DataError(
                f"unknown gene_ranking {self.gene_ranking!r}; choose from {', '.join(RANKINGS)}"
            )


@dataclass
class GenemapResult:
    """What a gene map found.

    Attributes
    ----------
    performance : DataFrame
        ``target, model, n, r2, r2_lower, r2_upper, spearman(_lower/_upper), mae(...),
        auc(...), r2_diff, r2_diff_lower, r2_diff_upper, p_value``.
    gene_importance : DataFrame
        ``target, gene, importance, selection_frequency, entry_penalty,
        in_significant_set, rank, rank_flat``: mean absolute integrated gradient over the
        held-out patients of the network's fits (standardised target units; the shared
        repeats), the share of all fits whose sparse input stage kept the gene, its mean
        relative entry penalty, whether it lies in a set with q < alpha for the target;
        rank 1 = most important gene for the target, by ``settings.gene_ranking``
        (set-guided by default), and the flat ranking (see
        :func:`radsem.genemap.genes.gene_importance_table`).
    gene_sets : DataFrame
        ``target, gene_set, size, score, p_value, q_value, rank, necessity, necessity_p_value,
        necessity_q_value, competitive_p_value, self_contained_p_value``: score = correlation
        of the held-out masked prediction (only the set kept; averaged over the masking
        repeats) with the observed target;
        ``competitive_p_value`` against size-matched random sets, ``self_contained_p_value``
        against permuted targets, ``p_value`` the larger of the two (intersection-union
        test, :mod:`radsem.genemap.nulls`), ``q_value`` its Benjamini-Hochberg q per target;
        necessity = loss of that correlation when the set alone is dropped, with its p against
        the random sets.
    stability : DataFrame
        ``target, seed, other_seed, kendall_tau`` (all sets), ``weighted_tau`` (all sets,
        top-weighted; an additional measure), ``n_significant, kendall_tau_significant``
        (sets with q < alpha in either run), ``same_top_set``.
    predictions : dict
        Model -> out-of-fold predictions (repeats, patients, targets), the ``repeats``
        every model shares.
    data : GenemapData
    settings : GenemapSettings
    seed : int
    sets : dict
        The gene sets scored (measured genes only).
    """

    performance: pd.DataFrame
    gene_importance: pd.DataFrame
    gene_sets: pd.DataFrame
    stability: pd.DataFrame
    predictions: dict
    data: GenemapData
    settings: GenemapSettings
    seed: int
    sets: dict

    def significant(self, alpha: float | None = None) -> pd.DataFrame:
        """Rows of :attr:`gene_sets` with ``q_value < alpha`` (default: the settings')."""
        alpha = self.settings.alpha if alpha is None else alpha
        return self.gene_sets[self.gene_sets["q_value"] < alpha]

    @property
    def n_random(self) -> int:
        """Random gene sets drawn per set size (see :func:`n_random_sets`)."""
        return n_random_sets(self.settings, len(self.sets))

    def paths_lav(self, alpha: float | None = None) -> str:
        """The significant set -> feature associations as lavaan syntax (see
        :func:`radsem.genemap.report.paths_syntax`)."""
        from radsem.genemap.report import paths_syntax

        return paths_syntax(self, alpha)

    def write(self, out, *, inputs=(), command: str | None = None, overwrite: bool = False) -> dict:
        """Write the output files into the folder ``out`` (see
        :func:`radsem.genemap.report.write_outputs`)."""
        from radsem.genemap.report import write_outputs

        return write_outputs(self, out, inputs=inputs, command=command, overwrite=overwrite)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of a vector, NaN kept as NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok], kind="stable")
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(ranked, 1.0)
    q[ok] = adj
    return q


def _folds(n: int, folds: int, repeats: int, seed: int) -> list[list[np.ndarray]]:
    """Test-index arrays of each fold of each repeat (identical for every model)."""
    from sklearn.model_selection import KFold

    out = []
    for r in range(repeats):
        kf = KFold(n_splits=folds, shuffle=True, random_state=seed + 1000 * r)
        out.append([test for _, test in kf.split(np.zeros(n))])
    return out


#: GeneNetwork seeds torch's global generator, which every thread of a process shares: fold
#: tasks running in threads of one process (a threaded Dask worker) take turns.
_TORCH_GLOBAL_STATE = threading.Lock()


def _fold_task(task: tuple, *, x, y, settings, layout) -> tuple:
    """One cross-validation fold of the network: fit on the other folds, then the held-out
    predictions, the gene-set masked and ablated predictions (the real sets and the random
    sets of the null) and, if the task asks, the per-gene evidence (``genes``: 1 = the
    LassoNet selection and entry penalties, 2 = also the integrated gradients). A task of
    :func:`radsem._dask.map_tasks`; it carries its own seed, so any route gives the same
    numbers."""
    from radsem._threads import single_threaded
    from radsem.genemap.models import GeneNetwork

    test, seed, want = task
    n = y.shape[0]
    train = np.setdiff1d(np.arange(n), test)
    with _TORCH_GLOBAL_STATE, single_threaded():
        net = GeneNetwork(settings.network, seed=seed).fit(x[train], y[train])
        pred = net.predict(x[test])
        xz = net.x_scaler_.transform(x[test])
        scale, mean = net.y_scaler_.scale_, net.y_scaler_.mean_
        suff, nec = masked_predictions(net.module_, xz, layout, "both")
        suff, nec = suff * scale + mean, nec * scale + mean
        genes = None
        if want:
            ig = None
            if want == 2:
                ig = np.abs(gene_attributions(net.module_, xz, settings.ig_steps)).mean(0)
            paths = net.paths_ or [None]
            genes = (
                ig,
                None if paths[0] is None else np.mean([p["selected"] for p in paths], 0).T,
                None if paths[0] is None else np.mean([p["entry"] for p in paths], 0).T,
            )
    return pred, suff.astype(np.float32), nec.astype(np.float32), genes


def _network_passes(x, y, splits, settings, layout, seed, with_ig, client=None, n_jobs=1):
    """:func:`_fold_task` over every fold of every repeat (locally, in worker processes or on
    Dask); per repeat the out-of-fold predictions and masked and ablated predictions
    (original target scale), and with ``with_ig`` the per-gene evidence
    (:class:`GeneEvidence`): the LassoNet selection and entry penalties of every fit, the
    integrated gradients of the fits of the first ``settings.repeats`` repeats (the folds
    every model shares; over all repeats they ranked no better, docs/genemap.md)."""
    from radsem._dask import map_tasks

    tasks = [
        (test, seed + 100 * r + k, 0 if not with_ig else 2 if r < settings.repeats else 1)
        for r, split in enumerate(splits)
        for k, test in enumerate(split)
    ]
    done = map_tasks(
        _fold_task,
        tasks,
        client=client,
        n_jobs=n_jobs,
        shared={"x": x, "y": y, "settings": settings, "layout": layout},
        torch_threads=True,
        desc="gene-set masking",
    )
    n, t = y.shape
    groups = len(layout.names)
    evidence = GeneEvidence(x.shape[1], t)
    out, i = [], 0
    for split in splits:
        pred = np.empty((n, t))
        suff = np.empty((groups, n, t), dtype=np.float32)
        nec = np.empty((groups, n, t), dtype=np.float32)
        for test in split:
            p, s_, n_, g = done[i]
            i += 1
            pred[test], suff[:, test], nec[:, test] = p, s_, n_
            if g is not None:
                evidence.add(*g)
        out.append((pred, suff, nec))
    return out, evidence


def _correlations(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Correlation with the observed target along patients: (..., patients, targets) ->
    (..., targets); a constant prediction scores 0."""
    r = _pearson(np.moveaxis(pred, -1, -2), y.T)
    return np.nan_to_num(r, nan=0.0)


def _set_table(targets, layout, suff_score, nec_score, self_p) -> pd.DataFrame:
    """Per target: the competitive p (random sets of the same size), the self-contained p
    (permuted targets), their intersection-union p (the ``p_value``) and its q."""
    rows = []
    real = np.flatnonzero(~layout.is_random)
    for j, target in enumerate(targets):
        p_comp = np.empty(len(real))
        pn = np.empty(len(real))
        for i, g in enumerate(real):
            null = layout.is_random & (layout.sizes == layout.sizes[g])
            p_comp[i] = competitive_p(suff_score[g, j], suff_score[null, j])
            pn[i] = competitive_p(nec_score[g, j], nec_score[null, j])
        p = intersection_union_p(p_comp, self_p[:, j])
        q, qn = benjamini_hochberg(p), benjamini_hochberg(pn)
        frame = pd.DataFrame(
            {
                "target": target,
                "gene_set": [layout.names[g] for g in real],
                "size": layout.sizes[real],
                "score": suff_score[real, j],
                "p_value": p,
                "q_value": q,
                "necessity": nec_score[real, j],
                "necessity_p_value": pn,
                "necessity_q_value": qn,
                "competitive_p_value": p_comp,
                "self_contained_p_value": self_p[:, j],
            }
        )
        frame = frame.sort_values(["score", "gene_set"], ascending=[False, True], kind="stable")
        frame.insert(6, "rank", np.arange(1, len(frame) + 1))
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def n_random_sets(settings: GenemapSettings, n_sets: int) -> int:
    """Random sets per size: ``settings.n_random``, else max(200, ceil(2 n_sets / alpha))."""
    if settings.n_random is not None:
        return int(settings.n_random)
    return max(200, int(np.ceil(2 * n_sets / settings.alpha)))


def _interpretation(data, sets_idx, settings, seed, splits, with_ig, client=None, n_jobs=1):
    x = data.genes.to_numpy(float)
    y = data.targets.to_numpy(float)
    layout = build_layout(
        sets_idx,
        x.shape[1],
        n_random_sets(settings, len(sets_idx)),
        np.random.default_rng([seed, 7]),
    )
    # the masked, ablated and full out-of-fold predictions averaged over the repeats (each
    # patient's by networks that never saw it): the set scores are their correlations
    suff_mean = np.zeros((len(layout.names), *y.shape))
    nec_mean = np.zeros_like(suff_mean)
    pred_mean = np.zeros(y.shape)
    preds = []
    real = np.flatnonzero(~layout.is_random)
    m_real = np.zeros((len(real), *y.shape))
    m_null = np.zeros((int(layout.is_random.sum()), *y.shape), dtype=np.float32)
    passes, evidence = _network_passes(
        x, y, splits, settings, layout, seed, with_ig, client, n_jobs
    )
    for split, (pred, suff, nec) in zip(splits, passes, strict=True):
        suff_mean += suff / len(splits)
        nec_mean += nec / len(splits)
        pred_mean += pred / len(splits)
        preds.append(pred)
        folds = np.empty(len(y), dtype=np.int64)
        for k, test in enumerate(split):
            folds[test] = k
        m_real += fold_standardise(suff[real], folds) / len(splits)
        m_null += fold_standardise(suff[layout.is_random], folds, np.float32) / len(splits)
    suff_score = _correlations(suff_mean, y)
    nec_score = _correlations(pred_mean, y)[None, :] - _correlations(nec_mean, y)
    scale = empirical_null_scale(permutation_z(m_null, y))
    _, self_p = self_contained_p(
        m_real, y, settings.n_permutations, np.random.default_rng([seed, 11]), scale
    )
    table = _set_table(list(data.targets.columns), layout, suff_score, nec_score, self_p)
    return table, np.stack(preds), evidence


def _model_task(task: tuple, *, x, y) -> np.ndarray:
    """One comparison model fitted on the other folds, its held-out predictions; a task of
    :func:`radsem._dask.map_tasks` that carries its own seed."""
    from sklearn.exceptions import ConvergenceWarning

    name, test, seed = task
    train = np.setdiff1d(np.arange(len(y)), test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_model(name, seed=seed).fit(x[train], y[train])
    return model.predict(x[test])


def _comparison_models(x, y, splits, settings, seed, client=None, n_jobs=1) -> dict:
    """Out-of-fold predictions (repeats, patients, targets) of every model but the network,
    on the shared folds; one task per model and fold (locally, in worker processes or on
    Dask), each seeded by its repeat, so every route gives the same numbers."""
    from radsem._dask import map_tasks

    names = [m for m in settings.models if m != "network"]
    tasks = [(m, test, seed + r) for m in names for r, split in enumerate(splits) for test in split]
    done = map_tasks(
        _model_task,
        tasks,
        client=client,
        n_jobs=n_jobs,
        shared={"x": x, "y": y},
        desc="comparison models",
    )
    out, i = {}, 0
    for m in names:
        pred = np.empty((len(splits), *y.shape))
        for r, split in enumerate(splits):
            for test in split:
                pred[r, test] = done[i]
                i += 1
        out[m] = pred
    return out


def set_scores_stability(tables: dict[int, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """Kendall's tau between the set scores of runs with different seeds, per target.

    Parameters
    ----------
    tables : dict
        Seed -> ``gene_sets`` table; the first seed is compared with each other one.
    alpha : float
        ``kendall_tau_significant`` is tau over the sets with ``q_value < alpha`` in either
        run (NaN when fewer than 3 such sets): the order of the sets that carry signal,
        next to ``kendall_tau`` over all sets, most of which are null sets whose order is
        noise.

    Returns
    -------
    DataFrame
        ``target, seed, other_seed, kendall_tau, weighted_tau, n_significant,
        kendall_tau_significant, same_top_set``. ``weighted_tau`` is an additional measure
        over all sets: Vigna's (2015) weighted tau with hyperbolic weights ``1 / (rank + 1)``
        (``scipy.stats.weightedtau``, ranks by decreasing score, averaged over the ranking
        of either run), so that a swap among the top-ranked sets counts more than one among
        the near-zero scores of the sets that drive nothing.
    """
    from scipy.stats import kendalltau, weightedtau

    seeds = list(tables)
    rows = []
    base = tables[seeds[0]].set_index(["target", "gene_set"])
    for other in seeds[1:]:
        cmp = tables[other].set_index(["target", "gene_set"])
        for target in base.index.get_level_values(0).unique():
            a = base.loc[target, "score"]
            b = cmp.loc[target, "score"].reindex(a.index)
            tau = kendalltau(a.to_numpy(), b.to_numpy()).statistic if len(a) > 1 else np.nan
            wtau = weightedtau(a.to_numpy(), b.to_numpy()).statistic if len(a) > 1 else np.nan
            sig = (base.loc[target, "q_value"] < alpha).to_numpy() | (
                cmp.loc[target, "q_value"].reindex(a.index) < alpha
            ).to_numpy()
            tau_sig = (
                kendalltau(a.to_numpy()[sig], b.to_numpy()[sig]).statistic
                if sig.sum() >= 3
                else np.nan
            )
            rows.append(
                {
                    "target": target,
                    "seed": seeds[0],
                    "other_seed": other,
                    "kendall_tau": float(tau),
                    "weighted_tau": float(wtau),
                    "n_significant": int(sig.sum()),
                    "kendall_tau_significant": float(tau_sig),
                    "same_top_set": bool(a.idxmax() == b.idxmax()),
                }
            )
    columns = ["target", "seed", "other_seed", "kendall_tau", "weighted_tau", "n_significant"]
    columns += ["kendall_tau_significant", "same_top_set"]
    return pd.DataFrame(rows, columns=columns)


def genemap(
    data: GenemapData,
    gene_sets: dict,
    settings: GenemapSettings | None = None,
    seed: int = 0,
    *,
    client=None,
    n_jobs: int = 1,
) -> GenemapResult:
    """Fit, compare and interpret the gene-to-image-feature models.

    Parameters
    ----------
    data : GenemapData
        From :func:`radsem.genemap.join_tables`.
    gene_sets : dict
        Set name -> genes, restricted to measured genes (:func:`radsem.genemap.match_gene_sets`).
    settings : GenemapSettings, optional
    seed : int
        Seeds the folds, the networks, the random sets and the bootstrap; the same seed gives
        the same numbers.
    client : distributed.Client or str, optional
        Run the network's folds with the gene-set masking against the random-set null on this
        Dask cluster (a client or a scheduler address); same numbers as a local run.
    n_jobs : int
        Local worker processes for the same and for the other models' folds (1: this
        process); every value gives the same numbers. ``radsem genemap`` uses the available
        cores (at most 4) unless told otherwise; with the default 18 masking repeats, one
        process takes about twice the wall time of two.

    Returns
    -------
    GenemapResult
    """
    import torch  # noqa: F401  (the network needs torch: fail before any work is done)

    settings = settings or GenemapSettings()
    n = len(data.genes)
    if n < 2 * settings.folds:
        raise DataError(f"{n} patients are too few for {settings.folds}-fold cross-validation")
    position = {g: i for i, g in enumerate(data.genes.columns)}
    sets_idx = {}
    for name, genes in gene_sets.items():
        missing = [g for g in genes if g not in position]
        if missing:
            raise DataError(
                f"gene set {name!r}: gene(s) {missing[:5]} are not expression "
                "columns; pass the sets through match_gene_sets first"
            )
        sets_idx[name] = np.array(sorted(position[g] for g in genes), dtype=np.int64)
    if not sets_idx:
        raise DataError("no gene sets to score")
    from radsem._threads import single_threaded

    with single_threaded():
        n_mask = max(settings.repeats, settings.mask_repeats)
        mask_splits = _folds(n, settings.folds, n_mask, seed)
        splits = mask_splits[: settings.repeats]  # the folds every model shares
        tables = {}
        tables[seed], net_pred, evidence = _interpretation(
            data, sets_idx, settings, seed, mask_splits, with_ig=True, client=client, n_jobs=n_jobs
        )
        predictions = {"network": net_pred[: settings.repeats]}
        x = data.genes.to_numpy(float)
        y = data.targets.to_numpy(float)
        predictions.update(_comparison_models(x, y, splits, settings, seed, client, n_jobs))
        for k in range(1, settings.stability_seeds + 1):
            other = seed + 7919 * k
            tables[other], _, _ = _interpretation(
                data,
                sets_idx,
                settings,
                other,
                _folds(n, settings.folds, n_mask, other),
                with_ig=False,
                client=client,
                n_jobs=n_jobs,
            )
    order = [m for m in MODEL_NAMES if m in predictions]
    performance = performance_table(
        data.targets,
        {m: predictions[m] for m in order},
        data.label_targets,
        settings.n_boot,
        settings.level,
        seed,
        splits=splits,
    )
    importance = gene_importance_table(
        data.genes.columns,
        data.targets.columns,
        evidence,
        tables[seed],
        gene_sets,
        settings.alpha,
        settings.gene_ranking,
    )
    return GenemapResult(
        performance=performance,
        gene_importance=importance,
        gene_sets=tables[seed],
        stability=set_scores_stability(tables, settings.alpha),
        predictions=predictions,
        data=data,
        settings=settings,
        seed=seed,
        sets={k: list(v) for k, v in gene_sets.items()},
    )
