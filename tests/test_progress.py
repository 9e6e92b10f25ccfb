"""Progress bars: silent stand-ins when switched off, usable inside joblib worker processes."""

from __future__ import annotations

from joblib import Parallel, delayed

from radsem._progress import progress_bar


def _count_in_worker(n: int) -> int:
    bar = progress_bar(range(n), enabled=False, desc="x")
    total = 0
    for _ in bar:
        total += 1
        bar.set_postfix(loss="0.1")
        bar.update()
    bar.close()
    return total


def test_silent_bar_iterates_and_ignores_calls():
    assert _count_in_worker(4) == 4
    with progress_bar(enabled=False) as bar:
        bar.update(3)


def test_silent_bar_works_in_loky_workers():
    counts = Parallel(n_jobs=2, backend="loky")(delayed(_count_in_worker)(k) for k in (2, 3))
    assert counts == [2, 3]


def test_enabled_bar_is_tqdm(capsys):
    bar = progress_bar(range(2), enabled=True, desc="y")
    assert list(bar) == [0, 1]
    bar.close()
