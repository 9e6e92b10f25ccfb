"""Inputs and outputs of the expression -> image generator: fixed-size tumour crops with the
mask as a fourth channel, gene tables checked against a gene list, and generated patients
written as a cohort folder (``images/<patient_id>/{t2,dwi,adc,mask}.nii.gz``).

Crops use a fixed physical box centred on the tumour (``extent_mm``) and no intensity
normalisation, so tumour size and absolute ADC survive the crop (the CAE's bounding-box crops
rescale every tumour to the grid and z-score every channel, which would erase both).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from radsem.deep.crops import Case, CropSpec, crop_case
from radsem.errors import DataError, DataWarning, ImageError

__all__ = [
    "GEN_CHANNELS",
    "GEN_SPEC",
    "ImageSet",
    "cut_image_set",
    "cohort_image_set",
    "check_gene_table",
    "binarise_mask",
    "expected_volume_threshold",
    "MASK_RULES",
    "write_generated_cohort",
]

#: Channels of a generator crop: the three sequences and the tumour mask (partial volume 0-1).
GEN_CHANNELS = ("t2", "dwi", "adc", "mask")
#: Default crop: 16 x 32 x 32 voxels over 64 x 80 x 80 mm around the tumour centroid.
GEN_SPEC = CropSpec(
    dims=3, shape=(16, 32, 32), extent_mm=(64.0, 80.0, 80.0), center="centroid", normalize="none"
)


@dataclass(frozen=True)
class ImageSet:
    """Crops with the mask channel, one per patient.

    Attributes
    ----------
    data : ndarray of float32, shape (n, 4, Z, Y, X)
        T2, DWI, ADC in their own units and the mask fraction in [0, 1].
    patient_id : pandas.Index
    spacing : tuple of 3 floats
        Voxel size ``(sz, sy, sx)`` in mm of the crop grid.
    """

    data: np.ndarray
    patient_id: pd.Index
    spacing: tuple[float, float, float]

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def subset(self, ids: Sequence[str]) -> ImageSet:
        """The crops of ``ids`` in that order."""
        pos = self.patient_id.get_indexer(pd.Index(ids))
        if (pos < 0).any():
            raise DataError(f"patients {list(pd.Index(ids)[pos < 0])[:5]} have no crop")
        return ImageSet(self.data[pos], self.patient_id[pos], self.spacing)


def crop_spacing(spec: CropSpec) -> tuple[float, float, float]:
    """Voxel size of the crop grid of a fixed-extent :class:`CropSpec`."""
    grid = spec.grid()
    if spec.extent_mm is None or spec.dims != 3:
        raise DataError("the generator needs a 3D CropSpec with a fixed extent_mm")
    return tuple(float(e) / g for e, g in zip(spec.extent_mm, grid, strict=True))


def cut_image_set(cases: Sequence[Case], spec: CropSpec = GEN_SPEC) -> ImageSet:
    """Crop cases (T2, DWI, ADC channels) together with their masks.

    The mask is cropped as an extra channel with the same trilinear sampling, so the fourth
    channel is the tumour fraction of each crop voxel.
    """
    spacing = crop_spacing(spec)
    if spec.normalize != "none":
        raise DataError("generator crops keep the image units: use normalize='none'")
    out = []
    for c in cases:
        image = np.asarray(c.image, dtype=np.float64)
        if image.shape[0] != 3:
            raise ImageError(
                f"patient {c.patient_id}: expected 3 sequences (t2, dwi, adc), got {image.shape[0]}"
            )
        stacked = np.concatenate([image, (np.asarray(c.mask) > 0)[None].astype(np.float64)])
        crop = crop_case(stacked, c.mask, c.spacing, spec)
        crop[3] = np.clip(crop[3], 0.0, 1.0)
        out.append(crop)
    if not out:
        raise DataError("no patients with images to crop")
    ids = pd.Index([str(c.patient_id) for c in cases], name="patient_id")
    if ids.has_duplicates:
        raise DataError(f"duplicated patient ids {sorted(set(ids[ids.duplicated()]))[:5]}")
    return ImageSet(np.stack(out).astype(np.float32), ids, spacing)


def cohort_image_set(cohort, spec: CropSpec = GEN_SPEC, progress: bool = False) -> ImageSet:
    """Read and crop every patient of a cohort that has images."""
    from radsem.deep.crops import load_cases

    images = getattr(cohort, "images", None)
    if not isinstance(images, pd.DataFrame) or images.empty:
        raise DataError("the cohort has no images (expected images/<patient_id>/...)")
    return cut_image_set(load_cases(cohort, progress=progress), spec)


def check_gene_table(
    table: pd.DataFrame, genes: Sequence[str] | None = None, what: str = "expression"
) -> pd.DataFrame:
    """Validate a patients x genes table: numeric, no missing values, known genes.

    Parameters
    ----------
    table : DataFrame
        Indexed by patient or with a ``patient_id`` column.
    genes : sequence of str, optional
        The genes a model was trained on: genes outside this list are an error naming them,
        genes of the list absent from the table are an error naming them; the result has the
        columns in this order.

    Returns
    -------
    DataFrame of float, indexed by ``patient_id`` (text).
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{what} must be a DataFrame of patients x genes")
    if "patient_id" in table.columns:
        table = table.set_index("patient_id")
    table = table.copy()
    table.index = pd.Index([str(i) for i in table.index], name="patient_id")
    if table.empty or table.shape[1] == 0:
        raise DataError(f"{what} has no patients or no genes")
    if table.index.has_duplicates:
        raise DataError(
            f"{what}: duplicated patient ids "
            f"{sorted(set(table.index[table.index.duplicated()]))[:5]}"
        )
    if genes is not None:
        genes = [str(g) for g in genes]
        unseen = [str(c) for c in table.columns if str(c) not in set(genes)]
        if unseen:
            raise DataError(
                f"{what} has {len(unseen)} gene(s) the model was not trained on: {unseen[:20]}"
            )
        absent = [g for g in genes if g not in set(map(str, table.columns))]
        if absent:
            raise DataError(f"{what} lacks {len(absent)} gene(s) the model needs: {absent[:20]}")
        table.columns = [str(c) for c in table.columns]
        table = table.loc[:, genes]
    nonnum = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if nonnum:
        raise DataError(f"{what}: non-numeric gene column(s) {nonnum[:10]}")
    values = table.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{what}: patient {table.index[r]!r}, column {table.columns[c]!r}: "
            f"missing or non-finite value ({int(bad.sum())} such cell(s) in all); "
            "impute or drop before using the generator"
        )
    return table.astype(float)


#: Rules turning a mask probability volume into a binary mask (see :func:`binarise_mask`).
MASK_RULES = ("0.5", "expected_volume")


def _largest_component(mask: np.ndarray) -> np.ndarray:
    if not mask.any():
        return mask
    labels, n = ndimage.label(mask)
    if n > 1:
        sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
        mask = labels == (int(np.argmax(sizes)) + 1)
    return mask


def expected_volume_threshold(prob: np.ndarray) -> float:
    """The level ``t`` at which ``prob >= t`` keeps ``round(sum(prob))`` voxels.

    ``prob`` is clipped to [0, 1] and ``V = round(sum(prob))`` (half-way cases round to even).
    ``t`` is the ``V``-th largest probability. When several voxels are tied at that value, the
    count cannot be exactly ``V`` without choosing among equal voxels; the tied level is then
    kept or dropped as a whole, whichever count is closer to ``V`` (kept when equally close),
    so the result never depends on the voxel order. Voxels of probability 0 are never kept;
    ``inf`` when ``V = 0`` (nothing kept).
    """
    p = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0).ravel()
    v = int(np.round(p.sum()))
    if v <= 0:
        return float("inf")
    positive = np.sort(p[p > 0.0])[::-1]
    if v >= positive.size:
        return float(positive[-1])
    t = float(positive[v - 1])
    n_keep = int(np.count_nonzero(positive >= t))
    above = positive[positive > t]
    if n_keep > v and above.size and abs(above.size - v) < abs(n_keep - v):
        return float(above[-1])
    return t


def binarise_mask(prob: np.ndarray, threshold: float = 0.5, rule: str = "0.5") -> np.ndarray:
    """Binarise a mask probability volume and keep its largest connected component.

    Parameters
    ----------
    prob : ndarray
        Mask probability (or partial-volume fraction) per voxel.
    threshold : float
        Level of the ``"0.5"`` rule (voxels with ``prob > threshold``).
    rule : {"0.5", "expected_volume"}
        ``"0.5"``: ``prob > threshold``. ``"expected_volume"``: ``prob >= t`` at the level
        ``t`` of :func:`expected_volume_threshold`, so the mask has ``round(sum(prob))``
        voxels (the expected tumour volume under the voxel probabilities; up to ties at
        ``t``, kept or dropped as a whole), whatever the overall level of the
        probabilities: a blurred map whose values all lie below 0.5 still gives a tumour of
        its expected size, and the volume moves smoothly with the probabilities instead of
        jumping where they cross 0.5. ``threshold`` is ignored. It uses nothing but ``prob``.

    Notes
    -----
    Both rules keep the largest 6-connected component *after* thresholding: the threshold
    (and so the matched volume) is computed on the whole map, and the component step then
    only drops detached fragments (so under ``"expected_volume"`` the mask has at most
    ``round(sum(prob))`` voxels, as many when the kept voxels are connected). Matching the
    volume inside the component instead would grow the tumour by the probability mass of
    stray fragments elsewhere in the crop.
    """
    if rule == "0.5":
        mask = np.asarray(prob) > threshold
    elif rule == "expected_volume":
        p = np.asarray(prob, dtype=np.float64)
        mask = p >= expected_volume_threshold(p)
    else:
        raise DataError(f"mask rule must be one of {MASK_RULES}, got {rule!r}")
    return _largest_component(mask)


def write_generated_cohort(
    images: np.ndarray,
    patient_id: Sequence[str],
    spacing: Sequence[float],
    out: str | os.PathLike,
    expression: pd.DataFrame | None = None,
    mask_rule: str = "expected_volume",
) -> Path:
    """Write generated crops as a cohort folder, atomically.

    Parameters
    ----------
    images : ndarray, shape (n, 4, Z, Y, X)
        T2, DWI, ADC (image units) and the mask probability.
    patient_id : sequence of str
    spacing : (sz, sy, sx) in mm
    out : path
        Must not exist or be an empty folder (never written over).
    expression : DataFrame, optional
        The conditioning expression, written as ``expression.csv``.
    mask_rule : {"expected_volume", "0.5"}
        How the mask probability becomes the written mask (:func:`binarise_mask`; default
        the expected-volume rule).

    Notes
    -----
    ``clinical.csv`` holds ``patient_id``, ``time = 0``, ``event = 0`` and ``generated = 1``:
    the cohort contract requires follow-up columns, and generated patients have no outcome,
    so these are placeholders that must never be analysed as outcomes. The mask is the
    probability binarised by ``mask_rule``, largest connected component; patients whose mask
    is empty are still written and reported by a :class:`~radsem.errors.DataWarning`.
    """
    from radsem.io import write_image, write_table
    from radsem.io.staging import staged_folder

    out = Path(out).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out}: exists and is not an empty folder (choose a new --out)")
    ids = [str(p) for p in patient_id]
    if len(ids) != len(images):
        raise DataError(f"{len(images)} generated images but {len(ids)} patient ids")
    if mask_rule not in MASK_RULES:
        raise DataError(f"mask rule must be one of {MASK_RULES}, got {mask_rule!r}")
    empty = []
    with staged_folder(out) as tmp:
        clinical = pd.DataFrame({"patient_id": ids, "time": 0.0, "event": 0, "generated": 1})
        write_table(clinical, tmp / "clinical.csv")
        if expression is not None:
            write_table(expression.rename_axis("patient_id").reset_index(), tmp / "expression.csv")
        for pid, vol in zip(ids, images, strict=True):
            sub = tmp / "images" / pid
            sub.mkdir(parents=True)
            for k, name in enumerate(("t2", "dwi", "adc")):
                write_image(
                    np.clip(vol[k], 0.0, None).astype(np.float32), sub / f"{name}.nii.gz", spacing
                )
            mask = binarise_mask(vol[3], rule=mask_rule)
            if not mask.any():
                empty.append(pid)
            write_image(mask.astype(np.uint8), sub / "mask.nii.gz", spacing)
    if empty:
        warnings.warn(
            f"{len(empty)} generated patient(s) have an empty tumour mask: {empty[:10]}",
            DataWarning,
            stacklevel=2,
        )
    return out
