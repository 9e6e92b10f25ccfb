"""Wall time of the three routes of radsem._dask.map_tasks on the SEM bootstrap, and proof
that they give the same draws.

Usage: python benchmarks/bench_dask_routes.py [R]

Prints one line per route (this process, 2 local processes, a 1-worker in-process Dask
LocalCluster) with the seconds taken and whether the bootstrap draws equal the local ones
bit for bit. Numbers depend on the machine's load; the equality must always hold.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def main(R: int = 200) -> int:
    import distributed

    import radsem
    from radsem.datasets import load

    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    fit = radsem.cfa(model, data=load("HolzingerSwineford1939"))
    start = time.perf_counter()
    local = fit.bootstrap(R=R, seed=11)
    print(f"this process      : {time.perf_counter() - start:6.1f} s  (R={R})")
    start = time.perf_counter()
    two = fit.bootstrap(R=R, seed=11, n_jobs=2)
    same = np.array_equal(two.draws, local.draws)
    print(f"2 local processes : {time.perf_counter() - start:6.1f} s  same draws: {same}")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        start = time.perf_counter()
        remote = fit.bootstrap(R=R, seed=11, client=cluster.scheduler_address)
        same_dask = np.array_equal(remote.draws, local.draws)
        print(f"Dask LocalCluster : {time.perf_counter() - start:6.1f} s  same draws: {same_dask}")
    return 0 if same and same_dask else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:])))
