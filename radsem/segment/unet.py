"""The learned segmenter: a small 3D attention U-Net trained on patches, scikit-learn style.

Training draws patches (two thirds centred on a tumour voxel, the rest anywhere), flips them
in-plane and minimises MONAI's ``DiceCELoss`` with Adam and a cosine learning-rate schedule.
Prediction runs MONAI's sliding-window inference (Gaussian-weighted overlapping patches) over
the whole volume, then :func:`~radsem.segment.postprocess.grow_region` keeps one tumour.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from radsem.errors import DataError
from radsem.segment.postprocess import grow_region
from radsem.segment.volumes import Case

__all__ = ["UNetSegmenter"]


def _pad_to(arr: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Edge-pad the last three axes of ``arr`` up to ``size``."""
    extra = [max(int(s) - n, 0) for s, n in zip(size, arr.shape[-3:])]
    if not any(extra):
        return arr
    pad = [(0, 0)] * (arr.ndim - 3) + [(e // 2, e - e // 2) for e in extra]
    return np.pad(arr, pad, mode="edge")


class UNetSegmenter:
    """3D attention U-Net (MONAI) on T2 + DWI + ADC resampled to the T2 grid.

    Parameters
    ----------
    epochs : int
        Passes over the training patients.
    patch_size : (z, y, x)
        Training and sliding-window patch in voxels.
    patches_per_case : int
        Patches drawn per patient and epoch.
    architecture : {"attention_unet", "unet"}
    channels : sequence of int
        Feature maps per resolution level.
    strides : sequence
        Down-sampling per level (int or (z, y, x)).
    batch_size : int
    learning_rate : float
    positive_fraction : float
        Share of patches centred on a tumour voxel.
    high, low : float
        Region-growing thresholds of the clean-up (seed, growth).
    random_state : int
        Seed of every random step (patches, flips, initial weights).
    n_threads : int
        torch intra-op threads.
    progress : bool
        Print one line per epoch.

    Attributes
    ----------
    training_patients_ : list of str
    history_ : list of float
        Mean training loss per epoch.
    fit_seconds_ : float
    failures_ : list of (patient_id, reason)
        Labelled patients that could not be read for training.
    """

    def __init__(
        self,
        epochs: int = 8,
        patch_size: Sequence[int] = (16, 32, 32),
        patches_per_case: int = 2,
        architecture: str = "attention_unet",
        channels: Sequence[int] = (8, 16, 32),
        strides: Sequence[Any] = ((1, 2, 2), (2, 2, 2)),
        batch_size: int = 4,
        learning_rate: float = 3e-3,
        positive_fraction: float = 0.67,
        high: float = 0.5,
        low: float = 0.3,
        random_state: int = 0,
        n_threads: int = 1,
        progress: bool = False,
    ) -> None:
        self.epochs = epochs
        self.patch_size = patch_size
        self.patches_per_case = patches_per_case
        self.architecture = architecture
        self.channels = channels
        self.strides = strides
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.positive_fraction = positive_fraction
        self.high = high
        self.low = low
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress
        self.network_ = None
        self.model_hash_: str | None = None

    # -- configuration ---------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        for name in ("epochs", "patches_per_case", "batch_size", "n_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise DataError(f"{name} must be a positive whole number, got {value!r}")
        patch = tuple(int(p) for p in self.patch_size)
        if len(patch) != 3 or min(patch) < 4:
            raise DataError(f"patch_size must be 3 integers >= 4, got {self.patch_size!r}")
        if not 0.0 < float(self.low) <= float(self.high) < 1.0:
            raise DataError(f"need 0 < low <= high < 1, got low={self.low}, high={self.high}")
        if not 0.0 <= float(self.positive_fraction) <= 1.0:
            raise DataError("positive_fraction must be in [0, 1]")
        if not float(self.learning_rate) > 0:
            raise DataError(f"learning_rate must be positive, got {self.learning_rate!r}")
        strides = [list(s) if isinstance(s, (list, tuple)) else int(s) for s in self.strides]
        return {
            "architecture": self.architecture,
            "channels": [int(c) for c in self.channels],
            "strides": strides,
            "patch_size": list(patch),
            "high": float(self.high),
            "low": float(self.low),
        }

    # -- training --------------------------------------------------------------------------
    def _patches(
        self, rng: np.random.Generator, cases: list[Case], patch: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for case in cases:
            image = _pad_to(case.channels, patch)
            mask = _pad_to(case.mask.astype(np.uint8), patch)
            tumour = np.argwhere(mask > 0)
            for _ in range(self.patches_per_case):
                if len(tumour) and rng.random() < self.positive_fraction:
                    centre = tumour[rng.integers(len(tumour))]
                else:
                    centre = [rng.integers(n) for n in mask.shape]
                start = [
                    int(np.clip(c - p // 2, 0, n - p)) for c, p, n in zip(centre, patch, mask.shape)
                ]
                sl = tuple(slice(s, s + p) for s, p in zip(start, patch))
                x, y = image[(slice(None), *sl)], mask[sl]
                for axis in (1, 2):  # in-plane flips (the y and x axes of the patch)
                    if rng.random() < 0.5:
                        x, y = np.flip(x, axis + 1), np.flip(y, axis)
                xs.append(np.ascontiguousarray(x))
                ys.append(np.ascontiguousarray(y)[None])
        order = rng.permutation(len(xs))
        return np.stack(xs)[order], np.stack(ys)[order]

    def fit(self, cohort: Any, patients: Sequence[str] | None = None) -> UNetSegmenter:
        """Train on the patients of ``cohort`` that have a mask.

        Parameters
        ----------
        cohort : cohort folder, Cohort or DataFrame
            Image paths ``patient_id, t2, dwi, adc, mask``.
        patients : sequence of str, optional
            Train on these patients only (each needs a mask); default every labelled patient.

        Raises
        ------
        DataError
            No patient with a mask (or none readable), bad settings.
        """
        import torch
        from monai.losses import DiceCELoss

        from radsem.deep._runtime import check_random_state_int, torch_session
        from radsem.segment.cohort import read_training_cases
        from radsem.segment.network import build_network

        config = self._config()
        seed = check_random_state_int(self.random_state)
        cases, self.failures_ = read_training_cases(cohort, patients)
        patch = tuple(config["patch_size"])
        start = time.perf_counter()
        rng = np.random.default_rng(seed)
        with torch_session(seed, int(self.n_threads)):
            net = build_network(config)
            loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
            opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
            steps = int(np.ceil(len(cases) * self.patches_per_case / self.batch_size))
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps * self.epochs)
            self.history_ = []
            for epoch in range(int(self.epochs)):
                net.train()
                x_all, y_all = self._patches(rng, cases, patch)
                losses = []
                for b in range(0, len(x_all), self.batch_size):
                    x = torch.from_numpy(x_all[b : b + self.batch_size])
                    y = torch.from_numpy(y_all[b : b + self.batch_size].astype(np.int64))
                    opt.zero_grad()
                    loss = loss_fn(net(x), y)
                    loss.backward()
                    opt.step()
                    sched.step()
                    losses.append(float(loss.detach()))
                self.history_.append(float(np.mean(losses)))
                if self.progress:
                    print(
                        f"  epoch {epoch + 1}/{self.epochs}: loss {self.history_[-1]:.4f}",
                        flush=True,
                    )
            net.eval()
        self.network_ = net
        self.config_ = config
        self.training_patients_ = [c.patient_id for c in cases]
        self.fit_seconds_ = time.perf_counter() - start
        self.model_hash_ = None
        return self

    # -- prediction ------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.network_ is None:
            raise DataError("this segmenter is not trained yet: call fit() or load a model")

    def predict_proba(self, case: Case) -> np.ndarray:
        """Tumour probability on the case's T2 grid (sliding-window inference)."""
        import torch
        from monai.inferers import sliding_window_inference

        from radsem.deep._runtime import torch_session

        self._check_fitted()
        patch = tuple(self.config_["patch_size"])
        shape = case.channels.shape[1:]
        image = _pad_to(case.channels, patch)
        with torch_session(0, int(self.n_threads)), torch.no_grad():
            logits = sliding_window_inference(
                torch.from_numpy(np.ascontiguousarray(image))[None],
                roi_size=patch,
                sw_batch_size=4,
                predictor=self.network_,
                overlap=0.25,
                mode="gaussian",
            )
            prob = torch.softmax(logits, dim=1)[0, 1].numpy()
        off = [(p - n) // 2 if p > n else 0 for p, n in zip(prob.shape, shape)]
        return prob[tuple(slice(o, o + n) for o, n in zip(off, shape))]

    def predict_case(self, case: Case) -> np.ndarray:
        """Binary tumour mask of one case after region growing (may be empty)."""
        return grow_region(self.predict_proba(case), self.config_["high"], self.config_["low"])

    @property
    def method(self) -> str:
        """The method name recorded with every mask (the architecture)."""
        return str(self.architecture)

    @property
    def model_hash(self) -> str | None:
        """SHA-256 of the saved weights (None until saved or loaded)."""
        return self.model_hash_

    # -- persistence -----------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> str:
        """Write the model folder (``weights.pt`` + ``model.json``); returns the model hash."""
        from radsem.segment.model_io import save_model

        self._check_fitted()
        meta = {
            "method": self.method,
            "config": self.config_,
            "training": {
                "epochs": int(self.epochs),
                "seed": int(self.random_state),
                "patches_per_case": int(self.patches_per_case),
                "batch_size": int(self.batch_size),
                "learning_rate": float(self.learning_rate),
                "loss_history": [round(v, 6) for v in self.history_],
                "patients": list(self.training_patients_),
            },
        }
        state = {k: v.detach().clone() for k, v in self.network_.state_dict().items()}
        self.model_hash_ = save_model(folder, state, meta)
        return self.model_hash_

    @classmethod
    def load(cls, folder: str | os.PathLike, n_threads: int = 1) -> UNetSegmenter:
        """Read a model folder written by :meth:`save` (version and hash checked)."""
        from radsem.segment.model_io import load_model
        from radsem.segment.network import build_network

        state, meta = load_model(folder)
        config = meta.get("config", {})
        training = meta.get("training", {})
        try:
            net = build_network(config)
            net.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise DataError(
                f"{folder}: the weights do not fit the recorded network "
                f"configuration ({str(exc).splitlines()[0]})"
            ) from exc
        net.eval()
        model = cls(
            epochs=int(training.get("epochs", 1)),
            architecture=config["architecture"],
            channels=config["channels"],
            strides=config["strides"],
            patch_size=config["patch_size"],
            high=config["high"],
            low=config["low"],
            random_state=int(training.get("seed", 0)),
            n_threads=n_threads,
        )
        model.network_ = net
        model.config_ = config
        model.training_patients_ = list(training.get("patients", []))
        model.history_ = list(training.get("loss_history", []))
        model.model_hash_ = meta["weights_sha256"]
        return model

    def __repr__(self) -> str:
        state = "trained" if self.network_ is not None else "untrained"
        return (
            f"UNetSegmenter({self.architecture}, channels={tuple(self.channels)}, "
            f"epochs={self.epochs}, {state})"
        )
