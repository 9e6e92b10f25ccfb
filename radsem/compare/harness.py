"""Cross-validated comparison of survival model families on one cohort and one outcome."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from radsem._cv_interval import corrected_ci
from radsem._warnings import user_stacklevel
from radsem.compare.folds import FoldResult, cv_splits, run_survival_fold
from radsem.compare.metrics import Outcome
from radsem.errors import (
    DataError,
    DataWarning,
    EstimationError,
    ModelSpecificationError,
    RadsemWarning,
)

__all__ = ["compare_models", "ComparisonResult", "corrected_ci"]


# metrics that live in [0, 1] (per-fold SEs and calibration slopes/ratios do not)
_BOUNDED = re.compile(r"^(harrell_c|uno_c|auc(@.*)?|ibs|brier)$")


@dataclass(frozen=True, eq=False, repr=False)
class ComparisonResult:
    """Results of :func:`compare_models`.

    Attributes
    ----------
    folds : DataFrame
        Tidy per-fold metrics: ``repeat, fold, model, metric, value, n_train, n_test``.
    predictions : DataFrame
        Out-of-fold risk predictions: ``repeat, fold, model, row, risk`` (``row`` is the
        index label of the patient in ``data``).
    calibration : DataFrame
        Per fold and model, observed (KM) vs mean predicted survival at the first horizon by
        risk group (:func:`radsem.compare.metrics.calibration_table`).
    decision : DataFrame
        Per fold and model, the decision curve at the first horizon
        (:func:`radsem.compare.metrics.decision_curve`); average over folds for a plot.
    failures : DataFrame
        ``repeat, fold, model, error`` for fits that failed (their metrics are NaN) and
        ``warnings`` raised inside fits.
    horizons, ibs_times : tuple of float
    test_fraction : float
        n_test / n_train, used by the corrected CIs.
    alpha : float
    outcome : {"survival", "binary", "label"}
        With ``"binary"``, ``horizons`` holds the single horizon, ``predictions`` the predicted
        probabilities (``risk``) with the test ``label`` and IPCW ``weight``, and
        ``calibration`` observed vs predicted event shares by risk tertile. ``"label"``: the
        same for a binary patient label (weights 1, no horizon).
    label : str or None
        The label column of an ``outcome="label"`` run.
    positive : object
        The label value coded 1 in such a run.
    permutation_null : DataFrame or None
        A label run with ``n_permutations``: per permuted copy of the label and model, the
        mean per-fold AUC of the whole cross-validation refitted on it (``permutation, model,
        auc``); None otherwise. :meth:`summary` turns it into the permutation p-value and
        interval of the AUC.
    """

    folds: pd.DataFrame
    predictions: pd.DataFrame
    calibration: pd.DataFrame
    decision: pd.DataFrame
    failures: pd.DataFrame
    horizons: tuple
    ibs_times: tuple
    test_fraction: float
    alpha: float = 0.05
    outcome: str = "survival"
    label: str | None = None
    positive: object = None
    permutation_null: pd.DataFrame | None = None

    def __repr__(self) -> str:
        n = self.folds.groupby(["repeat", "fold"]).ngroups if len(self.folds) else 0
        head = f"ComparisonResult({n} folds, {len(self.failures)} fit problems)"
        if not n:
            return head
        classified = self.outcome in ("binary", "label")
        key, label = ("auc", "AUC") if classified else ("harrell_c", "Harrell's C")
        c = self.summary().query("metric == @key")
        return (
            head
            + f"\n{label}:\n"
            + c[["model", "mean", "ci_lower", "ci_upper"]].to_string(index=False)
        )

    def summary(self) -> pd.DataFrame:
        """Per model and metric: ``mean, sd, se, ci_lower, ci_upper, n_folds`` over all folds.

        Intervals of metrics bounded by [0, 1] (C-indices, AUCs, Brier scores) are clipped
        to that range (the corrected t interval is symmetric and can cross a bound).

        A label run with ``n_permutations`` adds, on the ``auc`` rows (NaN on the others),
        ``auc_null`` (mean of the statistic over the permuted labels), ``pvalue_perm`` (two-sided
        Monte Carlo permutation p-value), ``ci_lower_perm, ci_upper_perm`` (the
        permutation-calibrated interval of the mean per-fold AUC) and ``n_permutations`` (the
        permutations with a finite statistic; 0 on the other rows):
        :func:`radsem.compare.permutation_interval` of ``mean`` and the model's
        ``permutation_null`` at level ``1 - alpha``.
        """
        rows = []
        for (model, metric), sub in self.folds.groupby(["model", "metric"], sort=False):
            s = corrected_ci(sub["value"], self.test_fraction, self.alpha)
            if _BOUNDED.match(str(metric)):
                s["ci_lower"], s["ci_upper"] = max(s["ci_lower"], 0.0), min(s["ci_upper"], 1.0)
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    **{k: s[k] for k in ("mean", "sd", "se", "ci_lower", "ci_upper", "n_folds")},
                }
            )
        table = pd.DataFrame(rows)
        if self.permutation_null is not None:
            table = _with_permutation_columns(table, self.permutation_null, self.alpha)
        return table

    def paired(self, metric: str = "harrell_c", reference: str | None = None) -> pd.DataFrame:
        """Paired per-fold differences ``model - reference`` with corrected CIs and p-values.

        Columns ``model, reference, metric, mean, sd, se, ci_lower, ci_upper, t, pvalue,
        n_folds``; every pair of models when ``reference`` is None.
        """
        sub = self.folds[self.folds["metric"] == metric]
        if sub.empty:
            raise DataError(
                f"no metric {metric!r}; available: {', '.join(self.folds['metric'].unique())}"
            )
        wide = sub.pivot_table(
            index=["repeat", "fold"], columns="model", values="value", dropna=False
        )
        models = list(dict.fromkeys(sub["model"]))
        if reference is not None and reference not in models:
            raise DataError(f"unknown reference model {reference!r}")
        pairs = (
            [(m, reference) for m in models if m != reference]
            if reference is not None
            else [(a, b) for i, a in enumerate(models) for b in models[i + 1 :]]
        )
        rows = []
        for a, b in pairs:
            s = corrected_ci(wide[a] - wide[b], self.test_fraction, self.alpha)
            rows.append({"model": a, "reference": b, "metric": metric, **s})
        columns = [
            "model",
            "reference",
            "metric",
            "mean",
            "sd",
            "se",
            "ci_lower",
            "ci_upper",
            "t",
            "pvalue",
            "n_folds",
        ]
        return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)

    def paired_auc(self, reference: str, repeat: int = 0) -> pd.DataFrame:
        """DeLong tests of the AUC difference ``model - reference`` (binary outcome only).

        Uses the out-of-fold predicted probabilities of one repeat (every patient predicted
        once, by the model of the fold that left it out) and the IPCW weights;
        :func:`radsem.compare.binary.paired_auc` per model. The folds' models differ slightly,
        so this pooled test complements the corrected per-fold ``paired("auc")``.
        """
        from radsem.compare.binary import paired_auc

        if self.outcome not in ("binary", "label"):
            raise DataError("paired_auc needs a comparison run with outcome='binary' or 'label'")
        pred = self.predictions[self.predictions["repeat"] == repeat]
        if pred.empty:
            raise DataError(f"no predictions for repeat {repeat}")
        wide = pred.pivot_table(index="row", columns="model", values="risk")
        meta = pred.drop_duplicates("row").set_index("row").loc[wide.index]
        if reference not in wide.columns:
            raise DataError(f"unknown reference model {reference!r}")
        rows = []
        for m in wide.columns:
            if m == reference:
                continue
            ok = wide[[m, reference]].notna().all(axis=1).to_numpy()
            d = paired_auc(
                meta["label"].to_numpy()[ok],
                wide[m].to_numpy()[ok],
                wide[reference].to_numpy()[ok],
                meta["weight"].to_numpy()[ok],
                alpha=self.alpha,
            )
            rows.append({"model": m, "reference": reference, **d.to_dict()})
        return pd.DataFrame(rows)


def _with_permutation_columns(table: pd.DataFrame, null: pd.DataFrame, alpha: float):
    """The summary with the permutation p-value and interval of every model's AUC."""
    from radsem.compare.permutation import PERMUTATION_COLUMNS, permutation_columns

    extra = {c: np.full(len(table), np.nan) for c in PERMUTATION_COLUMNS}
    extra["n_permutations"] = np.zeros(len(table), dtype=int)
    for i, row in enumerate(table.itertuples(index=False)):
        if row.metric != "auc":
            continue
        null_auc = null.loc[null["model"] == row.model, "auc"].to_numpy()
        for column, value in permutation_columns(row.mean, null_auc, alpha=alpha).items():
            extra[column][i] = value
    return table.assign(**extra)


def _default_grid(out: Outcome, horizons, ibs_times):
    ev = out.time[out.event]
    if ev.size == 0:
        raise DataError("the outcome has no events")
    if horizons is None:
        horizons = tuple(float(h) for h in np.quantile(ev, [0.25, 0.5, 0.75]))
    horizons = tuple(float(h) for h in np.atleast_1d(horizons))
    if any(h <= 0 for h in horizons):
        raise DataError("horizons must be positive")
    if ibs_times is None:
        ibs_times = tuple(float(t) for t in np.linspace(*np.quantile(ev, [0.1, 0.8]), 20))
    return horizons, tuple(float(t) for t in ibs_times)


def _fold_task(split, *, data, models, time, event, extra, kind):
    from radsem.compare._binary_fold import run_fold_binary, run_fold_label

    fold_fn = {"binary": run_fold_binary, "label": run_fold_label}.get(kind, run_survival_fold)
    return fold_fn(data, models, time, event, split, *extra)


def _permutation_fold_task(item, *, data, models):
    """One fold of the cross-validation refitted on a permuted label: ``(permutation, model,
    fold AUC)`` per model scored."""
    from radsem.compare._binary_fold import run_fold_label

    b, split, labels = item
    res = run_fold_label(data, models, None, None, split, labels)
    return [(b, r["model"], r["value"]) for r in res.metrics if r["metric"] == "auc"]


def _run_all(data, models, time, event, splits, extra, n_jobs, client, progress, kind):
    from radsem._dask import map_tasks

    shared = {
        "data": data,
        "models": models,
        "time": time,
        "event": event,
        "extra": extra,
        "kind": kind,
    }
    return map_tasks(
        _fold_task,
        splits,
        client=client,
        n_jobs=n_jobs,
        shared=shared,
        progress=progress,
        desc="folds",
    )


def _concat(frames: list) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compare_models(
    data: pd.DataFrame,
    models: Mapping[str, object],
    *,
    time: str | None = None,
    event: str | None = None,
    n_splits: int = 5,
    n_repeats: int = 5,
    horizons: Sequence[float] | None = None,
    ibs_times: Sequence[float] | None = None,
    random_state: int | None = 0,
    n_jobs: int = 1,
    client=None,
    progress: bool = False,
    alpha: float = 0.05,
    outcome: str = "survival",
    horizon: float | None = None,
    censoring: str = "ipcw",
    label: str | None = None,
    positive: object | None = None,
    n_permutations: int = 0,
) -> ComparisonResult:
    """Compare model families by repeated stratified K-fold cross-validation.

    Parameters
    ----------
    data : DataFrame
        One row per patient with the outcome columns and everything the models need; the
        (unique) index is passed on to the models, e.g. patient ids for a protocol table.
    models : dict of name -> model family
        Unfitted model families: scikit-survival estimators (:mod:`radsem.compare.models`,
        ``fit(X, y)`` with a structured ``y``, ``predict(X)``), scikit-learn classifiers for
        the binary outcomes, or older objects with ``fit(train, time, event)`` and
        ``predict_risk(test)`` (wrapped by :func:`radsem.compare.as_survival_estimator`); each
        fold fits a ``sklearn.clone`` on the training rows only.
    time, event : str
        Outcome columns (follow-up time, 0/1 event); not needed with ``outcome="label"``.
    n_splits, n_repeats : int
        K and the number of repetitions with new random splits, stratified on ``event``.
    horizons : sequence of float, optional
        Times for AUC(t) and observed/expected calibration (default: quartiles of the
        observed event times); the first is used for the calibration table.
    ibs_times : sequence of float, optional
        Grid of the integrated Brier score (default: 20 points from the 10th to the 80th
        percentile of event times).
    random_state : int, optional
        Seed of the splits (same seed, same numbers).
    n_jobs : int
        Folds run in parallel locally through joblib.
    client : dask.distributed.Client or str, optional
        Run the folds on this Dask cluster instead (a client, or a scheduler address; the data
        and model families are sent to each worker once; ``n_jobs`` is then ignored). Same
        seed, same numbers as a local run (:func:`radsem._dask.map_tasks`).
    progress : bool
        Show a progress bar over folds (stderr, on a terminal).
    alpha : float
        1 - confidence level of the intervals.
    outcome : {"survival", "binary", "label"}
        ``"binary"``: recurrence within ``horizon`` (event with time <= horizon) as a 0/1
        outcome; every family without ``predict_proba`` is wrapped in
        :class:`radsem.compare.Logistic` (logistic regression on its fold-fitted design), and
        the metrics are ``auc, auc_se, brier, calibration_intercept, calibration_slope, oe``
        (:func:`radsem.compare.binary.binary_metrics`) plus a decision curve.
        ``"label"``: a binary patient label in column ``label`` (e.g. TP53 status) instead of
        the survival outcome; every family without ``predict_proba`` is wrapped in
        :class:`~radsem.compare.Logistic` (its outcome-driven preprocessing sees the label),
        folds are stratified on the label, and the metrics are those of ``"binary"``
        (unweighted).
    horizon : float
        The horizon of the binary outcome (required with ``outcome="binary"``).
    censoring : {"ipcw", "exclude"}
        Binary outcome, patients censored before the horizon: ``"ipcw"`` (default) keeps them
        with weight 0 and weights cases and controls by the inverse probability of remaining
        uncensored (Kaplan-Meier of the censoring times in the training fold); ``"exclude"``
        drops them before splitting, with a :class:`~radsem.errors.DataWarning` saying how
        many (biased towards early events when censoring is common).
    label : str
        The label column (required with ``outcome="label"``): two classes, no missing values.
    positive : optional
        The label value coded 1 (default: 1 for a 0/1 label, else the second class sorted).
    n_permutations : int
        ``outcome="label"`` only: refit the whole cross-validation of every model on this many
        permuted copies of the label (the successive ``permutation`` draws of
        ``numpy.random.default_rng([random_state, 14])`` applied to the 0/1 label in the
        order of ``data``; each copy split by the same procedure and seed as the real run,
        i.e. stratified K-fold on the permuted label), and report per model the permutation
        p-value and the permutation-calibrated interval of the mean per-fold AUC in
        :meth:`ComparisonResult.summary` (``auc_null, pvalue_perm, ci_lower_perm,
        ci_upper_perm``; :func:`radsem.compare.permutation_interval`). 0 (default) skips them.
        With ``alpha=0.05``, 39, 79, 199 or 399 give an exact 95 % level (fewer than 39 give
        no interval, only the p-value). Costs ``n_permutations`` times the cross-validation;
        the permuted fits run through ``n_jobs`` / ``client`` like the folds (same numbers),
        without a progress bar.

    Returns
    -------
    ComparisonResult

    Raises
    ------
    DataError, EstimationError
        When no model could be scored in any fold (the message names the models and the first
        failure; DataError when that failure was one).

    Warns
    -----
    RadsemWarning
        When fits failed or warned inside folds (listed in ``result.failures``), naming any
        model that failed in every fold and therefore has no metrics.

    Notes
    -----
    All data-dependent steps live inside the model families' ``fit`` and therefore see only
    the training fold; the test fold is used only to evaluate. The metric choices, horizons
    and the Brier grid depend on the outcome only through fixed quantiles of event times and
    do not differ between models. Uncertainty: :func:`corrected_ci`.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame")
    if not models:
        raise ModelSpecificationError("models is empty: give at least one model family")
    for name, m in models.items():
        predicts = any(hasattr(m, a) for a in ("predict", "predict_risk", "predict_proba"))
        if not (hasattr(m, "fit") and predicts):
            raise ModelSpecificationError(f"model {name!r} has no fit/predict_risk methods")
    if int(n_splits) < 2 or int(n_repeats) < 1:
        raise DataError("n_splits must be >= 2 and n_repeats >= 1")
    n_permutations = _check_permutations(n_permutations, outcome)
    if outcome == "label":
        return _compare_label_outcome(
            data,
            models,
            label,
            positive,
            int(n_splits),
            int(n_repeats),
            random_state,
            n_jobs,
            client,
            progress,
            alpha,
            n_permutations,
        )
    if time is None or event is None:
        raise DataError(f"outcome={outcome!r} needs the time and event columns (time=, event=)")
    out = Outcome.from_frame(data, time, event)
    if not out.event.any():
        raise DataError("the outcome has no events: nothing to discriminate")
    if min(out.event.sum(), (~out.event).sum()) < n_splits:
        raise DataError(
            f"fewer than n_splits={n_splits} events or censored patients: cannot stratify the folds"
        )
    binary = outcome == "binary"
    if outcome not in ("survival", "binary"):
        raise DataError(
            f"outcome must be 'survival' or 'binary' (or 'label' for a patient label), "
            f"got {outcome!r}"
        )
    if binary:
        data, strata, horizons = _binary_setup(data, out, horizon, censoring, time, event, n_splits)
        out = Outcome.from_frame(data, time, event)
        ibs_times = ()
    else:
        horizons, ibs_times = _default_grid(out, horizons, ibs_times)
        strata = out.event
    _check_data(data, models)
    splits = cv_splits(strata, int(n_splits), int(n_repeats), random_state)
    extra = (horizons[0], censoring) if binary else (horizons, ibs_times)
    kind = "binary" if binary else "survival"
    results: list[FoldResult] = _run_all(
        data, models, time, event, splits, extra, n_jobs, client, progress, kind
    )
    return _collect(results, models, horizons, ibs_times, n_splits, alpha, outcome)


def _check_permutations(n_permutations, outcome: str) -> int:
    """``n_permutations`` as an int >= 0, and only for a label outcome."""
    if isinstance(n_permutations, bool | float) or not isinstance(n_permutations, int | np.integer):
        raise DataError(f"n_permutations must be a whole number >= 0, got {n_permutations!r}")
    if n_permutations < 0:
        raise DataError(f"n_permutations must be >= 0, got {n_permutations}")
    if n_permutations and outcome != "label":
        raise DataError(
            "n_permutations permutes a binary patient label: it needs outcome='label', "
            f"got outcome={outcome!r}"
        )
    return int(n_permutations)


def _check_data(data: pd.DataFrame, models: Mapping[str, object]) -> None:
    if not data.index.is_unique:
        raise DataError(
            "the data index must be unique (it identifies patients, e.g. for "
            "protocol tables); use reset_index() or set a patient id"
        )
    for m in models.values():  # families that can check their inputs up front (e.g. crops)
        if hasattr(m, "check_data"):
            m.check_data(data)


def _compare_label_outcome(
    data,
    models,
    label,
    positive,
    n_splits,
    n_repeats,
    random_state,
    n_jobs,
    client,
    progress,
    alpha,
    n_permutations=0,
) -> ComparisonResult:
    """``compare_models(..., outcome="label")``: a binary patient label as the outcome."""
    from radsem.compare.label import binary_label

    if label is None:
        raise DataError("outcome='label' needs the label column (label=)")
    if label not in data.columns:
        raise DataError(f"label column {label!r} is not in the data")
    y, positive = binary_label(data[label], positive)
    counts = np.bincount(y.to_numpy(), minlength=2)
    if counts.min() < n_splits:
        raise DataError(
            f"label column {label!r}: {int(counts[1])} patients of class {positive!r} and "
            f"{int(counts[0])} of the other; each class needs at least n_splits={n_splits}"
        )
    _check_data(data, models)
    splits = cv_splits(y.to_numpy(), n_splits, n_repeats, random_state)
    results = _run_all(
        data, models, None, None, splits, (y.to_numpy(),), n_jobs, client, progress, "label"
    )
    res = _collect(results, models, (), (), n_splits, alpha, "label")
    null = None
    if n_permutations:
        null = _label_permutation_null(
            data,
            models,
            y.to_numpy(),
            n_splits,
            n_repeats,
            random_state,
            n_permutations,
            n_jobs,
            client,
        )
    return replace(res, label=label, positive=positive, permutation_null=null)


def _label_permutation_null(
    data, models, y, n_splits, n_repeats, random_state, n_permutations, n_jobs, client
) -> pd.DataFrame:
    """The mean per-fold AUC of every model on each permuted label (``permutation, model,
    auc``; NaN where a model was scored in no fold of that permutation)."""
    from radsem._dask import map_tasks
    from radsem.compare.permutation import permuted_labels

    items = [
        (b, split, yb)
        for b, yb in enumerate(permuted_labels(y, n_permutations, random_state))
        for split in cv_splits(yb, n_splits, n_repeats, random_state)
    ]
    scores = map_tasks(
        _permutation_fold_task,
        items,
        client=client,
        n_jobs=n_jobs,
        shared={"data": data, "models": models},
        progress=False,
    )
    folds = pd.DataFrame(
        [x for task in scores for x in task], columns=["permutation", "model", "auc"]
    )
    grid = pd.MultiIndex.from_product(
        [range(n_permutations), list(models)], names=["permutation", "model"]
    )
    means = folds.groupby(["permutation", "model"], sort=False)["auc"].mean()
    return means.reindex(grid).reset_index()


def _collect(results, models, horizons, ibs_times, n_splits, alpha, outcome) -> ComparisonResult:
    """The fold results of a comparison as one :class:`ComparisonResult`."""
    rows = [x for res in results for x in res.metrics]
    fails = pd.DataFrame(
        [x for res in results for x in res.failures], columns=["repeat", "fold", "model", "error"]
    )
    _report_failures(fails, rows, list(models))
    return ComparisonResult(
        folds=pd.DataFrame(
            rows, columns=["repeat", "fold", "model", "metric", "value", "n_train", "n_test"]
        ),
        predictions=_concat([x for res in results for x in res.predictions]),
        calibration=_concat([x for res in results for x in res.calibration]),
        decision=_concat([x for res in results for x in res.decision]),
        failures=fails,
        horizons=horizons,
        ibs_times=ibs_times,
        test_fraction=1.0 / (n_splits - 1),
        alpha=alpha,
        outcome=outcome,
    )


def _report_failures(fails: pd.DataFrame, rows: list, names: list[str]) -> None:
    """Raise when no model was scored in any fold; warn about unscored models and fold problems."""
    if not len(fails):
        return
    scored = {r["model"] for r in rows}
    unscored = [n for n in names if n not in scored]
    errors = fails[~fails["error"].str.startswith("warning ")]
    first = errors.iloc[0] if len(errors) else fails.iloc[0]
    reason = f"first failure ({first['model']}, repeat {first['repeat']}, fold {first['fold']}): "
    reason += str(first["error"])
    if not scored:
        cls = DataError if str(first["error"]).startswith("DataError") else EstimationError
        raise cls(
            f"no model could be scored: {', '.join(map(repr, unscored))} failed in every "
            f"fold; {reason}"
        )
    head = (
        f"model(s) {', '.join(map(repr, unscored))} could not be scored (failed in every "
        "fold; see result.failures); "
        if unscored
        else ""
    )
    warnings.warn(
        f"{head}{len(fails)} fit problems across folds (see result.failures); {reason}",
        RadsemWarning,
        stacklevel=user_stacklevel(),
    )


def _binary_setup(data, out, horizon, censoring, time, event, n_splits):
    """Labels at the horizon: exclusion (with a warning) and the strata of the folds."""
    from radsem.compare.binary import horizon_labels

    if horizon is None:
        raise DataError(
            "outcome='binary' needs a horizon (e.g. horizon=24 for recurrence within 24 months)"
        )
    lab = horizon_labels(out, horizon, censoring=censoring)
    undetermined = ~lab["determined"].to_numpy()
    if censoring == "exclude" and undetermined.any():
        warnings.warn(
            f"{int(undetermined.sum())} of {len(data)} patients were censored before "
            f"the horizon {float(horizon):g} and are excluded from the binary "
            "outcome (censoring='exclude'; 'ipcw' keeps them through weights)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
        data = data.loc[~undetermined]
        lab = lab.loc[~undetermined]
    # strata: case / control / censored before the horizon
    strata = lab["label"].fillna(2).to_numpy()
    counts = np.bincount(strata.astype(int), minlength=2)
    if min(counts[0], counts[1]) < n_splits:
        raise DataError(
            f"{int(counts[1])} cases and {int(counts[0])} controls at the horizon "
            f"{float(horizon):g}: fewer than n_splits={n_splits} of either"
        )
    if len(counts) > 2 and 0 < counts[2] < n_splits:
        strata = np.where(strata == 2, 0, strata)  # too few to stratify on: join the controls
    return data, strata, (float(horizon),)
