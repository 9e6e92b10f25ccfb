"""One cross-validation fold of the binary (event within a horizon) comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.compare._align import align_rows
from radsem.compare._guard import guarded_fit
from radsem.compare.binary import (
    binary_calibration_table,
    binary_decision_curve,
    binary_metrics,
    horizon_labels,
)
from radsem.compare.estimator import accepts_survival, fold_copy
from radsem.compare.folds import FoldResult, Split, metric_rows
from radsem.compare.logistic import as_binary_estimator
from radsem.compare.metrics import Outcome
from radsem.errors import DataError, RadsemError
from radsem.survival.target import structured_outcome


def positive_probability(model, X: pd.DataFrame) -> np.ndarray:
    """The predicted probability of class 1 of a fitted classifier, in the order of ``X``."""
    classes = list(getattr(model, "classes_", [0, 1]))
    if 1 not in classes:
        raise DataError(
            f"{type(model).__name__} was not fitted on both classes (classes_ {classes})"
        )
    proba = np.asarray(model.predict_proba(X), dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise DataError(
            f"predict_proba returned shape {proba.shape}, expected ({len(X)}, {len(classes)})"
        )
    return align_rows(proba[:, classes.index(1)], X, "predict_proba").to_numpy()


def run_fold_binary(data, models, time, event, split: Split, horizon, censoring) -> FoldResult:
    """Fit a clone of every classifier on the training rows, score the test rows."""
    train, test = data.iloc[split.train], data.iloc[split.test]
    y_tr, y_te = Outcome.from_frame(train, time, event), Outcome.from_frame(test, time, event)
    out = FoldResult()
    where = {"repeat": split.repeat, "fold": split.fold}
    try:
        lab_tr = horizon_labels(y_tr, horizon, censoring=censoring)
        lab_te = horizon_labels(y_te, horizon, train=y_tr, censoring=censoring)
    except RadsemError as exc:
        out.failures.append({**where, "model": "(all)", "error": f"{type(exc).__name__}: {exc}"})
        return out
    y, w = lab_te["label"].to_numpy(), lab_te["weight"].to_numpy()
    w_tr = lab_tr["weight"].to_numpy()
    # rows of weight 0 (censored before the horizon) carry label 0; they do not enter the fits
    label_tr = np.where(w_tr > 0, np.nan_to_num(lab_tr["label"].to_numpy()), 0).astype(int)
    survival_tr = structured_outcome(y_tr.time, y_tr.event)
    fit = {"y": label_tr, "sample_weight": w_tr, "survival": survival_tr}
    return _score(data, models, time, event, split, fit, y, w, out)


def run_fold_label(data, models, time, event, split: Split, labels) -> FoldResult:
    """A binary patient label (0/1 per row of ``data``) as the outcome: fit a clone of every
    classifier on the training rows, score the test rows (weights 1)."""
    labels = np.asarray(labels, dtype=int)
    y_tr, y = labels[split.train], labels[split.test]
    fit = {"y": y_tr, "sample_weight": np.ones(y_tr.size), "survival": None}
    return _score(data, models, time, event, split, fit, y, np.ones(y.size), FoldResult())


def _score(data, models, time, event, split, fit, y, w, out: FoldResult) -> FoldResult:
    """Fit a clone of every model on the training rows (``fit``: labels, weights, survival
    outcome), score the test rows (labels ``y``, weights ``w``)."""
    train, test = data.iloc[split.train], data.iloc[split.test]
    where = {"repeat": split.repeat, "fold": split.fold}
    for name, proto in models.items():
        model = fold_copy(as_binary_estimator(proto, time, event))

        def work(model=model):
            extra = {"survival": fit["survival"]} if accepts_survival(model) else {}
            model.fit(train, fit["y"], sample_weight=fit["sample_weight"], **extra)
            prob = positive_probability(model, test)
            return prob, binary_metrics(y, prob, w)

        res, problems = guarded_fit(work, {**where, "model": name})
        out.failures.extend(problems)
        if res is None:
            continue
        prob, values = res
        out.metrics.extend(metric_rows(split, name, values))
        out.predictions.append(
            pd.DataFrame(
                {**where, "model": name, "row": test.index, "risk": prob, "label": y, "weight": w}
            )
        )
        out.calibration.append(binary_calibration_table(y, prob, w).assign(**where, model=name))
        out.decision.append(binary_decision_curve(y, prob, w).assign(**where, model=name))
    return out
