"""The folds of a comparison (scikit-learn's splitter) and what one fold returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem.compare._align import align_rows
from radsem.compare._guard import guarded_fit
from radsem.compare.estimator import as_survival_estimator, fold_copy
from radsem.compare.metrics import Outcome, calibration_table, decision_curve, evaluate
from radsem.survival.target import structured_outcome

__all__ = ["Split", "FoldResult", "cv_splits", "run_survival_fold"]


@dataclass(frozen=True)
class Split:
    """One fold of one repeat: positions of the training and test rows."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class FoldResult:
    """Everything one fold produced, for every model.

    Attributes
    ----------
    metrics : list of dict
        One record per model and metric (``repeat, fold, model, metric, value, n_train,
        n_test``).
    predictions : list of DataFrame
        Out-of-fold predictions per model.
    calibration : list of DataFrame
        Calibration tables per model.
    decision : list of DataFrame
        Decision curves per model.
    failures : list of dict
        ``repeat, fold, model, error`` for failed fits and warnings raised inside fits.
    """

    metrics: list = field(default_factory=list)
    predictions: list = field(default_factory=list)
    calibration: list = field(default_factory=list)
    decision: list = field(default_factory=list)
    failures: list = field(default_factory=list)


def cv_splits(strata, n_splits: int, n_repeats: int, random_state: int | None) -> list[Split]:
    """Repeated stratified K-fold splits (scikit-learn's ``RepeatedStratifiedKFold``).

    The same seed gives the same folds, and every model of a comparison sees the same folds.
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    strata = np.asarray(strata)
    return [
        Split(i // n_splits, i % n_splits, tr, te)
        for i, (tr, te) in enumerate(cv.split(np.zeros(len(strata)), strata))
    ]


def metric_rows(split: Split, name: str, values: dict) -> list[dict]:
    """The tidy per-fold metric records of one model."""
    return [
        {
            "repeat": split.repeat,
            "fold": split.fold,
            "model": name,
            "metric": k,
            "value": v,
            "n_train": len(split.train),
            "n_test": len(split.test),
        }
        for k, v in values.items()
    ]


def run_survival_fold(data, models, time, event, split: Split, horizons, ibs_times) -> FoldResult:
    """Fit a clone of every model on the training rows, score the test rows."""
    train, test = data.iloc[split.train], data.iloc[split.test]
    y_tr, y_te = Outcome.from_frame(train, time, event), Outcome.from_frame(test, time, event)
    y_fit = structured_outcome(y_tr.time, y_tr.event)
    grid = sorted(set(horizons) | set(ibs_times))
    out = FoldResult()
    where = {"repeat": split.repeat, "fold": split.fold}
    for name, proto in models.items():
        model = fold_copy(as_survival_estimator(proto, time, event))

        def work(model=model):
            model.fit(train, y_fit)
            risk = align_rows(model.predict(test), test)
            surv = (
                align_rows(model.predict_survival(test, grid), test, "predict_survival")
                if hasattr(model, "predict_survival")
                else None
            )
            return risk, surv, evaluate(y_tr, y_te, risk.to_numpy(), surv, horizons, ibs_times)

        res, problems = guarded_fit(work, {**where, "model": name})
        out.failures.extend(problems)
        if res is None:
            continue
        risk, surv, values = res
        out.metrics.extend(metric_rows(split, name, values))
        out.predictions.append(
            pd.DataFrame({**where, "model": name, "row": test.index, "risk": risk.to_numpy()})
        )
        if surv is not None and horizons:
            h = horizons[0]
            ct = calibration_table(y_te, risk.to_numpy(), surv[h].to_numpy(), h)
            out.calibration.append(ct.assign(**where, model=name))
            dc = decision_curve(y_te, 1.0 - surv[h].to_numpy(), h)
            out.decision.append(dc.assign(**where, model=name))
    return out
