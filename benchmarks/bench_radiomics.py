"""Benchmark of radsem.radiomics: seconds per patient, radsem's overhead over calling pyradiomics
directly, speed-up with 1 vs 2 worker processes (and a 2-worker Dask LocalCluster), and the
protocol-harmonisation counts on a simulated cohort.

Usage::

    python benchmarks/bench_radiomics.py              # 24 patients, grid 16x48x48
    python benchmarks/bench_radiomics.py --n 150      # the issue's cohort size
    python benchmarks/bench_radiomics.py --quick      # 6 patients, smoke test

The direct peer does the same preparation with a few lines of SimpleITK (mean normalisation,
linear resampling onto T2) and runs pyradiomics three times per patient in this process, with no
caching, validation, fault handling or bookkeeping. Cohort: ``radsem.simulate`` (one corrupted
patient is added to show the failure report).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def direct_pyradiomics(images: pd.DataFrame) -> float:
    """Seconds for pyradiomics called directly (same preparation, one process)."""
    import radiomics
    import SimpleITK as sitk
    from radiomics import featureextractor

    radiomics.setVerbosity(logging.ERROR)
    start = time.perf_counter()
    for row in images.itertuples(index=False):
        t2 = sitk.ReadImage(row.t2)
        mask = sitk.ReadImage(row.mask)
        for series in ("t2", "dwi", "adc"):
            img = sitk.Cast(sitk.ReadImage(getattr(row, series)), sitk.sitkFloat32)
            img = img * float(100.0 / sitk.GetArrayViewFromImage(img).mean())
            if series != "t2":
                img = sitk.Resample(
                    img, t2, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32
                )
            ex = featureextractor.RadiomicsFeatureExtractor(binWidth=10)
            if series != "t2":
                ex.enabledFeatures.pop("shape", None)
            ex.execute(img, mask)
    return time.perf_counter() - start


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--shape", default="16,48,48")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    n = 6 if args.quick else args.n
    shape = tuple(int(s) for s in args.shape.split(","))

    from radsem.io import read_cohort
    from radsem.radiomics import ProtocolHarmonizer, extract_cohort
    from radsem.simulate import simulate

    tmp = Path(tempfile.mkdtemp(prefix="bench_radiomics_"))
    folder = simulate(n, 0, tmp / "cohort", image_shape=shape)
    cohort = read_cohort(folder)
    images = cohort.images
    print(f"cohort: {len(images)} patients, T2 grid {shape}")

    rows = []
    t_direct = direct_pyradiomics(images)
    rows.append(("pyradiomics direct, 1 process", t_direct))
    t1, res = timed(extract_cohort, images, n_jobs=1, progress=False)
    rows.append(("radsem extract_cohort, n_jobs=1", t1))
    t2, _ = timed(extract_cohort, images, n_jobs=2, progress=False)
    rows.append(("radsem extract_cohort, n_jobs=2", t2))
    cache = tmp / "cache"
    extract_cohort(images, cache_dir=cache, progress=False)
    tc, _ = timed(extract_cohort, images, cache_dir=cache, progress=False)
    rows.append(("radsem, re-run from cache", tc))
    if not args.no_dask:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cl,
            Client(cl) as client,
        ):
            client.submit(sum, [1]).result()  # workers up before timing
            td, _ = timed(extract_cohort, images, dask_client=client, progress=False)
        rows.append(("radsem on Dask LocalCluster, 2 processes", td))

    table = pd.DataFrame(rows, columns=["run", "seconds"])
    table["s_per_patient"] = table["seconds"] / len(images)
    table["vs_direct"] = table["seconds"] / t_direct
    table["speed_up_vs_1_job"] = t1 / table["seconds"]
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(table.to_string(index=False))
    print(f"features per patient: {res.features.shape[1]}; failures: {len(res.failures)}")

    bad = images.iloc[:1].assign(patient_id="CORRUPT")
    broken = tmp / "broken.nii.gz"
    broken.write_bytes(b"\x1f\x8b\x08 not an image")
    bad["adc"] = str(broken)
    with_bad = extract_cohort(pd.concat([images.iloc[:2], bad]), progress=False)
    print("corrupted patient:", with_bad.failures.to_dict(orient="records"))

    protocol = cohort.protocol
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = ProtocolHarmonizer(protocol=protocol).fit(res.features)
    k = res.features.shape[1]
    print(
        f"protocol-associated features (BH q < 0.05): before {h.n_associated_before_}/{k}, "
        f"after {h.n_associated_after_}/{k}"
    )
    for w in caught:
        print("  note:", str(w.message)[:300])
    by_series = h.report_.groupby("series")["associated"].agg(["sum", "size"])
    print(by_series.to_string())
    print(
        f"median F-test p-value before {np.median(h.report_['pvalue']):.3g}, "
        f"after {np.median(h.report_['pvalue_after']):.3g}"
    )


if __name__ == "__main__":
    main()
