"""Run a comparison described by a YAML file: read the data, cross-validate the model families,
optionally bootstrap the optimism, and write the tables and the comparison report
(the work behind ``radsem compare``)."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radsem.errors import DataError
from radsem.workflows._files import output_folder, prepare_output, write_csv, write_json
from radsem.workflows.compare_config import ComparisonConfig, read_comparison_config

__all__ = ["ComparisonData", "ComparisonRun", "read_comparison_data", "run_comparison"]

_TABLES = (
    "summary.csv",
    "paired.csv",
    "per_fold.csv",
    "failures.csv",
    "predictions.csv",
    "calibration.csv",
    "report.html",
    "report.md",
    "comparison.json",
)


@dataclass
class ComparisonData:
    """The analysis table of a comparison and where it came from.

    Attributes
    ----------
    frame : DataFrame
        One row per patient (index: the id), after complete-case selection.
    feature_sets : dict of str to list of str
        Columns of each joined table.
    protocol : DataFrame or None
        The cohort's protocol table.
    inputs : list of Path
        Files read (for the provenance hashes).
    notes : list of str
    """

    frame: pd.DataFrame
    feature_sets: dict[str, list[str]] = field(default_factory=dict)
    protocol: pd.DataFrame | None = None
    inputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cohort_frame(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    from radsem.io import read_cohort
    from radsem.simulate import lavaan_name

    cohort = read_cohort(folder)
    clinical = cohort.clinical.set_index("patient_id")
    expression = cohort.expression.set_index("patient_id") if len(cohort.expression) else None
    if expression is not None:
        expression.columns = [lavaan_name(c) for c in expression.columns]
        clash = [c for c in expression.columns if c in clinical.columns]
        if clash:
            raise DataError(
                f"{folder}: expression column(s) {', '.join(clash[:5])} repeat clinical columns"
            )
        clinical = clinical.join(expression, how="left")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".parquet")
    )
    return clinical, cohort.protocol, files


def _indexed(table: pd.DataFrame, id_column: str, source: Path) -> pd.DataFrame:
    if id_column not in table.columns:
        raise DataError(
            f"{source}: no id column {id_column!r} (set data.id); columns: "
            f"{', '.join(map(str, table.columns[:10]))}"
        )
    ids = table[id_column]
    if ids.isna().any() or ids.duplicated().any():
        bad = ids[ids.isna() | ids.duplicated()].iloc[0]
        raise DataError(
            f"{source}: id column {id_column!r} has an empty or duplicated value ({bad!r})"
        )
    return table.set_index(id_column)


def read_comparison_data(config: ComparisonConfig) -> ComparisonData:
    """Read the ``data`` section of a configuration into one analysis table.

    A cohort folder gives the clinical table joined (left) with the expression table, whose
    gene columns get lavaan-safe names (:func:`radsem.simulate.lavaan_name`); a table is read
    as it is. Tables under ``join`` are joined on the id (patients present in every table).
    With ``complete_cases`` (default), rows with a missing value in a column that a family or
    the outcome uses are dropped, and the report says how many.
    """
    from radsem.io import read_table

    spec = config.data
    if spec is None:
        raise DataError(f"{config.path}: the configuration has no data section")
    protocol, inputs = None, []
    if spec.cohort is not None:
        frame, protocol, inputs = _cohort_frame(spec.cohort)
    else:
        frame = _indexed(read_table(spec.table), spec.id, spec.table)
        inputs = [spec.table]
    sets, notes = {}, []
    for name, path in spec.join.items():
        extra = _indexed(read_table(path), spec.id, path)
        clash = [c for c in extra.columns if c in frame.columns]
        if clash:
            raise DataError(
                f"{path}: column(s) {', '.join(map(str, clash[:5]))} of the joined "
                f"table {name!r} are already in the data"
            )
        extra.columns = [str(c) for c in extra.columns]
        sets[name] = list(extra.columns)
        before = len(frame)
        frame = frame.join(extra, how="inner")
        inputs.append(path)
        if len(frame) < before:
            notes.append(
                f"{before - len(frame)} patient(s) not in the joined table {name!r} left out"
            )
    data = ComparisonData(
        frame=frame, feature_sets=sets, protocol=protocol, inputs=inputs, notes=notes
    )
    if spec.complete_cases:
        used = config.used_columns(list(frame.columns), sets)
        keep = frame[used].notna().all(axis=1)
        if not keep.all():
            data.notes.append(
                f"{int((~keep).sum())} of {len(frame)} patients with a missing "
                "value in a column the models or the outcome use were left out "
                "(complete cases)"
            )
        data.frame = frame.loc[keep]
    if data.frame.empty:
        raise DataError("no patient is left for the comparison")
    return data


@dataclass
class ComparisonRun:
    """What :func:`run_comparison` produced: the harness result, the optimism table, the
    report, the written files and notes."""

    result: object
    report: object
    out: Path
    optimism: pd.DataFrame | None = None
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Harrell's C per model with its corrected CI, for the terminal."""
        table = self.result.summary()
        binary = getattr(self.result, "outcome", "survival") in ("binary", "label")
        c = table[table["metric"] == ("auc" if binary else "harrell_c")]
        label = "AUC" if binary else "Harrell's C"
        lines = [f"{label} (cross-validated, corrected 95% CI):"]
        width = max((len(m) for m in c["model"]), default=5)
        perm = "ci_lower_perm" in c.columns
        for row in c.itertuples():
            line = (
                f"  {row.model:<{width}}  {row.mean:.3f} [{row.ci_lower:.3f}, {row.ci_upper:.3f}]"
            )
            if perm:
                line += (
                    f"  permutation [{row.ci_lower_perm:.3f}, {row.ci_upper_perm:.3f}] "
                    f"p = {row.pvalue_perm:.3g} ({row.n_permutations} permutations)"
                )
            lines.append(line)
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  wrote {p}" for p in self.files.values()]
        return "\n".join(lines)


def run_comparison(
    config: str | os.PathLike | ComparisonConfig,
    *,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    n_jobs: int | None = None,
    progress: bool = False,
    command: str | None = None,
    client=None,
) -> ComparisonRun:
    """Run the comparison of a configuration file and write its tables and report.

    Parameters
    ----------
    config : path or ComparisonConfig
        The YAML file (validated fully before any work) or a validated configuration.
    out : path, optional
        Output folder (default: the file's ``output``, else ``<file name>-output`` next to it).
        It may not be an input's folder nor lie inside the cohort folder.
    overwrite : bool
        Replace the files of an earlier run.
    n_jobs : int, optional
        Replaces the file's ``n_jobs``.
    progress : bool
        Progress bar over folds (stderr).
    command : str, optional
        Command line recorded in the provenance.
    client : distributed.Client or str, optional
        Run the folds and the optimism bootstrap on this Dask cluster (a client or a scheduler
        address, ``--scheduler``); same numbers as a local run.

    Returns
    -------
    ComparisonRun

    Notes
    -----
    Cross-validation by :func:`radsem.compare.compare_models` (repeated stratified K-fold,
    corrected resampled-t intervals); the optimism bootstrap by
    :func:`radsem.compare.optimism_bootstrap`. Every data-dependent step of a family is
    refitted in each training fold.
    """
    from radsem.compare import compare_models, optimism_bootstrap

    if not isinstance(config, ComparisonConfig):
        config = read_comparison_config(config)
    data = read_comparison_data(config)
    frame = data.frame
    models = config.build_models(
        columns=list(frame.columns), feature_sets=data.feature_sets, protocol=data.protocol
    )
    settings = config.compare_settings(n_jobs=n_jobs)
    if out is None and config.output is None and config.path is None:
        raise DataError("give an output folder (out=...) for a configuration without a file")
    if out is None:
        out = config.output or config.path.parent / f"{config.path.stem}-output"
    lav_files = [s.params["model_file"] for s in config.families if "model_file" in s.params]
    inputs = [p for p in (config.path, *data.inputs, *lav_files) if p is not None]
    planned = list(_TABLES) + (["optimism.csv"] if config.n_boot else [])
    protected = [config.data.cohort] if config.data.cohort is not None else []
    target = prepare_output(out, inputs, planned, overwrite=overwrite, protected_folders=protected)
    notes = list(data.notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compare_models(frame, models, progress=progress, client=client, **settings)
        optimism = None
        if config.n_boot:
            optimism = optimism_bootstrap(
                frame,
                models,
                time=config.time,
                event=config.event,
                n_boot=config.n_boot,
                random_state=config.boot_seed,
                n_jobs=settings["n_jobs"],
                alpha=config.alpha,
                client=client,
                progress=progress,
            )
    notes += [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, DeprecationWarning)
    ]
    times = "once" if config.repeats == 1 else f"{config.repeats} times"
    notes.insert(
        0,
        f"{len(frame)} patients, {config.folds}-fold cross-validation repeated "
        f"{times} (seed {settings['random_state']}).",
    )
    run = ComparisonRun(result=result, report=None, out=target, optimism=optimism, notes=notes)
    run.report = _report(config, run, settings, inputs, command)
    with output_folder(target, planned):
        _write(run, config, settings)
    return run


def _report(config, run, settings, inputs, command):
    from radsem.report import Provenance, ResultTable, Text, comparison_report

    result = run.result
    summary = result.summary()
    summary = summary[~summary["metric"].isin(["harrell_c_se", "auc_se"])]  # per-fold SEs
    metrics = summary.rename(columns={"mean": "estimate"})[
        ["model", "metric", "estimate", "ci_lower", "ci_upper", "n_folds"]
    ].reset_index(drop=True)
    paired = result.paired(_key_metric(result))
    columns = ["comparison", "estimate", "ci_lower", "ci_upper", "pvalue"]
    if len(paired):
        differences = paired.assign(
            comparison=paired["model"] + " - " + paired["reference"]
        ).rename(columns={"mean": "estimate"})[columns]
    else:  # a single model family: nothing to compare it with
        differences = None
    calibration = _calibration(result)
    options = {
        "families": {s.name: s.family for s in config.families},
        "outcome": {
            "type": config.outcome,
            **(
                {"label": config.label, "positive": result.positive}
                if config.outcome == "label"
                else {"time": config.time, "event": config.event}
            ),
            **({"permutations": config.permutations} if config.permutations else {}),
            **(
                {"horizon": config.horizon, "censoring": config.censoring}
                if config.outcome == "binary"
                else {}
            ),
        },
        "cross_validation": {
            "folds": config.folds,
            "repeats": config.repeats,
            "alpha": config.alpha,
        },
        "n_jobs": settings["n_jobs"],
    }
    seeds = {"cross_validation": settings["random_state"]}
    if config.permutations:
        seeds["permutations"] = [settings["random_state"], 14]
    if config.n_boot:
        seeds["bootstrap"] = config.boot_seed
        options["bootstrap"] = {"n_boot": config.n_boot}
    provenance = Provenance(
        inputs=inputs,
        options=options,
        seeds=seeds,
        command=command or "radsem.workflows.run_comparison",
    )
    key = "AUC" if _key_metric(result) == "auc" else "Harrell's C"
    warned = [n for n in run.notes if re.match(r"^\w*Warning: ", n)]
    notes = [
        *(n for n in run.notes if n not in warned),
        f"Metrics are means over the folds with corrected resampled-t "
        f"{1 - config.alpha:.0%} intervals (Nadeau & Bengio 2003); the differences between "
        f"models are paired per fold, in {key} (first model minus second).",
    ]
    decision = getattr(result, "decision", None)
    if (
        decision is not None
        and len(decision)
        and {"model", "threshold", "net_benefit", "treat_all"} <= set(decision.columns)
    ):
        decision = (
            decision.groupby(["model", "threshold"], sort=False)[["net_benefit", "treat_all"]]
            .mean()
            .reset_index()
        )
    else:
        decision = None
    report = comparison_report(
        metrics=metrics,
        differences=differences,
        calibration=calibration if len(calibration) else None,
        title=config.title,
        provenance=provenance,
        notes=notes,
        warnings=warned,
        decision=decision,
        time_unit="",
        horizon=result.horizons[0] if result.horizons else None,
    )
    if getattr(result, "permutation_null", None) is not None:
        report.add_section(*_permutation_section(result, config))
    if run.optimism is not None:
        report.add_section(
            "Optimism-corrected C-index (bootstrap)",
            Text(
                "Harrell's bootstrap: apparent C minus the mean optimism over "
                f"{config.n_boot} resamples (seed {config.boot_seed})."
            ),
            ResultTable(run.optimism, title="Optimism-corrected Harrell's C"),
        )
    if len(result.failures):
        report.add_section(
            "Fit problems inside folds",
            ResultTable(result.failures, title="Failures and warnings per fold"),
        )
    return report


def _permutation_section(result, config) -> tuple:
    """The report section of the AUC under permuted labels: per model the permutation
    p-value and the permutation-calibrated interval next to the corrected t interval."""
    from radsem.report import ResultTable, Text

    auc = result.summary().query("metric == 'auc'")
    table = auc.rename(columns={"mean": "auc"})[
        [
            "model",
            "auc",
            "ci_lower",
            "ci_upper",
            "auc_null",
            "ci_lower_perm",
            "ci_upper_perm",
            "pvalue_perm",
            "n_permutations",
        ]
    ].reset_index(drop=True)
    text = Text(
        f"The whole cross-validation of every model was refitted on {config.permutations} "
        "permuted copies of the label (numpy default_rng([seed, 14]), folds by the same "
        "procedure and seed). auc_null: the mean per-fold AUC averaged over them; pvalue_perm: "
        "the two-sided Monte Carlo permutation p-value of the mean per-fold AUC; "
        "ci_lower_perm, ci_upper_perm: the permutation-calibrated "
        f"{1 - config.alpha:.0%} interval (the inversion of that test under a location shift, "
        "radsem.compare.permutation_interval), which covers 0.5 at the nominal rate when the "
        "label carries nothing; ci_lower, ci_upper: the corrected resampled-t interval."
    )
    return (
        "AUC under permuted labels",
        text,
        ResultTable(table, title="Permutation p-value and interval of the AUC"),
    )


def _key_metric(result) -> str:
    classified = getattr(result, "outcome", "survival") in ("binary", "label")
    return "auc" if classified else "harrell_c"


def _calibration(result) -> pd.DataFrame:
    """Calibration by risk group averaged over folds (sums of counts), as the probability of
    the event by the (first) horizon: predicted and observed (1 - Kaplan-Meier for survival)."""
    calib = result.calibration
    need = {"model", "group", "predicted", "observed"}
    if calib is None or calib.empty or not need <= set(calib.columns):
        return pd.DataFrame()
    agg = {"predicted": ("predicted", "mean"), "observed": ("observed", "mean")}
    agg.update({c: (c, "sum") for c in ("n", "events") if c in calib.columns})
    table = calib.groupby(["model", "group"], sort=False).agg(**agg).reset_index()
    if getattr(result, "outcome", "survival") == "survival":  # -> event probability
        table["predicted"] = 1.0 - table["predicted"]
        table["observed"] = 1.0 - table["observed"]
    table.insert(2, "horizon", result.horizons[0] if result.horizons else float("nan"))
    return table


def _write(run: ComparisonRun, config, settings) -> None:
    out, result = run.out, run.result
    tables = {
        "summary.csv": result.summary(),
        "paired.csv": result.paired(_key_metric(result)),
        "per_fold.csv": result.folds,
        "failures.csv": result.failures,
        "predictions.csv": result.predictions,
        "calibration.csv": _calibration(result),
    }
    if run.optimism is not None:
        tables["optimism.csv"] = run.optimism
    for name, frame in tables.items():
        run.files[name] = write_csv(frame, out / name)
    run.report.to_html(out / "report.html")
    run.files["report.html"] = out / "report.html"
    run.report.to_markdown(out / "report.md")
    run.files["report.md"] = out / "report.md"
    payload = {
        "configuration": config.path.name if config.path else None,
        "settings": settings,
        "families": {s.name: s.family for s in config.families},
        "horizons": list(result.horizons),
        "notes": run.notes,
        "summary": result.summary(),
        "provenance": run.report.provenance.as_dict(),
    }
    run.files["comparison.json"] = write_json(payload, out / "comparison.json")
