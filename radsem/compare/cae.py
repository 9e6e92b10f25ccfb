"""CAE-feature Cox model: a convolutional autoencoder trained on the training fold's tumour crops.

The images do not live in the comparison frame: the family holds a crop store (a
:class:`radsem.deep.crops.Crops` stack, a mapping ``patient id -> array`` or a callable), and the
frame identifies each row's patient by its index or an id column. ``fit`` looks up the training
patients' crops only, trains the autoencoder on them, and fits a (ridge) Cox model on the
standardised codes; ``predict_risk`` encodes the test patients' crops with the trained encoder.
torch is imported only when the family is fitted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from radsem.compare.models import ClinicalCox, CoxFamily, _Scaler
from radsem.errors import DataError, ModelSpecificationError

__all__ = ["CAECox", "CropStore"]


class CropStore:
    """Patient id -> crop array, from a ``Crops`` stack, a mapping or a callable.

    Parameters
    ----------
    source : Crops, mapping or callable
        :class:`radsem.deep.crops.Crops` (ids in ``patient_id``), ``{patient_id: array}``, or
        ``f(patient_id) -> array`` (``None`` or ``KeyError`` when the patient has no crop).
    """

    def __init__(self, source):
        self.source = source

    def _lookup(self, pid) -> np.ndarray | None:
        src = self.source
        if hasattr(src, "data") and hasattr(src, "patient_id"):  # radsem.deep.crops.Crops
            if not hasattr(self, "_pos"):
                self._pos = {str(p): i for i, p in enumerate(src.patient_id)}
            i = self._pos.get(str(pid))
            return None if i is None else src.data[i]
        if isinstance(src, Mapping):
            return src.get(pid, src.get(str(pid)))
        if callable(src):
            try:
                return src(pid)
            except KeyError:
                return None
        raise ModelSpecificationError(
            "crops must be a radsem.deep Crops stack, a mapping patient id -> array, or a callable"
        )

    def stack(self, ids: Sequence) -> np.ndarray:
        """The crops of ``ids`` stacked on a first axis; DataError names patients without one."""
        arrays, missing = [], []
        for pid in ids:
            a = self._lookup(pid)
            if a is None:
                missing.append(str(pid))
            else:
                arrays.append(np.asarray(a, dtype=np.float32))
        if missing:
            more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
            raise DataError(
                f"no image crop for patient(s) {', '.join(missing[:5])}{more}; "
                "crop every patient of the comparison (or drop those without "
                "images from the data)"
            )
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise DataError(
                f"crops have mismatched shapes {sorted(shapes)[:3]}; cut them all with one CropSpec"
            )
        return np.stack(arrays)


class CAECox(CoxFamily):
    """Cox model on convolutional-autoencoder codes learned from the training fold's crops.

    Parameters
    ----------
    crops : Crops, mapping or callable
        The image crops of the cohort (see :class:`CropStore`), e.g.
        ``radsem.deep.crop_cohort(cohort, CropSpec(shape=(8, 16, 16)))``. Crops are cut per
        patient from that patient's own image and mask (nothing is learned across patients), so
        cutting them once for the whole cohort is not a leak; the autoencoder is the learned step.
    id_column : str, optional
        Column of the frame holding the patient id; default: the frame's index.
    autoencoder : ConvAutoencoder, optional
        An unfitted :class:`radsem.deep.ConvAutoencoder`, cloned and trained in every fold.
        Default: a small fast one, ``ConvAutoencoder(latent_dim, dims, channels=None,
        base_channels=4, n_blocks=2, epochs, batch_size=8, patience=5, random_state,
        progress=False)`` with ``dims`` taken from the crops.
    latent_dim, epochs : int
        Settings of the default autoencoder.
    penalizer : float
        Ridge penalty of the Cox model on the standardised codes.
    clinical : sequence of str
        Clinical covariates added to the codes (``"advanced"`` as in :class:`ClinicalCox`).
    random_state : int, optional
        Seed of the default autoencoder (weights, validation split, batch order).

    Attributes
    ----------
    autoencoder_ : ConvAutoencoder
        The autoencoder trained on this fold's training patients.
    train_ids_ : list
        The patient ids whose crops trained it.

    Notes
    -----
    Leakage control: the autoencoder (and its early-stopping validation split, per-channel
    standardisation and weights), the scaling of the codes and the Cox model are fitted on the
    training rows only; test crops are only encoded. Checked in tests/compare by an instrumented
    autoencoder that records the patients it is trained on.
    """

    def __init__(
        self,
        crops,
        id_column: str | None = None,
        autoencoder=None,
        latent_dim: int = 4,
        epochs: int = 10,
        penalizer: float = 1.0,
        clinical: Sequence[str] = (),
        random_state: int | None = 0,
    ):
        self.crops = crops
        self.id_column = id_column
        self.autoencoder = autoencoder
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.penalizer = penalizer
        self.clinical = clinical
        self.random_state = random_state

    @classmethod
    def from_cohort(
        cls,
        cohort: object | str | os.PathLike,
        spec=None,
        sequences: Sequence[str] = ("t2", "dwi", "adc"),
        **kwargs,
    ) -> CAECox:
        """Crop a cohort (a :func:`radsem.io.read_cohort` result or its folder) once.

        ``spec`` defaults to ``CropSpec(shape=(8, 16, 16))`` (small and fast); other keyword
        arguments go to :class:`CAECox`.
        """
        from radsem.deep.crops import CropSpec, crop_cohort

        if isinstance(cohort, str | os.PathLike):
            from radsem.io import read_cohort

            cohort = read_cohort(cohort)
        crops = crop_cohort(cohort, spec or CropSpec(shape=(8, 16, 16)), sequences, progress=False)
        return cls(crops, **kwargs)

    def check_data(self, data: pd.DataFrame) -> None:
        """Raise DataError before any fold runs when a patient of ``data`` has no crop."""
        CropStore(self.crops).stack(self._ids(data))

    def _ids(self, frame: pd.DataFrame) -> list:
        if self.id_column is None:
            return list(frame.index)
        if self.id_column not in frame.columns:
            raise DataError(f"CAECox needs the patient-id column {self.id_column!r} in the data")
        return list(frame[self.id_column])

    def _make_autoencoder(self, dims: int):
        from sklearn.base import clone

        from radsem.deep.cae import ConvAutoencoder

        if self.autoencoder is not None:
            return clone(self.autoencoder)
        return ConvAutoencoder(
            latent_dim=self.latent_dim,
            dims=dims,
            channels=None,
            base_channels=4,
            n_blocks=2,
            epochs=self.epochs,
            batch_size=8,
            patience=5,
            random_state=self.random_state,
            progress=False,
        )

    def _encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        from radsem.deep.crops import Crops

        ids = self._ids(frame)
        data = self.store_.stack(ids)
        codes = self.autoencoder_.transform(Crops(data, pd.Index([str(i) for i in ids])))
        codes.index = frame.index
        return codes

    def _fit_design(self, train, time, event):
        from radsem.deep.crops import Crops

        if self.penalizer < 0:
            raise ModelSpecificationError(f"penalizer must be >= 0, got {self.penalizer}")
        self.store_ = CropStore(self.crops)
        ids = self._ids(train)
        data = self.store_.stack(ids)
        if data.ndim not in (4, 5):
            raise DataError(
                f"crops must be (channels, y, x) or (channels, z, y, x) arrays, got "
                f"{data.shape[1:]}"
            )
        self.train_ids_ = ids
        self.autoencoder_ = self._make_autoencoder(data.ndim - 2).fit(
            Crops(data, pd.Index([str(i) for i in ids]))
        )
        self.scaler_ = _Scaler().fit(self._encode(train))

    def _design(self, frame):
        X = self.scaler_.transform(self._encode(frame))
        if self.clinical:
            X = pd.concat([X, ClinicalCox(self.clinical)._design(frame)], axis=1)
        return X
