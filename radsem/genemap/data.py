"""Joining and checking the expression, image-feature and label tables of a gene map."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError, DataWarning

__all__ = ["GenemapData", "join_tables", "MIN_PATIENTS"]

#: Fewest patients with expression and image features a gene map is fitted on (5-fold
#: cross-validation with an inner early-stopping split needs a few patients per fold).
MIN_PATIENTS = 30


@dataclass
class GenemapData:
    """The joined, checked inputs of a gene map.

    Attributes
    ----------
    genes : DataFrame
        Expression, one row per patient (index ``patient_id``), one column per gene; may hold
        scattered missing values (imputed inside each training fold).
    targets : DataFrame
        The image features to predict, plus one 0/1 column ``label:CLASS`` per class of the
        categorical label when one was given; same index as ``genes``.
    label_targets : list of str
        Which columns of ``targets`` are label indicators (scored by AUC).
    dropped : dict
        Counts of what was left out: ``expression_only``, ``features_only``, ``constant_genes``,
        ``constant_features``, ``missing_label``.
    """

    genes: pd.DataFrame
    targets: pd.DataFrame
    label_targets: list
    dropped: dict


def _by_patient(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if "patient_id" in frame.columns:
        frame = frame.set_index("patient_id")
    elif frame.index.name != "patient_id":
        raise DataError(f"{name}: no 'patient_id' column (found: {list(frame.columns)[:8]})")
    ids = pd.Index(frame.index.astype(str).str.strip(), name="patient_id")
    if frame.index.isna().any() or (ids == "").any():
        pos = int(np.flatnonzero(frame.index.isna() | (ids == ""))[0])
        raise DataError(f"{name}, row {pos + 2}, column 'patient_id': missing patient id")
    dup = ids.duplicated()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"{name}, row {pos + 2}: duplicated patient_id {ids[pos]!r} "
            f"({int(dup.sum())} duplicate row(s) in all)"
        )
    cols = pd.Index(frame.columns.astype(str))
    if cols.duplicated().any():
        raise DataError(f"{name}: duplicated column(s) {sorted(set(cols[cols.duplicated()]))}")
    frame = frame.copy()
    frame.index = ids
    frame.columns = cols
    return frame


def _numeric(frame: pd.DataFrame, name: str, what: str) -> pd.DataFrame:
    out = {}
    for col in frame.columns:
        raw = frame[col]
        if raw.dtype == bool:
            raw = raw.astype(float)
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna()
        if bad.any():
            pid = frame.index[int(np.flatnonzero(bad.to_numpy())[0])]
            raise DataError(
                f"{name}, column {col!r}, patient_id {pid!r}: {raw[pid]!r} is not a "
                f"number ({int(bad.sum())} non-numeric value(s); {what} must be "
                "numeric)"
            )
        values = values.astype(float)
        if np.isinf(values.to_numpy()).any():
            pid = frame.index[int(np.flatnonzero(np.isinf(values.to_numpy()))[0])]
            raise DataError(f"{name}, column {col!r}, patient_id {pid!r}: infinite value")
        out[col] = values
    return pd.DataFrame(out, index=frame.index)


def _drop_constant(frame: pd.DataFrame, name: str, what: str) -> tuple[pd.DataFrame, int]:
    sd = frame.std(axis=0, skipna=True, ddof=0).fillna(0.0)
    constant = sd.index[(sd <= 1e-12 * (1 + frame.abs().max().fillna(0))).to_numpy()]
    if len(constant):
        warnings.warn(
            f"{name}: {len(constant)} constant {what} column(s) dropped (no variation "
            f"among the joined patients): {', '.join(map(str, constant[:10]))}"
            + (" ..." if len(constant) > 10 else ""),
            DataWarning,
            stacklevel=3,
        )
    return frame.drop(columns=constant), len(constant)


def _check_missing(genes: pd.DataFrame, feats: pd.DataFrame, ename: str, fname: str) -> None:
    """Missing image features are errors; scattered missing expression is imputed later."""
    missing = feats.isna()
    if missing.any().any():
        col = feats.columns[missing.any().to_numpy()][0]
        pid = feats.index[missing[col].to_numpy()][0]
        raise DataError(
            f"{fname}, column {col!r}: missing value for patient_id {pid!r} "
            f"({int(missing[col].sum())} patient(s) in all, "
            f"{int(missing.any().sum())} feature(s) with missing values); drop the "
            "feature or the patients, or impute them first"
        )
    all_missing = genes.isna().all(axis=1)
    if all_missing.any():
        raise DataError(
            f"{ename}: patient_id {genes.index[all_missing.to_numpy()][0]!r} has no "
            f"expression value at all ({int(all_missing.sum())} patient(s)); remove "
            "them"
        )
    empty = genes.columns[genes.isna().all().to_numpy()]
    if len(empty):
        raise DataError(
            f"{ename}, column {empty[0]!r}: no observed values among the joined "
            "patients; drop the gene"
        )
    n_missing = int(genes.isna().sum().sum())
    if n_missing:
        warnings.warn(
            f"{ename}: {n_missing} missing expression value(s) are set to the gene's "
            "mean in each training fold",
            DataWarning,
            stacklevel=2,
        )


def _add_label(feats, label_col, common, label, lname, fname):
    """The features plus one 0/1 column per label class (one column for two classes)."""
    if label_col is None:
        return feats, []
    values = label_col.loc[common].astype(str)
    classes = sorted(values.unique())
    if len(classes) < 2:
        raise DataError(
            f"{lname}, column {label!r}: one class only ({classes[0]!r}) among "
            "the joined patients; AUC needs two"
        )
    small = [c for c in classes if (values == c).sum() < 5]
    if small:
        raise DataError(
            f"{lname}, column {label!r}: class(es) {small} have fewer than 5 "
            "patients; merge them with another class"
        )
    if len(classes) == 2:
        classes = classes[1:]
    cols = {f"{label}:{c}": (values == c).astype(float) for c in classes}
    clash = [c for c in cols if c in feats.columns]
    if clash:
        raise DataError(f"{fname}: column {clash[0]!r} clashes with a label target name")
    targets = pd.concat([feats, pd.DataFrame(cols, index=feats.index)], axis=1)
    label_targets = list(cols)
    return targets, label_targets


def join_tables(
    expression: pd.DataFrame,
    features: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    label: str | None = None,
    *,
    names: tuple[str, str, str] = ("expression", "features", "labels"),
    min_patients: int = MIN_PATIENTS,
) -> GenemapData:
    """Join expression, image features and (optionally) a categorical label on ``patient_id``.

    Parameters
    ----------
    expression : DataFrame
        ``patient_id`` (column or index) and one numeric column per gene.
    features : DataFrame
        ``patient_id`` and one numeric column per image feature (``radsem extract`` output
        works as it is).
    labels : DataFrame, optional
        ``patient_id`` and the column ``label``.
    label : str, optional
        Categorical column of ``labels`` (histology, HPV clade); each class becomes a 0/1
        target scored by AUC.
    names : tuple of str
        How the three tables are named in messages (file names from the command line).
    min_patients : int
        Fewest patients in common (default :data:`MIN_PATIENTS`).

    Returns
    -------
    GenemapData

    Raises
    ------
    DataError
        Missing or duplicated patient ids or columns, non-numeric values, an image feature with
        missing values, fewer than ``min_patients`` patients in all tables, nothing left to fit.

    Warns
    -----
    DataWarning
        Patients in only some tables, constant columns (dropped), scattered missing expression
        values (imputed by the training mean), patients without a label (dropped).
    """
    ename, fname, lname = names
    genes = _numeric(_by_patient(expression, ename), ename, "gene expression values")
    feats = _numeric(_by_patient(features, fname), fname, "image features")
    if genes.shape[1] == 0:
        raise DataError(f"{ename}: no gene columns besides patient_id")
    if feats.shape[1] == 0:
        raise DataError(f"{fname}: no feature columns besides patient_id")
    clash = genes.columns.intersection(feats.columns)
    if len(clash):
        raise DataError(
            f"{ename} and {fname} share column name(s) {list(clash[:5])}; rename the features"
        )
    common = genes.index.intersection(feats.index, sort=False)
    dropped = {
        "expression_only": int(len(genes.index.difference(common))),
        "features_only": int(len(feats.index.difference(common))),
        "missing_label": 0,
    }
    label_col = None
    if labels is not None or label is not None:
        if labels is None or label is None:
            raise DataError("give both the labels table and the label column, or neither")
        lab = _by_patient(labels, lname)
        if label not in lab.columns:
            raise DataError(f"{lname}: no column {label!r} (found: {list(lab.columns)[:8]})")
        label_col = lab[label]
        known = label_col.dropna().index
        before = len(common)
        common = common.intersection(known, sort=False)
        dropped["missing_label"] = before - len(common)
    n_expr, n_feat = len(genes), len(feats)
    if len(common) < min_patients:
        extra = f", {lname} with a known {label!r}" if label_col is not None else ""
        raise DataError(
            f"only {len(common)} patient(s) have both expression ({n_expr} patients in {ename}) "
            f"and image features ({n_feat} in {fname}){extra}; a gene map needs >= "
            f"{min_patients}. Check that the patient_id values match between the tables."
        )
    lost = {k: v for k, v in dropped.items() if v}
    if lost:
        warnings.warn(
            f"{len(common)} patients in common; left out: "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in lost.items()),
            DataWarning,
            stacklevel=2,
        )
    genes = genes.loc[common]
    feats = feats.loc[common]
    _check_missing(genes, feats, ename, fname)
    genes, dropped["constant_genes"] = _drop_constant(genes, ename, "gene")
    feats, dropped["constant_features"] = _drop_constant(feats, fname, "feature")
    if genes.shape[1] == 0:
        raise DataError(f"{ename}: every gene is constant among the joined patients")
    if feats.shape[1] == 0:
        raise DataError(f"{fname}: every feature is constant among the joined patients")
    targets, label_targets = _add_label(feats, label_col, common, label, lname, fname)
    return GenemapData(genes=genes, targets=targets, label_targets=label_targets, dropped=dropped)
