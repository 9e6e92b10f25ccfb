"""Expression-conditioned convolutional autoencoder: tumour crops -> codes that also predict
expression summaries (mechanism scores or expression principal components).

The network is the CAE's (:class:`~radsem.deep.cae.ConvAutoencoder`) with an auxiliary linear
head from the code to the standardised targets; the loss is the reconstruction error plus
``aux_weight`` times the auxiliary error, the latter only over patients that have targets
(patients with images only contribute reconstruction). After fitting it is used like the CAE
(``transform`` gives the codes, ``reconstruct`` the decoded crops).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import torch
from torch import nn

from radsem.deep._runtime import (
    EarlyStopping,
    atomic_torch_save,
    check_random_state_int,
    safe_torch_load,
    torch_session,
)
from radsem.deep.cae import ConvAutoencoder, _CAENet
from radsem.deep.crops import Crops
from radsem.errors import DataError, EstimationError

__all__ = ["ConditionedAutoencoder"]

_KIND = "radsem.ConditionedAutoencoder"


class _CondNet(_CAENet):
    def __init__(self, channels, grid, latent_dim, base_channels, n_blocks, n_targets) -> None:
        super().__init__(channels, grid, latent_dim, base_channels, n_blocks)
        self.head = nn.Linear(latent_dim, n_targets)


class ConditionedAutoencoder(ConvAutoencoder):
    """Convolutional autoencoder whose code is also trained to predict expression targets.

    Parameters
    ----------
    aux_weight : float
        Weight of the auxiliary loss (mean squared error of the standardised targets) against
        the reconstruction loss (mean squared error per voxel of the standardised crops).
    **others
        As :class:`~radsem.deep.cae.ConvAutoencoder`.

    Attributes
    ----------
    target_names_ : list of str
    target_mean_, target_scale_ : ndarray
        Standardisation of the targets (training rows with targets).
    n_conditioned_ : int
        Training patients that had targets.

    Notes
    -----
    ``fit(X, y)``: ``y`` is a DataFrame of targets indexed by patient (matched to the crops'
    ``patient_id``) or an array with one row per crop; rows with any missing target train the
    reconstruction only. Early stopping monitors the validation reconstruction plus weighted
    auxiliary loss.
    """

    def __init__(
        self,
        latent_dim: int = 8,
        dims: int = 3,
        channels: int | None = 3,
        base_channels: int = 8,
        n_blocks: int = 3,
        epochs: int = 100,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int = 10,
        validation_fraction: float = 0.2,
        random_state: int | None = None,
        n_threads: int = 1,
        progress: bool = True,
        aux_weight: float = 1.0,
    ) -> None:
        super().__init__(
            latent_dim=latent_dim,
            dims=dims,
            channels=channels,
            base_channels=base_channels,
            n_blocks=n_blocks,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            patience=patience,
            validation_fraction=validation_fraction,
            random_state=random_state,
            n_threads=n_threads,
            progress=progress,
        )
        self.aux_weight = aux_weight

    def _build(self) -> _CondNet:
        grid = tuple(int(g) for g in self.input_shape_[1:])
        return _CondNet(
            int(self.input_shape_[0]),
            grid,
            int(self.latent_dim),
            int(self.base_channels),
            int(self.n_blocks),
            len(self.target_names_),
        )

    def _targets(self, X, y, n: int) -> np.ndarray:
        if y is None:
            raise DataError(
                "ConditionedAutoencoder.fit needs targets y (use ConvAutoencoder "
                "for an unconditional model)"
            )
        if isinstance(y, pd.Series):
            y = y.to_frame()
        if isinstance(y, pd.DataFrame):
            if isinstance(X, Crops):
                y = y.reindex(X.patient_id)
            elif len(y) != n:
                raise DataError(f"{len(y)} target rows for {n} crops")
            nonnum = [c for c in y.columns if not pd.api.types.is_numeric_dtype(y[c])]
            if nonnum:
                raise DataError(f"targets must be numeric; non-numeric columns {nonnum}")
            self.target_names_ = [str(c) for c in y.columns]
            arr = y.to_numpy(dtype=np.float64)
        else:
            arr = np.asarray(y, dtype=np.float64)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2 or len(arr) != n:
                raise DataError(f"targets must have one row per crop ({n}), got {arr.shape}")
            self.target_names_ = [f"target_{j}" for j in range(arr.shape[1])]
        if np.isinf(arr).any():
            raise DataError("targets contain infinite values")
        return arr

    def fit(self, X, y=None) -> ConditionedAutoencoder:
        """Train on crops ``X`` with targets ``y`` (rows with missing targets: reconstruction
        only)."""
        from radsem._progress import progress_bar

        self._check_params()
        if not float(self.aux_weight) >= 0:
            raise DataError(f"aux_weight must be non-negative, got {self.aux_weight!r}")
        data, _ = self._check_X(X, fitting=True)
        n = data.shape[0]
        targets = self._targets(X, y, n)
        has = np.isfinite(targets).all(axis=1)
        seed = check_random_state_int(self.random_state)
        rng = np.random.default_rng(seed)
        n_val = max(int(round(self.validation_fraction * n)), 1) if self.validation_fraction else 0
        if n - n_val < 2:
            raise DataError(f"{n} patients are too few to train an autoencoder")
        perm = rng.permutation(n)
        self.validation_index_ = np.sort(perm[:n_val])
        self.train_index_ = np.sort(perm[n_val:])
        if has[self.train_index_].sum() < 2:
            raise DataError(
                f"only {int(has[self.train_index_].sum())} training patients have "
                "targets; the auxiliary head needs at least 2"
            )
        self.n_conditioned_ = int(has[self.train_index_].sum())
        self.input_shape_ = tuple(int(s) for s in data.shape[1:])
        axes = (0,) + tuple(range(2, data.ndim))
        train = data[self.train_index_]
        self.channel_mean_ = train.mean(axis=axes, dtype=np.float64).astype(np.float32)
        scale = train.std(axis=axes, dtype=np.float64)
        scale[scale < 1e-8] = 1.0
        self.channel_scale_ = scale.astype(np.float32)
        tt = targets[self.train_index_][has[self.train_index_]]
        self.target_mean_ = tt.mean(axis=0)
        ts = tt.std(axis=0)
        ts[ts < 1e-8] = 1.0
        self.target_scale_ = ts
        t_std = np.where(has[:, None], (targets - self.target_mean_) / self.target_scale_, 0.0)
        x_all = self._standardise(data)
        t_all = torch.from_numpy(t_std.astype(np.float32))
        h_all = torch.from_numpy(has)
        w = float(self.aux_weight)

        def losses(net, idx):
            xb, tb, hb = x_all[idx], t_all[idx], h_all[idx]
            z = net.encode(xb)
            rec = nn.functional.mse_loss(net.decode(z), xb)
            if hb.any():
                aux = nn.functional.mse_loss(net.head(z[hb]), tb[hb])
            else:
                aux = torch.zeros(())
            return rec, aux

        records = []
        with torch_session(seed, self.n_threads):
            net = self._build()
            opt = torch.optim.Adam(
                net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
            )
            stopper = EarlyStopping(self.patience)
            bar = progress_bar(range(1, self.epochs + 1), desc="cond. CAE", enabled=self.progress)
            val_idx = torch.from_numpy(self.validation_index_)
            for epoch in bar:
                net.train()
                order = torch.from_numpy(self.train_index_[rng.permutation(len(train))])
                tot_r = tot_a = 0.0
                for start in range(0, len(order), self.batch_size):
                    idx = order[start : start + self.batch_size]
                    rec, aux = losses(net, idx)
                    opt.zero_grad()
                    (rec + w * aux).backward()
                    opt.step()
                    tot_r += float(rec.detach()) * len(idx)
                    tot_a += float(aux.detach()) * len(idx)
                tr_r, tr_a = tot_r / len(order), tot_a / len(order)
                if n_val:
                    net.eval()
                    with torch.no_grad():
                        vr, va = (float(v) for v in losses(net, val_idx))
                else:
                    vr = va = math.nan
                records.append((epoch, tr_r, tr_a, vr, va))
                monitor = vr + w * va if n_val else tr_r + w * tr_a
                if not math.isfinite(monitor):
                    bar.close()
                    raise EstimationError(f"training diverged at epoch {epoch}; lower lr")
                if stopper.update(monitor, epoch, net):
                    break
            bar.close()
            net.load_state_dict(stopper.best_state)
        net.eval()
        self.net_ = net
        self.best_epoch_ = int(stopper.best_epoch)
        self.history_ = pd.DataFrame(
            records, columns=["epoch", "train_loss", "train_aux", "val_loss", "val_aux"]
        )
        return self

    def predict_targets(self, X) -> pd.DataFrame:
        """The auxiliary head's prediction of the targets, in their original units."""
        codes = self.transform(X)
        with torch.no_grad():
            pred = self.net_.head(torch.from_numpy(codes.to_numpy(dtype=np.float32))).numpy()
        pred = pred * self.target_scale_ + self.target_mean_
        return pd.DataFrame(pred, index=codes.index, columns=self.target_names_)

    def save(self, path: str | os.PathLike) -> None:
        """Write weights, configuration and target standardisation to ``path`` (atomically)."""
        self._check_fitted()
        payload = {
            "kind": _KIND,
            "format": 1,
            "params": self.get_params(),
            "input_shape": list(self.input_shape_),
            "channel_mean": torch.from_numpy(self.channel_mean_.copy()),
            "channel_scale": torch.from_numpy(self.channel_scale_.copy()),
            "target_names": list(self.target_names_),
            "target_mean": torch.from_numpy(np.asarray(self.target_mean_, dtype=np.float64)),
            "target_scale": torch.from_numpy(np.asarray(self.target_scale_, dtype=np.float64)),
            "state_dict": self.net_.state_dict(),
            "best_epoch": self.best_epoch_,
        }
        atomic_torch_save(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ConditionedAutoencoder:
        """Read a model written by :meth:`save` (``torch.load(weights_only=True)``)."""
        payload = safe_torch_load(path, _KIND)
        if payload.get("format") != 1:
            raise DataError(
                f"{os.fspath(path)!r}: format {payload.get('format')!r} is not "
                "supported by this radsem (reads format 1)"
            )
        model = cls(**payload["params"])
        model.input_shape_ = tuple(payload["input_shape"])
        model.channel_mean_ = payload["channel_mean"].numpy()
        model.channel_scale_ = payload["channel_scale"].numpy()
        model.target_names_ = list(payload["target_names"])
        model.target_mean_ = payload["target_mean"].numpy()
        model.target_scale_ = payload["target_scale"].numpy()
        net = model._build()
        net.load_state_dict(payload["state_dict"])
        net.eval()
        model.net_ = net
        model.best_epoch_ = int(payload["best_epoch"])
        return model
