"""The baseline every evaluation reports: a threshold on DWI and the largest component.

Restricted diffusion makes cervical tumours bright on high-b DWI. The baseline smooths the
DWI channel (on the T2 grid) slightly, keeps voxels above a fraction of the volume's 99.5th
percentile ("percent of maximum") or above Otsu's threshold, and keeps the largest
26-connected component with holes filled. ``fit`` picks the fraction that maximises the median
Dice on the training patients, so the baseline is tuned on the same data as the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from radsem.errors import DataError
from radsem.segment.postprocess import largest_component
from radsem.segment.volumes import Case

__all__ = ["ThresholdSegmenter"]

_FRACTIONS = tuple(np.round(np.arange(0.30, 0.86, 0.05), 2))


class ThresholdSegmenter:
    """Percent-of-maximum (or Otsu) threshold on DWI + largest connected component.

    Parameters
    ----------
    rule : {"percent", "otsu"}
    fraction : float
        Fraction of the 99.5th DWI percentile (rule ``"percent"``); replaced by the best
        fraction on the training patients when :meth:`fit` is called.
    """

    method = "threshold"

    def __init__(self, rule: str = "percent", fraction: float = 0.6) -> None:
        self.rule = rule
        self.fraction = fraction

    def _check(self) -> None:
        if self.rule not in ("percent", "otsu"):
            raise DataError(f"rule must be 'percent' or 'otsu', got {self.rule!r}")
        if not 0.0 < float(self.fraction) < 1.0:
            raise DataError(f"fraction must be in (0, 1), got {self.fraction!r}")

    @staticmethod
    def _dwi(case: Case) -> np.ndarray:
        from scipy import ndimage

        return ndimage.gaussian_filter(case.channels[1].astype(np.float64), 0.7)

    def _segment(self, dwi: np.ndarray, fraction: float) -> np.ndarray:
        if self.rule == "otsu":
            import SimpleITK as sitk

            image = sitk.GetImageFromArray(dwi.astype(np.float32))
            raw = sitk.GetArrayFromImage(sitk.OtsuThreshold(image, 0, 1, 128)) > 0
        else:
            lo, hi = np.percentile(dwi, [1.0, 99.5])
            raw = dwi > lo + fraction * (hi - lo)
        return largest_component(raw)

    def predict_case(self, case: Case) -> np.ndarray:
        """Binary mask of one case."""
        self._check()
        return self._segment(self._dwi(case), float(self.fraction))

    def fit(self, cohort: Any, patients: Sequence[str] | None = None) -> ThresholdSegmenter:
        """Choose the fraction with the best median Dice on the labelled patients (rule
        ``"percent"``; Otsu has nothing to fit)."""
        from radsem.segment.cohort import read_training_cases

        self._check()
        cases, self.failures_ = read_training_cases(cohort, patients)
        self.training_patients_ = [c.patient_id for c in cases]
        if self.rule == "otsu":
            return self
        dwis = [self._dwi(c) for c in cases]
        scores = []
        for frac in _FRACTIONS:
            dice = []
            for dwi, case in zip(dwis, cases):
                pred = self._segment(dwi, float(frac))
                inter = np.logical_and(pred, case.mask).sum()
                dice.append(2.0 * inter / max(pred.sum() + case.mask.sum(), 1))
            scores.append(float(np.median(dice)))
        self.fraction = float(_FRACTIONS[int(np.argmax(scores))])
        return self

    @property
    def model_hash(self) -> str:
        """A readable identifier of the rule (there are no weights to hash)."""
        if self.rule == "otsu":
            return "otsu"
        return f"percent-{self.fraction:.2f}"

    def __repr__(self) -> str:
        return f"ThresholdSegmenter(rule={self.rule!r}, fraction={self.fraction})"
