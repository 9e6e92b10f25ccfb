"""What predicted masks change downstream: Cox hazard ratios and C-index of radiomic terms, and
the standardized solution of a radiogenomic SEM, refitted on features from the reference and
from the predicted masks of the same patients, side by side with the difference.

The imaging indicators are those of ``models/hpv_mechanisms_recurrence.lav`` (the demo's
mechanism model with an imaging phenotype), prepared as that model file says: the T2 volume as
its natural log, then each column z-scored over the patients fitted (sample SD), separately for
each mask source, as a user fitting either table would.

The radiomic score is the first principal component of the prepared indicators, its loadings
taken from the reference-mask table and applied to both, so the score is the same function of
the features on both sides and only the masks differ.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsem.errors import DataError, RadsemError

__all__ = [
    "IMAGING_FEATURES",
    "DOWNSTREAM_SEM",
    "DownstreamChange",
    "prepare_imaging",
    "downstream_change",
]

#: The four radiomic indicators of the imaging phenotype (``hpv_mechanisms_recurrence.lav``).
IMAGING_FEATURES = (
    "t2_original_shape_MeshVolume",
    "t2_original_shape_Sphericity",
    "t2_original_firstorder_Entropy",
    "adc_original_firstorder_Mean",
)

#: The demo's mechanism model with the imaging phenotype of ``hpv_mechanisms_recurrence.lav``
#: (its structural part without the survival outcome).
DOWNSTREAM_SEM = """
E6 =~ CDKN1A + MDM2 + BAX + TP53I3 + RRM2B
E7 =~ CDKN2A + MKI67 + MCM2 + TOP2A + CDC20
immune =~ STAT1 + IRF1 + CXCL9 + CXCL10 + CD8A
hypoxia =~ CA9 + VEGFA + SLC2A1 + NDRG1 + ADM
imaging =~ t2_original_shape_MeshVolume + t2_original_shape_Sphericity +
    t2_original_firstorder_Entropy + adc_original_firstorder_Mean
E7 ~ advanced
hypoxia ~ advanced
imaging ~ E7 + hypoxia + advanced
"""

_COX_COLUMNS = [
    "term",
    "n",
    "events",
    "hr_reference",
    "ci_lower_reference",
    "ci_upper_reference",
    "p_reference",
    "hr_predicted",
    "ci_lower_predicted",
    "ci_upper_predicted",
    "p_predicted",
    "log_hr_diff",
    "cindex_reference",
    "cindex_predicted",
    "cindex_diff",
]
_SEM_COLUMNS = ["lhs", "op", "rhs", "std_reference", "std_predicted", "diff"]


@dataclass
class DownstreamChange:
    """Downstream results with reference vs predicted masks.

    Attributes
    ----------
    cox : DataFrame
        One row per term (``radiomic score`` and each imaging feature, each its own
        univariable Cox model, per SD): ``n, events``, hazard ratio with 95 % CI and p for each
        mask source, ``log_hr_diff`` (predicted - reference), Harrell's C-index of each and
        their difference.
    sem : DataFrame or None
        Standardized solution (``std.all``) of the SEM fitted to each table: ``lhs, op, rhs,
        std_reference, std_predicted, diff`` (predicted - reference); None without SEM data.
    fit_measures : DataFrame or None
        ``cfi, tli, rmsea, srmr`` of both fits (columns ``reference, predicted, diff``).
    score_loadings : Series
        Loadings of the radiomic score (first principal component of the reference table).
    patients : list of str
        Patients in every comparison (features from both masks, and the outcome).
    warnings : list of str
        Warnings of the SEM fits, prefixed by the mask source (e.g. an improper solution).
    """

    cox: pd.DataFrame
    sem: pd.DataFrame | None
    fit_measures: pd.DataFrame | None
    score_loadings: pd.Series
    patients: list
    warnings: list


def prepare_imaging(
    features: pd.DataFrame, columns: tuple[str, ...] = IMAGING_FEATURES
) -> pd.DataFrame:
    """The imaging indicators as the SEM uses them: log T2 volume, then z-scores (ddof 1).

    Raises
    ------
    DataError
        A column missing, or a volume that is not positive.
    """
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise DataError(
            f"the feature table lacks {missing}; extract them (shape MeshVolume and Sphericity, "
            "first-order Entropy on T2, first-order Mean on ADC)"
        )
    out = features.loc[:, list(columns)].astype(float).copy()
    volume = "t2_original_shape_MeshVolume"
    if volume in out.columns:
        bad = out.index[~(out[volume] > 0)].tolist()
        if bad:
            raise DataError(f"{volume} is not positive for patient(s) {bad[:5]}")
        out[volume] = np.log(out[volume])
    sd = out.std(ddof=1)
    flat = sd.index[~(sd > 0)].tolist()
    if flat:
        raise DataError(f"feature(s) {flat} are constant over the patients: no z-score")
    return (out - out.mean()) / sd


def _score_loadings(reference: pd.DataFrame) -> pd.Series:
    """First principal component of the z-scored reference table, sign fixed so that the
    volume loads positively (a larger tumour scores higher)."""
    values, vectors = np.linalg.eigh(np.corrcoef(reference.to_numpy(), rowvar=False))
    first = vectors[:, np.argmax(values)]
    if first[0] < 0:
        first = -first
    return pd.Series(first, index=reference.columns, name="loading")


def _cox_term(data: pd.DataFrame, column: str, time: str, event: str) -> dict:
    from radsem.survival import cox

    x = data[[time, event]].assign(x=(data[column] - data[column].mean()) / data[column].std())
    result = cox(x, time=time, event=event, covariates=["x"])
    hr = result.hazard_ratios().loc["x"]
    return {
        "hr": float(hr["hr"]),
        "ci_lower": float(hr["ci_lower"]),
        "ci_upper": float(hr["ci_upper"]),
        "p": float(result.summary.loc["x", "p"]),
        "cindex": float(result.concordance.concordance),
        "n": int(result.n),
        "events": int(result.n_events),
    }


def _sem_fit(model: str, data: pd.DataFrame, missing: str) -> tuple:
    """The fit and the text of the warnings it raised (recorded, not raised again)."""
    import radsem

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = radsem.sem(model, data.reset_index(drop=True), missing=missing)
    return fit, [f"{w.category.__name__}: {w.message}" for w in caught]


def downstream_change(
    reference: pd.DataFrame,
    predicted: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    time: str = "time",
    event: str = "event",
    sem_data: pd.DataFrame | None = None,
    sem_model: str = DOWNSTREAM_SEM,
    missing: str = "ml",
    columns: tuple[str, ...] = IMAGING_FEATURES,
) -> DownstreamChange:
    """Refit the downstream Cox models and SEM on reference- and predicted-mask features.

    Parameters
    ----------
    reference, predicted : DataFrame
        Radiomic features (index ``patient_id``) extracted with the reference and with the
        predicted masks (:func:`radsem.radiomics.extract_cohort`); the patients in both are
        compared.
    outcome : DataFrame
        Index ``patient_id`` with the ``time`` and ``event`` columns.
    time, event : str
        Outcome columns (months; 1 = event).
    sem_data : DataFrame, optional
        Index ``patient_id``: the SEM's other columns (expression with lavaan names and
        ``advanced``, as :func:`radsem.demo.sem_table`); without it no SEM is fitted.
    sem_model : str
        lavaan syntax whose imaging indicators are ``columns`` (default
        :data:`DOWNSTREAM_SEM`).
    missing : str
        ``missing=`` of :func:`radsem.sem` (default full-information ML: patients without
        expression keep their imaging).
    columns : tuple of str
        The imaging features (default :data:`IMAGING_FEATURES`).

    Returns
    -------
    DownstreamChange

    Raises
    ------
    DataError
        Fewer than 10 patients in common, no event, or a feature missing.
    """
    for col in (time, event):
        if col not in outcome.columns:
            raise DataError(f"the outcome table has no column {col!r}")
    common = reference.index.intersection(predicted.index).intersection(outcome.index)
    common = common[outcome.loc[common, [time, event]].notna().all(axis=1)]
    if len(common) < 10:
        raise DataError(
            f"downstream comparison needs at least 10 patients with features from both masks "
            f"and an outcome, got {len(common)}"
        )
    if outcome.loc[common, event].sum() < 1:
        raise DataError("no event among the compared patients: no Cox model")
    tables = {
        "reference": prepare_imaging(reference.loc[common], columns),
        "predicted": prepare_imaging(predicted.loc[common], columns),
    }
    loadings = _score_loadings(tables["reference"])
    rows = []
    for term in ("radiomic score", *columns):
        row: dict = {"term": term}
        for source, table in tables.items():
            data = outcome.loc[common, [time, event]].copy()
            data[term] = table @ loadings if term == "radiomic score" else table[term]
            fit = _cox_term(data, term, time, event)
            row.update(n=fit["n"], events=fit["events"])
            for key in ("hr", "ci_lower", "ci_upper", "p", "cindex"):
                row[f"{key}_{source}"] = fit[key]
        row["log_hr_diff"] = np.log(row["hr_predicted"]) - np.log(row["hr_reference"])
        row["cindex_diff"] = row["cindex_predicted"] - row["cindex_reference"]
        rows.append(row)
    cox_table = pd.DataFrame(rows).loc[:, _COX_COLUMNS]
    sem_table = measures = None
    notes: list[str] = []
    solutions, fits = {}, {}
    if sem_data is not None:
        clash = [c for c in columns if c in sem_data.columns]
        if clash:
            raise DataError(f"sem_data already has the imaging column(s) {clash}")
        for source, table in tables.items():
            data = sem_data.reindex(common).join(table)
            try:
                fits[source], caught = _sem_fit(sem_model, data, missing)
            except RadsemError as exc:  # recorded: the Cox comparison stands on its own
                notes.append(f"SEM, {source} masks: not fitted ({exc})")
                break
            notes += [f"SEM, {source} masks: {text}" for text in caught]
            solutions[source] = fits[source].standardized_solution().set_index(["lhs", "op", "rhs"])
    if len(solutions) == 2:
        ref = solutions["reference"]["est_std"]
        pred = solutions["predicted"]["est_std"].reindex(ref.index)
        sem_table = pd.DataFrame(
            {"std_reference": ref, "std_predicted": pred, "diff": pred - ref}
        ).reset_index()
        sem_table = sem_table[sem_table["op"].isin(["=~", "~"])].reset_index(drop=True)
        names = ["cfi", "tli", "rmsea", "srmr"]
        ref_m = pd.Series({k: float(fits["reference"].fit_measures()[k]) for k in names})
        pred_m = pd.Series({k: float(fits["predicted"].fit_measures()[k]) for k in names})
        measures = pd.DataFrame(
            {"reference": ref_m, "predicted": pred_m, "diff": pred_m - ref_m}
        ).rename_axis("measure")
    return DownstreamChange(
        cox=cox_table,
        sem=sem_table.loc[:, _SEM_COLUMNS] if sem_table is not None else None,
        fit_measures=measures,
        score_loadings=loadings,
        patients=[str(p) for p in common],
        warnings=notes,
    )
