"""Extraction settings: radsem's defaults, pyradiomics parameters, and their stable hash."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from radsem.errors import DataError

__all__ = ["DEFAULT_SETTINGS", "SERIES", "resolve_settings", "settings_hash"]

#: The three MR series, in the order of the feature table (prefix ``t2_``, ``dwi_``, ``adc_``).
SERIES = ("t2", "dwi", "adc")

#: radsem's defaults (Halle et al. 2024): original image, all default feature classes, binWidth 10.
DEFAULT_SETTINGS: dict[str, Any] = {
    "setting": {"binWidth": 10, "label": 1},
    "imageType": {"Original": {}},
    "featureClass": {
        "firstorder": [],
        "glcm": [],
        "glrlm": [],
        "glszm": [],
        "gldm": [],
        "ngtdm": [],
        "shape": [],
    },
    "radsem": {
        "normalize": True,
        "scale": 100.0,
        "shape_series": "t2",
        "resample_interpolator": "linear",
    },
}

_SECTIONS = ("setting", "imageType", "featureClass", "radsem")
_RADSEM_KEYS = set(DEFAULT_SETTINGS["radsem"])


def _load(settings: Mapping | str | os.PathLike) -> dict:
    if isinstance(settings, (str, os.PathLike)):
        import yaml

        from radsem._yaml import YAMLLimitError, load_yaml_text

        path = Path(settings)
        if not path.is_file():
            raise DataError(f"{path}: parameter file not found")
        try:
            loaded = load_yaml_text(path.read_text(encoding="utf-8"))
        except YAMLLimitError as exc:
            raise DataError(f"{path}: parameter file not accepted: {exc}") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not a valid YAML parameter file ({exc})") from exc
        if loaded is None:
            return {}
        if not isinstance(loaded, Mapping):
            raise DataError(
                f"{path}: a parameter file must be a mapping with sections {', '.join(_SECTIONS)}"
            )
        return dict(loaded)
    if not isinstance(settings, Mapping):
        raise DataError(
            "settings must be a dict, a YAML parameter file path, or None; got "
            f"{type(settings).__name__}"
        )
    return dict(settings)


def resolve_settings(settings: Mapping | str | os.PathLike | None = None) -> dict:
    """Merge user settings into radsem's defaults.

    Parameters
    ----------
    settings : dict, path of a pyradiomics YAML parameter file, or None
        Either a pyradiomics parameter mapping (sections ``setting``, ``imageType``,
        ``featureClass``, plus radsem's own section ``radsem``), or a flat dict of pyradiomics
        settings (``{"binWidth": 25}``) and radsem keys (``normalize``, ``scale``,
        ``shape_series``, ``resample_interpolator``). A given ``imageType`` or ``featureClass``
        section replaces the default one; ``setting`` and ``radsem`` entries are merged key by key.

    Returns
    -------
    dict
        The four sections, fully specified (a new object; the input is not modified).
    """
    user = _load(settings) if settings is not None else {}
    out = copy.deepcopy(DEFAULT_SETTINGS)
    sectioned = {k: v for k, v in user.items() if k in _SECTIONS}
    flat = {k: v for k, v in user.items() if k not in _SECTIONS}
    for key in ("setting", "radsem"):
        part = sectioned.get(key) or {}
        if not isinstance(part, Mapping):
            raise DataError(f"settings section {key!r} must be a mapping")
        out[key].update(copy.deepcopy(dict(part)))
    for key in ("imageType", "featureClass"):
        if key in sectioned:
            part = sectioned[key]
            if not isinstance(part, Mapping) or not part:
                raise DataError(f"settings section {key!r} must be a non-empty mapping")
            if key == "imageType":
                out[key] = {name: (dict(v) if v else {}) for name, v in part.items()}
            else:
                out[key] = {name: (list(v) if v else []) for name, v in part.items()}
    for key, value in flat.items():
        out["radsem" if key in _RADSEM_KEYS else "setting"][key] = copy.deepcopy(value)
    unknown = set(out["radsem"]) - _RADSEM_KEYS
    if unknown:
        raise DataError(
            f"unknown radsem setting(s) {sorted(unknown)}; known: {sorted(_RADSEM_KEYS)}"
        )
    rs = out["radsem"]
    if rs["shape_series"] not in SERIES:
        raise DataError(f"shape_series must be one of {SERIES}, got {rs['shape_series']!r}")
    if rs["resample_interpolator"] not in ("linear", "bspline", "nearest"):
        raise DataError(
            "resample_interpolator must be 'linear', 'bspline' or 'nearest', got "
            f"{rs['resample_interpolator']!r}"
        )
    try:
        rs["scale"] = float(rs["scale"])
    except (TypeError, ValueError):
        raise DataError(f"scale must be a number, got {rs['scale']!r}") from None
    if not rs["scale"] > 0:
        raise DataError(f"scale must be positive, got {rs['scale']}")
    return out


def settings_hash(settings: Mapping) -> str:
    """SHA-256 of the resolved settings (canonical JSON), for cache keys."""
    text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
