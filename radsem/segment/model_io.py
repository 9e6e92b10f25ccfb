"""Saving and loading a trained segmentation model: a folder with the weights and metadata.

``MODEL_DIR/weights.pt`` holds the network's ``state_dict`` (read back with
``torch.load(weights_only=True)``: no code is unpickled), ``MODEL_DIR/model.json`` the radsem
version, the folder format version, the configuration, the training patients and the SHA-256
of ``weights.pt`` (the *model hash* recorded with every predicted mask).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from radsem.errors import DataError

__all__ = ["FORMAT_VERSION", "save_model", "load_model", "file_hash"]

#: Version of the model-folder layout; a folder of another version is refused.
FORMAT_VERSION = 1
_KIND = "segmentation"


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(folder: str | os.PathLike, state_dict: dict, metadata: dict[str, Any]) -> str:
    """Write ``weights.pt`` and ``model.json`` atomically into ``folder``; returns the hash."""
    from radsem._version import __version__
    from radsem.deep._runtime import atomic_torch_save
    from radsem.io import atomic_write_bytes

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{folder}: cannot create the model folder ({exc.strerror})") from exc
    weights = folder / "weights.pt"
    atomic_torch_save(
        {"kind": _KIND, "format_version": FORMAT_VERSION, "state_dict": state_dict}, weights
    )
    digest = file_hash(weights)
    meta = {
        "kind": _KIND,
        "format_version": FORMAT_VERSION,
        "radsem_version": __version__,
        **metadata,
        "weights_sha256": digest,
    }
    atomic_write_bytes(
        (json.dumps(meta, indent=1, allow_nan=False) + "\n").encode("utf-8"), folder / "model.json"
    )
    return digest


def load_model(folder: str | os.PathLike) -> tuple[dict, dict[str, Any]]:
    """Read a model folder; returns ``(state_dict, metadata)``.

    Raises
    ------
    DataError
        Missing folder or file, unreadable JSON, another kind of model, a folder format this
        radsem does not read (the message names both versions), weights whose hash differs
        from the one recorded (corrupt or replaced file).
    """
    from radsem.deep._runtime import safe_torch_load

    folder = Path(folder)
    meta_path, weights = folder / "model.json", folder / "weights.pt"
    if not folder.is_dir():
        raise DataError(f"{folder}: model folder not found")
    for path in (meta_path, weights):
        if not path.is_file():
            raise DataError(
                f"{path}: missing; {folder} is not a radsem segmentation model "
                "folder (written by radsem segment train)"
            )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{meta_path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("kind") != _KIND:
        raise DataError(f"{meta_path}: not a radsem segmentation model")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(
            f"{folder}: model folder format {version!r} (written by radsem "
            f"{meta.get('radsem_version', '?')}); this radsem reads format "
            f"{FORMAT_VERSION} only - retrain with radsem segment train"
        )
    digest = file_hash(weights)
    if digest != meta.get("weights_sha256"):
        raise DataError(
            f"{weights}: SHA-256 {digest[:12]}... differs from the "
            f"{str(meta.get('weights_sha256'))[:12]}... recorded in model.json "
            "(corrupt or replaced weights)"
        )
    payload = safe_torch_load(weights, _KIND)
    if payload.get("format_version") != FORMAT_VERSION or not isinstance(
        payload.get("state_dict"), dict
    ):
        raise DataError(
            f"{weights}: weights of format {payload.get('format_version')!r}; "
            f"expected {FORMAT_VERSION}"
        )
    return payload["state_dict"], meta
