"""Outputs are atomic and complete, or absent (issue 13): flushed to disk before the rename,
several tables committed together, no empty folder after a failed run, no temporary folder of
a killed run left for ever, and bounded image sizes instead of a MemoryError."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main
from radsem.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fsyncs(monkeypatch):
    """Kinds ('file' / 'folder') of what os.fsync was called on."""
    calls: list[str] = []
    real = os.fsync

    def record(fd):
        calls.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        return real(fd)

    monkeypatch.setattr(os, "fsync", record)
    return calls


def test_atomic_writer_flushes_file_then_folder(tmp_path, fsyncs):
    from radsem.io import atomic_write_bytes, write_table

    atomic_write_bytes(b"abc", tmp_path / "a.txt")
    assert fsyncs == ["file", "folder"]
    write_table(pd.DataFrame({"x": [1.5]}), tmp_path / "t.csv")
    assert fsyncs == ["file", "folder"] * 2
    assert (tmp_path / "a.txt").read_bytes() == b"abc"


def test_image_writer_flushes_file_then_folder(tmp_path, fsyncs):
    pytest.importorskip("SimpleITK")
    from radsem.io import write_image

    write_image(np.zeros((4, 8, 8), np.int16), tmp_path / "x.nii.gz", (1.0, 1.0, 1.0))
    assert fsyncs == ["file", "folder"]


def test_write_many_is_all_or_none(tmp_path, monkeypatch):
    from radsem.io import atomic_write_many, tables

    (tmp_path / "a.csv").write_bytes(b"old a")
    real_stage, real_replace = tables._stage, os.replace

    def stage_fails_on_b(data, path):
        if path.name == "b.csv":
            raise OSError(28, "No space left on device")
        return real_stage(data, path)

    monkeypatch.setattr(tables, "_stage", stage_fails_on_b)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_many({tmp_path / "a.csv": b"new a", tmp_path / "b.csv": b"new b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    assert (tmp_path / "a.csv").read_bytes() == b"old a"
    monkeypatch.setattr(tables, "_stage", real_stage)

    def replace_fails_on_b(src, dst):
        if Path(dst).name == "b.csv":
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(tables.os, "replace", replace_fails_on_b)
    with pytest.raises(OSError, match="Input/output error"):
        atomic_write_many({tmp_path / "a.csv": b"new a", tmp_path / "b.csv": b"new b"})
    monkeypatch.setattr(tables.os, "replace", real_replace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    assert (tmp_path / "a.csv").read_bytes() == b"old a"
    atomic_write_many({tmp_path / "a.csv": b"new a", tmp_path / "b.csv": b"new b"})
    assert (tmp_path / "a.csv").read_bytes() == b"new a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


def test_no_direct_file_writes_outside_the_atomic_writers():
    """Every file radsem writes goes through radsem.io's atomic writers (the demo wrote
    sem/summary.txt directly)."""
    direct = re.compile(
        r"\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wax]b?['\"]|"
        r"\.to_csv\(\s*[^)\s]|\.to_parquet\(\s*[^)\s]|torch\.save\([^)]*,\s*[^h]"
    )
    allowed = {"radsem/io/tables.py", "radsem/io/images.py"}
    found = []
    for path in sorted((ROOT / "radsem").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if direct.search(line) and "buffer" not in line and "buf," not in line:
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


# ------------------------------------------------------------------ failed runs leave nothing


def test_failed_fit_leaves_no_output_folder(tmp_path, capsys):
    from radsem.datasets import load

    data = load("HolzingerSwineford1939")[["x1", "x2", "x3", "x4", "x5", "x6"]].copy()
    data.loc[3, "x2"], data.loc[5, "x2"] = 1e308, -1e308
    data.to_csv(tmp_path / "big.csv", index=False)
    (tmp_path / "m.lav").write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n")
    out = tmp_path / "deep" / "fit"
    assert (
        main(
            [
                "fit",
                str(tmp_path / "m.lav"),
                str(tmp_path / "big.csv"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 3
    )
    err = capsys.readouterr().err
    assert "column 'x2'" in err
    assert "too large for double precision" in err
    assert not (tmp_path / "deep").exists()


def test_failed_compare_leaves_no_output_folder(tmp_path, capsys):
    from radsem.simulate import simulate_cohort

    cohort = simulate_cohort(n=60, seed=2, images=False)
    table = cohort.clinical.merge(cohort.latent, on="patient_id")
    table["event"] = 0
    table.loc[:1, "event"] = 1  # two events: three folds cannot be stratified
    table.to_csv(tmp_path / "patients.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        "data: {table: patients.csv, id: patient_id}\nfamilies:\n  m:\n    family: "
        "clinical_cox\n    covariates: [E6, E7]\ncross_validation: {folds: 3, repeats: 1, "
        "seed: 3}\noutput: results\n"
    )
    assert main(["compare", str(tmp_path / "c.yaml"), "--quiet"]) == 3
    assert "cannot stratify" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def _failing_write(folder, planned):
    from radsem.workflows._files import output_folder

    with output_folder(folder, planned) as out:
        (out / "x.csv").write_text("half")
        raise RuntimeError("fit failed")


def test_output_folder_removes_only_what_the_failed_run_created(tmp_path):
    with pytest.raises(RuntimeError, match="fit failed"):
        _failing_write(tmp_path / "a" / "b", ["x.csv"])
    assert not (tmp_path / "a").exists()
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "mine.txt").write_text("user file")
    (keep / "y.csv").write_text("earlier run")
    with pytest.raises(RuntimeError, match="fit failed"):
        _failing_write(keep, ["x.csv", "y.csv"])
    assert sorted(p.name for p in keep.iterdir()) == ["mine.txt", "y.csv"]


# ------------------------------------------------------------------ simulate


def test_killed_simulate_leaves_a_temporary_folder_the_next_run_removes(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "cohort"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radsem.cli",
            "simulate",
            "--n",
            "30",
            "--image-shape",
            "16,64,64",
            "--out",
            str(out),
            "--quiet",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    temps: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if temps and (temps[0] / "images").is_dir():
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait(10)
    assert temps, "simulate finished before it could be killed"
    assert not out.exists()
    assert temps[0].is_dir()
    # a folder that merely looks similar, and one of a live process, are kept
    other = tmp_path / ".cohort.abcdefgh.tmp"
    other.mkdir()
    live = tmp_path / ".cohort.livelive.tmp"
    live.mkdir()
    import socket

    (live / ".radsem-writing").write_text(f"{os.getppid()} {socket.gethostname()}\n")
    assert main(["simulate", "--n", "5", "--no-images", "--out", str(out), "--quiet"]) == 0
    assert not temps[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".cohort.abcdefgh.tmp",
        ".cohort.livelive.tmp",
        "cohort",
    ]


def test_image_shape_is_bounded(tmp_path, capsys):
    from radsem.simulate import simulate_cohort

    assert main(["simulate", "--out", str(tmp_path / "c"), "--image-shape", "2000,2000,2000"]) == 2
    err = capsys.readouterr().err
    assert "8,000,000,000 voxels" in err
    assert "4,194,304" in err
    with pytest.raises(DataError, match="limit is 4,194,304 voxels per volume"):
        simulate_cohort(3, 0, image_shape=(2000, 2000, 2000))
    with pytest.raises(DataError, match="voxels per cohort"):
        simulate_cohort(100, 0, image_shape=(64, 256, 256))
    assert len(simulate_cohort(100, 0, images=False, image_shape=(64, 256, 256)).clinical) == 100
    assert not (tmp_path / "c").exists()


def test_failed_demo_leaves_no_output_and_keeps_an_earlier_one(tmp_path, monkeypatch):
    """A demo that fails part-way writes nothing (it used to leave a half-written folder), and an
    earlier demo's folder it was to replace stays as it was."""
    import radsem.demo as demo

    def broken(*args, **kwargs):
        raise RuntimeError("step failed")

    monkeypatch.setattr(demo, "_harmonise", broken)
    out = tmp_path / "demo"
    with pytest.raises(RuntimeError, match="step failed"):
        demo.run_demo(out, n=40, seed=1, jobs=1, epochs=1, progress=False)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary folder left either

    earlier = out / "cohort" / "clinical.csv"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("patient_id\nP1\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="step failed"):
        demo.run_demo(out, n=40, seed=1, jobs=1, epochs=1, progress=False, overwrite=True)
    assert earlier.read_text(encoding="utf-8") == "patient_id\nP1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
