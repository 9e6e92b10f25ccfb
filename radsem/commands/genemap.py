"""``radsem genemap``: which gene sets shape which image features (gene masking)."""

from __future__ import annotations

import argparse
import sys

from radsem.commands._arguments import non_negative, positive

HELP = "map gene sets onto image features: networks, peer models and gene masking"

#: ``--jobs`` default: the cores this process may use, at most this many.
MAX_DEFAULT_JOBS = 4


def default_jobs() -> int:
    """Worker processes of ``radsem genemap`` without ``--jobs``: the cores this process may
    run on (``os.sched_getaffinity``, else ``os.cpu_count``), at least 1 and at most
    :data:`MAX_DEFAULT_JOBS`."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_JOBS, cores))


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``radsem genemap``."""
    parser.add_argument(
        "--expression",
        required=True,
        metavar="EXPR.csv",
        help="expression table: patient_id, one column per gene",
    )
    parser.add_argument(
        "--features",
        required=True,
        metavar="FEATURES.csv",
        help="image features (.csv/.tsv/.parquet; radsem extract output works)",
    )
    parser.add_argument(
        "--gene-sets",
        required=True,
        metavar="SETS.gmt",
        help="gene sets in GMT format ('hpv' for the shipped HPV mechanism sets)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--labels",
        metavar="LABELS.csv",
        help="table with a categorical label (histology, HPV clade)",
    )
    parser.add_argument("--label", metavar="COLUMN", help="the label column of --labels")
    parser.add_argument("--seed", type=non_negative, default=0, help="random seed (default 0)")
    parser.add_argument("--folds", type=positive, default=5, help="folds (default 5)")
    parser.add_argument(
        "--repeats", type=positive, default=2, help="repeats of the cross-validation (default 2)"
    )
    parser.add_argument(
        "--mask-repeats",
        type=positive,
        default=18,
        metavar="N",
        help="repeats of the network's cross-validation averaged in the gene-set scores "
        "(default 18; the first --repeats are shared with the other models)",
    )
    parser.add_argument(
        "--random-sets",
        type=non_negative,
        default=None,
        metavar="N",
        help="size-matched random sets per set size (default: max(200, 2 x sets / 0.05))",
    )
    parser.add_argument(
        "--stability-seeds",
        type=non_negative,
        default=1,
        metavar="N",
        help="extra seeds for the stability check (default 1; 0 skips it)",
    )
    parser.add_argument(
        "--models",
        default=None,
        metavar="LIST",
        help="comma-separated models (default: network,elastic_net,"
        "random_forest,gradient_boosting,svr,mean)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the network folds and the gene-set nulls on a Dask cluster at this "
        "scheduler address (same numbers as a local run)",
    )
    parser.add_argument(
        "--jobs",
        type=positive,
        default=None,
        metavar="N",
        help="local worker processes for the network's folds with their masking and for the "
        f"other models (default: the cores this process may use, at most {MAX_DEFAULT_JOBS}; "
        "every number is the same for any N)",
    )
    parser.add_argument(
        "--dense",
        action="store_true",
        help="the ridge path + dense blocks instead of the LassoNet input stage",
    )
    parser.add_argument(
        "--pretrain",
        action="store_true",
        help="initialise the dense network from a gene autoencoder (implies --dense)",
    )
    parser.add_argument(
        "--gene-ranking",
        choices=("set_guided", "flat"),
        default="set_guided",
        help="rank of gene_importance.csv: genes of the sets significant for the target "
        "that the network used first (set_guided, the default), or by importance alone "
        "(flat; always in the rank_flat column)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of an earlier run in the output folder",
    )
    parser.add_argument("--quiet", action="store_true", help="no summary")


def run(args: argparse.Namespace) -> int:
    """Read and check the inputs, run the gene map, write the outputs."""
    import dataclasses
    import warnings
    from pathlib import Path

    from radsem.errors import DataWarning
    from radsem.genemap import (
        GenemapSettings,
        NetworkSettings,
        genemap,
        hpv_mechanism_sets,
        join_tables,
        match_gene_sets,
        read_gmt,
    )
    from radsem.io import read_table
    from radsem.io.guard import check_outputs

    if (args.labels is None) != (args.label is None):
        from radsem.errors import DataError

        raise DataError("give --labels and --label together")
    inputs = [args.expression, args.features]
    if args.labels:
        inputs.append(args.labels)
    if args.gene_sets.lower() != "hpv":
        inputs.append(args.gene_sets)
    # refuse an output over or inside an input before any work (checked again when writing)
    check_outputs(inputs, folders=[args.out])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        expression = read_table(args.expression)
        features = read_table(args.features)
        labels = read_table(args.labels) if args.labels else None
        if args.gene_sets.lower() == "hpv":
            sets = hpv_mechanism_sets()
        else:
            sets = read_gmt(args.gene_sets)
        data = join_tables(
            expression,
            features,
            labels,
            args.label,
            names=(
                Path(args.expression).name,
                Path(args.features).name,
                Path(args.labels).name if args.labels else "labels",
            ),
        )
        sets = match_gene_sets(sets, data.genes.columns)
    for w in caught:
        print(f"radsem genemap: warning: {w.message}", file=sys.stderr)
    kw = {}
    if args.models:
        models = tuple(m.strip() for m in args.models.split(",") if m.strip())
        kw["models"] = tuple(dict.fromkeys(("network", *models)))
    settings = GenemapSettings(
        folds=args.folds,
        repeats=args.repeats,
        mask_repeats=args.mask_repeats,
        n_random=args.random_sets,
        stability_seeds=args.stability_seeds,
        gene_ranking=args.gene_ranking,
        network=dataclasses.replace(
            NetworkSettings(),
            pretrain=args.pretrain,
            sparse=None if (args.dense or args.pretrain) else NetworkSettings().sparse,
        ),
        **kw,
    )
    jobs = default_jobs() if args.jobs is None else args.jobs
    result = genemap(data, sets, settings, seed=args.seed, client=args.scheduler, n_jobs=jobs)
    command = f"radsem genemap (seed {args.seed}, folds {args.folds}, repeats {args.repeats})"
    files = result.write(args.out, inputs=inputs, command=command, overwrite=args.overwrite)
    if not args.quiet:
        perf = result.performance
        net = perf[perf["model"] == "network"].set_index("target")["r2"]
        en = perf[perf["model"] == "elastic_net"].set_index("target")["r2"]
        top = result.gene_sets[result.gene_sets["rank"] == 1].set_index("target")
        print(f"{'target':<28} {'R2 net':>7} {'R2 enet':>8}  top set (q)")
        for target in result.data.targets.columns:
            e = f"{en[target]:8.3f}" if target in en.index else f"{'-':>8}"
            print(
                f"{target[:28]:<28} {net[target]:7.3f} {e}  {top.loc[target, 'gene_set']} "
                f"({top.loc[target, 'q_value']:.3g})"
            )
        print(f"written: {', '.join(str(p) for p in files.values())}")
    return 0
