"""Output files of a gene map: the CSV tables, ``paths.lav`` and the HTML report."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = [
    "lavaan_identifier",
    "paths_syntax",
    "heatmap_figure",
    "genemap_report",
    "write_outputs",
    "OUTPUT_FILES",
]

#: Files a gene map writes into its output folder.
OUTPUT_FILES = (
    "performance.csv",
    "gene_importance.csv",
    "gene_sets.csv",
    "stability.csv",
    "paths.lav",
    "report.html",
)

_RESERVED = {"c", "start", "equal", "label", "NA", "fixed", "prior", "efa", "rv"}


def lavaan_identifier(name, used: dict | None = None, text: str | None = None) -> str:
    """A valid lavaan variable name for ``name``.

    Characters other than letters, digits, ``_`` and ``.`` become ``_``; runs of ``_`` are
    collapsed; a name not starting with a letter gets a ``v`` prefix, as do lavaan's reserved
    modifier names. With ``used`` (key -> identifier, updated), distinct keys whose names would
    collide get ``_2``, ``_3``, ... suffixes; ``text`` is the name to sanitise when the key is
    not itself the name.
    """
    raw = str(name if text is None else text)
    ident = re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z_.]", "_", raw)).strip("_") or "v"
    if not ident[0].isalpha() or ident in _RESERVED:
        ident = "v" + ident
    if used is None:
        return ident
    if name in used:
        return used[name]
    taken = set(used.values())
    base, k = ident, 2
    while ident in taken:
        ident, k = f"{base}_{k}", k + 1
    used[name] = ident
    return ident


def paths_syntax(result, alpha: float | None = None) -> str:
    """lavaan regression lines ``feature ~ set + ...`` for every set with BH q < ``alpha`` for
    the feature (sufficiency), strongest first, with the sets' measurement lines as comments.

    Parameters
    ----------
    result : GenemapResult
    alpha : float, optional
        Default: ``result.settings.alpha``.
    """
    alpha = result.settings.alpha if alpha is None else alpha
    sig = result.significant(alpha).sort_values(["target", "rank"], kind="stable")
    taken: dict = {}
    names = {
        c: lavaan_identifier(c, taken)
        for c in [*result.data.genes.columns, *result.data.targets.columns]
    }
    set_names = {s: lavaan_identifier(("set", s), taken, text=s) for s in result.sets}
    lines = [
        "# Gene set -> image feature paths found by radsem genemap (gene masking; "
        f"Benjamini-Hochberg q < {alpha:g} per feature).",
        "# Each set is a latent variable: define it with the measurement line below (or "
        "your own) before fitting;",
        "# names are sanitised to lavaan identifiers (e.g. HLA-A -> HLA_A).",
    ]
    if sig.empty:
        lines.append(f"# No gene set reached q < {alpha:g} for any feature.")
        return "\n".join(lines) + "\n"
    used_sets = list(dict.fromkeys(sig["gene_set"]))
    lines.append("")
    lines.append("# measurement (uncomment to use):")
    for s in used_sets:
        genes = " + ".join(names[g] for g in result.sets[s])
        lines.append(f"# {set_names[s]} =~ {genes}")
    lines.append("")
    lines.append("# regressions:")
    for target, grp in sig.groupby("target", sort=False):
        rhs = " + ".join(set_names[s] for s in grp["gene_set"])
        qs = ", ".join(f"{q:.3g}" for q in grp["q_value"])
        lines.append(f"{names[target]} ~ {rhs}  # q = {qs}")
    return "\n".join(lines) + "\n"


def heatmap_figure(gene_sets: pd.DataFrame, alpha: float = 0.05):
    """Heatmap of the masking score, gene set (rows) x feature (columns); ``*`` marks
    q < ``alpha``."""
    from radsem.report.document import figure_from_matplotlib
    from radsem.report.plots import _pyplot

    score = gene_sets.pivot(index="gene_set", columns="target", values="score")
    qv = gene_sets.pivot(index="gene_set", columns="target", values="q_value")
    targets = list(dict.fromkeys(gene_sets["target"]))
    order = score[targets].max(axis=1).sort_values(ascending=False, kind="stable").index
    score, qv = score.loc[order, targets], qv.loc[order, targets]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 + 0.45 * len(targets), 1.5 + 0.28 * len(order)))
    lim = max(float(np.nanmax(np.abs(score.to_numpy()))), 1e-6)
    im = ax.imshow(score.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(targets)), targets, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    stars = np.argwhere(qv.to_numpy() < alpha)
    for i, j in stars:
        ax.text(j, i, "*", ha="center", va="center", fontsize=10)
    fig.colorbar(im, ax=ax, label="masking score (r)", shrink=0.6)
    return figure_from_matplotlib(
        fig,
        caption=(
            "Gene-set masking: correlation of the held-out prediction made from one "
            f"set alone with the observed feature; * = BH q < {alpha:g} against "
            "size-matched random sets."
        ),
        data={"score": score.to_numpy(), "significant": stars},
    )


def _forest(performance: pd.DataFrame):
    from radsem.report.plots import forest_plot

    keep = performance[performance["model"].isin(["network", "elastic_net"])].copy()
    keep["label"] = keep["target"] + " · " + keep["model"]
    return forest_plot(
        keep,
        estimate="r2",
        lower="r2_lower",
        upper="r2_upper",
        label="label",
        null=0.0,
        log=False,
        xlabel="cross-validated R²",
        caption="Cross-validated R² with bootstrap intervals: network and "
        "elastic net per target (all models in the table).",
    )


def genemap_report(result, inputs=(), command: str | None = None):
    """The HTML report of a gene map as a :class:`radsem.report.Report`."""
    from radsem.report.document import Report, Text
    from radsem.report.provenance import Provenance
    from radsem.report.table import ResultTable

    s = result.settings
    prov = Provenance(
        inputs=inputs,
        command=command,
        seeds={"genemap": result.seed},
        options={
            "folds": s.folds,
            "repeats": s.repeats,
            "mask_repeats": s.mask_repeats,
            "n_permutations": s.n_permutations,
            "models": list(s.models),
            "n_random": result.n_random,
            "alpha": s.alpha,
            "pretrain": s.network.pretrain,
            "linear_path": s.network.linear_path,
            "stability_seeds": s.stability_seeds,
        },
        packages=("numpy", "pandas", "scikit-learn", "torch", "captum"),
    )
    rep = Report("Gene map: gene sets -> image features", provenance=prov)
    data = result.data
    rep.add_section(
        "Data",
        Text(
            f"{len(data.genes)} patients, {data.genes.shape[1]} genes, {data.targets.shape[1]} "
            f"targets, {len(result.sets)} gene sets scored. Left out: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data.dropped.items())
            + "."
        ),
    )
    perf = result.performance
    cols = [
        "target",
        "model",
        "r2",
        "r2_lower",
        "r2_upper",
        "spearman",
        "mae",
        "auc",
        "r2_diff",
        "p_value",
    ]
    rep.add_section(
        "Prediction performance",
        Text(
            f"{s.repeats} x {s.folds}-fold cross-validation, identical folds for every model; "
            f"{s.level:.0%} percentile bootstrap intervals ({s.n_boot} resamples of patients). "
            "AUC: median split of a feature (Smedley et al.), or the label itself. r2_diff and "
            "p_value: the model minus the network (paired bootstrap)."
        ),
        _forest(perf),
        ResultTable(perf[cols], title="Performance"),
    )
    rep.add_section(
        "Gene sets",
        Text(
            "Score: correlation of the held-out prediction with only the set kept (all other "
            "genes at the training mean) with the observed target (sufficiency). Necessity: "
            "loss of correlation when only the set is set to its mean. p: against "
            f"{result.n_random} random gene sets of the same size; q: BH per "
            "target."
        ),
        heatmap_figure(result.gene_sets, s.alpha),
        ResultTable(
            result.gene_sets[result.gene_sets["rank"] <= 3], title="Top three sets per target"
        ),
    )
    top = result.gene_importance[result.gene_importance["rank"] <= 10]
    how = (
        "genes of sets with q < alpha that the network used first, then"
        if s.gene_ranking == "set_guided"
        else "flat ranking:"
    )
    rep.add_section(
        "Genes",
        ResultTable(
            top,
            title=f"Top ten genes per target ({how} integrated gradients, mean |attribution|)",
        ),
    )
    if not result.stability.empty:
        rep.add_section(
            "Stability across seeds",
            ResultTable(result.stability, title="Kendall's tau of the set scores between seeds"),
        )
    rep.add_section("Paths for a structural equation model", Text(result.paths_lav(), "code"))
    return rep


def write_outputs(
    result,
    out: str | os.PathLike,
    *,
    inputs=(),
    command: str | None = None,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write :data:`OUTPUT_FILES` into ``out`` (created if missing; atomic writes).

    Raises
    ------
    DataError
        When ``out`` is one of the inputs or holds an input, or already holds output files
        and ``overwrite`` is false.
    """
    from radsem.io.tables import atomic_write_bytes, write_table

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    for path in inputs:
        p = Path(path).resolve()
        if p == out.resolve() or p.parent == out.resolve():
            raise DataError(
                f"{out}: holds the input {Path(path).name}; choose another output "
                "folder (radsem never writes next to or over its inputs)"
            )
    files = {name: out / name for name in OUTPUT_FILES}
    if not overwrite:
        existing = [n for n, p in files.items() if p.exists()]
        if existing:
            raise DataError(
                f"{out}: already holds {', '.join(existing)} from an earlier run; "
                "pass overwrite=True (--overwrite) or choose another folder"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_table(result.performance, files["performance.csv"])
    write_table(result.gene_importance, files["gene_importance.csv"])
    write_table(result.gene_sets, files["gene_sets.csv"])
    write_table(result.stability, files["stability.csv"])
    atomic_write_bytes(result.paths_lav().encode("utf-8"), files["paths.lav"])
    genemap_report(result, inputs=inputs, command=command).to_html(files["report.html"])
    return files
