"""One way to run independent tasks: in this process, in local worker processes, or on Dask.

Every parallel step of radsem (radiomic extraction, SEM and optimism bootstraps, comparison
folds, ...) maps a function over a list of independent tasks. :func:`map_tasks` does that in
one documented way:

- ``client=None, n_jobs=1``: a plain loop in this process;
- ``client=None, n_jobs>1`` (or ``-1``, all cores): joblib worker processes on this machine;
- ``client=`` a ``distributed.Client`` or a scheduler address (``"tcp://host:8786"``, what
  ``--scheduler ADDRESS`` passes): the tasks are submitted to that Dask cluster; objects every
  task needs (``shared=``) are sent to the workers once.

Results come back in the order of ``items`` whatever the route, and the tasks carry their own
seeds (drawn before they are dispatched), so the same seed gives the same numbers locally and
on a cluster. A progress bar (stderr, only on a terminal) counts finished tasks.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from radsem._progress import progress_bar
from radsem.errors import DataError

__all__ = ["map_tasks", "dask_client", "worker_count"]

_log = logging.getLogger(__name__)


def worker_count(n_jobs: int) -> int:
    """Number of local workers for ``n_jobs`` (``-1``: all cores)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or not (n_jobs >= 1 or n_jobs == -1):
        raise DataError(f"n_jobs must be a positive whole number or -1 (all cores), got {n_jobs!r}")
    return max(1, os.cpu_count() or 1) if n_jobs == -1 else n_jobs


@contextlib.contextmanager
def dask_client(client: Any) -> Iterator[Any]:
    """The ``distributed.Client`` for ``client``: a client is used as is; an address (str)
    connects a new client, closed on exit.

    Raises
    ------
    MissingExtraError
        Never for Dask itself (a core dependency); :class:`DataError` for anything that is
        neither a client nor an address.
    """
    if isinstance(client, str):
        from distributed import Client

        new = Client(client, set_as_default=False)
        try:
            yield new
        finally:
            new.close()
        return
    if not (hasattr(client, "submit") and hasattr(client, "gather")):
        raise DataError(
            "client must be a dask.distributed.Client or a scheduler address "
            f"such as 'tcp://127.0.0.1:8786', got {type(client).__name__}"
        )
    yield client


def _torch_limited(item: Any, *, _fn: Callable[..., Any], _threads: int, **shared: Any) -> Any:
    """``_fn(item, **shared)`` with torch limited to ``_threads`` threads (in the worker)."""
    from radsem._threads import limit_torch_threads

    with limit_torch_threads(_threads):
        return _fn(item, **shared)


def _limited(fn: Callable[..., Any], concurrent: int) -> Callable[..., Any]:
    import functools

    from radsem._threads import torch_thread_budget

    budget = torch_thread_budget(concurrent)
    _log.debug("torch limited to %d thread(s) per task (%d concurrent)", budget, concurrent)
    return functools.partial(_torch_limited, _fn=fn, _threads=budget)


def _on_dask(fn, items, client, shared, bar, torch_threads=False) -> list:
    from distributed import as_completed

    with dask_client(client) as c:
        _log.debug(
            "%d task(s) of %s on the Dask cluster at %s",
            len(items),
            getattr(fn, "__name__", "a function"),
            c.scheduler.address,
        )
        if torch_threads:
            workers = c.scheduler_info().get("workers", {})
            fn = _limited(fn, sum(int(w.get("nthreads", 1)) for w in workers.values()) or 1)
        # one copy of each shared object per worker, not one per task; hash=False gives every
        # scatter its own key: with content-hashed keys, scattering the same array again right
        # after the previous call's future was released can race with the scheduler forgetting
        # that key, and the new tasks then fail with "lost dependencies"
        remote = {k: c.scatter([v], broadcast=True, hash=False)[0] for k, v in shared.items()}
        futures = [c.submit(fn, item, **remote, pure=False) for item in items]
        for _ in as_completed(futures, loop=c.loop):
            bar.update()
        return c.gather(futures)


def _on_fork(fn, items, workers, shared, bar) -> list:
    import functools
    import multiprocessing

    out = []
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for value in pool.imap(functools.partial(fn, **shared), items):
            out.append(value)
            bar.update()
    return out


def _on_loky(fn, items, workers, shared, bar) -> list:
    """Tasks in ``workers`` fresh interpreters (loky) started for this call and shut down at
    its end. joblib's process-wide reusable executor is not used: workers it kept from an
    earlier call (resized, or timed out while idle and respawned) were seen to deadlock a
    later call in a long-lived process (a test session)."""
    import functools

    from joblib.externals.loky import ProcessPoolExecutor

    # several workers on few cores: keep BLAS/OpenMP pools from oversubscribing (torch is
    # limited per task by _limited)
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = {k: threads for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    call = functools.partial(fn, **shared)
    out = []
    with ProcessPoolExecutor(max_workers=workers, env=env) as pool:
        futures = [pool.submit(call, item) for item in items]
        for future in futures:
            out.append(future.result())
            bar.update()
    return out


def _on_joblib(fn, items, workers, shared, bar, backend) -> list:
    from joblib import Parallel, delayed, parallel_config

    if backend == "multiprocessing":
        return _on_fork(fn, items, workers, shared, bar)

    if backend == "loky":
        return _on_loky(fn, items, workers, shared, bar)

    with parallel_config(backend=backend):
        gen = Parallel(n_jobs=workers, return_as="generator")(
            delayed(fn)(item, **shared) for item in items
        )
        out = []
        for value in gen:
            out.append(value)
            bar.update()
    return out


def map_tasks(
    fn: Callable[..., Any],
    items: Iterable[Any],
    *,
    client: Any = None,
    n_jobs: int = 1,
    shared: Mapping[str, Any] | None = None,
    progress: bool = False,
    desc: str | None = None,
    backend: str = "loky",
    torch_threads: bool = False,
) -> list:
    """``[fn(item, **shared) for item in items]``, locally, in worker processes or on Dask.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for worker processes and Dask workers).
    items : iterable
        One task each; carry their own seeds so that results do not depend on the route.
    client : distributed.Client or str, optional
        Run on this Dask cluster (a client, or a scheduler address); ``n_jobs`` is then
        ignored (the cluster's workers decide).
    n_jobs : int
        Local worker processes when ``client`` is None (1: this process; -1: all cores).
    shared : mapping, optional
        Keyword arguments passed to every call; sent to each Dask worker only once.
    progress : bool
        Show a progress bar over finished tasks (stderr, only when it is a terminal).
    desc : str, optional
        Label of the progress bar.
    backend : str
        joblib backend of the local workers: ``"loky"`` (fresh interpreters), or
        ``"multiprocessing"`` (forked workers, which start in milliseconds; not with torch).
    torch_threads : bool
        The tasks run torch models: when several run at once (local workers, or the threads
        of the Dask workers), each runs with ``max(1, cores // concurrent tasks)`` torch
        threads (:func:`radsem._threads.limit_torch_threads`); in this process the caller's
        setting stands.

    Returns
    -------
    list
        The results in the order of ``items``.

    Examples
    --------
    >>> from radsem._dask import map_tasks
    >>> map_tasks(pow, [1, 2, 3], shared={"exp": 2})
    [1, 4, 9]
    """
    items = list(items)
    shared = dict(shared or {})
    with progress_bar(total=len(items), enabled=progress, desc=desc) as bar:
        if client is not None:
            return _on_dask(fn, items, client, shared, bar, torch_threads)
        workers = min(worker_count(n_jobs), max(len(items), 1))
        _log.debug(
            "%d task(s) of %s in %s",
            len(items),
            getattr(fn, "__name__", "a function"),
            "this process" if workers == 1 else f"{workers} {backend} worker processes",
        )
        if workers == 1:
            out = []
            for item in items:
                out.append(fn(item, **shared))
                bar.update()
            return out
        if torch_threads:
            fn = _limited(fn, workers)
        return _on_joblib(fn, items, workers, shared, bar, backend)
