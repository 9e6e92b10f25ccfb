"""Bad images for radsem.radiomics.extract_patient: each gives an ImageError/DataError."""

from __future__ import annotations

import numpy as np
import pytest

from radsem.errors import DataError, ImageError

sitk = pytest.importorskip("SimpleITK")
pytest.importorskip("radiomics")

from radsem.radiomics import extract_patient, read_volume  # noqa: E402

SHAPE = (10, 14, 14)


def _write(folder, name, arr, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), ext=".nii.gz"):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    path = folder / f"{name}{ext}"
    sitk.WriteImage(img, str(path))
    return path


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vols")
    rng = np.random.default_rng(9)
    base = rng.normal(100, 20, SHAPE).astype(np.float32)
    mask = np.zeros(SHAPE, np.uint8)
    mask[3:7, 4:10, 4:10] = 1
    files = {
        "t2": _write(folder, "t2", base),
        "dwi": _write(folder, "dwi", base * 1.1),
        "adc": _write(folder, "adc", base * 0.9),
        "mask": _write(folder, "mask", mask),
    }
    return folder, base, mask, files


def _call(files, **override):
    args = {**files, **override}
    return extract_patient(args["t2"], args["dwi"], args["adc"], args["mask"], name="P7")


@pytest.mark.parametrize("ext", [".nii.gz", ".nii", ".nrrd"])
@pytest.mark.parametrize("where", ["tumour", "background"])
def test_nan_voxels_are_reported_not_read_as_zero(volumes, ext, where):
    folder, base, mask, files = volumes
    arr = base.copy()
    arr[(mask == 1) if where == "tumour" else (mask == 0)] = np.nan
    path = _write(folder, f"nan_{where}", arr, ext=ext)
    with pytest.raises(ImageError, match=r"voxel\(s\) are NaN or infinite"):
        _call(files, t2=path)
    with pytest.raises(ImageError, match="NaN or infinite"):
        read_volume(path)


def test_infinite_voxel(volumes):
    folder, base, _, files = volumes
    arr = base.copy()
    arr[0, 0, 0] = np.inf
    with pytest.raises(ImageError, match="1 voxel"):
        _call(files, adc=_write(folder, "inf", arr))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda m: np.zeros_like(m), "the mask is empty"),
        (lambda m: m * 2, "no voxel with label 1"),
        (lambda m: m[:-1], "not on the T2 grid"),
    ],
)
def test_bad_masks(volumes, make, match):
    folder, _, mask, files = volumes
    with pytest.raises(ImageError, match=match):
        _call(files, mask=_write(folder, "badmask", make(mask)))


def test_mask_geometry_mismatch(volumes):
    folder, _, mask, files = volumes
    with pytest.raises(ImageError, match="not on the T2 grid"):
        _call(files, mask=_write(folder, "shifted", mask, spacing=(2.0, 1.0, 1.0)))
    with pytest.raises(ImageError, match="does not overlap the tumour"):
        _call(files, dwi=_write(folder, "far", volumes[1], origin=(500.0, 500.0, 500.0)))


def test_unreadable_and_2d_files(volumes, tmp_path):
    _, base, mask, files = volumes
    garbage = tmp_path / "g.nii.gz"
    garbage.write_bytes(b"garbage" * 20)
    with pytest.raises(ImageError, match="cannot be read as an image"):
        _call(files, t2=garbage)
    with pytest.raises(ImageError, match="image file not found"):
        _call(files, dwi=tmp_path / "none.nii.gz")
    flat = _write(tmp_path, "flat", base[0])
    with pytest.raises(ImageError, match="expected a 3D volume, got 2D"):
        _call(files, t2=flat)


def test_single_voxel_tumour_and_negative_mean(volumes):
    folder, base, mask, files = volumes
    one = np.zeros_like(mask)
    one[5, 7, 7] = 1
    with pytest.raises(ImageError, match="single voxel|too small"):
        _call(files, mask=_write(folder, "one", one))
    with pytest.raises(ImageError, match="whole-volume mean is"):
        _call(files, t2=_write(folder, "neg", base - 500))


@pytest.mark.parametrize("settings", [{"binWidth": -1}, {"noSuchSetting": 1}])
def test_bad_settings_are_data_errors(volumes, settings):
    files = volumes[3]
    with pytest.raises(DataError, match="rejects the extraction settings"):
        extract_patient(files["t2"], files["dwi"], files["adc"], files["mask"], settings=settings)


def _features_and_protocol():
    import pandas as pd

    rng = np.random.default_rng(4)
    ids = pd.Index([f"P{i}" for i in range(30)], name="patient_id")
    X = pd.DataFrame(rng.normal(size=(30, 3)), index=ids, columns=["t2_a", "dwi_b", "adc_c"])
    prot = pd.concat(
        [
            pd.DataFrame({"patient_id": ids, "series": s, "tr": rng.normal(4000, 300, 30)})
            for s in ("T2", "DWI", "ADC")
        ]
    )
    batch = pd.Series(rng.choice(["s1", "s2"], 30), index=ids)
    return X, prot, batch


@pytest.mark.parametrize("duplicate", ["column", "patient"])
def test_harmonisers_reject_duplicates(duplicate):
    from radsem.radiomics import ComBatHarmonizer, ProtocolHarmonizer

    X, prot, batch = _features_and_protocol()
    if duplicate == "column":
        bad = X.set_axis(["t2_a", "t2_a", "adc_c"], axis=1)
    else:
        bad = X.set_axis(["P0"] * len(X))
    what = "feature column" if duplicate == "column" else "patient id"
    with pytest.raises(DataError, match=f"duplicated {what}"):
        ProtocolHarmonizer(protocol=prot, parameters=["tr"], diffusion_parameters=[]).fit(bad)
    with pytest.raises(DataError, match="duplicated"):
        ComBatHarmonizer(batch=batch).fit(bad)
