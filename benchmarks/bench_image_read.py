"""Cost of radsem's complete-decoding check when reading images, and the defect it catches.

Usage::

    python benchmarks/bench_image_read.py                  # 64 x 256 x 256 int16 and float32
    python benchmarks/bench_image_read.py --shape 16 48 48 # the simulator's default grid

For each volume (written as ``.nii.gz`` with radsem's writer) it prints the median wall time of
SimpleITK's ``ReadImage`` alone and of ``radsem.io.read_image`` (a full gzip decompression in
Python, the byte count against the header, the non-finite count, then the same ITK read), and
their ratio. It then cuts the file to its first half and shows what ITK returns (share of
zero voxels) and what radsem says.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radsem.errors import ImageError
from radsem.io import read_image, write_image


def _median_seconds(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 256, 256))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shape = tuple(args.shape)
    with tempfile.TemporaryDirectory() as folder:
        print(
            f"volume {shape[0]} x {shape[1]} x {shape[2]} (z, y, x), median of {args.repeats} reads"
        )
        print(f"{'dtype':8} {'MB (gz)':>8} {'ITK s':>8} {'radsem s':>9} {'ratio':>6}")
        for dtype in ("int16", "float32"):
            arr = rng.normal(300, 60, shape).clip(0, 3000).astype(dtype)
            path = Path(folder) / f"{dtype}.nii.gz"
            write_image(arr, path, (3.0, 0.7, 0.7))
            itk = _median_seconds(lambda p=path: sitk.ReadImage(str(p)), args.repeats)
            ours = _median_seconds(lambda p=path: read_image(p), args.repeats)
            print(
                f"{dtype:8} {path.stat().st_size / 1e6:8.2f} {itk:8.3f} {ours:9.3f} "
                f"{ours / itk:6.2f}"
            )
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        try:
            silent = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
            print(
                f"half file: ITK reads it without an error; {np.mean(silent == 0):.1%} of the "
                "voxels are 0"
            )
        except RuntimeError as exc:
            print(f"half file: ITK raises ({str(exc).strip().splitlines()[-1][:80]})")
        try:
            read_image(path)
        except ImageError as exc:
            print(f"half file: radsem: {str(exc).split(': ', 1)[1][:110]}")


if __name__ == "__main__":
    main()
