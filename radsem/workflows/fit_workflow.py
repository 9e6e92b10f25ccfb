"""Fit a lavaan-syntax model file to a data file and write its report and tables
(the work behind ``radsem fit``)."""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from radsem.errors import (
    DataError,
    EngineUnavailableError,
    ImproperSolutionWarning,
    ModelSpecificationError,
    ModelSyntaxError,
)
from radsem.workflows._files import output_folder, prepare_output, write_csv, write_json

__all__ = ["FORMATS", "ModelFileSyntaxError", "FitWorkflowResult", "read_model_file", "fit_files"]

#: Output formats of :func:`fit_files` and the files they write.
FORMATS = {
    "html": ("report.html",),
    "md": ("report.md",),
    "tex": ("report.tex",),
    "csv": ("parameters.csv", "fit_measures.csv", "modindices.csv"),
    "json": ("fit.json",),
}
_KINDS = ("sem", "cfa", "growth", "lavaan")
_ENGINES = ("lavaan", "semopy")


class ModelFileSyntaxError(ModelSyntaxError):
    """A syntax error in a model file, shown as ``file:line:column: message``.

    Parameters
    ----------
    path : path
        The model file.
    error : ModelSyntaxError
        The parser's error (line and column within the file's text).
    """

    def __init__(self, path: str | os.PathLike, error: ModelSyntaxError) -> None:
        super().__init__(error.message, error.line, error.column, error.text)
        self.path = str(path)
        full = f"{self.path}:{self.line}:{self.column}: {self.message}"
        if self.text is not None:
            full += f"\n    {self.text}\n    {' ' * max(self.column - 1, 0)}^"
        self.args = (full,)


def read_model_file(path: str | os.PathLike) -> str:
    """Read a model file (UTF-8 lavaan syntax) and check its syntax.

    Raises
    ------
    DataError
        The file is missing or not UTF-8 text.
    ModelFileSyntaxError
        The syntax is invalid; the message gives ``file:line:column``.
    """
    from radsem.syntax import parse_model
    from radsem.syntax.survival import split_survival

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: model file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    try:
        sem_syntax, _ = split_survival(text)  # 'name =~ Surv(time, event)' outcomes
        if sem_syntax is not None:
            parse_model(sem_syntax)
    except ModelSyntaxError as exc:
        raise ModelFileSyntaxError(path, exc) from None
    return text


@dataclass
class FitWorkflowResult:
    """What :func:`fit_files` produced.

    Attributes
    ----------
    fit : SemFit
    report : Report or None
        The fit report (:func:`radsem.report.sem_report`); None when no report format
        (html, md, tex) was asked for.
    out : Path
        The output folder.
    files : dict of str to Path
        Written files by role (``report.html``, ``parameters.csv``, ...).
    warnings : list of str
        Problems of the fit in words (non-convergence, improper solutions, listwise deletion,
        ...), also in the report.
    cross_check : CrossCheck or None
    improper : bool
        An improper solution (negative variance, standardized value beyond 1, ...).
    modindices : DataFrame
        Modification indices, largest first (empty when the engine has none).
    notes : list of str
        Remarks that are not problems of the fit (e.g. why modification indices are missing).
    """

    fit: object
    report: object
    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cross_check: object | None = None
    improper: bool = False
    modindices: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the optimiser converged and the solution is proper."""
        return bool(getattr(self.fit, "converged", False)) and not self.improper

    def summary(self) -> str:
        """A few lines for the terminal: N, chi-square, CFI, RMSEA, SRMR, warnings, files."""
        fm = pd.Series(self.fit.fit_measures(), dtype=float)
        if "ntotal" not in fm.index and hasattr(self.fit, "nobs"):  # WLSMV: lavaan has no ntotal
            fm["ntotal"] = self.fit.nobs
        opts = getattr(self.fit, "options", {}) or {}

        def get(key, fmt="{:.3f}"):
            value = fm.get(key)
            return "n/a" if value is None or pd.isna(value) else fmt.format(value)

        lines = [
            f"{opts.get('model_type', 'sem')} fit, estimator {opts.get('estimator', '?')},"
            f" missing={opts.get('missing', '?')}: "
            f"{'converged' if getattr(self.fit, 'converged', False) else 'NOT converged'}",
            f"  N used {get('ntotal', '{:.0f}')}, free parameters {get('npar', '{:.0f}')}",
            f"  chi-square {get('chisq')} on {get('df', '{:.0f}')} df, p = {get('pvalue')}",
            f"  CFI {get('cfi')}  TLI {get('tli')}  RMSEA {get('rmsea')} "
            f"[{get('rmsea.ci.lower')}, {get('rmsea.ci.upper')}]  SRMR {get('srmr')}",
        ]
        if "chisq.scaled" in fm.index:
            lines.append(
                f"  scaled chi-square {get('chisq.scaled')}, CFI (robust) "
                f"{get('cfi.robust')}, RMSEA (robust) {get('rmsea.robust')}"
            )
        if self.cross_check is not None:
            lines.append(f"  {str(self.cross_check).splitlines()[0]}")
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  wrote {path}" for path in self.files.values()]
        return "\n".join(lines)


def _formats(formats: Sequence[str] | str) -> list[str]:
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    chosen = [str(f).lower() for f in formats]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise DataError(
            f"unknown output format(s) {', '.join(map(repr, unknown)) or '(none)'};"
            f" choose from {', '.join(FORMATS)}"
        )
    return list(dict.fromkeys(chosen))


def _check_engine(engine: str | None) -> None:
    if engine is None:
        return
    if engine not in _ENGINES:
        raise DataError(f"unknown cross-check engine {engine!r}; choose lavaan or semopy")
    if engine == "lavaan":
        from radsem.engines import lavaan_available

        if not lavaan_available():
            raise EngineUnavailableError(
                "--cross-check lavaan needs R with lavaan through rpy2, which is not usable here"
            )
    else:
        import importlib.util

        if importlib.util.find_spec("semopy") is None:
            raise EngineUnavailableError("--cross-check semopy needs the semopy package")


def _ordered(ordered: Sequence[str], data: pd.DataFrame, data_path) -> list[str]:
    """The ordered columns, checked to exist (their categories are the engine's business)."""
    missing = [name for name in ordered if name not in data.columns]
    if missing:
        raise DataError(
            f"ordered variable(s) {', '.join(map(repr, missing))} not columns of {data_path}"
        )
    return list(ordered)


def _merge_engine_options(
    named: dict[str, Any], engine_options: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fold ``engine_options`` into the named parameters of :func:`fit_files` (a parameter
    still at its default counts as not given); the rest is passed on as is."""
    named, extra = dict(named), {}
    for key, value in engine_options.items():
        if key in ("model", "data"):
            raise DataError(f"option {key!r}: the model and the data come from their files")
        if key not in named:
            if value is not None:  # None: lavaan's default, which is the engine's
                extra[key] = value
            continue
        default = inspect.signature(fit_files).parameters[key].default
        if key in ("group_equal", "ordered") and isinstance(value, str):
            value = [value]
        value = default if value is None else value
        given = named[key]
        if _differs(given, default) and _differs(given, value):
            raise DataError(
                f"option {key!r} is given twice, as {given!r} and as {value!r} in the engine "
                "options (--lavaan-args); give it once"
            )
        named[key] = value
    return named, extra


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) != list(b)
    return a != b


def _options(
    data,
    data_path,
    *,
    estimator,
    missing,
    group,
    group_equal,
    ordered,
    std_lv,
    se,
    fixed_x,
    bootstrap=None,
    seed=None,
) -> dict:
    options = {"missing": missing, "std_lv": bool(std_lv)}
    if estimator is not None:
        options["estimator"] = estimator
    if group is not None:
        if group not in data.columns:
            raise DataError(
                f"group column {group!r} is not a column of {data_path}; "
                f"columns: {', '.join(map(str, data.columns[:20]))}"
            )
        options["group"] = group
    if group_equal:
        if group is None:
            raise DataError("group_equal (--group-equal) needs a group column (--group)")
        options["group_equal"] = list(group_equal)
    if ordered:
        options["ordered"] = _ordered(ordered, data, data_path)
    if se is not None:
        options["se"] = se
    if fixed_x != "default":
        options["fixed_x"] = bool(fixed_x)
    if (bootstrap is not None or seed is not None) and se != "bootstrap":
        raise DataError("bootstrap replicates and seed (--bootstrap, --seed) need se='bootstrap'")
    if bootstrap is not None:
        options["bootstrap"] = int(bootstrap)
    if seed is not None:
        options["seed"] = int(seed)
    return options


_NOT_FOUND = "variable(s) not found in the data: "


def _locate_unknown(text: str, error: DataError, model_path, data_path) -> DataError:
    """The engine's unknown-variable error with the model file's line and column of the first
    unknown name (other data errors get the data file's name)."""
    from radsem.syntax import parse_model

    message = str(error)
    if not message.startswith(_NOT_FOUND):
        return DataError(f"{data_path}: {message}")
    names = message[len(_NOT_FOUND) :].split(".")[0].split(", ")
    for st in parse_model(text):
        places = [(n, st.line, st.column) for n in st.lhs]
        places += [(t.name, t.line, t.column) for t in st.rhs]
        for name, line, column in places:
            if name in names:
                return DataError(f"{model_path}:{line}:{column}: {message} (data: {data_path})")
    return DataError(f"{data_path}: {message}")


def _do_fit(kind, text, data, options, model_path, data_path):
    import radsem

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = getattr(radsem, kind)(text, data, **options)
        except ModelSyntaxError as exc:
            if isinstance(exc, ModelFileSyntaxError):
                raise
            raise ModelFileSyntaxError(model_path, exc) from None
        except DataError as exc:
            raise _locate_unknown(text, exc, model_path, data_path) from None
        except TypeError as exc:  # an option this installation's engine does not know
            if "ordered" in str(exc) and "ordered" in options:
                raise ModelSpecificationError(
                    "ordinal indicators (--ordered) are not supported by this installation's "
                    f"SEM engine: {exc}"
                ) from None
            raise
    return fit, [w for w in caught if not issubclass(w.category, DeprecationWarning)]


class _WithoutModindices:
    """A fit seen without modification indices (for fits whose engine cannot compute them),
    so that the report says they are unavailable instead of failing."""

    _hidden = ("modindices", "_problem", "_theta")

    def __init__(self, fit) -> None:
        self._fit = fit

    def __getattr__(self, name):
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._fit, name)


def _modindices(fit) -> tuple[pd.DataFrame, str | None]:
    """Modification indices sorted by size, or an empty table and the reason."""
    from radsem.errors import RadsemError

    empty = pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"])
    if not hasattr(fit, "modindices"):
        return empty, "this fit object has no modification indices"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report records the warnings of this step
        try:
            mi = fit.modindices()
        except RadsemError as exc:
            return empty, f"modification indices not available: {exc}"
    return mi.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True), None


def _cross_check_section(report, check, engine) -> None:
    from radsem.report import ResultTable, Text

    sec = report.add_section(f"Cross-check with {engine}")
    sec.add(Text(str(check).splitlines()[0], "p" if check.agree else "warning"))
    for note in getattr(check, "notes", []):
        sec.add(Text(note, "note"))
    sec.add(ResultTable(check.parameters, title=f"Estimates: radsem vs {engine}"))


def fit_files(
    model: str | os.PathLike,
    data: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    kind: str = "sem",
    estimator: str | None = None,
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    ordered: Sequence[str] = (),
    std_lv: bool = False,
    se: str | None = None,
    fixed_x: bool | str = "default",
    cross_check: str | None = None,
    formats: Sequence[str] | str = ("html", "csv", "json"),
    title: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
    command: str | None = None,
    sheet: str | int | None = None,
    bootstrap: int | None = None,
    seed: int | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> FitWorkflowResult:
    """Fit a model file to a data file and write the fit report and its tables.

    Parameters
    ----------
    model : path
        Model in lavaan syntax (UTF-8 text, e.g. ``models/hpv_mechanisms_cfa.lav``).
    data : path
        Data table: ``.csv``, ``.tsv``, ``.parquet`` or ``.xlsx`` (:func:`radsem.io.read_table`).
    out : path, optional
        Output folder; default ``<model folder>/<model name>-fit``. It may not be the folder
        of an input, and files of an earlier run are replaced only with ``overwrite``.
    kind : {"sem", "cfa", "growth"}
        Whose lavaan defaults apply (:func:`radsem.sem`, :func:`radsem.cfa`,
        :func:`radsem.growth`).
    estimator, missing, group, group_equal, std_lv, se, fixed_x
        As :func:`radsem.sem` (``estimator=None``: the engine's default, ML for continuous
        and WLSMV for ordered indicators; ``fixed_x="default"``: lavaan's default).
    ordered : sequence of str
        Ordinal indicators, passed to the engine (``ordered=`` of :func:`radsem.sem`).
    cross_check : {"lavaan", "semopy"}, optional
        Refit with another engine and compare (:func:`radsem.engines.cross_check`).
    formats : sequence of str or comma-separated str
        Any of ``html`` (self-contained report), ``md``, ``tex``, ``csv`` (parameter table,
        fit measures, modification indices) and ``json`` (all results and the provenance).
    title : str, optional
        Report title.
    overwrite : bool
        Replace the files of an earlier run in ``out``.
    progress : bool
        Progress bar on standard error.
    command : str, optional
        The command line recorded in the provenance.
    sheet : str or int, optional
        Sheet of an Excel data file (name or number; default the first).
    bootstrap, seed : int, optional
        With ``se="bootstrap"``: the number of replicates (default 1000) and the seed of the
        resampling (default: drawn once and recorded in the fit, as :func:`radsem.sem`).
    engine_options : mapping, optional
        Any further option of :func:`radsem.sem` in Python spelling (``test``, ``cluster``,
        ``information``, ``rotation_args`` ...), e.g. from
        :func:`radsem.syntax.parse_lavaan_arguments` of a pasted lavaan call. An option given
        here and as a parameter above with another value is an error; ``None`` means lavaan's
        default.

    Returns
    -------
    FitWorkflowResult

    Notes
    -----
    Everything is checked before the fit (files, formats, columns, the cross-check engine);
    the fit's warnings (non-convergence, improper solutions, listwise deletion) are recorded in
    the report and the JSON file. Every file is written atomically; inputs are only read.
    """
    from radsem._progress import progress_bar
    from radsem.io import read_table
    from radsem.report import Provenance, Text, sem_report
    from radsem.report.sem_report import fit_warnings

    model_path, data_path = Path(model), Path(data)
    if kind not in _KINDS:
        raise DataError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    chosen = _formats(formats)
    text = read_model_file(model_path)
    table = read_table(data_path, sheet=sheet)
    if table.empty:
        raise DataError(f"{data_path}: the table has no rows")
    named, extra = _merge_engine_options(
        {
            "estimator": estimator,
            "missing": missing,
            "group": group,
            "group_equal": group_equal,
            "ordered": ordered,
            "std_lv": std_lv,
            "se": se,
            "fixed_x": fixed_x,
            "bootstrap": bootstrap,
            "seed": seed,
        },
        engine_options or {},
    )
    options = {**_options(table, data_path, **named), **extra}
    _check_engine(cross_check)
    planned = [name for f in chosen for name in FORMATS[f]]
    if cross_check and "csv" in chosen:
        planned.append(f"cross_check_{cross_check}.csv")
    out = Path(out) if out is not None else model_path.parent / f"{model_path.stem}-fit"
    target = prepare_output(out, [model_path, data_path], planned, overwrite=overwrite)

    bar = progress_bar(total=3 + bool(cross_check), desc="radsem fit", enabled=progress)
    bar.set_postfix_str("fitting")
    from radsem._progress import engine_progress

    with engine_progress(progress):  # the SEM bootstrap of se="bootstrap" shows its own bar
        fit, caught = _do_fit(kind, text, table, options, model_path, data_path)
    bar.update()
    check = None
    if cross_check:
        bar.set_postfix_str(f"cross-check {cross_check}")
        with warnings.catch_warnings(record=True) as more:
            warnings.simplefilter("always")
            check = fit.cross_check(engine=cross_check)
        caught += list(more)
        bar.update()
    bar.set_postfix_str("report")
    name = model_path.stem
    mi, mi_note = _modindices(fit)
    provenance = Provenance(
        inputs=[model_path, data_path],
        options={"kind": kind, **options},
        command=command or f"radsem.workflows.fit_files({model_path.name}, {data_path.name})",
    )
    report = None
    if any(f in chosen for f in ("html", "md", "tex")):  # the diagram takes a few seconds
        shown = fit if mi_note is None else _WithoutModindices(fit)
        report = sem_report(
            {name: shown},
            data=table,
            title=title or f"SEM report: {name}",
            warnings={name: caught},
            provenance=provenance,
        )
        if check is not None:
            _cross_check_section(report, check, cross_check)
        if mi_note is not None:
            report.add_section("Notes", Text(mi_note, "note"))
    pe = fit.parameter_estimates()
    problems = fit_warnings(fit, pe, caught)
    improper = any(issubclass(w.category, ImproperSolutionWarning) for w in caught) or any(
        p.startswith("Improper solution") for p in problems
    )
    result = FitWorkflowResult(
        fit=fit,
        report=report,
        out=target,
        warnings=problems,
        cross_check=check,
        improper=improper,
        modindices=mi,
        notes=[mi_note] if mi_note else [],
    )
    bar.update()
    bar.set_postfix_str("writing")
    with output_folder(target, planned):
        _write(result, chosen, pe, provenance, model_path, data_path, cross_check)
    bar.update()
    bar.close()
    return result


def _write(result, chosen, pe, provenance, model_path, data_path, engine) -> None:
    from radsem.estimation.core.saved import fit_record

    out, report, fit = result.out, result.report, result.fit
    for fmt in ("html", "md", "tex"):
        if fmt in chosen:
            writers = {"html": report.to_html, "md": report.to_markdown, "tex": report.to_latex}
            path = out / FORMATS[fmt][0]
            writers[fmt](path)
            result.files[path.name] = path
    measures = pd.Series(fit.fit_measures(), dtype=float)
    if "csv" in chosen:
        tables = {
            "parameters.csv": pe,
            "fit_measures.csv": measures.rename_axis("measure").rename("value").reset_index(),
            "modindices.csv": result.modindices,
        }
        if result.cross_check is not None:
            tables[f"cross_check_{engine}.csv"] = result.cross_check.parameters
        for fname, frame in tables.items():
            result.files[fname] = write_csv(frame, out / fname)
    if "json" in chosen:
        payload = {
            "model": model_path.name,
            "data": data_path.name,
            "options": dict(getattr(fit, "options", {}) or {}),
            "converged": bool(getattr(fit, "converged", False)),
            "proper": not result.improper,
            "warnings": result.warnings,
            "notes": result.notes,
            "fit_measures": measures,
            "parameters": pe,
            "provenance": provenance.as_dict(),
            "fit": fit_record(fit),
        }  # radsem.load_fit reads this
        if result.cross_check is not None:
            payload["cross_check"] = {
                "engine": engine,
                "agree": result.cross_check.agree,
                "max_abs_diff": result.cross_check.max_abs_diff,
            }
        result.files["fit.json"] = write_json(payload, out / "fit.json")
