"""Simulate a whole radiogenomic cohort in memory (tables, images and the truth)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radsem._version import __version__
from radsem.errors import DataError
from radsem.simulate.clinical import simulate_patients, stage_thresholds
from radsem.simulate.expression import expression_missing, loading_table, simulate_expression
from radsem.simulate.images import PatientImages, draw_tumour, render_patient
from radsem.simulate.parameters import SimulationParameters
from radsem.simulate.protocol import grid_spacing, simulate_protocol
from radsem.simulate.survival import simulate_outcomes

__all__ = ["SimulatedCohort", "simulate_cohort"]

_STAGE_INDEX = {"I": 0, "II": 1, "III": 2, "IV": 3}
_CLINICAL_COLUMNS = [
    "patient_id",
    "age",
    "figo2018",
    "figo_stage",
    "histology",
    "hpv_type",
    "hpv_clade",
    "scanner",
    "time",
    "event",
    "dss_time",
    "dss_event",
]


@dataclass(frozen=True)
class SimulatedCohort:
    """A simulated cohort held in memory.

    Attributes
    ----------
    clinical, expression, protocol : DataFrame
        The tables of the cohort folder (``expression`` only for patients with expression).
    latent : DataFrame
        ``patient_id`` + the true latent mechanisms (``E6, E7, immune, hypoxia``).
    images : dict of str to PatientImages
        Volumes by patient id (empty when simulated with ``images=False``).
    truth : dict
        Every generating parameter and per-patient truth (what ``truth.json`` holds).
    """

    clinical: pd.DataFrame
    expression: pd.DataFrame
    protocol: pd.DataFrame
    latent: pd.DataFrame
    images: dict[str, PatientImages] = field(repr=False)
    truth: dict = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"SimulatedCohort({len(self.clinical)} patients, {len(self.expression)} with "
            f"expression, {len(self.images)} with images, seed {self.truth['seed']})"
        )


#: Largest simulated T2 volume in voxels (e.g. 64 x 256 x 256): rendering one patient needs
#: about 100 bytes per voxel of working memory.
MAX_IMAGE_VOXELS = 2**22
#: Largest number of voxels over all patients (n x z x y x x): the cohort is kept in memory
#: (about 5 bytes per T2 voxel with the DWI, ADC and mask) until it is written.
MAX_COHORT_VOXELS = 2**28


def check_image_budget(shape: Sequence[int], n: int = 1) -> None:
    """Refuse image sizes beyond :data:`MAX_IMAGE_VOXELS` per volume or
    :data:`MAX_COHORT_VOXELS` for the cohort, with a message instead of a ``MemoryError``."""
    voxels = int(np.prod([int(s) for s in shape], dtype=object))
    if voxels > MAX_IMAGE_VOXELS:
        raise DataError(
            f"image_shape {tuple(int(s) for s in shape)} has {voxels:,} voxels; the "
            f"simulator's limit is {MAX_IMAGE_VOXELS:,} voxels per volume (e.g. "
            "64,256,256)"
        )
    if voxels * int(n) > MAX_COHORT_VOXELS:
        raise DataError(
            f"{n} patients x {voxels:,} voxels exceed the simulator's limit of "
            f"{MAX_COHORT_VOXELS:,} voxels per cohort (kept in memory until "
            "written); use fewer patients, a smaller image_shape or images=False"
        )


def _check_args(
    n, seed, image_shape, missing_expression, dwi_factor, unlabelled=0.0
) -> tuple[int, ...]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"n must be a positive whole number of patients, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}")
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError) as exc:
        raise DataError(f"image_shape must be 3 integers (z, y, x), got {image_shape!r}") from exc
    if len(shape) != 3 or shape[0] < 4 or min(shape[1:]) < 8:
        raise DataError(
            f"image_shape must be (z, y, x) with z >= 4 and y, x >= 8, got {image_shape!r}"
        )
    if not 0.0 <= float(missing_expression) < 1.0:
        raise DataError(
            "missing_expression is the share of patients without expression and "
            f"must be in [0, 1), got {missing_expression!r}"
        )
    if not 0.0 <= float(unlabelled) < 1.0:
        raise DataError(
            "unlabelled is the share of patients without a tumour mask and must be "
            f"in [0, 1), got {unlabelled!r}"
        )
    if int(dwi_factor) < 1:
        raise DataError(f"dwi_factor must be >= 1, got {dwi_factor!r}")
    return shape


def _render_all(
    seed: int,
    params: SimulationParameters,
    clinical: pd.DataFrame,
    latent: pd.DataFrame,
    protocol: pd.DataFrame,
    shape: tuple[int, ...],
    dwi_factor: int,
    progress: bool,
) -> tuple[dict, pd.DataFrame]:
    from tqdm.auto import tqdm

    tr = protocol.pivot(index="patient_id", columns="series", values="TR")
    images, rows = {}, []
    mech = list(params.mechanisms)
    for i, row in enumerate(
        tqdm(
            clinical.itertuples(index=False),
            total=len(clinical),
            desc="simulating images",
            disable=not progress,
        )
    ):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(99, i)))
        scanner = params.scanners[row.scanner]
        t2_sp, _ = grid_spacing(scanner, shape, dwi_factor)
        fov = [n * s for n, s in zip(shape, t2_sp)]
        eta = dict(zip(mech, latent.iloc[i][mech].to_numpy(dtype=float)))
        geo = draw_tumour(rng, params.tumour, _STAGE_INDEX[row.figo_stage], eta, fov)
        img = render_patient(
            rng,
            geo,
            scanner,
            float(tr.at[row.patient_id, "T2"]),
            float(tr.at[row.patient_id, "DWI"]),
            shape,
            dwi_factor,
            params.tumour,
        )
        images[row.patient_id] = img
        rows.append(
            {
                "patient_id": row.patient_id,
                "tumour_radius_mm": geo.radius,
                "irregularity": geo.irregularity,
                "heterogeneity": geo.heterogeneity,
                "necrosis_fraction": geo.necrosis,
                "adc_tumour": geo.adc,
                "mask_volume_ml": float(img.mask.sum()) * float(np.prod(t2_sp)) / 1000,
            }
        )
    return images, pd.DataFrame(rows)


def _plain(value):
    """JSON-ready copy: numpy scalars/arrays to Python, floats rounded to 6 decimals."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return round(value, 6) if np.isfinite(value) else None
    return value


def simulate_cohort(
    n: int = 150,
    seed: int = 0,
    *,
    images: bool = True,
    image_shape: Sequence[int] = (16, 48, 48),
    missing_expression: float = 0.45,
    dwi_factor: int = 2,
    params: SimulationParameters | None = None,
    progress: bool = False,
    unlabelled: float = 0.0,
) -> SimulatedCohort:
    """Simulate a cervical-cancer radiogenomic cohort with known ground truth.

    Parameters
    ----------
    n : int
        Number of patients (>= 1).
    seed : int
        Seed of every random step; the same seed gives the same cohort.
    images : bool
        Render the MRI volumes (``False`` is much faster for large ``n``).
    image_shape : (z, y, x)
        T2 grid in voxels; the scanner's field of view is kept, so a finer grid has smaller
        voxels. DWI/ADC have ``dwi_factor`` times coarser in-plane resolution. At most
        :data:`MAX_IMAGE_VOXELS` (4,194,304, e.g. 64 x 256 x 256) voxels per volume and
        :data:`MAX_COHORT_VOXELS` (268,435,456) over all patients; larger requests raise a
        ``DataError`` instead of exhausting memory.
    missing_expression : float
        Expected share of patients without expression, missing at random given scanner site,
        stage and age (the intercept of the missingness model is solved for this share).
    dwi_factor : int
        In-plane down-sampling of DWI/ADC relative to T2 (1: same grid).
    params : SimulationParameters, optional
        Generating parameters (default :func:`~radsem.simulate.default_parameters`).
    progress : bool
        Show a progress bar while rendering images.
    unlabelled : float
        Share of patients (rounded down, drawn at random) whose tumour mask is not written to
        the cohort folder (``truth["patients"]["labelled"]`` is False for them; the reference
        mask stays in :attr:`SimulatedCohort.images` for evaluation). Their masks are what
        ``radsem segment predict`` supplies.

    Returns
    -------
    SimulatedCohort

    Notes
    -----
    The generating model (see ``docs/simulate.md``): HPV type and clade, histology given clade,
    age; latent mechanisms ``eta ~ N(mu_type, R_clade)``; FIGO stage from an ordinal probit on
    ``eta`` and age; gene ``g``: ``x_g = m_g + s_g lambda_g eta_f(g) + e_g``; recurrence from a
    Weibull proportional-hazards model on ``eta``, stage and age. Validated in
    ``tests/simulate`` by a Cox fit recovering the log hazard ratios and by a CFA (lavaan)
    recovering the loadings.

    Examples
    --------
    >>> cohort = simulate_cohort(30, seed=1, images=False)
    >>> cohort.clinical.shape[0], sorted(cohort.latent.columns)[:2]
    (30, ['E6', 'E7'])
    """
    shape = _check_args(n, seed, image_shape, missing_expression, dwi_factor, unlabelled)
    if images:
        check_image_budget(shape, n)
    n, seed, dwi_factor = int(n), int(seed), int(dwi_factor)
    params = params if params is not None else SimulationParameters()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    patients, latent = simulate_patients(n, streams[0], params)
    outcomes = simulate_outcomes(streams[1], params, patients, latent)
    expression = simulate_expression(streams[2], params, patients, latent)
    missing, intercept = expression_missing(streams[3], params, patients, float(missing_expression))
    protocol = simulate_protocol(streams[4], params, patients, shape, dwi_factor)
    clinical = patients.merge(outcomes, on="patient_id")[_CLINICAL_COLUMNS]
    per_patient = latent.merge(
        outcomes[["patient_id", "lp_recurrence", "lp_death"]], on="patient_id"
    )
    per_patient["has_expression"] = ~missing
    labelled = np.ones(n, dtype=bool)
    n_unlabelled = int(np.floor(float(unlabelled) * n))
    if n_unlabelled:  # own stream: every other draw is the same with and without unlabelled
        pick = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(98,)))
        labelled[pick.choice(n, n_unlabelled, replace=False)] = False
    per_patient["labelled"] = labelled
    volumes: dict[str, PatientImages] = {}
    if images:
        volumes, tumours = _render_all(
            seed, params, clinical, latent, protocol, shape, dwi_factor, progress
        )
        per_patient = per_patient.merge(tumours, on="patient_id")
    truth = {
        "radsem_version": __version__,
        "seed": seed,
        "n": n,
        "images": bool(images),
        "image_shape": list(shape),
        "dwi_factor": dwi_factor,
        "missing_expression": float(missing_expression),
        "missing_intercept": intercept,
        "stage_thresholds": stage_thresholds(params),
        "measurement_model": loading_table(params).to_dict(orient="list"),
        "parameters": params.to_dict(),
        "patients": per_patient.to_dict(orient="list"),
    }
    return SimulatedCohort(
        clinical=clinical,
        expression=expression.loc[~missing].reset_index(drop=True),
        protocol=protocol,
        latent=latent,
        images=volumes,
        truth=_plain(truth),
    )
