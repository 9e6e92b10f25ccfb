"""One cross-validation fold of the binary (event within a horizon) comparison."""

from __future__ import annotations

import copy

import pandas as pd

from radsem.compare._align import align_rows
from radsem.compare._guard import guarded_fit
from radsem.compare.binary import (
    binary_calibration_table,
    binary_decision_curve,
    binary_metrics,
    horizon_labels,
)
from radsem.compare.logistic import Logistic
from radsem.compare.metrics import Outcome
from radsem.errors import RadsemError


def as_binary_family(model):
    """A binary-outcome family as is, any survival family wrapped in :class:`Logistic`."""
    return model if hasattr(model, "predict_proba") else Logistic(model)


def run_fold_binary(data, models, time, event, rep, fold, tr, te, horizon, censoring):
    """Fit every family on the training rows, score the test rows; the harness's fold tuple."""
    train, test = data.iloc[tr], data.iloc[te]
    y_tr, y_te = Outcome.from_frame(train, time, event), Outcome.from_frame(test, time, event)
    rows, preds, calib, fails = [], [], [], []
    try:
        lab_tr = horizon_labels(y_tr, horizon, censoring=censoring)
        lab_te = horizon_labels(y_te, horizon, train=y_tr, censoring=censoring)
    except RadsemError as exc:
        fails.append(
            {"repeat": rep, "fold": fold, "model": "(all)", "error": f"{type(exc).__name__}: {exc}"}
        )
        return rows, preds, calib, fails
    y, w = lab_te["label"].to_numpy(), lab_te["weight"].to_numpy()
    for name, proto in models.items():
        model = copy.deepcopy(as_binary_family(proto))

        def work(model=model):
            model.fit(train, lab_tr["label"].to_numpy(), lab_tr["weight"].to_numpy(), time, event)
            prob = align_rows(model.predict_proba(test), test, "predict_proba")
            prob = prob.to_numpy(dtype=float)
            return prob, binary_metrics(y, prob, w)

        out, problems = guarded_fit(work, {"repeat": rep, "fold": fold, "model": name})
        fails += problems
        if out is None:
            continue
        prob, res = out
        rows += [
            {
                "repeat": rep,
                "fold": fold,
                "model": name,
                "metric": k,
                "value": v,
                "n_train": len(tr),
                "n_test": len(te),
            }
            for k, v in res.items()
        ]
        preds.append(
            pd.DataFrame(
                {
                    "repeat": rep,
                    "fold": fold,
                    "model": name,
                    "row": test.index,
                    "risk": prob,
                    "label": y,
                    "weight": w,
                }
            )
        )
        ct = binary_calibration_table(y, prob, w)
        calib.append(ct.assign(repeat=rep, fold=fold, model=name))
        dc = binary_decision_curve(y, prob, w)
        calib.append(dc.assign(repeat=rep, fold=fold, model=name, kind="decision"))
    return rows, preds, calib, fails
