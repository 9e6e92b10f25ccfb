"""log2 gene expression from the latent mechanisms, and its missingness (MAR)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import optimize, special

from radsem.simulate.parameters import SimulationParameters

__all__ = [
    "simulate_expression",
    "expression_missing",
    "loading_table",
    "lavaan_name",
    "measurement_syntax",
]

_HISTOLOGY_SIGN = {"squamous": 0.5, "adenocarcinoma": -0.5, "adenosquamous": 0.0}


def loading_table(params: SimulationParameters) -> pd.DataFrame:
    """The measurement model of the marker genes.

    Returns
    -------
    DataFrame
        ``gene, mechanism, std_loading, mean, sd, loading, residual_var``: gene
        ``x = mean + loading * eta + e`` with ``loading = sd * std_loading`` and
        ``var(e) = residual_var = sd^2 (1 - std_loading^2)`` (``eta`` has unit variance within
        clade, so ``std_loading`` is the standardized loading there).
    """
    rows = []
    for gene, (mech, lam, mean, sd) in params.markers.items():
        rows.append(
            {
                "gene": gene,
                "mechanism": mech,
                "std_loading": lam,
                "mean": mean,
                "sd": sd,
                "loading": sd * lam,
                "residual_var": sd**2 * (1 - lam**2),
            }
        )
    return pd.DataFrame(rows)


def lavaan_name(symbol: str) -> str:
    """A gene symbol as a lavaan variable name: characters other than letters, digits, ``_``
    and ``.`` become ``_`` (``HLA-A`` -> ``HLA_A``); a leading digit gets a ``g`` prefix."""
    name = re.sub(r"[^0-9A-Za-z_.]", "_", str(symbol))
    return f"g{name}" if name[:1].isdigit() else name


def measurement_syntax(params: SimulationParameters | None = None) -> str:
    """The generating measurement model in lavaan syntax, one line per mechanism.

    Gene names are passed through :func:`lavaan_name`; rename the expression columns the
    same way (``expression.rename(columns=lavaan_name)``) before fitting.

    Examples
    --------
    >>> print(measurement_syntax().splitlines()[2][:40])
    immune =~ HLA_A + HLA_B + HLA_C + HLA_DQ
    """
    table = loading_table(params if params is not None else SimulationParameters())
    return "\n".join(
        f"{mech} =~ " + " + ".join(lavaan_name(g) for g in grp["gene"])
        for mech, grp in table.groupby("mechanism", sort=False)
    )


def simulate_expression(
    rng: np.random.Generator,
    params: SimulationParameters,
    patients: pd.DataFrame,
    latent: pd.DataFrame,
) -> pd.DataFrame:
    """log2 expression of every patient (before missingness), rounded to 3 decimals."""
    n = len(patients)
    table = loading_table(params)
    mech_index = {m: i for i, m in enumerate(params.mechanisms)}
    eta = latent[list(params.mechanisms)].to_numpy()
    cols = np.array([mech_index[m] for m in table["mechanism"]])
    noise = rng.standard_normal((n, len(table)))
    markers = (
        table["mean"].to_numpy()
        + eta[:, cols] * table["loading"].to_numpy()
        + noise * np.sqrt(table["residual_var"].to_numpy())
    )
    other = params.other_genes
    shift = patients["histology"].map(_HISTOLOGY_SIGN).to_numpy(dtype=float)
    means = np.array([v[0] for v in other.values()])
    sds = np.array([v[1] for v in other.values()])
    hist = np.array([v[2] for v in other.values()])
    rest = means + shift[:, None] * hist + rng.standard_normal((n, len(other))) * sds
    values = np.round(np.hstack([markers, rest]), 3)
    frame = pd.DataFrame(values, columns=[*table["gene"], *other])
    frame.insert(0, "patient_id", patients["patient_id"].to_numpy())
    return frame


def _logit_terms(params: SimulationParameters, patients: pd.DataFrame) -> np.ndarray:
    site = patients["scanner"].map(params.missing_site).fillna(0.0).to_numpy(dtype=float)
    stage = patients["figo_stage"].map(params.missing_stage).fillna(0.0).to_numpy(dtype=float)
    age = params.missing_age_per_decade * (patients["age"].to_numpy(dtype=float) - 52.0) / 10
    return site + stage + age


def expression_missing(
    rng: np.random.Generator, params: SimulationParameters, patients: pd.DataFrame, share: float
) -> tuple[np.ndarray, float]:
    """Which patients lack expression (missing at random given site, stage and age).

    ``logit P(missing_i) = b0 + site_i + stage_i + a (age_i - 52) / 10``; the intercept ``b0``
    is solved so that the mean probability over the cohort equals ``share``.

    Returns
    -------
    missing : ndarray of bool
    intercept : float
    """
    if share <= 0:
        return np.zeros(len(patients), dtype=bool), float("-inf")
    if share >= 1:
        return np.ones(len(patients), dtype=bool), float("inf")
    terms = _logit_terms(params, patients)
    b0 = optimize.brentq(lambda b: special.expit(b + terms).mean() - share, -30.0, 30.0)
    prob = special.expit(b0 + terms)
    return rng.uniform(size=len(patients)) < prob, float(b0)
