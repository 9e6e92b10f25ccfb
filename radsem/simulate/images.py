"""Synthetic pelvic MRI volumes (T2, high-b DWI, ADC) and a tumour mask for one patient.

The anatomy is a continuous function of position in mm (tumour surface, necrotic core, random
texture fields), so the same tumour can be sampled on the T2 grid and on the coarser DWI grid.
Tissue parameters (proton density, T2 relaxation, ADC) are mixed by partial-volume weights and
turned into signal with the scanner's TR, TE, b-value, gain, bias field and Rician noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from radsem.simulate.protocol import dwi_shape, grid_spacing

__all__ = ["PatientImages", "TumourGeometry", "draw_tumour", "render_patient"]

_N_HARMONICS = 8
_N_FEATURES = 48
_TEXTURE_LENGTH_MM = 4.0
_REF_VOXEL_VOLUME = 10.0  # mm^3; noise sd scales with sqrt(_REF_VOXEL_VOLUME / voxel volume)


@dataclass(frozen=True)
class TumourGeometry:
    """The true tumour of one patient (all lengths in mm, centre in (z, y, x))."""

    radius: float
    irregularity: float
    heterogeneity: float
    necrosis: float
    adc: float
    centre: tuple[float, float, float]
    directions: np.ndarray  # (_N_HARMONICS, 3) unit vectors of the surface harmonics
    frequencies: np.ndarray
    phases: np.ndarray
    amplitudes: np.ndarray
    omega: np.ndarray  # (2, _N_FEATURES, 3) random Fourier frequencies of two texture fields
    omega_phase: np.ndarray  # (2, _N_FEATURES)
    organs: tuple = ()  # ((centre (z, y, x), semi-axes (z, y, x), ADC / T2 factors), ...)


@dataclass(frozen=True)
class PatientImages:
    """Arrays in (z, y, x) order with their voxel sizes (sz, sy, sx) in mm; grids are centred
    on the same physical point (origin = -(n - 1) / 2 * spacing)."""

    t2: np.ndarray
    dwi: np.ndarray
    adc: np.ndarray
    mask: np.ndarray
    t2_spacing: tuple[float, float, float]
    dwi_spacing: tuple[float, float, float]


def _unit(rng: np.random.Generator, k: int) -> np.ndarray:
    v = rng.standard_normal((k, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def draw_tumour(
    rng: np.random.Generator,
    tumour: dict,
    stage_index: int,
    eta: dict[str, float],
    fov: Sequence[float],
) -> TumourGeometry:
    """Draw the tumour geometry from the latent mechanisms and the FIGO main stage.

    ``log R = log_radius_mm + radius_stage[stage] + radius_E7 E7 + radius_hypoxia hypoxia + e``,
    irregularity, heterogeneity and the tumour ADC are linear in the mechanisms and stage
    (coefficients in ``tumour``); necrotic core radius fraction ``0.55 expit(2 (hypoxia - 1))``.
    """
    p = tumour
    log_r = (
        p["log_radius_mm"]
        + p["radius_stage"][stage_index]
        + p["radius_E7"] * eta["E7"]
        + p["radius_hypoxia"] * eta["hypoxia"]
        + p["radius_sd"] * rng.standard_normal()
    )
    irr = max(
        0.02,
        p["irregularity"]
        + p["irregularity_E7"] * eta["E7"]
        + p["irregularity_hypoxia"] * eta["hypoxia"]
        + p["irregularity_stage"] * stage_index,
    )
    irr = min(irr, 0.30)
    radius = float(np.clip(np.exp(log_r), 5.0, 0.36 * min(fov)))
    het = float(
        np.clip(
            p["heterogeneity"]
            + p["heterogeneity_hypoxia"] * eta["hypoxia"]
            + p["heterogeneity_E7"] * eta["E7"],
            0.02,
            0.35,
        )
    )
    adc = float(
        max(
            500.0,
            p["adc_tumour"]
            + p["adc_E7"] * eta["E7"]
            + p["adc_hypoxia"] * eta["hypoxia"]
            + p["adc_immune"] * eta["immune"],
        )
    )
    necrosis = float(0.55 * special.expit(2.0 * (eta["hypoxia"] - 1.0)))
    room = np.maximum(np.asarray(fov) / 2.0 - radius * (1.0 + 2.0 * irr) - 3.0, 0.0)
    centre = tuple(float(c) for c in rng.uniform(-1.0, 1.0, 3) * room * 0.5)
    # the adjacent organs come from a child stream, so the draws of the tumour (and of the noise
    # later drawn from ``rng``) are the same with and without them
    organs = _draw_organs(rng.spawn(1)[0], radius, centre, fov)
    return TumourGeometry(
        radius=radius,
        irregularity=float(irr),
        heterogeneity=het,
        necrosis=necrosis,
        adc=adc,
        centre=centre,
        directions=_unit(rng, _N_HARMONICS),
        frequencies=rng.integers(1, 4, _N_HARMONICS).astype(float) * np.pi,
        phases=rng.uniform(0, 2 * np.pi, _N_HARMONICS),
        amplitudes=rng.standard_normal(_N_HARMONICS),
        omega=rng.standard_normal((2, _N_FEATURES, 3)) / _TEXTURE_LENGTH_MM,
        omega_phase=rng.uniform(0, 2 * np.pi, (2, _N_FEATURES)),
        organs=organs,
    )


def _draw_organs(
    rng: np.random.Generator,
    radius: float,
    centre: tuple[float, float, float],
    fov: Sequence[float],
) -> tuple:
    """One or two smooth ellipsoidal structures next to the tumour (lymph node, bowel loop)
    with tumour-like T2 signal and restricted diffusion, touching the tumour in most patients:
    what makes a threshold + largest-component segmentation leak out of the tumour."""
    organs = []
    for _ in range(int(rng.integers(1, 3))):
        semi = radius * rng.uniform(0.45, 0.85) * np.array([1.4, 1.0, 1.0])
        semi *= np.exp(rng.normal(0.0, 0.15, 3)) * np.array([1.0, 1.0, 1.0])
        angle = rng.uniform(0, 2 * np.pi)
        direction = np.array([rng.normal(0.0, 0.25), np.sin(angle), np.cos(angle)])
        direction /= np.linalg.norm(direction)
        gap = rng.uniform(-0.15, 0.35) * semi[1:].mean()  # < 0: overlapping the tumour edge
        where = np.asarray(centre) + direction * (radius + semi[1:].mean() + gap)
        limit = np.asarray(fov) / 2.0 - 2.0
        where = np.clip(where, -limit, limit)
        factors = (float(rng.uniform(1.05, 1.25)), float(rng.uniform(0.85, 0.97)))
        organs.append((tuple(float(c) for c in where), tuple(float(a) for a in semi), factors))
    return tuple(organs)


def _axes(shape: Sequence[int], spacing: Sequence[float]) -> list[np.ndarray]:
    return [(np.arange(n) - (n - 1) / 2.0) * s for n, s in zip(shape, spacing)]


def _coords(axes: Sequence[np.ndarray]) -> np.ndarray:
    zz, yy, xx = np.meshgrid(*axes, indexing="ij")
    return np.stack([zz, yy, xx], axis=-1).reshape(-1, 3)


def _texture(axes: Sequence[np.ndarray], geo: TumourGeometry, which: int) -> np.ndarray:
    """Gaussian random field with unit variance on a grid (random Fourier features, RBF
    kernel), evaluated separably: ``Re sum_k exp(i(w_k . p + phi_k))`` as a rank-K tensor."""
    omega, phase = geo.omega[which], geo.omega_phase[which]
    ez = np.exp(1j * (omega[:, 0, None] * axes[0][None, :] + phase[:, None]))
    ey = np.exp(1j * omega[:, 1, None] * axes[1][None, :])
    ex = np.exp(1j * omega[:, 2, None] * axes[2][None, :])
    zy = (ez[:, :, None] * ey[:, None, :]).reshape(len(omega), -1)
    # Re(zy^T ex) with real products; einsum beats BLAS for these thin shapes
    field = np.einsum("kn,kx->nx", zy.real, ex.real) - np.einsum("kn,kx->nx", zy.imag, ex.imag)
    return np.sqrt(2.0 / _N_FEATURES) * field.reshape(-1)


def _tissues(
    axes: Sequence[np.ndarray], spacing: Sequence[float], geo: TumourGeometry
) -> dict[str, np.ndarray]:
    """Partial-volume weights of tumour, necrosis (within tumour), stroma and fat."""
    points = _coords(axes)
    rel = points - np.asarray(geo.centre)
    dist = np.linalg.norm(rel, axis=1)
    # the tumour weight is computed only near the tumour (beyond its largest possible radius
    # plus 10 partial-volume widths it is below 5e-5 and set to 0)
    reach = geo.radius * (
        1.0 + geo.irregularity * np.abs(geo.amplitudes).sum() / np.sqrt(_N_HARMONICS / 2)
    ) + 3.0 * max(spacing)
    near = dist < reach
    d = dist[near]
    u = rel[near] / np.maximum(d, 1e-9)[:, None]
    # einsum: BLAS matmul with an inner dimension of 3 is slow for tall arrays
    proj = np.einsum("nk,jk->nj", u, geo.directions)
    wave = np.cos(proj * geo.frequencies + geo.phases) @ geo.amplitudes
    surface = geo.radius * np.maximum(
        1.0 + geo.irregularity * wave / np.sqrt(_N_HARMONICS / 2), 0.3
    )
    blur = 0.3 * np.sqrt(((u * np.asarray(spacing)) ** 2).sum(axis=1))
    tumour = np.zeros(len(dist))
    tumour[near] = special.expit((surface - d) / blur)
    necrosis = np.zeros(len(dist))
    if geo.necrosis > 0.02:
        core = geo.necrosis * (1.0 + 0.4 * _texture(axes, geo, 1)[near])
        necrosis[near] = special.expit((core - d / surface) / 0.06)
    stroma_r = np.array([max(1.3 * geo.radius, geo.radius + 6.0)] * 3) * np.array([0.8, 1.0, 1.2])
    ell = np.linalg.norm(rel / stroma_r, axis=1)
    stroma = special.expit((1.0 - ell) / 0.08)
    organ = np.zeros(len(dist))
    organ_adc = np.ones(len(dist))
    organ_t2 = np.ones(len(dist))
    for where, semi, (adc_f, t2_f) in geo.organs:
        r = np.linalg.norm((points - np.asarray(where)) / np.asarray(semi), axis=1)
        w = special.expit((1.0 - r) * min(semi) / (0.3 * max(spacing)))
        organ_adc = np.where(w > organ, adc_f, organ_adc)
        organ_t2 = np.where(w > organ, t2_f, organ_t2)
        organ = np.maximum(organ, w)
    return {
        "tumour": tumour,
        "necrosis": necrosis,
        "stroma": stroma,
        "texture": _texture(axes, geo, 0),
        "organ": organ,
        "organ_adc": organ_adc,
        "organ_t2": organ_t2,
    }


def _mix(
    tissue: dict[str, np.ndarray], geo: TumourGeometry, tp: dict, name: str, scale: float
) -> np.ndarray:
    """Tissue property map: tumour (textured) / necrosis inside, stroma / fat outside."""
    base = {
        "t2": (tp["t2_tumour_ms"], tp["t2_stroma_ms"], tp["t2_fat_ms"], 200.0),
        "pd": (tp["pd_tumour"], tp["pd_stroma"], tp["pd_fat"], 1.0),
        "adc": (geo.adc, tp["adc_stroma"], tp["adc_fat"], 2100.0),
    }[name]
    tum, stroma_v, fat_v, nec_v = base
    tum_map = tum * (1.0 + scale * geo.heterogeneity * tissue["texture"])
    inside = tissue["necrosis"] * nec_v + (1 - tissue["necrosis"]) * tum_map
    outside = tissue["stroma"] * stroma_v + (1 - tissue["stroma"]) * fat_v
    # adjacent organs: homogeneous, tumour-like T2 and diffusion (a little less restricted)
    organ_v = tum * {"t2": tissue["organ_t2"], "pd": 1.0, "adc": tissue["organ_adc"]}[name]
    outside = tissue["organ"] * organ_v + (1 - tissue["organ"]) * outside
    return tissue["tumour"] * inside + (1 - tissue["tumour"]) * outside


def _rician(rng: np.random.Generator, signal: np.ndarray, sd: float) -> np.ndarray:
    noise = rng.standard_normal((2, signal.size)) * sd
    return np.hypot(signal + noise[0], noise[1])


def render_patient(
    rng: np.random.Generator,
    geo: TumourGeometry,
    scanner: dict,
    tr: float,
    dwi_tr: float,
    shape: Sequence[int],
    dwi_factor: int,
    tissue_params: dict,
) -> PatientImages:
    """Render the four volumes of one patient on the scanner's grids.

    Notes
    -----
    T2-weighted turbo spin echo: ``S = g k PD (1 - exp(-TR/T1)) exp(-TE/T2) b(y)``, with
    ``k = 1000 B0 / 1.5`` and a linear receive-bias field ``b`` stronger at 3 T.
    DWI: ``S_b = g k PD_dwi (1 - exp(-TR/T1)) exp(-TE/T2) exp(-b ADC)`` (fat suppressed);
    ADC is computed from the noisy ``b = 0`` and ``b = b_max`` images, so noise and scanner
    ADC calibration (``adc_bias``) propagate to the map. Noise is Rician with
    ``sd = 12 noise / (B0 / 1.5) sqrt(10 mm^3 / voxel volume) / sqrt(n_averages)``.
    """
    b0 = scanner["field_strength"]
    t1 = 1300.0 if b0 < 2.0 else 1600.0
    k = 1000.0 * b0 / 1.5 * scanner["gain"]
    t2_sp, dwi_sp = grid_spacing(scanner, shape, dwi_factor)
    d_shape = dwi_shape(shape, dwi_factor)
    bias_amp = 0.12 if b0 > 2.0 else 0.05
    images = {}
    for grid, grid_shape, sp in (("t2", tuple(shape), t2_sp), ("dwi", d_shape, dwi_sp)):
        axes = _axes(grid_shape, sp)
        fov_y = grid_shape[1] * sp[1]
        bias = np.broadcast_to(
            (1.0 + bias_amp * axes[1] / (fov_y / 2.0))[None, :, None], grid_shape
        ).reshape(-1)
        tissue = _tissues(axes, sp, geo)
        pd_map = _mix(tissue, geo, tissue_params, "pd", 0.3)
        t2_map = _mix(tissue, geo, tissue_params, "t2", 0.6)
        vol = float(np.prod(sp))
        sd = 12.0 * scanner["noise"] / (b0 / 1.5) * np.sqrt(_REF_VOXEL_VOLUME / vol)
        if grid == "t2":
            signal = k * pd_map * (1 - np.exp(-tr / t1)) * np.exp(-scanner["te"] / t2_map)
            noisy = _rician(rng, signal * bias, sd / np.sqrt(scanner["n_averages"]))
            images["t2"] = np.clip(np.round(noisy), 0, 32767).astype(np.int16).reshape(shape)
            images["mask"] = (tissue["tumour"] > 0.5).reshape(shape)
            continue
        adc_map = _mix(tissue, geo, tissue_params, "adc", 1.5) * scanner["adc_bias"]
        fat = (1 - tissue["tumour"]) * (1 - tissue["stroma"]) * (1 - tissue["organ"])
        pd_dwi = pd_map * (1.0 - 0.9 * fat)
        s0 = k * pd_dwi * (1 - np.exp(-dwi_tr / t1)) * np.exp(-scanner["dwi_te"] / t2_map) * bias
        b = float(max(scanner["b_values"]))
        sd_dwi = 2.0 * sd / np.sqrt(scanner["n_averages"] + 2)
        s0_n = _rician(rng, s0, sd_dwi)
        sb_n = _rician(rng, s0 * np.exp(-b * adc_map * 1e-6), sd_dwi)
        adc = np.log(np.maximum(s0_n, 1.0) / np.maximum(sb_n, 1.0)) / b * 1e6
        images["dwi"] = np.clip(np.round(sb_n), 0, 32767).astype(np.int16).reshape(d_shape)
        images["adc"] = np.clip(np.round(adc), 0, 4000).astype(np.int16).reshape(d_shape)
    mask = images["mask"]
    if not mask.any():  # a tumour is always visible on at least the voxel nearest its centre
        idx = [
            int(np.clip(round(c / s + (n - 1) / 2.0), 0, n - 1))
            for c, s, n in zip(geo.centre, t2_sp, shape)
        ]
        mask[tuple(idx)] = True
    return PatientImages(
        t2=images["t2"],
        dwi=images["dwi"],
        adc=images["adc"],
        mask=mask.astype(np.uint8),
        t2_spacing=t2_sp,
        dwi_spacing=dwi_sp,
    )
