"""Acquisition protocols: one row per patient and series (T2, DWI, ADC)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from radsem.simulate.parameters import SimulationParameters

__all__ = ["REFERENCE_SHAPE", "grid_spacing", "dwi_shape", "simulate_protocol", "PROTOCOL_COLUMNS"]

#: The image grid (z, y, x) for which the scanners' nominal voxel sizes are given.
REFERENCE_SHAPE = (16, 48, 48)

PROTOCOL_COLUMNS = [
    "patient_id",
    "series",
    "scanner",
    "manufacturer",
    "field_strength",
    "size_x",
    "size_y",
    "size_z",
    "spacing_x",
    "spacing_y",
    "spacing_z",
    "slice_thickness",
    "voxel_volume",
    "anisotropy",
    "TR",
    "TE",
    "flip_angle",
    "n_averages",
    "echo_train_length",
    "phase_encoding",
    "b_max",
    "n_b_values",
]

_MANUFACTURER = {
    "Avanto": "Siemens",
    "Skyra": "Siemens",
    "Achieva": "Philips",
    "MR750": "GE",
    "SignaHDxt": "GE",
}


def grid_spacing(
    scanner: dict, shape: Sequence[int], dwi_factor: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Voxel sizes ``(sz, sy, sx)`` of the T2 and the DWI/ADC grid of a scanner.

    The scanner's field of view is kept: on a grid finer than :data:`REFERENCE_SHAPE` the voxels
    are proportionally smaller. DWI has ``dwi_factor`` times coarser in-plane resolution.
    """
    t2 = tuple(
        round(s * r / n, 4) for s, r, n in zip(scanner["t2_spacing"], REFERENCE_SHAPE, shape)
    )
    dwi = (t2[0], round(t2[1] * dwi_factor, 4), round(t2[2] * dwi_factor, 4))
    return t2, dwi


def dwi_shape(shape: Sequence[int], dwi_factor: int) -> tuple[int, int, int]:
    """Grid of the DWI/ADC volumes for a T2 grid (same field of view)."""
    return (int(shape[0]), max(int(shape[1]) // dwi_factor, 2), max(int(shape[2]) // dwi_factor, 2))


def _manufacturer(name: str) -> str:
    for key, value in _MANUFACTURER.items():
        if key in name:
            return value
    return "unknown"


def simulate_protocol(
    rng: np.random.Generator,
    params: SimulationParameters,
    patients: pd.DataFrame,
    shape: Sequence[int],
    dwi_factor: int,
) -> pd.DataFrame:
    """Protocol table; TR varies per patient by up to +-10 % (coverage-dependent)."""
    rows = []
    jitter = rng.uniform(0.9, 1.1, size=(len(patients), 2))
    for i, (pid, name) in enumerate(zip(patients["patient_id"], patients["scanner"])):
        sc = params.scanners[name]
        t2_sp, dwi_sp = grid_spacing(sc, shape, dwi_factor)
        b = sc["b_values"]
        common = {
            "patient_id": pid,
            "scanner": name,
            "manufacturer": _manufacturer(name),
            "field_strength": sc["field_strength"],
        }
        t2 = {
            **common,
            "series": "T2",
            "size_z": shape[0],
            "size_y": shape[1],
            "size_x": shape[2],
            "spacing_z": t2_sp[0],
            "spacing_y": t2_sp[1],
            "spacing_x": t2_sp[2],
            "TR": round(sc["tr"] * jitter[i, 0], -1),
            "TE": sc["te"],
            "flip_angle": sc["flip_angle"],
            "n_averages": sc["n_averages"],
            "echo_train_length": sc["echo_train_length"],
            "phase_encoding": sc["phase_encoding"],
            "b_max": np.nan,
            "n_b_values": np.nan,
        }
        d_shape = dwi_shape(shape, dwi_factor)
        dwi = {
            **common,
            "size_z": d_shape[0],
            "size_y": d_shape[1],
            "size_x": d_shape[2],
            "spacing_z": dwi_sp[0],
            "spacing_y": dwi_sp[1],
            "spacing_x": dwi_sp[2],
            "TR": round(sc["dwi_tr"] * jitter[i, 1], -1),
            "TE": sc["dwi_te"],
            "flip_angle": 90.0,
            "n_averages": sc["n_averages"] + 2,
            "echo_train_length": d_shape[1],
            "phase_encoding": sc["phase_encoding"],
            "b_max": float(max(b)),
            "n_b_values": len(b),
        }
        rows += [t2, {**dwi, "series": "DWI"}, {**dwi, "series": "ADC"}]
    frame = pd.DataFrame(rows)
    frame["slice_thickness"] = frame["spacing_z"]
    frame["voxel_volume"] = (frame["spacing_x"] * frame["spacing_y"] * frame["spacing_z"]).round(4)
    frame["anisotropy"] = (frame["spacing_z"] / frame["spacing_x"]).round(4)
    return frame[PROTOCOL_COLUMNS]
