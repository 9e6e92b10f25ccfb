"""Radiomics predicting a binary patient label (TP53, MMR, HPV clade A7 vs A9, ...).

The analogue of Li et al. (BMC Cancer 2025), who predicted MMR and TP53 status from PET, CT and
PET+CT radiomics: per feature group (T2 / DWI / ADC / all), nested cross-validation in which
every data-dependent step (standardisation, LASSO or mRMR feature selection, the LASSO
penalty chosen by an inner cross-validation) is fitted inside the outer training folds; a
logistic and a random-forest classifier; the cross-validated AUC with the corrected
resampled-t interval over the per-fold AUCs (the DeLong interval of the pooled out-of-fold AUC
alongside) and, on request, the permutation p-value and permutation-calibrated interval
(the whole nested cross-validation refitted on permuted labels), calibration (Brier, slope,
intercept), and the groups compared pairwise by DeLong's test for correlated AUCs (the same
patients).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple

import numpy as np
import pandas as pd

from radsem.compare.binary import binary_auc, binary_metrics, paired_auc
from radsem.compare.permutation import permutation_columns, permuted_labels
from radsem.errors import DataError

__all__ = ["LabelComparison", "compare_label", "binary_label", "mrmr_select", "lasso_select"]

_SELECTORS = ("lasso", "mrmr")
_CLASSIFIERS = ("logistic", "random_forest")
_C_GRID = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
_FOLD_COLUMNS = [
    "group",
    "selector",
    "classifier",
    "repeat",
    "fold",
    "auc",
    "var",
    "n_cases",
    "n_controls",
]


@dataclass
class LabelComparison:
    """Result of :func:`compare_label`.

    Attributes
    ----------
    summary : DataFrame
        One row per model (``group, selector, classifier``): ``auc`` (the pooled out-of-fold
        AUC of the probabilities averaged over repeats); ``auc_folds`` (the mean per-fold AUC)
        with ``se, ci_lower, ci_upper``, the corrected resampled-t interval over the per-fold
        AUCs (Nadeau and Bengio 2003; also under its older names ``ci_lower_folds,
        ci_upper_folds``), which is fast but too narrow when the label is unrelated to the
        features: it covers 0.5 for 88-95 % of permuted labels (less with repeats)
        (benchmarks/label_ci_coverage.py), because the folds of one data set share its chance
        association with the label; with ``n_permutations`` > 0, ``ci_lower_perm,
        ci_upper_perm, pvalue_perm`` (the permutation-calibrated interval of ``auc_folds`` and
        its permutation p-value, exact at 0.5: use these to claim that a label is
        predictable), ``auc_null`` (mean of the statistic over the permuted labels) and
        ``n_permutations`` (NaN / 0 without permutations); ``se_delong, ci_lower_delong,
        ci_upper_delong`` (DeLong's interval of the pooled AUC, which treats the pooled scores
        of the different fold models as one fixed classifier and covers 0.5 for only 70-89 %
        of permuted labels); ``brier, calibration_intercept, calibration_slope,
        n_features`` (median number selected over the outer folds), ``n_cases, n_controls``.
    paired : DataFrame
        DeLong tests of AUC differences between feature groups, for every selector and
        classifier: ``selector, classifier, group_a, group_b, auc_a, auc_b, diff, ci_lower,
        ci_upper, pvalue``.
    predictions : DataFrame
        Out-of-fold probabilities (index patient id, one column per model), averaged over
        repeats.
    selected : DataFrame
        How often each feature was selected (``group, selector, feature, share``).
    positive : object
        The label value coded 1.
    folds : DataFrame
        Per model and outer test fold: ``group, selector, classifier, repeat, fold, auc, var``
        (the fold AUC and its DeLong variance), ``n_cases, n_controls``.
    """

    summary: pd.DataFrame
    paired: pd.DataFrame
    predictions: pd.DataFrame
    selected: pd.DataFrame
    positive: object = None
    notes: list[str] = field(default_factory=list)
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        return (
            f"LabelComparison({len(self.summary)} models, {len(self.predictions)} patients, "
            f"positive class {self.positive!r})"
        )


def binary_label(label: pd.Series, positive: object | None = None) -> tuple[pd.Series, object]:
    """0/1 coding of a two-class label.

    Raises
    ------
    DataError
        Missing values (naming the patients), fewer or more than two classes, a ``positive``
        value that does not occur.
    """
    if not isinstance(label, pd.Series):
        raise DataError(
            f"the label must be a pandas Series indexed by patient, got {type(label).__name__}"
        )
    name = label.name if label.name is not None else "label"
    missing = label.index[label.isna()].tolist()
    if missing:
        raise DataError(
            f"label column {name!r} has {len(missing)} missing value(s) (patients "
            f"{[str(p) for p in missing[:5]]}); drop or impute them first"
        )
    classes = sorted(pd.unique(label).tolist(), key=str)
    if len(classes) != 2:
        raise DataError(
            f"label column {name!r} must have exactly two classes, found "
            f"{len(classes)}: {classes[:5]}"
        )
    if positive is None:
        positive = 1 if set(classes) == {0, 1} else classes[1]
    if positive not in classes:
        raise DataError(
            f"positive class {positive!r} does not occur in label {name!r} (classes {classes})"
        )
    return (label == positive).astype(int), positive


def mrmr_select(X: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Minimum-redundancy maximum-relevance selection (Ding and Peng 2005, difference form):
    greedily add the feature maximising ``|r(feature, y)| - mean |r(feature, chosen)|``
    (relevance and redundancy both as absolute Pearson correlations, so on one scale).
    Returns column indices in selection order."""
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    yz = (y - y.mean()) / max(float(y.std()), 1e-12)
    relevance = np.abs(Z.T @ yz) / len(Z)
    k = min(int(k), X.shape[1])
    chosen = [int(np.argmax(relevance))]
    red = np.zeros(X.shape[1])
    while len(chosen) < k:
        red += np.abs(Z.T @ Z[:, chosen[-1]]) / len(Z)
        score = relevance - red / len(chosen)
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return np.asarray(chosen)


def lasso_select(X: np.ndarray, y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """L1-penalised logistic regression, the penalty chosen by 3-fold inner cross-validation
    (log-loss); the features with non-zero coefficients, at most ``k`` (largest |coef|). Falls
    back to the single best univariate feature when the lasso keeps none."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    inner = StratifiedKFold(3, shuffle=True, random_state=seed)
    losses = np.zeros(len(_C_GRID))
    for tr, te in inner.split(X, y):
        for i, c in enumerate(_C_GRID):
            m = LogisticRegression(C=c, l1_ratio=1.0, solver="liblinear", random_state=seed).fit(
                X[tr], y[tr]
            )
            p = np.clip(m.predict_proba(X[te])[:, 1], 1e-9, 1 - 1e-9)
            losses[i] -= np.sum(y[te] * np.log(p) + (1 - y[te]) * np.log(1 - p))
    best = _C_GRID[int(np.argmin(losses))]
    coef = (
        LogisticRegression(C=best, l1_ratio=1.0, solver="liblinear", random_state=seed)
        .fit(X, y)
        .coef_[0]
    )
    nonzero = np.flatnonzero(coef)
    if nonzero.size == 0:
        return mrmr_select(X, y, 1)
    return nonzero[np.argsort(-np.abs(coef[nonzero]), kind="stable")][: int(k)]


def _classifier(name: str, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if name == "logistic":
        return LogisticRegression(C=1.0, max_iter=1000)
    return RandomForestClassifier(
        n_estimators=100, min_samples_leaf=3, max_features="sqrt", random_state=seed, n_jobs=1
    )


def _default_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for c in columns:
        prefix = str(c).split("_")[0].lower()
        if prefix in ("t2", "dwi", "adc"):
            groups.setdefault(prefix.upper(), []).append(c)
    if len(groups) < 1:
        groups = {}
    groups["all"] = list(columns)
    return groups


def _fold_ci(values: list[float], n_splits: int) -> dict[str, float]:
    """Mean per-fold AUC with the corrected resampled-t interval (Nadeau and Bengio 2003;
    Bouckaert and Frank 2004), clipped to [0, 1]: the interval :func:`compare_label` reports."""
    from radsem._cv_interval import corrected_ci

    ci = corrected_ci(values, test_fraction=1.0 / (n_splits - 1))
    lower, upper = max(ci["ci_lower"], 0.0), min(ci["ci_upper"], 1.0)
    return {
        "auc_folds": ci["mean"],
        "se": ci["se"],
        "ci_lower": lower,
        "ci_upper": upper,
        "ci_lower_folds": lower,
        "ci_upper_folds": upper,
    }


def _check_inputs(features, label, groups, selectors, classifiers, n_splits, positive):
    """Validated (X, y, positive, groups, notes) for :func:`compare_label`."""
    if not isinstance(features, pd.DataFrame):
        raise DataError("features must be a DataFrame indexed by patient")
    y_all, positive = binary_label(label, positive)
    common = features.index.intersection(y_all.index)
    if len(common) == 0:
        raise DataError("no patient in common between the features and the label")
    notes = []
    if len(common) < len(y_all):
        notes.append(f"{len(y_all) - len(common)} labelled patient(s) without features left out")
    X_all = features.loc[common]
    y = y_all.loc[common].to_numpy()
    bad = [c for c in X_all.columns if not pd.api.types.is_numeric_dtype(X_all[c])]
    if bad:
        raise DataError(f"non-numeric feature column(s) {bad[:5]}")
    if X_all.isna().any().any():
        raise DataError(
            f"features have missing values in column(s) "
            f"{X_all.columns[X_all.isna().any()].tolist()[:5]}"
        )
    for s in selectors:
        if s not in _SELECTORS:
            raise DataError(f"unknown selector {s!r}; choose from {list(_SELECTORS)}")
    for c in classifiers:
        if c not in _CLASSIFIERS:
            raise DataError(f"unknown classifier {c!r}; choose from {list(_CLASSIFIERS)}")
    if min(np.bincount(y, minlength=2)) < n_splits:
        raise DataError(
            f"each class needs at least n_splits={n_splits} patients; counts "
            f"{np.bincount(y, minlength=2).tolist()} (0/1, 1 = {positive!r})"
        )
    groups = dict(groups) if groups is not None else _default_groups(list(X_all.columns))
    for g, cols in groups.items():
        unknown = [c for c in cols if c not in X_all.columns]
        if unknown or not cols:
            raise DataError(f"feature group {g!r}: unknown or no columns {unknown[:5]}")
    return X_all, y, positive, groups, notes


def _paired(y, probs, groups, selectors, classifiers) -> pd.DataFrame:
    """DeLong tests between the feature groups for every selector and classifier."""
    paired = []
    for s in selectors:
        for c in classifiers:
            for ga, gb in combinations(list(groups), 2):
                t = paired_auc(y, probs[(ga, s, c)], probs[(gb, s, c)])
                paired.append(
                    {
                        "selector": s,
                        "classifier": c,
                        "group_a": ga,
                        "group_b": gb,
                        **{
                            k: t[k]
                            for k in ("auc_a", "auc_b", "diff", "ci_lower", "ci_upper", "pvalue")
                        },
                    }
                )
    paired_cols = [
        "selector",
        "classifier",
        "group_a",
        "group_b",
        "auc_a",
        "auc_b",
        "diff",
        "ci_lower",
        "ci_upper",
        "pvalue",
    ]
    return pd.DataFrame(paired, columns=paired_cols)


class _CVRun(NamedTuple):
    """One nested cross-validation: out-of-fold probabilities summed over repeats, the
    features chosen per (group, selector), the number selected and the AUC per fold and
    model, and the fold records."""

    probs: dict[tuple, np.ndarray]
    chosen: dict[tuple[str, str], list[str]]
    n_sel: dict[tuple, list[int]]
    fold_auc: dict[tuple, list[float]]
    fold_rows: list[dict]


def _nested_cv(
    y, arrays, selectors, classifiers, n_features, n_splits, n_repeats, seed, names=None
) -> _CVRun:
    """One run of the nested cross-validation of every model for the 0/1 label ``y``.

    ``arrays`` maps each feature group to its (patients x features) array; ``names`` (the
    column names per group) are only needed to record the selected features."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    models = [(g, s, c) for g in arrays for s in selectors for c in classifiers]
    probs = {m: np.zeros(len(y)) for m in models}
    chosen: dict[tuple[str, str], list[str]] = {}
    n_sel: dict[tuple, list[int]] = {m: [] for m in models}
    fold_auc: dict[tuple, list[float]] = {m: [] for m in models}
    fold_rows: list[dict] = []
    for rep in range(int(n_repeats)):
        outer = StratifiedKFold(n_splits, shuffle=True, random_state=seed + rep)
        for fold, (tr, te) in enumerate(outer.split(np.zeros(len(y)), y)):
            fold_seed = seed + 1000 * rep + fold
            for g, X in arrays.items():
                scaler = StandardScaler().fit(X[tr])
                Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
                keep = np.flatnonzero(np.nan_to_num(Xtr).std(axis=0) > 0)
                Xtr, Xte = np.nan_to_num(Xtr[:, keep]), np.nan_to_num(Xte[:, keep])
                for s in selectors:
                    idx = (
                        lasso_select(Xtr, y[tr], n_features, fold_seed)
                        if s == "lasso"
                        else mrmr_select(Xtr, y[tr], n_features)
                    )
                    if names is not None:
                        chosen.setdefault((g, s), []).extend(names[g][keep[i]] for i in idx)
                    for c in classifiers:
                        model = _classifier(c, fold_seed).fit(Xtr[:, idx], y[tr])
                        p_te = model.predict_proba(Xte[:, idx])[:, 1]
                        probs[(g, s, c)][te] += p_te
                        a_te = binary_auc(y[te], p_te)
                        fold_auc[(g, s, c)].append(float(a_te["auc"]))
                        fold_rows.append(
                            {
                                "group": g,
                                "selector": s,
                                "classifier": c,
                                "repeat": rep,
                                "fold": fold,
                                "auc": float(a_te["auc"]),
                                "var": float(a_te["se"]) ** 2,
                                "n_cases": int(a_te["n_cases"]),
                                "n_controls": int(a_te["n_controls"]),
                            }
                        )
                        n_sel[(g, s, c)].append(len(idx))
    return _CVRun(probs, chosen, n_sel, fold_auc, fold_rows)


def _null_statistics(y, spec, seed) -> dict[tuple, float]:
    """The mean per-fold AUC of every model for one permuted label ``y``."""
    run = _nested_cv(y, *spec, seed)
    return {m: float(np.mean(v)) for m, v in run.fold_auc.items()}


def _permutation_null(y, spec, seed, n_permutations, n_jobs) -> dict[tuple, np.ndarray]:
    """The mean per-fold AUC of every model on ``n_permutations`` permuted labels, each run
    through the same nested cross-validation (same folds seed, selection, classifiers)."""
    if n_permutations == 0:
        return {}
    labels = permuted_labels(y, n_permutations, seed)
    if n_jobs == 1:
        stats_ = [_null_statistics(yb, spec, seed) for yb in labels]
    else:
        from joblib import Parallel, delayed

        stats_ = Parallel(n_jobs=n_jobs)(delayed(_null_statistics)(yb, spec, seed) for yb in labels)
    return {m: np.array([s[m] for s in stats_]) for m in stats_[0]}


def compare_label(
    features: pd.DataFrame,
    label: pd.Series,
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    selectors: Sequence[str] = _SELECTORS,
    classifiers: Sequence[str] = _CLASSIFIERS,
    n_features: int = 10,
    n_splits: int = 5,
    n_repeats: int = 1,
    positive: object | None = None,
    seed: int = 0,
    n_permutations: int = 0,
    n_jobs: int = 1,
) -> LabelComparison:
    """Nested cross-validated prediction of a binary label from feature groups.

    Parameters
    ----------
    features : DataFrame
        Index patient id, numeric feature columns (e.g. the radiomic table of
        :func:`radsem.radiomics.extract_cohort`, columns ``t2_*``, ``dwi_*``, ``adc_*``).
    label : Series
        The binary label, indexed by patient id (e.g. TP53 status); two classes, no missing.
    groups : mapping of str to list of str, optional
        Feature groups to compare (default: by the prefixes T2 / DWI / ADC, plus ``all``).
    selectors : sequence of {"lasso", "mrmr"}
    classifiers : sequence of {"logistic", "random_forest"}
    n_features : int
        Features kept by the selection (at most).
    n_splits, n_repeats : int
        Outer stratified folds and repeats (probabilities averaged over repeats).
    positive : optional
        Label value coded 1 (default: 1 for 0/1 labels, else the second class sorted).
    seed : int
        Seed of the folds, the inner folds, the forests and the permutations.
    n_permutations : int
        Refit the whole nested cross-validation (same seed) on this many permuted copies of
        the label (the successive ``permutation`` draws of ``numpy.random.default_rng([seed,
        14])`` applied to the 0/1 label in the order of ``features``) and report the
        permutation p-value and the permutation-calibrated interval of the mean per-fold AUC
        (``pvalue_perm, ci_lower_perm, ci_upper_perm``; see
        :func:`radsem.compare.permutation_interval`). 0 (default) skips them (NaN); 39, 79,
        199 or 399 give an exact 95 % level (39 is the fewest with a 95 % interval). Costs
        ``n_permutations`` times the cross-validation (about 7 s of CPU per permutation for
        the defaults on 150 patients and 294 features).
    n_jobs : int
        Parallel workers (joblib) for the permutations; the result does not depend on it.

    Returns
    -------
    LabelComparison

    Raises
    ------
    DataError
        Missing or one-class label, fewer than ``n_splits`` patients of a class, no patients
        in common, non-numeric or missing features, unknown selector / classifier / group
        column.
    """
    X_all, y, positive, groups, notes = _check_inputs(
        features, label, groups, selectors, classifiers, n_splits, positive
    )
    if int(n_permutations) < 0:
        raise DataError(f"n_permutations must be >= 0, got {n_permutations}")
    common = X_all.index
    arrays = {g: X_all.loc[:, list(cols)].to_numpy(dtype=float) for g, cols in groups.items()}
    spec = (arrays, tuple(selectors), tuple(classifiers), n_features, n_splits, int(n_repeats))
    probs, chosen, n_sel, fold_auc, fold_rows = _nested_cv(y, *spec, seed, names=groups)
    models = list(probs)
    null = _permutation_null(y, spec, seed, int(n_permutations), n_jobs)
    folds = pd.DataFrame(fold_rows, columns=_FOLD_COLUMNS)
    rows = []
    for m in models:
        p = probs[m] / n_repeats
        auc = binary_auc(y, p)
        cal = binary_metrics(y, np.clip(p, 1e-6, 1 - 1e-6))
        rows.append(
            {
                "group": m[0],
                "selector": m[1],
                "classifier": m[2],
                "auc": auc["auc"],
                **_fold_ci(fold_auc[m], n_splits),
                **permutation_columns(float(np.mean(fold_auc[m])), null.get(m, ())),
                "se_delong": auc["se"],
                "ci_lower_delong": auc["ci_lower"],
                "ci_upper_delong": auc["ci_upper"],
                "brier": cal["brier"],
                "calibration_intercept": cal["calibration_intercept"],
                "calibration_slope": cal["calibration_slope"],
                "n_features": float(np.median(n_sel[m])),
                "n_cases": int(auc["n_cases"]),
                "n_controls": int(auc["n_controls"]),
            }
        )
    summary = pd.DataFrame(rows)
    paired = _paired(y, probs, groups, selectors, classifiers)
    predictions = pd.DataFrame({"/".join(m): probs[m] / n_repeats for m in models}, index=common)
    total = n_splits * n_repeats
    sel_rows = [
        {"group": g, "selector": s, "feature": f, "share": n / total}
        for (g, s), names in chosen.items()
        for f, n in pd.Series(names).value_counts().items()
    ]
    return LabelComparison(
        summary=summary,
        paired=paired,
        predictions=predictions,
        selected=pd.DataFrame(sel_rows, columns=["group", "selector", "feature", "share"]),
        positive=positive,
        notes=notes,
        folds=folds,
    )
