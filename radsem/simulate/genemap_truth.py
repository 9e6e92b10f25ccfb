"""A gene-map setting with known truth: many genes, few patients, features with known drivers.

Expression is organised in co-expression modules (genes of a module share a latent program,
modules of a family share a weaker one), as real expression is. Most genes drive nothing.
Gene sets (the GMT) are built like curated pathways: most of a set's genes come from one
module, a few are unrelated genes. Each driven image feature is a function of a weighted sum
of the standardised expression of its *driver genes*, the module genes of one set (its
*driver set*), plus noise; one feature depends on that sum through a hinge (non-linear), one
feature is pure noise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radsem.errors import DataError

__all__ = ["GenemapTruth", "simulate_genemap_truth", "write_genemap_truth"]


@dataclass
class GenemapTruth:
    """A simulated gene-map setting.

    Attributes
    ----------
    expression : DataFrame
        ``patient_id`` then one log2-expression column per gene.
    features : DataFrame
        ``patient_id`` then the image features.
    gene_sets : dict
        Set name -> genes (what a GMT file would hold).
    truth : dict
        Per feature: ``form`` (``linear``, ``hinge``, ``noise``), ``driver_set``,
        ``driver_genes``, ``weights``, ``signal_share`` (the share of the feature's variance
        due to its drivers); and the generating settings.
    """

    expression: pd.DataFrame
    features: pd.DataFrame
    gene_sets: dict
    truth: dict


def simulate_genemap_truth(
    n_patients: int = 200,
    n_genes: int = 2000,
    n_features: int = 10,
    n_sets: int = 30,
    module_size: int = 20,
    core: int = 12,
    signal_share: float = 0.6,
    seed: int = 0,
    *,
    in_set: float = 1.0,
    outside: str = "module",
    set_mates: int = 0,
    set_padding: int = 0,
) -> GenemapTruth:
    """Simulate expression, image features and gene sets with known driver genes.

    Parameters
    ----------
    n_patients, n_genes : int
    n_features : int
        Image features: ``n_features - 2`` linear, one hinge (non-linear), one pure noise.
    n_sets : int
        Gene sets in the GMT; the first ``n_features - 1`` drive a feature each, the others are
        decoys built the same way.
    module_size : int
        Genes per co-expression module.
    core : int
        Genes a set takes from its module (its possible drivers); the rest of a set (to 15,
        20 or 25 genes) are unrelated genes.
    signal_share : float
        Share of a driven feature's variance explained by its drivers.
    seed : int
    in_set : float
        Share of each driven feature's ``core`` drivers that lie in its driver set (rounded,
        at least one): the set is built as always, and a random ``round(in_set * core)`` of
        its module genes are drivers; the other drivers are genes in **no** gene set, taken
        as ``outside`` says. 1 (the default): every driver is in the set.
    outside : {"module", "scattered"}
        Where the drivers outside the set come from: ``"module"``, one co-expression module
        per feature on which no set is built (genes of it that no set holds); ``"scattered"``,
        genes drawn from all genes of the modules no set is built on that no set holds
        (mostly of different modules).
    set_mates : int
        Extra genes of its own module every set holds that drive nothing (at most
        ``module_size - core``): a set diluted with co-expressed non-drivers.
    set_padding : int
        Extra unrelated genes every set holds (on top of its 15, 20 or 25).
    """
    if n_features < 3:
        raise DataError("n_features must be >= 3 (a linear, a hinge and a noise feature)")
    n_modules = n_genes // module_size
    if n_sets > n_modules or n_sets < n_features - 1:
        raise DataError(f"need n_features - 1 <= n_sets <= n_genes // module_size ({n_modules})")
    if not 2 <= core <= module_size:
        raise DataError("core must be between 2 and module_size")
    n_in = _drivers_in_set(in_set, outside, set_mates, set_padding, core, module_size)
    if n_in < core and outside == "module" and n_modules - n_sets < n_features - 1:
        raise DataError(
            "outside='module' needs a module without a gene set for every driven feature: "
            f"n_genes // module_size - n_sets >= {n_features - 1}"
        )
    rng = np.random.default_rng(seed)
    genes = [f"GENE{i + 1:05d}" for i in range(n_genes)]
    module_of = np.minimum(np.arange(n_genes) // module_size, n_modules - 1)
    family = rng.standard_normal((n_patients, n_modules // 5 + 1))
    program = 0.3 * family[:, np.arange(n_modules) // 5] + np.sqrt(1 - 0.09) * rng.standard_normal(
        (n_patients, n_modules)
    )
    loading = rng.uniform(0.4, 0.8, n_genes)
    z = loading * program[:, module_of] + np.sqrt(1 - loading**2) * rng.standard_normal(
        (n_patients, n_genes)
    )
    mean = rng.uniform(4.0, 12.0, n_genes)
    sd = rng.uniform(0.5, 1.5, n_genes)
    expression = pd.DataFrame(np.round(mean + sd * z, 3), columns=genes)
    ids = [f"GM{i + 1:04d}" for i in range(n_patients)]
    expression.insert(0, "patient_id", ids)

    modules = rng.choice(n_modules, size=n_sets, replace=False)
    sets, cores = {}, {}
    in_any_set = np.zeros(n_genes, dtype=bool)
    for s, m in enumerate(modules):
        members = np.flatnonzero(module_of == m)
        take = np.sort(rng.choice(members, size=core, replace=False))
        size = int(rng.choice([15, 20, 25]))
        others = np.setdiff1d(np.arange(n_genes), members)
        extra = rng.choice(others, size=max(size - core, 0) + set_padding, replace=False)
        if set_mates:
            mates = rng.choice(np.setdiff1d(members, take), size=set_mates, replace=False)
            extra = np.concatenate([extra, mates])
        name = f"SET{s + 1:02d}_MODULE{m + 1:03d}"
        held = np.sort(np.concatenate([take, extra]))
        sets[name] = [genes[i] for i in held]
        cores[name] = take
        in_any_set[held] = True
    free_modules = (
        [m for m in rng.permutation(n_modules) if m not in modules] if n_in < core else []
    )
    names = list(sets)
    std = (z - z.mean(0)) / z.std(0)
    features, truth = {}, {}
    for f in range(n_features):
        fname = f"feature_{f + 1:02d}"
        scale, offset = float(rng.uniform(0.5, 50.0)), float(rng.uniform(-10.0, 100.0))
        if f == n_features - 1:
            values = rng.standard_normal(n_patients)
            truth[fname] = {
                "form": "noise",
                "driver_set": None,
                "driver_genes": [],
                "weights": [],
                "signal_share": 0.0,
            }
        else:
            name = names[f]
            idx = cores[name]
            if n_in < core:
                inside = np.sort(rng.choice(idx, size=n_in, replace=False))
                if outside == "module":
                    pool = (module_of == free_modules[f]) & ~in_any_set
                else:
                    pool = ~np.isin(module_of, modules) & ~in_any_set
                idx = np.concatenate([inside, _draw_outside(rng, pool, core - n_in)])
            weights = rng.uniform(0.5, 1.0, len(idx)) * rng.choice([-1.0, 1.0], len(idx))
            s = std[:, idx] @ weights
            s = (s - s.mean()) / s.std()
            form = "hinge" if f == n_features - 2 else "linear"
            signal = np.maximum(s, 0.0) if form == "hinge" else s
            signal = (signal - signal.mean()) / signal.std()
            noise = rng.standard_normal(n_patients)
            values = np.sqrt(signal_share) * signal + np.sqrt(1 - signal_share) * noise
            truth[fname] = {
                "form": form,
                "driver_set": name,
                "driver_genes": [genes[i] for i in idx],
                "weights": [round(float(w), 4) for w in weights],
                "signal_share": signal_share,
            }
            if n_in < core:
                truth[fname]["drivers_outside_sets"] = [genes[i] for i in idx[n_in:]]
                if outside == "module":
                    truth[fname]["outside_module"] = int(free_modules[f]) + 1
        features[fname] = np.round(offset + scale * values, 4)
    feats = pd.DataFrame(features)
    feats.insert(0, "patient_id", ids)
    meta = {
        "generator": "radsem.simulate.genemap_truth",
        "seed": seed,
        "n_patients": n_patients,
        "n_genes": n_genes,
        "module_size": module_size,
        "core": core,
        "signal_share": signal_share,
        "set_modules": {n: int(m) + 1 for n, m in zip(names, modules, strict=True)},
        "features": truth,
    }
    options = {
        "in_set": in_set,
        "outside": outside,
        "set_mates": set_mates,
        "set_padding": set_padding,
    }
    if n_in < core or set_mates or set_padding:  # recorded only when used: same bytes
        meta["options"] = options
    return GenemapTruth(expression=expression, features=feats, gene_sets=sets, truth=meta)


def _drivers_in_set(
    in_set: float, outside: str, set_mates: int, set_padding: int, core: int, module_size: int
) -> int:
    """Check the options for a poorer set guide; the number of drivers in a driver set."""
    if not 0.0 < in_set <= 1.0:
        raise DataError(f"in_set must be in (0, 1], got {in_set}")
    if outside not in ("module", "scattered"):
        raise DataError(f"outside must be 'module' or 'scattered', got {outside!r}")
    if not 0 <= set_mates <= module_size - core:
        raise DataError(
            f"set_mates must be between 0 and module_size - core ({module_size - core})"
        )
    if set_padding < 0:
        raise DataError("set_padding must be >= 0")
    return max(1, int(round(in_set * core)))


def _draw_outside(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """``k`` sorted gene indices drawn from the boolean ``pool``."""
    candidates = np.flatnonzero(pool)
    if len(candidates) < k:
        raise DataError(
            f"only {len(candidates)} genes outside every gene set to draw {k} drivers from"
        )
    return np.sort(rng.choice(candidates, size=k, replace=False))


def write_genemap_truth(
    folder: str | os.PathLike, truth: GenemapTruth | None = None, **kwargs
) -> dict[str, Path]:
    """Write ``expression.csv``, ``features.csv``, ``gene_sets.gmt`` and ``truth.json``.

    Parameters
    ----------
    folder : path
        Created if missing; files are written atomically.
    truth : GenemapTruth, optional
        Simulated with ``simulate_genemap_truth(**kwargs)`` when not given.

    Returns
    -------
    dict
        File name -> path.
    """
    from radsem.genemap.gmt import write_gmt
    from radsem.io.tables import atomic_write_bytes, write_table

    truth = truth or simulate_genemap_truth(**kwargs)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        name: folder / name
        for name in ("expression.csv", "features.csv", "gene_sets.gmt", "truth.json")
    }
    write_table(truth.expression, files["expression.csv"])
    write_table(truth.features, files["features.csv"])
    write_gmt(truth.gene_sets, files["gene_sets.gmt"])
    atomic_write_bytes((json.dumps(truth.truth, indent=2) + "\n").encode(), files["truth.json"])
    return files
