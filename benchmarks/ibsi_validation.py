"""radsem's DICOM route on the public IBSI data sets: CT phantom and soft-tissue sarcoma patients.

Usage::

    export RADSEM_IBSI_DATA=/path/to/extracted/theibsi/data_sets
    python benchmarks/ibsi_validation.py                  # phantom + 3 patients
    python benchmarks/ibsi_validation.py --patients 2 --all-masks

The data are **not** shipped with radsem (the CT phantom is CC BY-NC 3.0, see its LICENSE.md);
``RADSEM_IBSI_DATA`` (or ``--data``) points at a local copy of https://github.com/theibsi/data_sets
holding ``ibsi_1_ct_radiomics_phantom/`` and ``ibsi_validation/``. Nothing is downloaded and
nothing is written next to the data (scratch work goes to a temporary folder). Printed:

1. CT phantom: the DICOM series against the published NIfTI (voxels, geometry); the RTSTRUCT
   rasterised by radsem against the published NIfTI mask (voxel counts, Dice, and for every
   voxel on which they differ its distance to the nearest contour edge); features with the CT
   settings from the DICOM route and the NIfTI route, with the same mask and with each mask.
2. Validation patients (CT, PET, MR T1 with one RTSTRUCT per series): ``radsem import-dicom``
   and ``radsem extract`` from the command line; imported voxels against the published NIfTI;
   the rasterised CT mask against the published CT mask; the SUV factor used; a copy of one
   PET with ``DecayCorrection`` removed (a per-patient failure); identifying header values
   searched for in every output file.
3. ``--all-masks``: every patient's CT, PET and MR RTSTRUCT rasterised and compared with the
   published NIfTI masks (where the snapshot holds them).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PHANTOM = "ibsi_1_ct_radiomics_phantom"
VALIDATION = "ibsi_validation"
#: validation folder name -> (radsem series name, modality, published NIfTI prefix)
SERIES = {"CT": ("ct", "CT", "CT"), "PET": ("pet", "PT", "PET"), "MR_T1": ("t1", "MR", "MR_T1")}
RULES = (
    "- {series: ct, modality: CT, description: ['*']}\n"
    "- {series: pet, modality: PT, description: ['*']}\n"
    "- {series: t1, modality: MR, description: ['*t1*']}\n"
)
#: header fields whose values must never reach an output
IDENTIFYING = (
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "FrameOfReferenceUID",
    "SOPInstanceUID",
    "AccessionNumber",
    "InstitutionName",
    "SeriesDescription",
    "StudyID",
)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two boolean arrays."""
    return float(2.0 * np.sum(a & b) / (np.sum(a) + np.sum(b)))


def _array(image) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(image)


def _geometry_gap(a, b) -> float:
    return float(
        max(
            np.max(np.abs(np.subtract(a.GetOrigin(), b.GetOrigin()))),
            np.max(np.abs(np.subtract(a.GetSpacing(), b.GetSpacing()))),
            np.max(np.abs(np.subtract(a.GetDirection(), b.GetDirection()))),
        )
    )


def edge_distances(rtstruct: Path, reference, voxels: np.ndarray) -> list[float]:
    """Distance (in voxels) from each (z, y, x) voxel centre to the nearest contour edge of the
    only ROI of ``rtstruct`` on that slice."""
    import pydicom

    from radsem.io.rtstruct import _to_index

    ds = pydicom.dcmread(str(rtstruct))
    contours = [
        _to_index(np.asarray(c.ContourData, float).reshape(-1, 3), reference)
        for c in ds.ROIContourSequence[0].ContourSequence
    ]
    out = []
    for z, y, x in voxels:
        best = np.inf
        for c in contours:
            if int(round(float(np.mean(c[:, 2])))) != z:
                continue
            a, b = c[:, :2], np.roll(c[:, :2], -1, axis=0)
            d = b - a
            length2 = np.maximum(np.sum(d * d, axis=1), 1e-300)
            t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / length2, 0, 1)
            near = a + t[:, None] * d
            best = min(best, float(np.min(np.hypot(near[:, 0] - x, near[:, 1] - y))))
        out.append(best)
    return out


def compare_features(a: pd.Series, b: pd.Series) -> tuple[float, str, int]:
    """Largest relative difference, the feature where it occurs, number of identical values."""
    rel = (a - b).abs() / b.abs().clip(lower=1e-12)
    return float(rel.max()), str(rel.idxmax()), int((a == b).sum())


def phantom(root: Path) -> dict:
    """Section 1: the CT phantom (DICOM + RTSTRUCT vs the published NIfTI)."""
    import SimpleITK as sitk

    from radsem.io.dicom_series import read_dicom_series
    from radsem.io.rtstruct import rasterize_rtstruct
    from radsem.radiomics import extract_cohort

    base = root / PHANTOM
    rs = base / "dicom" / "mask" / "DCM_RS_00060.dcm"
    t0 = time.perf_counter()
    series = read_dicom_series(base / "dicom" / "image")
    t_read = time.perf_counter() - t0
    nifti = sitk.ReadImage(str(base / "nifti" / "image" / "phantom.nii.gz"))
    published = _array(sitk.ReadImage(str(base / "nifti" / "mask" / "mask.nii.gz"))) > 0
    dicom_voxels, nifti_voxels = _array(series.image), _array(nifti)
    t0 = time.perf_counter()
    mask = rasterize_rtstruct(
        rs,
        series.image,
        reference_uids={
            "series_uid": series.series_uid,
            "frame_of_reference_uid": series.frame_of_reference_uid,
        },
    )
    t_rast = time.perf_counter() - t0
    ours = _array(mask).astype(bool)
    only_ours = np.argwhere(ours & ~published)
    only_pub = np.argwhere(published & ~ours)
    out = {
        "size": series.image.GetSize(),
        "spacing": series.image.GetSpacing(),
        "voxels_identical": bool(np.array_equal(dicom_voxels.astype(float), nifti_voxels)),
        "max_voxel_difference": float(np.max(np.abs(dicom_voxels - nifti_voxels))),
        "geometry_gap": _geometry_gap(series.image, nifti),
        "mask_voxels_radsem": int(ours.sum()),
        "mask_voxels_published": int(published.sum()),
        "dice": dice(ours, published),
        "only_radsem": len(only_ours),
        "only_published": len(only_pub),
        "edge_distance_only_radsem": edge_distances(rs, series.image, only_ours),
        "edge_distance_only_published": edge_distances(rs, series.image, only_pub),
        "t_read": t_read,
        "t_rasterise": t_rast,
    }
    dicom_dir, nifti_file = base / "dicom" / "image", base / "nifti" / "image" / "phantom.nii.gz"
    published_file = base / "nifti" / "mask" / "mask.nii.gz"
    table = pd.DataFrame(
        {
            "patient_id": [
                "dicom_rtstruct",
                "nifti_rtstruct",
                "dicom_published",
                "nifti_published",
            ],
            "ct": [dicom_dir, nifti_file, dicom_dir, nifti_file],
            "mask": [rs, rs, published_file, published_file],
        }
    )
    t0 = time.perf_counter()
    res = extract_cohort(table, series={"ct": "CT"}, progress=False)
    out["t_extract_4"] = time.perf_counter() - t0
    f = res.features
    out["n_features"] = f.shape[1]
    out["routes_same_mask_rtstruct"] = compare_features(
        f.loc["dicom_rtstruct"], f.loc["nifti_rtstruct"]
    )
    out["routes_same_mask_published"] = compare_features(
        f.loc["dicom_published"], f.loc["nifti_published"]
    )
    rel = (f.loc["nifti_rtstruct"] - f.loc["nifti_published"]).abs() / f.loc[
        "nifti_published"
    ].abs().clip(lower=1e-12)
    out["masks_max_rel"] = (float(rel.max()), str(rel.idxmax()))
    out["masks_median_rel"] = float(rel.median())
    out["voxel_volume"] = {
        k: float(f.loc[k, "ct_original_shape_VoxelVolume"]) for k in f.index.tolist()
    }
    return out


def _secrets(tree: Path) -> set[str]:
    from radsem.io.dicom_series import scan_dicom_files

    found = set()
    for _, ds in scan_dicom_files(tree):
        for key in IDENTIFYING:
            value = str(getattr(ds, key, "") or "").strip()
            if len(value) >= 6:
                found.add(value)
    return found


def _leaks(files: list[Path], secrets: set[str]) -> list[tuple[str, str]]:
    hits = []
    for path in files:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        hits += [(path.name, s) for s in secrets if s.encode() in data]
    return hits


def _cli(args: list[str]) -> tuple[int, str]:
    from radsem.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(args)
    return code, err.getvalue()


def validation(root: Path, patients: list[str], work: Path) -> dict:
    """Section 2: import-dicom + extract from the command line on a few patients."""
    import pydicom
    import SimpleITK as sitk

    src = root / VALIDATION / "dicom"
    tree = work / "tree"
    for pid in patients:
        shutil.copytree(src / pid, tree / pid)
    damaged = f"{patients[-1]}_nodecay"  # one PET without decay information
    shutil.copytree(src / patients[-1], tree / damaged)
    for f in (tree / damaged).rglob("*.dcm"):
        ds = pydicom.dcmread(f)
        ds.PatientID = damaged
        if ds.Modality == "PT":
            ds.Units = "BQML"
            del ds.DecayCorrection
        ds.save_as(f)
    rules = work / "rules.yaml"
    rules.write_text(RULES)
    (work / "private").mkdir()
    cohort, ids = work / "cohort", work / "private" / "ids.csv"
    t0 = time.perf_counter()
    code, err = _cli(
        ["import-dicom", str(tree), "--out", str(cohort), "--mapping", str(ids)]
        + ["--rules", str(rules), "--roi", "GTV*", "--quiet"]
    )
    t_import = time.perf_counter() - t0
    mapping = pd.read_csv(ids, dtype=str, keep_default_na=False)
    out = {"import_exit": code, "mapping": mapping, "t_import": t_import, "stderr": err}
    features = work / "out" / "features.csv"
    features.parent.mkdir()
    t0 = time.perf_counter()
    out["extract_exit"], _ = _cli(["extract", str(cohort), "--out", str(features), "--quiet"])
    out["t_extract"] = time.perf_counter() - t0
    feats = pd.read_csv(features, dtype={"patient_id": str})
    diag = pd.read_csv(work / "out" / "features.diagnostics.csv", dtype={"patient_id": str})
    out["features_shape"] = feats.shape
    out["suv_factor"] = diag.loc[diag["series"] == "pet", ["patient_id", "suv_factor"]]
    rows = []
    pub = root / VALIDATION / "nifti"
    for original, pseudo in mapping.loc[
        mapping["status"] == "imported", ["original_patient_id", "patient_id"]
    ].itertuples(index=False):
        for folder, (name, _, prefix) in SERIES.items():
            published = pub / original / f"{prefix}_image.nii.gz"
            if not published.is_file():
                rows.append((original, folder, "absent", np.nan, np.nan))
                continue
            a = sitk.ReadImage(str(cohort / "images" / pseudo / f"{name}.nii.gz"))
            b = sitk.ReadImage(str(published))
            va, vb = _array(a).astype(np.float64), _array(b).astype(np.float64)
            rel = np.abs(va - vb) / np.maximum(np.abs(vb), 1e-6)
            rows.append(
                (
                    original,
                    folder,
                    "same" if va.shape == vb.shape else "shape",
                    float(rel.max()),
                    _geometry_gap(a, b),
                )
            )
        ours = _array(sitk.ReadImage(str(cohort / "images" / pseudo / "mask.nii.gz"))) > 0
        theirs = _array(sitk.ReadImage(str(pub / original / "CT_mask.nii.gz"))) > 0
        rows.append(
            (original, "CT mask", f"{ours.sum()} vs {theirs.sum()}", 1 - dice(ours, theirs), np.nan)
        )
    out["images"] = pd.DataFrame(
        rows, columns=["patient", "series", "shape/voxels", "max_rel_diff (1-Dice)", "geometry_gap"]
    )
    outputs = [p for p in cohort.rglob("*") if p.is_file()] + list(features.parent.iterdir())
    out["leaks"] = _leaks(outputs, _secrets(tree) | {str(tree), str(src)})
    out["n_secrets"] = len(_secrets(tree))
    return out


def all_masks(root: Path, verbose: bool = False) -> pd.DataFrame:
    """Section 3: every RTSTRUCT of the validation set against the published NIfTI mask."""
    import SimpleITK as sitk

    from radsem.errors import ImageError
    from radsem.io.dicom_series import read_dicom_series
    from radsem.io.rtstruct import rasterize_rtstruct

    rows = []
    src, pub = root / VALIDATION / "dicom", root / VALIDATION / "nifti"
    for patient in sorted(p.name for p in src.iterdir() if p.is_dir()):
        for folder, (_, _, prefix) in SERIES.items():
            published = pub / patient / f"{prefix}_mask.nii.gz"
            if not published.is_file():
                continue
            try:
                series = read_dicom_series(src / patient / folder / "image")
                ours = _array(
                    rasterize_rtstruct(src / patient / folder / "mask" / "RS.dcm", series.image)
                ).astype(bool)
            except ImageError as exc:
                rows.append((patient, folder, -1, -1, np.nan, str(exc)[:80]))
                continue
            theirs = _array(sitk.ReadImage(str(published))) > 0
            if ours.shape != theirs.shape:
                rows.append((patient, folder, int(ours.sum()), int(theirs.sum()), np.nan, "grid"))
                continue
            note = ""
            extra = np.argwhere(ours & ~theirs)
            if len(extra) or np.any(theirs & ~ours):
                far = max(
                    edge_distances(src / patient / folder / "mask" / "RS.dcm", series.image, extra),
                    default=np.nan,
                )
                note = (
                    f"{len(extra)} only radsem (max {far:.1g} voxel from an edge), "
                    f"{int(np.sum(theirs & ~ours))} only published"
                )
            rows.append(
                (patient, folder, int(ours.sum()), int(theirs.sum()), dice(ours, theirs), note)
            )
            if verbose:
                print(" ", *rows[-1][:5], flush=True)
    return pd.DataFrame(rows, columns=["patient", "series", "radsem", "published", "dice", "note"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("RADSEM_IBSI_DATA"))
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--all-masks", action="store_true")
    args = parser.parse_args(argv)
    if not args.data or not (Path(args.data) / PHANTOM).is_dir():
        print("set RADSEM_IBSI_DATA (or --data) to an extracted copy of theibsi/data_sets")
        return 2
    root = Path(args.data)
    pd.set_option("display.width", 150)
    print("== 1. IBSI 1 CT radiomics phantom ==")
    ph = phantom(root)
    print(f"grid {ph['size']} voxels, spacing {tuple(round(s, 6) for s in ph['spacing'])} mm")
    print(
        f"DICOM series vs published NIfTI: voxels identical {ph['voxels_identical']} "
        f"(max |diff| {ph['max_voxel_difference']:g} HU); largest origin/spacing/direction "
        f"gap {ph['geometry_gap']:.3g}"
    )
    print(
        f"RTSTRUCT vs published mask: {ph['mask_voxels_radsem']} vs "
        f"{ph['mask_voxels_published']} voxels, Dice {ph['dice']:.6f}; only radsem "
        f"{ph['only_radsem']}, only published {ph['only_published']}"
    )
    for label in ("only_radsem", "only_published"):
        dist = ph[f"edge_distance_{label}"]
        if dist:
            print(
                f"  {label}: distance of voxel centre to contour edge (voxels) max {max(dist):.2g}"
            )
    for key in ("routes_same_mask_rtstruct", "routes_same_mask_published"):
        rel, where, same = ph[key]
        print(
            f"features DICOM vs NIfTI route ({key[16:]} mask): {same}/{ph['n_features']} "
            f"identical, largest relative difference {rel:.2g} ({where})"
        )
    rel, where = ph["masks_max_rel"]
    print(
        f"features RTSTRUCT mask vs published mask (NIfTI image): largest relative difference "
        f"{rel:.2g} ({where}), median {ph['masks_median_rel']:.2g}"
    )
    print("VoxelVolume (mm^3):", {k: round(v, 2) for k, v in ph["voxel_volume"].items()})
    print(
        f"times: read series {ph['t_read']:.2f} s, rasterise {ph['t_rasterise']:.2f} s, "
        f"4 extractions {ph['t_extract_4']:.1f} s"
    )
    patients = sorted(p.name for p in (root / VALIDATION / "dicom").iterdir())[: args.patients]
    print(f"\n== 2. ibsi_validation: import-dicom + extract on {', '.join(patients)} ==")
    with tempfile.TemporaryDirectory(prefix="radsem_ibsi_") as tmp:
        val = validation(root, patients, Path(tmp))
    print(f"import-dicom exit {val['import_exit']} in {val['t_import']:.1f} s; mapping:")
    print(val["mapping"].to_string(index=False))
    print(
        f"extract exit {val['extract_exit']} in {val['t_extract']:.1f} s; "
        f"features {val['features_shape']}"
    )
    print("SUV factor applied (the PET series are stored in GML, i.e. already SUVbw):")
    print(val["suv_factor"].to_string(index=False))
    print(val["images"].to_string(index=False))
    print(
        f"identifying values searched ({val['n_secrets']} distinct header values + paths): "
        f"{len(val['leaks'])} found {val['leaks'][:5]}"
    )
    if args.all_masks:
        print("\n== 3. every RTSTRUCT vs the published NIfTI masks ==")
        t0 = time.perf_counter()
        table = all_masks(root, verbose=True)
        ok = table.dropna(subset=["dice"])
        print(table.groupby("series")["dice"].agg(["count", "min", "median"]).to_string())
        print(
            f"exact (Dice 1): {int((ok['dice'] == 1).sum())} of {len(ok)}; "
            f"{time.perf_counter() - t0:.0f} s"
        )
        print(table[table["dice"].isna() | (table["dice"] < 1)].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
