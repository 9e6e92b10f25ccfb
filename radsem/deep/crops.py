"""Tumour-centred crops of the MRI sequences, resampled to a fixed grid, as CAE input.

A crop is a box around the tumour mask (its bounding box, widened by ``margin``, centred on the
box centre or on the mask centroid), sampled on a fixed grid with trilinear interpolation, so
that every patient gives an array of the same shape whatever the tumour size or voxel spacing.
The sequences (T2, DWI, ADC) become channels; each channel is z-scored with the mean and
standard deviation of its intensities inside the tumour mask.

Arrays follow SimpleITK's ``GetArrayFromImage`` order: ``(z, y, x)``, spacing ``(sz, sy, sx)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage

from radsem._optional import require
from radsem.errors import DataError, ImageError

__all__ = [
    "Case",
    "CropSpec",
    "Crops",
    "crop_case",
    "crop_cases",
    "load_cases",
    "crop_cohort",
    "perturb_mask",
    "stack_crops",
]

DEFAULT_SHAPE_3D = (16, 32, 32)
DEFAULT_SHAPE_2D = (32, 32)


@dataclass(frozen=True)
class Case:
    """One patient's co-registered sequences and tumour mask.

    Attributes
    ----------
    image : ndarray, shape (C, Z, Y, X)
        The sequences as channels, all on the grid of the mask.
    mask : ndarray of bool, shape (Z, Y, X)
    spacing : tuple of 3 floats
        Voxel size ``(sz, sy, sx)`` in mm.
    patient_id : str
    channels : tuple of str
    """

    image: np.ndarray
    mask: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    patient_id: str = "case"
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class CropSpec:
    """How to cut a crop.

    Parameters
    ----------
    dims : {3, 2}
        3 gives a volume ``(C, *shape)``; 2 gives axial slices stacked as channels
        ``(C * k, *shape)`` (channel-major: all slices of T2, then DWI, then ADC).
    shape : tuple of int, optional
        Output grid: ``(z, y, x)`` for 3D (default ``(16, 32, 32)``), ``(y, x)`` for 2D
        (default ``(32, 32)``).
    margin : float
        Fraction of the bounding-box half-size added on each side (0.25: 25 % context).
    center : {"bbox", "centroid"}
        Centre of the crop: bounding-box centre or the mask's centre of mass.
    slices : "largest" or int
        2D only: the slice with the largest tumour area, or ``k`` consecutive slices around
        the crop centre.
    normalize : {"zscore", "none"}
        Per-channel z-score with the statistics of the voxels inside the mask.
    mask_background : bool
        Set voxels outside the (resampled) mask to 0 after normalisation.
    isotropic_inplane : bool
        Use the same physical size in y and x (the larger), so in-plane shape is not distorted.
    extent_mm : tuple of 3 floats, optional
        A fixed physical box ``(z, y, x)`` in mm centred on the tumour instead of the
        bounding box: keeps absolute tumour size in the crop (the bounding-box crop rescales
        every tumour to the grid, so size is then carried by shape features only).
    with_mask : bool
        3D only: append the tumour mask, sampled like the images (trilinear, so the tumour
        fraction per voxel in [0, 1], never normalised), as a last channel named ``"mask"``;
        the input of autoencoders with ``mask_channel=True``.
    """

    dims: int = 3
    shape: tuple[int, ...] | None = None
    margin: float = 0.25
    center: str = "bbox"
    slices: str | int = "largest"
    normalize: str = "zscore"
    mask_background: bool = False
    isotropic_inplane: bool = True
    extent_mm: tuple[float, float, float] | None = None
    with_mask: bool = False

    def grid(self) -> tuple[int, ...]:
        """The validated output grid."""
        if self.dims not in (2, 3):
            raise DataError(f"dims must be 2 or 3, got {self.dims!r}")
        shape = self.shape
        if shape is None:
            shape = DEFAULT_SHAPE_3D if self.dims == 3 else DEFAULT_SHAPE_2D
        shape = tuple(int(s) for s in shape)
        if len(shape) != self.dims or min(shape) < 1:
            raise DataError(
                f"shape must be {self.dims} positive integers for dims={self.dims}, "
                f"got {self.shape!r}"
            )
        if self.center not in ("bbox", "centroid"):
            raise DataError(f"center must be 'bbox' or 'centroid', got {self.center!r}")
        if self.normalize not in ("zscore", "none"):
            raise DataError(f"normalize must be 'zscore' or 'none', got {self.normalize!r}")
        if not np.isfinite(self.margin) or self.margin < 0:
            raise DataError(f"margin must be a non-negative number, got {self.margin!r}")
        if self.extent_mm is not None and (
            len(self.extent_mm) != 3 or not min(float(e) for e in self.extent_mm) > 0
        ):
            raise DataError(f"extent_mm must be three positive sizes in mm, got {self.extent_mm!r}")
        if self.with_mask and self.dims != 3:
            raise DataError("with_mask needs dims=3 (the mask is one extra channel of a volume)")
        if (
            self.dims == 2
            and self.slices != "largest"
            and (
                isinstance(self.slices, bool) or not isinstance(self.slices, int) or self.slices < 1
            )
        ):
            raise DataError(f"slices must be 'largest' or a positive integer, got {self.slices!r}")
        return shape


@dataclass(frozen=True)
class Crops:
    """A stack of crops, one per patient: the input of :class:`~radsem.deep.cae.ConvAutoencoder`.

    Attributes
    ----------
    data : ndarray of float32, shape (n, C, ...)
    patient_id : pandas.Index
    channels : tuple of str
    mask_source : Series, optional
        Per patient (index ``patient_id``): the mask each crop was cut with, ``reference`` or
        ``predicted:<method>:<model hash>`` (set by :func:`crop_cohort` from the images
        table's ``mask_source``, see :func:`radsem.segment.with_predicted_masks`).
    """

    data: np.ndarray
    patient_id: pd.Index
    channels: tuple[str, ...] = field(default=())
    mask_source: pd.Series | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return int(self.data.shape[0])


def _as_case_arrays(image: np.ndarray, mask: np.ndarray, spacing: Sequence[float] | None):
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image[None]
    if image.ndim != 4:
        raise ImageError(f"image must have shape (C, Z, Y, X) or (Z, Y, X), got {image.shape}")
    mask = np.asarray(mask)
    if mask.shape != image.shape[1:]:
        raise ImageError(f"mask shape {mask.shape} does not match image shape {image.shape[1:]}")
    mask = mask > 0
    if not mask.any():
        raise ImageError("the tumour mask is empty")
    if not np.isfinite(image[:, mask]).all():
        raise ImageError("the image has non-finite values inside the tumour mask")
    spacing = (1.0, 1.0, 1.0) if spacing is None else tuple(float(s) for s in spacing)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ImageError(f"spacing must be three positive numbers (sz, sy, sx), got {spacing}")
    return image, mask, np.asarray(spacing)


def _box(mask: np.ndarray, spacing: np.ndarray, spec: CropSpec) -> tuple[np.ndarray, np.ndarray]:
    """Centre and half-size (in voxels, per axis) of the crop box."""
    idx = np.argwhere(mask)
    lo, hi = idx.min(axis=0), idx.max(axis=0)
    center = (lo + hi) / 2.0 if spec.center == "bbox" else idx.mean(axis=0)
    if spec.extent_mm is not None:
        return center, np.asarray(spec.extent_mm, dtype=float) / 2.0 / spacing
    half = (hi - lo + 1) / 2.0 * (1.0 + spec.margin)
    if spec.isotropic_inplane:
        phys = half[1:] * spacing[1:]
        half[1:] = phys.max() / spacing[1:]
    return center, np.maximum(half, 0.5)


def _axis_coords(center: float, half: float, n: int) -> np.ndarray:
    return center - half + (np.arange(n) + 0.5) * (2.0 * half / n)


def _normalise(crop: np.ndarray, image: np.ndarray, mask: np.ndarray, spec: CropSpec) -> None:
    if spec.normalize == "none":
        return
    inside = image[:, mask]
    mean = inside.mean(axis=1)
    sd = inside.std(axis=1)
    sd[sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
    crop -= mean.reshape((-1,) + (1,) * (crop.ndim - 1))
    crop /= sd.reshape((-1,) + (1,) * (crop.ndim - 1))


def crop_case(
    image: np.ndarray,
    mask: np.ndarray,
    spacing: Sequence[float] | None = None,
    spec: CropSpec | None = None,
) -> np.ndarray:
    """Cut one tumour-centred crop.

    Parameters
    ----------
    image : ndarray, shape (C, Z, Y, X) or (Z, Y, X)
    mask : ndarray, shape (Z, Y, X)
        Non-zero inside the tumour.
    spacing : sequence of 3 floats, optional
        ``(sz, sy, sx)`` in mm; only used to keep the in-plane aspect ratio.
    spec : CropSpec, optional

    Returns
    -------
    ndarray of float32
        ``(C, *shape)`` for 3D (``(C + 1, *shape)`` with ``spec.with_mask``, the mask
        last), ``(C * k, *shape)`` for 2D.

    Notes
    -----
    Sampling points are the centres of an even grid over the box
    ``centre +- half * (1 + margin)``; values come from trilinear interpolation
    (:func:`scipy.ndimage.map_coordinates`, order 1) with edge values repeated outside the
    volume. 2D crops sample whole axial slices (no interpolation across z).
    """
    spec = spec or CropSpec()
    grid = spec.grid()
    image, mask, spacing = _as_case_arrays(image, mask, spacing)
    center, half = _box(mask, spacing, spec)
    if spec.dims == 3:
        axes = [_axis_coords(center[a], half[a], grid[a]) for a in range(3)]
    else:
        if spec.slices == "largest":
            zs = np.array([float(np.argmax(mask.sum(axis=(1, 2))))])
        else:
            k = int(spec.slices)
            start = int(np.round(center[0] - (k - 1) / 2.0))
            zs = np.clip(np.arange(start, start + k), 0, mask.shape[0] - 1).astype(float)
        axes = [zs] + [_axis_coords(center[a], half[a], grid[a - 1]) for a in (1, 2)]
    coords = np.stack(np.meshgrid(*axes, indexing="ij"))
    crop = np.stack([ndimage.map_coordinates(ch, coords, order=1, mode="nearest") for ch in image])
    _normalise(crop, image, mask, spec)
    if spec.mask_background:
        inside = ndimage.map_coordinates(mask.astype(float), coords, order=1, mode="constant") > 0.5
        crop[:, ~inside] = 0.0
    if spec.with_mask:
        frac = ndimage.map_coordinates(mask.astype(float), coords, order=1, mode="nearest")
        crop = np.concatenate([crop, np.clip(frac, 0.0, 1.0)[None]])
    if spec.dims == 2:
        crop = crop.reshape((-1,) + tuple(grid))
    return crop.astype(np.float32)


def stack_crops(
    crops: Iterable[np.ndarray], patient_id: Iterable, channels: Sequence[str] = ()
) -> Crops:
    """Stack per-patient crops into a :class:`Crops`, checking that all shapes agree."""
    crops = [np.asarray(c, dtype=np.float32) for c in crops]
    ids = pd.Index([str(p) for p in patient_id], name="patient_id")
    if len(crops) != len(ids):
        raise DataError(f"{len(crops)} crops but {len(ids)} patient ids")
    if not crops:
        raise DataError("no crops to stack")
    if ids.has_duplicates:
        raise DataError(f"duplicated patient ids: {sorted(set(ids[ids.duplicated()]))[:5]}")
    shapes = {c.shape for c in crops}
    if len(shapes) > 1:
        raise DataError(
            f"crops have mismatched shapes {sorted(shapes)}; cut them all with one CropSpec"
        )
    return Crops(np.stack(crops), ids, tuple(channels))


def crop_cases(
    cases: Sequence[Case], spec: CropSpec | None = None, progress: bool = False
) -> Crops:
    """Crop a list of :class:`Case` objects with one :class:`CropSpec`."""
    from radsem._progress import progress_bar

    spec = spec or CropSpec()
    out = [
        crop_case(c.image, c.mask, c.spacing, spec)
        for c in progress_bar(cases, desc="crops", enabled=progress)
    ]
    channels = cases[0].channels if cases else ()
    if spec.with_mask and channels:
        channels = tuple(channels) + ("mask",)
    return stack_crops(out, [c.patient_id for c in cases], channels)


def perturb_mask(
    mask: np.ndarray, operation: str, voxels: int = 1, in_plane: bool = True
) -> np.ndarray:
    """Dilate or erode a mask by ``voxels`` voxels (a re-segmentation perturbation).

    ``in_plane=True`` uses a 2D cross in each axial slice (radiologists outline per slice);
    otherwise a 3D 6-connected structuring element.
    """
    mask = np.asarray(mask) > 0
    structure = ndimage.generate_binary_structure(3, 1)
    if in_plane:
        structure[0] = structure[2] = False
    if operation == "dilate":
        out = ndimage.binary_dilation(mask, structure, iterations=voxels)
    elif operation == "erode":
        out = ndimage.binary_erosion(mask, structure, iterations=voxels)
    else:
        raise DataError(f"operation must be 'dilate' or 'erode', got {operation!r}")
    if not out.any():
        raise ImageError(f"eroding the mask by {voxels} voxel(s) leaves it empty")
    return out


def _read_case(row: pd.Series, sequences: Sequence[str]) -> Case:
    sitk = require("SimpleITK", "reading images")

    from radsem.io.images import check_plausible, read_image

    pid = row["patient_id"]

    def read(path: str, what: str):
        try:
            return read_image(path)
        except ImageError as exc:
            raise ImageError(f"patient {pid}: cannot read the {what} image: {exc}") from exc

    mask_img = read(row["mask"], "mask")
    mask = sitk.GetArrayFromImage(mask_img) > 0
    channels = []
    for seq in sequences:
        img = read(row[seq], seq)
        if (
            img.GetSize() != mask_img.GetSize()
            or not np.allclose(img.GetSpacing(), mask_img.GetSpacing())
            or not np.allclose(img.GetOrigin(), mask_img.GetOrigin())
            or not np.allclose(img.GetDirection(), mask_img.GetDirection())
        ):
            img = sitk.Resample(
                img, mask_img, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat64
            )
        values = sitk.GetArrayFromImage(img).astype(np.float64)
        check_plausible(values, mask, f"patient {pid} {seq.upper()}")
        channels.append(values)
    spacing = tuple(float(s) for s in reversed(mask_img.GetSpacing()))
    return Case(np.stack(channels), mask, spacing, str(pid), tuple(sequences))


def load_cases(
    cohort, sequences: Sequence[str] = ("t2", "dwi", "adc"), progress: bool = False
) -> list[Case]:
    """Read the NIfTI volumes of a cohort into :class:`Case` objects.

    Parameters
    ----------
    cohort : Cohort or DataFrame
        A :func:`radsem.io.read_cohort` result (its ``images`` table is used) or a table with
        ``patient_id``, one column per sequence and ``mask`` (file paths). Sequences whose
        geometry differs from the mask are linearly resampled onto the mask grid.
    """
    from radsem._progress import progress_bar

    images = getattr(cohort, "images", cohort)
    if not isinstance(images, pd.DataFrame):
        raise DataError("cohort must be a Cohort or a DataFrame of image paths")
    missing = [c for c in ("patient_id", "mask", *sequences) if c not in images.columns]
    if missing:
        raise DataError(f"image table lacks columns {missing}")
    rows = images.dropna(subset=["mask", *sequences])
    return [
        _read_case(r, sequences)
        for _, r in progress_bar(
            rows.iterrows(), total=len(rows), desc="reading images", enabled=progress
        )
    ]


def crop_cohort(
    cohort,
    spec: CropSpec | None = None,
    sequences: Sequence[str] = ("t2", "dwi", "adc"),
    progress: bool = True,
) -> Crops:
    """Read a cohort's images and crop every patient with complete images.

    The result records each patient's mask source (``Crops.mask_source``): the images
    table's ``mask_source`` column where present (a cohort completed with predicted masks),
    else ``reference``.
    """
    import dataclasses

    crops = crop_cases(load_cases(cohort, sequences, progress), spec, progress)
    images = getattr(cohort, "images", cohort)
    source = pd.Series("reference", index=crops.patient_id, name="mask_source", dtype=object)
    if "mask_source" in images.columns:
        known = images.assign(patient_id=images["patient_id"].astype(str)).set_index("patient_id")[
            "mask_source"
        ]
        source[:] = known.reindex(crops.patient_id).fillna("reference").to_numpy()
    return dataclasses.replace(crops, mask_source=source)
