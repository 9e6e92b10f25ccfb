"""The YAML configuration of ``radsem compare``: schema, validation and the model families it
describes (see ``docs/cli.md`` for the schema with an example)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radsem.errors import DataError
from radsem.workflows._yaml import Checker, ConfigError, load_yaml
from radsem.workflows.families import (
    FAMILIES,
    registered_families,
    resolve_family,
    valid_families_text,
)

__all__ = [
    "ConfigError",
    "ComparisonConfig",
    "DataSpec",
    "FamilySpec",
    "FAMILIES",
    "read_comparison_config",
    "load_comparison",
    "measurement_part",
]

_TOP = (
    "version",
    "title",
    "data",
    "outcome",
    "families",
    "cross_validation",
    "bootstrap",
    "n_jobs",
    "output",
)
_METRICS = ("sqeuclidean", "euclidean", "manhattan", "cityblock", "cosine", "correlation")


@dataclass(frozen=True)
class DataSpec:
    """The ``data`` section: a cohort folder or a table, and tables joined to it."""

    cohort: Path | None = None
    table: Path | None = None
    id: str = "patient_id"
    join: Mapping[str, Path] = field(default_factory=dict)
    complete_cases: bool = True


@dataclass(frozen=True)
class FamilySpec:
    """One model family: its report name, family (built-in or registered name), checked
    parameters and the line where it is defined."""

    name: str
    family: str
    params: Mapping[str, Any]
    line: int | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparisonConfig:
    """A validated comparison configuration (:func:`read_comparison_config`).

    ``time, event, horizons`` describe the outcome (``outcome="binary"``: event by
    ``horizon``, censoring handled by ``censoring``; ``outcome="label"``: the binary patient
    label in column ``label``, ``positive`` its value coded 1, ``permutations`` the permuted
    copies of the label for the permutation p-value and interval of the AUC, 0: none);
    ``folds, repeats, seed, alpha`` the cross-validation; ``n_boot, boot_seed`` the optional
    optimism bootstrap (``n_boot`` None: not run). Paths are resolved against the
    configuration file's folder.
    """

    path: Path | None
    families: tuple[FamilySpec, ...]
    time: str = "time"
    event: str = "event"
    horizons: tuple[float, ...] | None = None
    outcome: str = "survival"
    horizon: float | None = None
    censoring: str = "ipcw"
    label: str | None = None
    positive: Any = None
    permutations: int = 0
    data: DataSpec | None = None
    folds: int = 5
    repeats: int = 5
    seed: int = 0
    alpha: float = 0.05
    n_boot: int | None = None
    boot_seed: int | None = None
    n_jobs: int = 1
    output: Path | None = None
    title: str = "Outcome model comparison"

    def compare_settings(
        self, *, seed: int | None = None, n_jobs: int | None = None
    ) -> dict[str, Any]:
        """Keyword arguments of :func:`radsem.compare.compare_models` (besides data, models)."""
        settings = {
            "time": self.time,
            "event": self.event,
            "n_splits": self.folds,
            "n_repeats": self.repeats,
            "random_state": self.seed if seed is None else int(seed),
            "n_jobs": self.n_jobs if n_jobs is None else int(n_jobs),
            "alpha": self.alpha,
        }
        if self.horizons is not None:
            settings["horizons"] = list(self.horizons)
        if self.outcome == "binary":
            settings.update(outcome="binary", horizon=self.horizon, censoring=self.censoring)
        if self.outcome == "label":
            del settings["time"], settings["event"]
            settings.update(outcome="label", label=self.label, positive=self.positive)
            if self.permutations:
                settings["n_permutations"] = self.permutations
        return settings

    def feature_set_names(self) -> list[str]:
        return list(self.data.join) if self.data is not None else []

    def used_columns(
        self, columns: Sequence[str], feature_sets: Mapping[str, Sequence[str]] | None = None
    ) -> list[str]:
        """Data columns the families and the outcome use (for complete-case selection).

        A label outcome's column is not among them: a patient with a missing label is an
        error naming the column, not a patient silently left out."""
        used = [self.time, self.event] if self.outcome != "label" else []
        for spec in self.families:
            for value in (
                spec.params.get("covariates"),
                spec.params.get("clinical"),
                spec.params.get("columns"),
                spec.columns,
            ):
                used += list(value or ())
            if "features" in spec.params:
                used += _features(spec, spec.params["features"], columns, feature_sets)
            if "model" in spec.params:
                used += [v for v in _model_variables(spec.params["model"]) if v in columns]
        if "advanced" in used and "advanced" not in columns:
            used[used.index("advanced")] = "figo_stage"
        return [c for c in dict.fromkeys(used) if c in columns]

    def build_models(
        self,
        *,
        columns: Sequence[str] | None = None,
        feature_sets: Mapping[str, Sequence[str]] | None = None,
        protocol=None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Unfitted model families by name, in the order of the file.

        Parameters
        ----------
        columns : sequence of str, optional
            Columns of the analysis data: needed by ``{regex: ...}`` feature selectors and to
            check that the families' columns exist.
        feature_sets : mapping name -> list of str, optional
            Columns of each named feature set (``features: radiomics`` takes the columns of
            the joined table ``radiomics``).
        protocol : DataFrame, optional
            The cohort's protocol table, for ``harmonize: true``.
        seed : int, optional
            Replaces the file's seed as the default ``random_state`` of the families.
        """
        seed = self.seed if seed is None else int(seed)
        models = {}
        for spec in self.families:
            models[spec.name] = _build(spec, columns, feature_sets, protocol, seed, self.path)
        if columns is not None:
            _check_columns(self, models, columns, feature_sets)
        return models


# --------------------------------------------------------------------------- reading


def read_comparison_config(path: str | os.PathLike, *, check_data: bool = True) -> ComparisonConfig:
    """Read and validate a comparison configuration file.

    Parameters
    ----------
    path : path
        The YAML file.
    check_data : bool
        Require the ``data`` section and check that its files exist (``radsem compare``);
        False for callers that bring their own data (the demo).

    Raises
    ------
    ConfigError
        Malformed YAML, unknown keys, wrong types or values, missing files: the message names
        the file, the key and the line.
    ModelFileSyntaxError
        A family's ``.lav`` file has a syntax error (``file:line:column``).
    """
    path = Path(path)
    file = str(path)
    top = Checker(load_yaml(path), "", file)
    top.allow(_TOP, required=["families"] + (["data"] if check_data else []))
    base = path.resolve().parent
    version = top.integer("version", 1)
    if version != 1:
        raise top.error(
            f"unknown schema version {version} (this radsem reads version 1)",
            top.values["version"],
            "version",
        )
    data = _data(top.sub("data"), base, check_data) if top.has("data") else None
    outcome = _outcome(top)
    folds, repeats, seed, alpha = _cv(top)
    if outcome.get("permutations"):
        _check_permutations(top.sub("outcome"), outcome["permutations"], alpha)
    n_boot, boot_seed = None, None
    if top.has("bootstrap"):
        boot = top.sub("bootstrap")
        if outcome["outcome"] in ("binary", "label"):
            raise boot.error(
                "the optimism bootstrap corrects Harrell's C of survival "
                "outcomes; remove it for a binary outcome",
                boot.item,
            )
        boot.allow(("n_boot", "seed"), required=("n_boot",))
        n_boot, boot_seed = boot.integer("n_boot", minimum=2), boot.integer("seed", seed, 0)
    n_jobs = top.integer("n_jobs", 1, minimum=1, allowed=(-1,))
    output = None
    if top.has("output"):
        output = top.path("output", base, exists=False)
    families = _families(top, base, data)
    return ComparisonConfig(
        path=path,
        families=families,
        time=outcome["time"],
        event=outcome["event"],
        horizons=outcome["horizons"],
        outcome=outcome["outcome"],
        horizon=outcome.get("horizon"),
        censoring=outcome.get("censoring", "ipcw"),
        label=outcome.get("label"),
        positive=outcome.get("positive"),
        permutations=outcome.get("permutations", 0),
        data=data,
        folds=folds,
        repeats=repeats,
        seed=seed,
        alpha=alpha,
        n_boot=n_boot,
        boot_seed=boot_seed,
        n_jobs=n_jobs,
        output=output,
        title=top.text("title", "Outcome model comparison"),
    )


def _data(sec: Checker, base: Path, check: bool) -> DataSpec:
    sec.allow(("cohort", "table", "id", "join", "complete_cases"))
    if sec.has("cohort") == sec.has("table"):
        raise sec.error(
            "give exactly one of 'cohort' (a cohort folder) and 'table' (a CSV, TSV "
            "or Parquet file)",
            sec.item,
        )
    cohort = sec.path("cohort", base, "dir", exists=check)
    table = sec.path("table", base, "file", exists=check)
    if table is not None and table.suffix.lower() not in (
        ".csv",
        ".tsv",
        ".txt",
        ".tab",
        ".parquet",
        ".pq",
    ):
        raise sec.error("the table must be .csv, .tsv or .parquet", sec.values["table"], "table")
    join = {}
    if sec.has("join"):
        tables = sec.sub("join")
        for name in tables.values:
            join[name] = tables.path(name, base, "file", exists=check)
    return DataSpec(
        cohort=cohort,
        table=table,
        id=sec.text("id", "patient_id"),
        join=join,
        complete_cases=sec.boolean("complete_cases", True),
    )


def _harness_supports_binary() -> bool:
    import inspect

    from radsem.compare import compare_models

    return "outcome" in inspect.signature(compare_models).parameters


def _outcome(top: Checker) -> dict[str, Any]:
    if not top.has("outcome"):
        return {"time": "time", "event": "event", "horizons": None, "outcome": "survival"}
    sec = top.sub("outcome")
    sec.allow(
        (
            "type",
            "time",
            "event",
            "horizons",
            "horizon",
            "censoring",
            "label",
            "positive",
            "permutations",
        )
    )
    kind = sec.text("type", "label" if sec.has("label") else "survival")
    if kind == "label":
        return _label_outcome(sec)
    for name in ("label", "positive", "permutations"):
        if sec.has(name):
            raise sec.error(
                f"{name!r} is for a binary patient label as the outcome (type: label)",
                sec.values[name],
                name,
            )
    if kind not in ("survival", "binary") or (kind == "binary" and not _harness_supports_binary()):
        raise sec.error(
            f"outcome type {kind!r} is not supported by this installation's comparison harness",
            sec.values["type"],
            "type",
        )
    out = {
        "time": sec.text("time", "time"),
        "event": sec.text("event", "event"),
        "horizons": None,
        "outcome": kind,
    }
    if kind == "binary":
        if not sec.has("horizon"):
            raise sec.error("outcome type 'binary' needs 'horizon' (event by this time)", sec.item)
        out["horizon"] = sec.number("horizon", low=0.0, open_low=True)
        out["censoring"] = sec.text("censoring", "ipcw", choices=("ipcw", "exclude"))
        for name in ("horizons",):
            if sec.has(name):
                raise sec.error(
                    "horizons are for survival outcomes; a binary outcome has one 'horizon'",
                    sec.values[name],
                    name,
                )
        return out
    for name in ("horizon", "censoring"):
        if sec.has(name):
            raise sec.error(f"{name!r} is for outcome type 'binary'", sec.values[name], name)
    if sec.has("horizons"):
        item = sec.values["horizons"]
        values = item.value if isinstance(item.value, list) else [item]
        horizons = []
        for entry in values:
            v = entry.value
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise ConfigError(
                    f"horizons must be positive numbers, got {v!r}",
                    file=sec.file,
                    key=sec.key("horizons"),
                    line=entry.line,
                )
            horizons.append(float(v))
        out["horizons"] = tuple(horizons)
    return out


def _label_outcome(sec: Checker) -> dict[str, Any]:
    """``outcome: {label: tp53_mutant, positive: mutant}``: a binary patient label."""
    if not sec.has("label"):
        raise sec.error("outcome type 'label' needs 'label' (the label column)", sec.item)
    for name in ("time", "event", "horizons", "horizon", "censoring"):
        if sec.has(name):
            raise sec.error(
                f"{name!r} is for survival outcomes; a label outcome has only 'label', "
                "'positive' and 'permutations'",
                sec.values[name],
                name,
            )
    positive = None
    if sec.has("positive"):
        positive = sec.values["positive"].value
        if isinstance(positive, list | dict):
            raise sec.error("positive must be one label value", sec.values["positive"], "positive")
    return {
        "time": None,
        "event": None,
        "horizons": None,
        "outcome": "label",
        "label": sec.text("label"),
        "positive": positive,
        "permutations": sec.integer("permutations", 0, minimum=0),
    }


def _check_permutations(sec: Checker, permutations: int, alpha: float) -> None:
    """``outcome: permutations``: enough permuted labels for an interval at the level."""
    least = math.ceil(2.0 / alpha - 1.0 - 1e-9)
    if permutations < least:
        raise sec.error(
            f"{permutations} permutations give no {1 - alpha:.0%} interval: at least {least} "
            f"are needed at alpha {alpha:g} (39, 79, 199 or 399 give an exact 95% level)",
            sec.values["permutations"],
            "permutations",
        )


def _cv(top: Checker) -> tuple[int, int, int, float]:
    if not top.has("cross_validation"):
        return 5, 5, 0, 0.05
    sec = top.sub("cross_validation")
    sec.allow(("folds", "repeats", "seed", "alpha"))
    return (
        sec.integer("folds", 5, minimum=2),
        sec.integer("repeats", 5, minimum=1),
        sec.integer("seed", 0, minimum=0),
        sec.number("alpha", 0.05, low=0.0, high=0.5, open_low=True),
    )


def _families(top: Checker, base: Path, data: DataSpec | None) -> tuple[FamilySpec, ...]:
    sec = top.sub("families")
    if not sec.values:
        raise sec.error("give at least one model family", sec.item)
    out = []
    for name in sec.values:
        fam = sec.sub(name)
        kind = fam.text("family")
        if kind is None:
            raise fam.error(f"required key 'family' is missing ({valid_families_text()})", fam.item)
        if kind in FAMILIES:
            fam.allow(("family", *FAMILIES[kind][1]))
            params = _builtin_params(fam, kind, base, data)
            out.append(FamilySpec(name, kind, params, fam.item.key_line))
        elif kind in registered_families():
            fam.allow(("family", "params", "columns"))
            params = fam.raw("params", {}) or {}
            if not isinstance(params, dict):
                raise fam.error(
                    "params must be a mapping of keyword arguments", fam.values["params"], "params"
                )
            spec = FamilySpec(name, kind, params, fam.item.key_line, tuple(fam.names("columns")))
            _user_family(spec, fam, base)  # construct now: errors before any work
            out.append(spec)
        else:
            raise fam.error(
                f"unknown family {kind!r}: {valid_families_text()}", fam.values["family"], "family"
            )
    return tuple(out)


def _features_param(fam: Checker, data: DataSpec | None):
    item = fam.values.get("features")
    if item is None or item.value is None:
        raise fam.error(
            "required key 'features' is missing (a list of columns, the name of "
            "a joined table, or {regex: PATTERN})",
            fam.item,
        )
    if isinstance(item.value, str):
        if data is not None and item.value not in data.join:
            raise fam.error(
                f"{item.value!r} is not a table under data.join (have: "
                f"{', '.join(data.join) or 'none'})",
                item,
                "features",
            )
        return item.value
    if isinstance(item.value, dict):
        sub = fam.sub("features")
        sub.allow(("regex",), required=("regex",))
        pattern = sub.text("regex")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise sub.error(
                f"invalid regular expression: {exc}", sub.values["regex"], "regex"
            ) from None
        return {"regex": pattern}
    names = fam.names("features")
    if not names:
        raise fam.error("the feature list is empty", item, "features")
    return names


def _builtin_params(fam: Checker, kind: str, base: Path, data: DataSpec | None) -> dict:
    if kind == "clinical_cox":
        return {"covariates": fam.names("covariates", ("advanced", "age"))}
    if kind == "penalised_cox":
        harmonize = fam.boolean("harmonize", False)
        if harmonize and data is not None and data.cohort is None:
            raise fam.error(
                "harmonize: true needs a cohort folder with a protocol table (data.cohort)",
                fam.values["harmonize"],
                "harmonize",
            )
        return {
            "features": _features_param(fam, data),
            "penalizer": fam.number("penalizer", 1.0, low=0.0),
            "l1_ratio": fam.number("l1_ratio", 0.0, low=0.0, high=1.0),
            "harmonize": harmonize,
            "select": fam.integer("select", None, minimum=1),
        }
    if kind == "cluster_cox":
        return {
            "features": _features_param(fam, data),
            "n_clusters": fam.integer("n_clusters", 3, minimum=2),
            "metric": fam.text("metric", "sqeuclidean", choices=_METRICS),
            "clinical": fam.names("clinical"),
            "random_state": fam.integer("random_state", None, minimum=0),
        }
    from radsem.workflows.fit_workflow import read_model_file

    path = fam.path("model", base, "file")
    if path is None:
        raise fam.error("required key 'model' is missing (a .lav file)", fam.item)
    text = read_model_file(path)
    measurement_only = fam.boolean("measurement_only", False)
    if measurement_only:
        text = measurement_part(text)
        if not text.strip():
            raise fam.error(
                f"{path.name} has no '=~' statement to keep", fam.values["model"], "model"
            )
    return {
        "model": text,
        "model_file": path,
        "measurement_only": measurement_only,
        "kind": fam.text("kind", "cfa", choices=("cfa", "sem")),
        "method": fam.text("method", "regression", choices=("regression", "bartlett")),
        "estimator": fam.text("estimator", "ML", choices=("ML", "MLR", "GLS", "ULS")),
        "clinical": fam.names("clinical"),
        "columns": fam.names("columns"),
        "penalizer": fam.number("penalizer", 0.0, low=0.0),
    }


def measurement_part(model: str) -> str:
    """The measurement statements (``=~``, with their continuation lines) of a model."""
    from radsem.syntax import parse_model

    lines = model.splitlines()
    statements = parse_model(model)
    keep = []
    for i, st in enumerate(statements):
        if st.op != "=~":
            continue
        end = statements[i + 1].line - 1 if i + 1 < len(statements) else len(lines)
        keep += [line.split("#")[0].rstrip() for line in lines[st.line - 1 : end]]
    return "\n".join(line for line in keep if line.strip()) + "\n"


def _model_variables(model: str) -> list[str]:
    from radsem.syntax import parse_model

    names, latent = [], set()
    for st in parse_model(model):
        if st.op == "=~":
            latent.update(st.lhs)
        names += list(st.lhs) + [t.name for t in st.rhs if t.name]
    return [n for n in dict.fromkeys(names) if n not in latent]


# --------------------------------------------------------------------------- building


def _predicts(model) -> bool:
    """A survival model's prediction method: ``predict`` (estimator) or ``predict_risk``."""
    return callable(getattr(model, "predict", None)) or callable(
        getattr(model, "predict_risk", None)
    )


def _user_family(spec: FamilySpec, fam: Checker | None, base: Path | None):
    try:
        try:
            cls = resolve_family(spec.family)
        except ConfigError as exc:
            raise DataError(exc.message) from None
        try:
            model = cls(**dict(spec.params))
        except TypeError as exc:
            raise DataError(f"{spec.family}({', '.join(spec.params)}) failed: {exc}") from None
        if not (hasattr(model, "fit") and _predicts(model)):
            raise DataError(
                f"{spec.family} has no fit/predict_risk methods (see radsem.compare.SurvivalModel)"
            )
    except DataError as exc:
        if fam is None:
            raise
        raise fam.error(str(exc), fam.values["family"], "family") from None
    return model


def _features(spec: FamilySpec, selector, columns, feature_sets) -> list[str]:
    if isinstance(selector, list):
        return list(selector)
    if isinstance(selector, dict):
        if columns is None:
            raise DataError(
                f"family {spec.name!r}: a regex feature selector needs the data columns"
            )
        found = [c for c in columns if re.search(selector["regex"], str(c))]
        if not found:
            raise DataError(
                f"family {spec.name!r}: no column matches the regex {selector['regex']!r}"
            )
        return found
    sets = dict(feature_sets or {})
    if selector not in sets:
        raise DataError(
            f"family {spec.name!r}: unknown feature set {selector!r} (known: "
            f"{', '.join(sets) or 'none'})"
        )
    return list(sets[selector])


def _build(spec: FamilySpec, columns, feature_sets, protocol, seed: int, path) -> Any:
    from radsem import compare

    p = spec.params
    if spec.family == "clinical_cox":
        return compare.ClinicalCox(covariates=tuple(p["covariates"]))
    if spec.family == "penalised_cox":
        harmonizer = None
        if p["harmonize"]:
            from radsem.radiomics import ProtocolHarmonizer

            if protocol is None or len(protocol) == 0:
                raise DataError(
                    f"family {spec.name!r}: harmonize needs the cohort's protocol table"
                )
            harmonizer = ProtocolHarmonizer(protocol=protocol)
        return compare.PenalisedCox(
            features=_features(spec, p["features"], columns, feature_sets),
            penalizer=p["penalizer"],
            l1_ratio=p["l1_ratio"],
            harmonizer=harmonizer,
            select=p["select"],
        )
    if spec.family == "cluster_cox":
        return compare.ClusterCox(
            features=_features(spec, p["features"], columns, feature_sets),
            n_clusters=p["n_clusters"],
            metric=p["metric"],
            clinical=tuple(p["clinical"]),
            random_state=seed if p["random_state"] is None else p["random_state"],
        )
    if spec.family == "sem_score_cox":
        scorer = compare.sem_scorer(
            p["model"], kind=p["kind"], method=p["method"], estimator=p["estimator"]
        )
        return compare.ScoreCox(
            columns=tuple(p["columns"]),
            scorer=scorer,
            clinical=tuple(p["clinical"]),
            penalizer=p["penalizer"],
        )
    base = Path(path).resolve().parent if path is not None else None
    return _user_family(spec, None, base)


def _check_columns(config: ComparisonConfig, models, columns, feature_sets) -> None:
    columns = list(columns)
    have = set(columns)
    for spec in config.families:
        need = list(spec.params.get("covariates") or ()) + list(spec.params.get("clinical") or ())
        need += list(spec.params.get("columns") or ()) + list(spec.columns)
        if "features" in spec.params:
            need += _features(spec, spec.params["features"], columns, feature_sets)
        if "model" in spec.params:
            need += _model_variables(spec.params["model"])
        if "advanced" in need and "advanced" not in have and "figo_stage" in have:
            need.remove("advanced")  # derived from figo_stage (FIGO III/IV)
        missing = [c for c in dict.fromkeys(need) if c not in have]
        missing = [
            f"'{c}'" + (" (or 'figo_stage' to derive it from)" if c == "advanced" else "")
            for c in missing
        ]
        if missing:
            raise DataError(
                f"family {spec.name!r}: column(s) {', '.join(missing[:8])}"
                f"{' ...' if len(missing) > 8 else ''} not in the data"
            )
    if config.outcome == "label":
        if config.label not in have:
            raise DataError(f"label column {config.label!r} is not in the data")
        return
    for col in (config.time, config.event):
        if col not in have:
            raise DataError(f"outcome column {col!r} is not in the data")


def load_comparison(
    path: str | os.PathLike,
    *,
    feature_sets: Mapping[str, Sequence[str]] | None = None,
    columns: Sequence[str] | None = None,
    seed: int | None = None,
    n_jobs: int | None = None,
    protocol=None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model families and the :func:`~radsem.compare.compare_models` settings of a file.

    For callers that bring their own data (the demo); the file's ``data`` section, if any, is
    not read.

    Parameters
    ----------
    path : path
        The YAML configuration (e.g. ``models/compare_demo.yaml``).
    feature_sets : mapping name -> list of str, optional
        Columns of the named feature sets the families refer to (``features: radiomics``).
    columns : sequence of str, optional
        Columns of the data (for regex selectors and a column check).
    seed, n_jobs : int, optional
        Replace the file's seed (cross-validation splits and the families' default
        ``random_state``) and number of jobs.
    protocol : DataFrame, optional
        Protocol table for ``harmonize: true``.

    Returns
    -------
    models : dict of name -> model family
    settings : dict
        ``time, event, n_splits, n_repeats, random_state, n_jobs, alpha`` (and ``horizons``).

    Examples
    --------
    >>> models, settings = load_comparison("models/compare_demo.yaml",  # doctest: +SKIP
    ...     feature_sets={"radiomics": list(features.columns)}, seed=seed)
    >>> result = compare_models(data, models, **settings)  # doctest: +SKIP
    """
    config = read_comparison_config(path, check_data=False)
    models = config.build_models(
        columns=columns, feature_sets=feature_sets, protocol=protocol, seed=seed
    )
    return models, config.compare_settings(seed=seed, n_jobs=n_jobs)
