"""Factor scores (lavaan's ``lavPredict``) for the fitted rows or for new data.

``method="regression"``: ``E(eta | y) = nu_eta + Cov(eta, y) Sigma^-1 (y - mu)``;
``"bartlett"``: ``(L' T^-1 L)^-1 L' T^-1 (y - mu) + nu_eta`` with ``L`` the direct loadings
and ``T`` the residual covariance of the observed variables. A case with missing values is
scored from its observed variables (``Sigma``, ``L`` and ``T`` restricted to them), as
lavaan's ``lavPredict()`` does under FIML; after listwise deletion incomplete new rows get
NaN scores (lavaan leaves them out). With new data (``lavPredict(newdata=)``) the
fitted parameters are used unchanged; without a mean structure ``mu`` is the sample mean of
the fitted data (the model has no intercepts of its own).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import DataError, EstimationError

__all__ = ["factor_scores", "check_method", "split_newdata"]

METHODS = ("regression", "bartlett")


def check_method(method) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise EstimationError(
            f"factor-score method must be 'regression' or 'bartlett', got {method!r}"
        )
    return method


def factor_scores(fit, g: int, y: np.ndarray, method: str) -> np.ndarray:
    """Scores of group ``g`` (0-based) for the rows of ``y`` (observed variables in the
    model's order, NaN for missing; incomplete rows of a listwise fit get NaN scores: lavaan
    drops them)."""
    problem = fit.problem
    model = problem.model
    p, nlat = len(fit.spec.observed), len(fit.spec.latent)
    _, omega, nu = model.implied_full(fit.theta, g)
    mu = nu[:p] if problem.meanstructure else problem.stats[g].mean
    nu_l = nu[p:] if problem.meanstructure else np.zeros(nlat)
    yc = y - mu
    a, s, _ = model.matrices(model.values(fit.theta), g)
    out = np.empty((yc.shape[0], nlat))
    if not yc.shape[0]:
        return out
    keys, which = np.unique(~np.isnan(yc), axis=0, return_inverse=True)
    listwise = fit.options.get("missing") != "ml"
    for k, o in enumerate(keys):
        rows = which.ravel() == k
        if listwise and not o.all():
            out[rows] = np.nan
            continue
        if not o.any():  # nothing observed: the mean (regression), unknown (Bartlett)
            out[rows] = nu_l if method == "regression" else np.nan
            continue
        if method == "regression":
            w = np.linalg.solve(omega[:p, :p][np.ix_(o, o)], omega[p:, :p][:, o].T).T
        elif o.all():
            lam, tinv = a[:p, p:], np.linalg.pinv(s[:p, :p])
            w = np.linalg.solve(lam.T @ tinv @ lam, lam.T @ tinv)
        else:  # lavaan: ginv(L' Sigma_oo^-1 L) L' Sigma_oo^-1, NaN for unseen factors
            lam, sinv = a[:p, p:][o], np.linalg.inv(omega[:p, :p][np.ix_(o, o)])
            w = np.linalg.pinv(lam.T @ sinv @ lam) @ lam.T @ sinv
            w[np.all(np.abs(w) < 1e-12, axis=1)] = np.nan
        out[rows] = yc[np.ix_(rows, o)] @ w.T + nu_l
    return out


def split_newdata(fit, newdata: pd.DataFrame) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Check ``newdata`` and split it by group: ``(group index, row positions, values)``.

    Raises
    ------
    DataError
        Not a DataFrame, observed variables or the group column absent, non-numeric
        columns, infinite values, unknown group labels.
    """
    from radsem.estimation.core.samplestats import _numeric_frame

    if not isinstance(newdata, pd.DataFrame):
        raise DataError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}")
    frame = _numeric_frame(newdata, list(fit.spec.observed))
    values = frame.to_numpy(float)
    if np.isinf(values).any():
        raise DataError("newdata contain infinite values")
    group = fit.options.get("group")
    if group is None:
        return [(0, np.arange(len(values)), values)]
    if group not in newdata.columns:
        raise DataError(f"newdata need the grouping variable {group!r} of the fitted model")
    col = newdata[group]
    labels = list(fit.spec.group_labels)
    unknown = [v for v in pd.unique(col) if v not in labels]
    if unknown:
        raise DataError(
            f"newdata have group value(s) {unknown} that the model was not fitted "
            f"to (groups {labels})"
        )
    out = []
    for g, lab in enumerate(labels):
        rows = (col == lab).to_numpy()
        if rows.any():
            out.append((g, np.flatnonzero(rows), values[rows]))
    return out


def used_positions(fit) -> list[np.ndarray]:
    """Row positions in ``fit.data`` of the cases each group's fit used, in the order of
    that group's sample statistics (listwise: complete rows; FIML: rows with at least one
    observed value and, with ``fixed_x``, every covariate observed)."""
    from radsem.estimation.core.samplestats import _numeric_frame

    data = fit.data
    observed = list(fit.spec.observed)
    values = _numeric_frame(data, observed).to_numpy(float)
    group = fit.options.get("group")
    if fit.options.get("missing") == "ml":
        ok = ~np.isnan(values).all(axis=1)
        if fit.spec.fixed_x and fit.spec.exogenous:
            exo = [observed.index(v) for v in fit.spec.exogenous]
            ok &= ~np.isnan(values[:, exo]).any(axis=1)
    else:
        ok = ~np.isnan(values).any(axis=1)
    out = []
    for g, st in enumerate(fit.problem.stats):
        in_group = (
            np.ones(len(data), bool)
            if group is None
            else (data[group] == fit.spec.group_labels[g]).to_numpy()
        )
        pos = np.flatnonzero(in_group & ok)
        if len(pos) != st.nobs:
            raise EstimationError(
                f"cannot tell which rows group {g + 1} used ({len(pos)} candidates for "
                f"{st.nobs} cases)"
            )
        out.append(pos)
    return out


def to_input_rows(
    fit, parts: list[tuple[int, np.ndarray, np.ndarray]], columns: list[str]
) -> pd.DataFrame:
    """Scores on the rows of ``fit.data``, under its index labels: ``parts`` holds
    ``(group index, row positions, scores)``; rows not scored are NaN (group 0 when a
    multi-group fit did not assign the row to a group)."""
    data = fit.data
    out = np.full((len(data), len(columns)), np.nan)
    for _, pos, scores in parts:
        out[pos] = scores
    frame = pd.DataFrame(out, columns=columns, index=data.index)
    group = fit.options.get("group")
    if len(fit.spec.group_labels) > 1 and group is not None:
        number = np.zeros(len(data), int)
        for g, lab in enumerate(fit.spec.group_labels):
            number[(data[group] == lab).to_numpy()] = g + 1
        frame.insert(0, "group", number)
    return frame
