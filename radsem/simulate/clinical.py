"""Patients: HPV type and clade, histology, age, latent mechanisms, FIGO stage, scanner."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from radsem.simulate.parameters import SimulationParameters

__all__ = ["simulate_patients", "stage_thresholds", "main_stage"]

_MAIN = ("IV", "III", "II", "I")


def main_stage(substage: str) -> str:
    """FIGO main stage (I, II, III, IV) of a FIGO 2018 substage such as ``IIIC1``."""
    for main in _MAIN:
        if substage.startswith(main):
            return main
    raise ValueError(f"not a FIGO stage: {substage!r}")


def _pick(rng: np.random.Generator, labels: list[str], probs, size: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return np.asarray(labels, dtype=object)[rng.choice(len(labels), size=size, p=p / p.sum())]


def stage_thresholds(params: SimulationParameters) -> np.ndarray:
    """Cut points of the ordinal probit stage score that give the FIGO shares on average.

    The score ``s = l'eta + 0.015 (age - 50) + e`` with ``e ~ N(0, 1)`` is approximated by a
    normal with the HPV16 (clade A9) latent covariance; the cut points are its quantiles at the
    cumulative stage shares.
    """
    load = np.array([params.stage_loadings[m] for m in params.mechanisms])
    corr = np.asarray(params.latent_corr["A9"], dtype=float)
    sd = float(np.sqrt(1.0 + load @ corr @ load + (0.015 * params.age["sd"]) ** 2))
    shares = np.array(list(params.figo_stages.values()), dtype=float)
    cum = np.cumsum(shares / shares.sum())[:-1]
    return stats.norm.ppf(cum) * sd


def _latent(
    rng: np.random.Generator, params: SimulationParameters, hpv: np.ndarray, clade: np.ndarray
) -> np.ndarray:
    k = len(params.mechanisms)
    eta = rng.standard_normal((len(hpv), k))
    out = np.empty_like(eta)
    for group in pd.unique(clade):
        rows = clade == group
        chol = np.linalg.cholesky(np.asarray(params.latent_corr[group], dtype=float))
        out[rows] = eta[rows] @ chol.T
    means = np.array([params.latent_means[t] for t in hpv], dtype=float)
    return out + means


def simulate_patients(
    n: int, rng: np.random.Generator, params: SimulationParameters
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw the patient-level covariates and the latent mechanisms.

    Returns
    -------
    patients : DataFrame
        ``patient_id, age, figo2018, figo_stage, histology, hpv_type, hpv_clade, scanner``.
    latent : DataFrame
        ``patient_id`` + one column per mechanism (the true latent values).
    """
    width = max(3, len(str(n)))
    ids = np.array([f"P{i + 1:0{width}d}" for i in range(n)], dtype=object)
    types = list(params.hpv_types)
    hpv = _pick(rng, types, [params.hpv_types[t][0] for t in types], n)
    clade = np.array([params.hpv_types[t][1] for t in hpv], dtype=object)
    histology = np.empty(n, dtype=object)
    for group in pd.unique(clade):
        rows = clade == group
        histology[rows] = _pick(
            rng, list(params.histology_levels), params.histology[group], int(rows.sum())
        )
    age_p = params.age
    lo = (age_p["low"] - age_p["mean"]) / age_p["sd"]
    hi = (age_p["high"] - age_p["mean"]) / age_p["sd"]
    age = stats.truncnorm.ppf(rng.uniform(size=n), lo, hi, loc=age_p["mean"], scale=age_p["sd"])
    age = np.round(age, 1)
    eta = _latent(rng, params, hpv, clade)
    load = np.array([params.stage_loadings[m] for m in params.mechanisms])
    score = eta @ load + 0.015 * (age - 50.0) + rng.standard_normal(n)
    stages = np.array(list(params.figo_stages), dtype=object)
    figo = stages[np.searchsorted(stage_thresholds(params), score)]
    scanners = list(params.scanners)
    scanner = _pick(rng, scanners, [params.scanners[s]["share"] for s in scanners], n)
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "age": age,
            "figo2018": figo,
            "figo_stage": [main_stage(s) for s in figo],
            "histology": histology,
            "hpv_type": hpv,
            "hpv_clade": clade,
            "scanner": scanner,
        }
    )
    latent = pd.DataFrame(eta, columns=list(params.mechanisms))
    latent.insert(0, "patient_id", ids)
    return patients, latent
