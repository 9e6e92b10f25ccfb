"""Recurrence and disease-specific death times from proportional-hazards models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.simulate.parameters import SimulationParameters

__all__ = ["linear_predictor", "simulate_outcomes"]


def linear_predictor(
    coef: dict, mechanisms, patients: pd.DataFrame, latent: pd.DataFrame
) -> np.ndarray:
    """``lp = beta' eta + gamma_stage + delta (age - 50)`` (reference: stage I, age 50)."""
    lp = latent[list(mechanisms)].to_numpy() @ np.array([coef[m] for m in mechanisms])
    for stage in ("II", "III", "IV"):
        lp = lp + coef[f"stage_{stage}"] * (patients["figo_stage"].to_numpy() == stage)
    return lp + coef["age_per_year"] * (patients["age"].to_numpy(dtype=float) - 50.0)


def _weibull_ph(rng: np.random.Generator, rate: float, shape: float, lp: np.ndarray) -> np.ndarray:
    """Inverse-transform draw from ``h(t) = rate * shape * t^(shape-1) * exp(lp)``."""
    e = rng.standard_exponential(len(lp))
    return (e / (rate * np.exp(lp))) ** (1.0 / shape)


def simulate_outcomes(
    rng: np.random.Generator,
    params: SimulationParameters,
    patients: pd.DataFrame,
    latent: pd.DataFrame,
) -> pd.DataFrame:
    """Recurrence (``time``, ``event``) and disease-specific survival (``dss_time``,
    ``dss_event``) in months.

    Notes
    -----
    Recurrence time ``T_R`` follows a Weibull proportional-hazards model with linear predictor
    :func:`linear_predictor`. Death from disease happens only after a recurrence, at
    ``T_D = T_R + W`` with ``W`` from a second Weibull PH model (illness-death model), so the
    recurrence hazard is exactly proportional while the marginal DSS hazard is approximately so.
    Censoring ``C = min(study_end - entry, L)`` with entry uniform over the accrual period
    (administrative) and ``L`` exponential (loss to follow-up, death of other causes).
    """
    n = len(patients)
    rec = params.recurrence_baseline
    dth = params.death_baseline
    lp_rec = linear_predictor(params.recurrence_log_hr, params.mechanisms, patients, latent)
    lp_dth = linear_predictor(params.death_log_hr, params.mechanisms, patients, latent)
    t_rec = _weibull_ph(rng, rec["rate"], rec["shape"], lp_rec)
    t_death = t_rec + _weibull_ph(rng, dth["rate"], dth["shape"], lp_dth)
    cens = params.censoring
    entry = rng.uniform(0.0, cens["accrual"], size=n)
    loss = rng.exponential(1.0 / cens["loss_rate"], size=n)
    c = np.minimum(cens["study_end"] - entry, loss)
    time = np.minimum(t_rec, c)
    dss_time = np.minimum(t_death, c)
    # at least 0.01 month after rounding, so no time is 0
    return pd.DataFrame(
        {
            "patient_id": patients["patient_id"].to_numpy(),
            "time": np.maximum(np.round(time, 2), 0.01),
            "event": (t_rec <= c).astype(int),
            "dss_time": np.maximum(np.round(dss_time, 2), 0.01),
            "dss_event": (t_death <= c).astype(int),
            "lp_recurrence": lp_rec,
            "lp_death": lp_dth,
        }
    )
