"""``radsem extract`` never writes features of a patient whose images were not fully read, never
writes over or inside its inputs, and commits its three tables together (issue 13)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main

pytest.importorskip("SimpleITK")
pytest.importorskip("radiomics")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    from radsem.simulate import simulate

    out = tmp_path_factory.mktemp("integrity") / "cohort"
    simulate(4, 11, out, image_shape=(6, 24, 24))
    return out


@pytest.fixture
def cohort(pristine, tmp_path):
    return shutil.copytree(pristine, tmp_path / "cohort")


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("cut", ["300 bytes", "half"])
def test_truncated_t2_is_a_recorded_failure(cohort, tmp_path, cut):
    t2 = cohort / "images" / "P002" / "t2.nii.gz"
    data = t2.read_bytes()
    t2.write_bytes(data[: 300 if cut == "300 bytes" else len(data) // 2])
    out = tmp_path / "out" / "features.csv"
    out.parent.mkdir()
    assert main(["extract", str(cohort), "--out", str(out), "--quiet"]) == 0
    feats = pd.read_csv(out, dtype={"patient_id": str})
    fails = pd.read_csv(tmp_path / "out" / "features.failures.csv", dtype={"patient_id": str})
    assert "P002" not in feats["patient_id"].tolist()
    assert feats["patient_id"].tolist() == ["P001", "P003", "P004"]
    assert fails["patient_id"].tolist() == ["P002"]
    assert "truncated" in fails["reason"].iloc[0]
    assert np.isfinite(feats.drop(columns="patient_id").to_numpy()).any(axis=1).all()


def test_missing_adc_is_recorded_per_patient(cohort, tmp_path):
    (cohort / "images" / "P003" / "adc.nii.gz").unlink()
    out = tmp_path / "features.csv"
    assert main(["extract", str(cohort), "--out", str(out), "--quiet"]) == 0
    feats = pd.read_csv(out, dtype={"patient_id": str})
    fails = pd.read_csv(tmp_path / "features.failures.csv", dtype={"patient_id": str})
    assert feats["patient_id"].tolist() == ["P001", "P002", "P004"]
    assert fails["patient_id"].tolist() == ["P003"]
    assert "adc.nii.gz: image file not found" in fails["reason"].iloc[0]


def test_nothing_is_written_when_every_patient_fails(cohort, tmp_path, capsys):
    for sub in (cohort / "images").iterdir():
        (sub / "t2.nii.gz").write_bytes((sub / "t2.nii.gz").read_bytes()[:300])
    out = tmp_path / "features.csv"
    assert main(["extract", str(cohort), "--out", str(out), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "no patient could be extracted (4 failed); nothing was written" in err
    assert "P001:" in err
    assert "truncated" in err
    assert list(tmp_path.iterdir()) == [cohort]  # no features, failures, diagnostics nor temp


@pytest.mark.parametrize(
    "target", ["clinical.csv", "images/P001/feat.csv", "features.csv", "link/clinical.csv"]
)
def test_output_over_or_inside_the_cohort_is_refused(cohort, tmp_path, target, capsys):
    (tmp_path / "link").symlink_to(cohort)
    before = _snapshot(cohort)
    base = tmp_path if target.startswith("link") else cohort
    code = main(["extract", str(cohort), "--out", str(base / target), "--quiet"])
    assert code == 3
    assert "inside the input folder" in capsys.readouterr().err
    assert _snapshot(cohort) == before


def test_cache_inside_the_cohort_is_refused(cohort, tmp_path, capsys):
    before = _snapshot(cohort)
    code = main(
        [
            "extract",
            str(cohort),
            "--out",
            str(tmp_path / "f.csv"),
            "--cache",
            str(cohort / "cache"),
            "--quiet",
        ]
    )
    assert code == 3
    assert not (cohort / "cache").exists()
    assert _snapshot(cohort) == before


def test_features_failures_and_diagnostics_are_committed_together(cohort, tmp_path, monkeypatch):
    """A failure while writing the last table leaves none of the three."""
    from radsem.io import tables

    real = tables._stage
    calls = []

    def failing(data, path):
        calls.append(path.name)
        if path.name == "features.csv":
            raise OSError(28, "No space left on device")
        return real(data, path)

    monkeypatch.setattr(tables, "_stage", failing)
    out = tmp_path / "features.csv"
    assert main(["extract", str(cohort), "--out", str(out), "--quiet"]) == 3
    assert calls == ["features.failures.csv", "features.diagnostics.csv", "features.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort"]


def test_complex_feature_values_become_nan_with_a_note():
    from radsem.radiomics.extract import _real_values

    values, notes = _real_values(
        {
            "diagnostics_x": "v",
            "original_glcm_MCC": np.complex128(0.5 + 0.25j),
            "original_firstorder_Mean": np.float64(3.0),
            "original_shape_Elongation": np.complex128(1 - 1.8e-17j),
            "original_shape_LeastAxisLength": np.complex128(4.5 + 0j),
        }
    )
    assert values["original_firstorder_Mean"] == 3.0
    assert np.isnan(values["original_glcm_MCC"])
    assert values["original_shape_Elongation"] == 1.0
    assert values["original_shape_LeastAxisLength"] == 4.5
    assert "diagnostics_x" not in values
    assert notes == [
        "original_glcm_MCC is complex (0.5+0.25j): recorded as NaN",
        "original_shape_Elongation is complex (1-1.8e-17j): the imaginary part is round-off, "
        "the real part is kept",
        "original_shape_LeastAxisLength is complex (4.5+0j): the imaginary part is round-off, "
        "the real part is kept",
    ]


def test_complex_values_from_pyradiomics_are_reported_in_diagnostics():
    """The tumour of tests/robustness test_mask_geometry_mismatch: a box, whose shape
    eigenvalues pyradiomics returns as complex numbers."""
    import SimpleITK as sitk

    from radsem.radiomics.extract import extract_series, resolve_settings

    rng = np.random.default_rng(9)
    shape = (10, 14, 14)
    base = rng.normal(100, 20, shape).astype(np.float32)
    mask = np.zeros(shape, np.uint8)
    mask[3:7, 4:10, 4:10] = 1
    image, roi = sitk.GetImageFromArray(base), sitk.GetImageFromArray(mask)
    feats, diag = extract_series(image, roi, resolve_settings(None), True, "P7 T2")
    notes = [w for w in diag["warnings"].split("; ") if " is complex (" in w]
    assert notes  # pyradiomics 3 returns the box's axis lengths as complex numbers
    assert "original_shape_MajorAxisLength is complex" in diag["warnings"]
    assert all(isinstance(v, float) for v in feats.values())
    assert feats["original_shape_MajorAxisLength"] == pytest.approx(6.8313, abs=1e-4)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc (Linux)")
def test_workers_die_with_a_killed_parent(pristine, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from radsem.simulate import simulate

    big = simulate(24, 3, tmp_path / "big", image_shape=(16, 64, 64))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [
                str(__import__("pathlib").Path(__file__).resolve().parents[2]),
                os.environ.get("PYTHONPATH", ""),
            ]
        ),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radsem.cli",
            "extract",
            str(big),
            "--out",
            str(tmp_path / "f.csv"),
            "--jobs",
            "2",
            "--quiet",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def children(pid):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid and fields[0] != "Z":
                    found.append(int(entry))
        return found

    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 60
    workers = []
    while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
        time.sleep(0.2)
        workers = children(proc.pid)
    assert len(workers) >= 2, "the extraction did not start two workers"
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    survivors = [w for w in workers if alive(w)]
    for w in survivors:  # do not leave them running if the test fails
        os.kill(w, signal.SIGKILL)
    assert not survivors


def test_a_missing_path_in_an_images_table_is_that_patients_failure(patients):
    from radsem.radiomics import extract_cohort

    table = patients.copy()
    table.loc[1, "adc"] = None
    result = extract_cohort(table, progress=False)
    assert result.features.index.tolist() == ["P0", "P2"]
    assert result.failures.to_dict("records") == [
        {"patient_id": "P1", "reason": "patient P1: no adc image given"}
    ]
