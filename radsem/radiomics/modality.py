"""Extraction settings per imaging modality (MR, CT, PT) and their precedence.

===========  =======================================  ==========================================
modality     intensity scale                          discretisation (IBSI)
===========  =======================================  ==========================================
MR           arbitrary: divided by the whole-volume   fixed bin width 10 on the normalised
             mean x 100 (radsem's MR default)         scale (Halle et al. 2024)
CT           Hounsfield units, no normalisation       fixed bin width 25 HU; optional HU window
                                                      = IBSI intensity re-segmentation
                                                      (pyradiomics ``resegmentRange``)
PT           SUVbw from the DICOM headers, no         fixed bin width 0.25 SUV
             normalisation
===========  =======================================  ==========================================

A settings mapping (or YAML file) may carry a ``modality`` section, e.g.
``{"modality": {"CT": {"binWidth": 25, "resegmentRange": [-1000, 400]}}}``. Precedence, from
strongest: the user's ``modality.<M>`` section, the user's general settings, radsem's modality
defaults above, radsem's general defaults. The whole-volume mean normalisation is an MR step:
CT and PT are never normalised (asking for it in their ``modality`` section is an error).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from radsem.errors import DataError
from radsem.io.series import MODALITIES
from radsem.radiomics.settings import _RADSEM_KEYS, _SECTIONS, _load, resolve_settings

__all__ = ["MODALITY_DEFAULTS", "resolve_modality_settings", "has_modality_section"]

#: radsem's defaults per modality (merged over :data:`radsem.radiomics.DEFAULT_SETTINGS`).
MODALITY_DEFAULTS: dict[str, dict[str, Any]] = {
    "MR": {},
    "CT": {"setting": {"binWidth": 25}, "radsem": {"normalize": False}},
    "PT": {"setting": {"binWidth": 0.25}, "radsem": {"normalize": False}},
}


def has_modality_section(settings: Any) -> bool:
    """Whether user settings (mapping or YAML file) carry a ``modality`` section."""
    if settings is None:
        return False
    return "modality" in _load(settings)


def _sectioned(part: Mapping, where: str) -> dict[str, dict]:
    if not isinstance(part, Mapping):
        raise DataError(f"settings {where} must be a mapping, got {type(part).__name__}")
    out: dict[str, dict] = {}
    for key, value in part.items():
        if key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise DataError(f"settings {where}.{key} must be a mapping")
            out.setdefault(key, {}).update(copy.deepcopy(dict(value)))
        else:
            section = "radsem" if key in _RADSEM_KEYS else "setting"
            out.setdefault(section, {})[key] = copy.deepcopy(value)
    return out


def _merge(*parts: dict[str, dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for part in parts:
        for key, value in part.items():
            if key in ("setting", "radsem"):
                out.setdefault(key, {}).update(value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def resolve_modality_settings(
    settings: Mapping | str | os.PathLike | None = None,
) -> dict[str, dict]:
    """Resolved extraction settings for each modality.

    Parameters
    ----------
    settings : dict, YAML parameter file, or None
        As for :func:`radsem.radiomics.resolve_settings`, plus an optional ``modality`` section
        with one mapping per modality (``MR``, ``CT``, ``PT``).

    Returns
    -------
    dict
        ``{"MR": resolved, "CT": resolved, "PT": resolved}``, each with the four sections.

    Raises
    ------
    DataError
        Unknown modality, a bad section, normalisation asked for CT or PT, or anything
        :func:`resolve_settings` rejects.
    """
    user = _load(settings) if settings is not None else {}
    by_modality = user.pop("modality", None) or {}
    if not isinstance(by_modality, Mapping):
        raise DataError("settings section 'modality' must map MR/CT/PT to settings")
    unknown = sorted(str(k) for k in by_modality if str(k).upper() not in MODALITIES)
    if unknown:
        raise DataError(
            f"settings section 'modality': unknown modality {unknown}; known: {list(MODALITIES)}"
        )
    by_modality = {str(k).upper(): v for k, v in by_modality.items()}
    general = _sectioned(user, "")
    out = {}
    for modality in MODALITIES:
        own = _sectioned(by_modality.get(modality) or {}, f"modality.{modality}")
        if modality != "MR" and own.get("radsem", {}).get("normalize"):
            raise DataError(
                f"settings modality.{modality}: whole-volume mean normalisation is "
                f"an MR step; {modality} intensities are kept in "
                f"{'HU' if modality == 'CT' else 'SUV'}"
            )
        merged = _merge(_sectioned(MODALITY_DEFAULTS[modality], "defaults"), general, own)
        if modality != "MR":
            merged.setdefault("radsem", {})["normalize"] = False
        out[modality] = resolve_settings(merged)
    return out
