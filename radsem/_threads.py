"""Torch threads when several workers share a machine.

Each local worker process or Dask worker thread that runs a torch model would by default start
one intra-op thread per core, so ``k`` workers on ``c`` cores ask for ``k * c`` threads and slow
each other down. Tasks mapped with ``map_tasks(..., torch_threads=True)`` run inside
:func:`limit_torch_threads` with ``max(1, cores // concurrent tasks)`` threads, and radsem's
torch models (:func:`radsem.deep._runtime.torch_session`) never ask for more than that cap.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

__all__ = ["torch_thread_budget", "limit_torch_threads", "capped_threads", "single_threaded"]

_local = threading.local()


def torch_thread_budget(concurrent: int, cores: int | None = None) -> int:
    """Threads per task when ``concurrent`` tasks share ``cores`` cores (default: this
    machine's): ``max(1, cores // concurrent)``."""
    cores = int(cores if cores is not None else (os.cpu_count() or 1))
    return max(1, cores // max(1, int(concurrent)))


def capped_threads(n_threads: int) -> int:
    """``n_threads``, lowered to the cap of an enclosing :func:`limit_torch_threads`."""
    cap = getattr(_local, "cap", None)
    return int(n_threads) if cap is None else max(1, min(int(n_threads), cap))


@contextlib.contextmanager
def limit_torch_threads(n_threads: int) -> Iterator[int]:
    """Run a block with torch using at most ``n_threads`` intra-op threads (restored on exit;
    a no-op when torch is not installed). Yields the number set."""
    n_threads = max(1, int(n_threads))
    previous_cap = getattr(_local, "cap", None)
    _local.cap = n_threads if previous_cap is None else min(previous_cap, n_threads)
    try:
        import torch
    except ImportError:
        torch = None
    before = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None:
            torch.set_num_threads(_local.cap)
        yield _local.cap
    finally:
        _local.cap = previous_cap
        if torch is not None:
            torch.set_num_threads(before)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run a block with one torch thread and one BLAS / OpenMP thread (threadpoolctl), both
    restored on exit: on a shared machine, extra BLAS threads spin rather than work (a
    128 x 2,000 SVD took 25 times the CPU time with two OpenBLAS threads)."""
    from threadpoolctl import threadpool_limits

    with limit_torch_threads(1), threadpool_limits(1):
        yield
