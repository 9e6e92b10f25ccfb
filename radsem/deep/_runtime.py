"""Seeding, threads and determinism for the torch models (one place, used by both models)."""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from radsem._optional import require
from radsem._threads import capped_threads
from radsem.errors import DataError

torch = require("torch", "the deep models")

__all__ = [
    "torch_session",
    "check_random_state_int",
    "atomic_torch_save",
    "safe_torch_load",
    "EarlyStopping",
]


def check_random_state_int(random_state: int | None) -> int:
    """Turn ``random_state`` into a non-negative integer seed (``None`` draws one from the OS)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise DataError(f"random_state must be an integer or None, got {random_state!r}")
    if random_state < 0:
        raise DataError(f"random_state must be non-negative, got {random_state}")
    return int(random_state)


@contextlib.contextmanager
def torch_session(seed: int, n_threads: int = 1) -> Iterator[torch.Generator]:
    """Run a block with a fixed seed, ``n_threads`` intra-op threads and deterministic kernels.

    The global torch random state, thread count and determinism flag are restored on exit,
    so fitting a radsem model never changes the state seen by the caller's own torch code.
    Yields a seeded :class:`torch.Generator` for explicit sampling.
    """
    n_threads = int(n_threads)
    if n_threads < 1:
        raise DataError(f"n_threads must be at least 1, got {n_threads}")
    n_threads = capped_threads(n_threads)  # several workers on one machine: their share
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(n_threads)
        torch.use_deterministic_algorithms(True)
        try:
            gen = torch.Generator().manual_seed(seed)
            yield gen
        finally:
            torch.set_num_threads(old_threads)
            torch.use_deterministic_algorithms(old_det)


def atomic_torch_save(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """Save ``obj`` with :func:`torch.save` atomically (:func:`radsem.io.atomic_write_bytes`:
    a flushed temporary file renamed into place)."""
    import io

    from radsem.io.tables import atomic_write_bytes

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(buffer.getvalue(), path)


def safe_torch_load(path: str | os.PathLike, kind: str) -> dict[str, Any]:
    """Load a file written by :func:`atomic_torch_save` with ``weights_only=True``."""
    try:
        payload = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - anything unreadable is a data problem for the user
        raise DataError(f"{os.fspath(path)!r} is not a readable radsem {kind} file: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        raise DataError(f"{os.fspath(path)!r} does not hold a radsem {kind} model")
    return payload


class EarlyStopping:
    """Keep the weights of the epoch with the lowest monitored loss and say when to stop.

    An epoch improves on the best when its loss is lower by more than ``tol``; training stops
    after ``patience`` epochs in a row without an improvement.
    """

    def __init__(self, patience: int, tol: float = 1e-7) -> None:
        self.patience = int(patience)
        self.tol = float(tol)
        self.best = math.inf
        self.best_epoch = 0
        self.best_state: dict | None = None
        self._waited = 0

    def update(self, monitor: float, epoch: int, net: Any) -> bool:
        """Record one epoch's monitored loss; True when training should stop."""
        if monitor < self.best - self.tol:
            self.best, self.best_epoch, self._waited = monitor, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        self._waited += 1
        return self._waited >= self.patience
