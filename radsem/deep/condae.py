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
from collections.abc import Sequence

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
    def __init__(
        self,
        channels,
        grid,
        latent_dim,
        base_channels,
        n_blocks,
        n_targets,
        n_supervised,
        mask_channel=False,
        tumour_codes=0,
    ) -> None:
        super().__init__(
            channels, grid, latent_dim, base_channels, n_blocks, mask_channel, tumour_codes
        )
        self.head = nn.Linear(n_supervised, n_targets)


def _choose_weight(scores: list[tuple[float, float]], ref: float | None, tol: float) -> int:
    """Index of the candidate with the lowest validation auxiliary loss among those whose
    validation reconstruction is within ``tol`` times ``ref`` (default: the lowest candidate
    reconstruction); the best reconstruction when none qualifies."""
    if len(scores) == 1:
        return 0
    rec = [r for r, _ in scores]
    ref = min(rec) if ref is None or not math.isfinite(ref) else ref
    ok = [i for i, r in enumerate(rec) if r <= tol * ref]
    if not ok:
        return int(np.argmin(rec))
    return min(ok, key=lambda i: scores[i][1])


class ConditionedAutoencoder(ConvAutoencoder):
    """Convolutional autoencoder whose code is also trained to predict expression targets.

    Parameters
    ----------
    aux_weight : float or sequence of float
        Weight of the auxiliary loss (mean squared error of the standardised targets) against
        the reconstruction loss (mean squared error per voxel of the standardised crops). With
        several values, one model is trained per value and the one with the lowest validation
        auxiliary loss among those whose validation reconstruction is within
        ``rec_tolerance`` times the reference is kept (reference: the warm start's validation
        reconstruction with ``fit(..., init=cae)``, else the lowest over the candidates). The
        choice uses the validation patients of the training data only.
    n_supervised : int, optional
        Number of code dimensions (the last ones) that the auxiliary head reads; the others
        are free for reconstruction. Default: the whole code. With ``tumour_codes = k``,
        ``n_supervised = k`` makes the head read exactly the tumour-pooled dimensions.
    rec_tolerance : float
        See ``aux_weight``.
    head_lr : float, optional
        Learning rate of the auxiliary head and of the tumour-code layer (``tumour_codes``);
        default ``lr``. A fine-tune from a warm start runs at a small ``lr`` to keep the
        reconstruction, which leaves these layers (whose weights must move by order one)
        too slow to follow.
    **others
        As :class:`~radsem.deep.cae.ConvAutoencoder`.

    Attributes
    ----------
    target_names_ : list of str
    target_mean_, target_scale_ : ndarray
        Standardisation of the targets (training rows with targets).
    n_conditioned_ : int
        Training patients that had targets.
    aux_weight_ : float
        The auxiliary weight used (chosen on the validation patients when several are given).
    weight_search_ : DataFrame
        ``aux_weight, best_epoch, val_loss, val_aux`` of every candidate weight.

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
        mask_channel: bool = False,
        tumour_codes: int = 0,
        tumour_share: float | None = None,
        aux_weight: float | Sequence[float] = 1.0,
        n_supervised: int | None = None,
        rec_tolerance: float = 1.05,
        head_lr: float | None = None,
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
            mask_channel=mask_channel,
            tumour_codes=tumour_codes,
            tumour_share=tumour_share,
        )
        self.aux_weight = aux_weight
        self.n_supervised = n_supervised
        self.rec_tolerance = rec_tolerance
        self.head_lr = head_lr

    def _build(self) -> _CondNet:
        grid = tuple(int(g) for g in self.input_shape_[1:])
        return _CondNet(
            int(self.input_shape_[0]),
            grid,
            int(self.latent_dim),
            int(self.base_channels),
            int(self.n_blocks),
            len(self.target_names_),
            self._supervised_slice().stop - self._supervised_slice().start,
            bool(self.mask_channel),
            int(self.tumour_codes),
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

    def _weights(self) -> list[float]:
        raw = self.aux_weight
        ws = [float(raw)] if np.ndim(raw) == 0 else [float(v) for v in raw]
        if not ws or not all(math.isfinite(v) and v >= 0 for v in ws):
            raise DataError(
                f"aux_weight must be a non-negative number or a non-empty list of them, got {raw!r}"
            )
        return ws

    def _supervised_slice(self) -> slice:
        k = self.n_supervised
        if k is None:
            return slice(0, int(self.latent_dim))
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= int(self.latent_dim):
            raise DataError(f"n_supervised must be between 1 and latent_dim, got {k!r}")
        return slice(int(self.latent_dim) - int(k), int(self.latent_dim))

    def _set_standardisation(self, data: np.ndarray, init) -> None:
        if init is not None:
            self.channel_mean_ = np.asarray(init.channel_mean_, dtype=np.float32).copy()
            self.channel_scale_ = np.asarray(init.channel_scale_, dtype=np.float32).copy()
            return
        self._fit_standardisation(data[self.train_index_])

    def _check_init(self, init, data: np.ndarray) -> dict:
        if not isinstance(init, ConvAutoencoder) or not hasattr(init, "net_"):
            raise DataError("init must be a fitted ConvAutoencoder")
        if tuple(init.input_shape_) != tuple(int(s) for s in data.shape[1:]):
            raise DataError(
                f"init was fitted on crops of shape {tuple(init.input_shape_)}, "
                f"these are {tuple(data.shape[1:])}"
            )
        if (
            int(init.latent_dim) != int(self.latent_dim)
            or int(init.base_channels) != int(self.base_channels)
            or int(init.n_blocks) != int(self.n_blocks)
            or bool(init.mask_channel) != bool(self.mask_channel)
            or int(init.tumour_codes) != int(self.tumour_codes)
        ):
            raise DataError(
                "init must have the same latent_dim, base_channels, n_blocks, mask_channel "
                "and tumour_codes as this model"
            )
        return {k: v.detach().clone() for k, v in init.net_.state_dict().items()}

    def fit(self, X, y=None, init: ConvAutoencoder | None = None) -> ConditionedAutoencoder:
        """Train on crops ``X`` with targets ``y`` (rows with missing targets: reconstruction
        only).

        Parameters
        ----------
        X : Crops or ndarray
        y : DataFrame or ndarray
            Targets (see the class notes).
        init : ConvAutoencoder, optional
            A fitted unconditional CAE of the same architecture: the encoder and decoder start
            from its weights and its channel standardisation (warm start), and training
            fine-tunes them with the auxiliary head. Fit it with the same ``random_state`` on
            the same crops so both models hold out the same validation patients.
        """
        from radsem._progress import progress_bar

        self._check_params()
        weights = self._weights()
        sup = self._supervised_slice()
        data, _ = self._check_X(X, fitting=True)
        n = data.shape[0]
        targets = self._targets(X, y, n)
        init_state = self._check_init(init, data) if init is not None else None
        self.init_val_loss_ = math.nan
        has = np.isfinite(targets).all(axis=1)
        seed = check_random_state_int(self.random_state)
        rng = np.random.default_rng(seed)
        n_val = max(int(round(self.validation_fraction * n)), 1) if self.validation_fraction else 0
        if n - n_val < 2:
            raise DataError(f"{n} patients are too few to train an autoencoder")
        if len(weights) > 1 and not n_val:
            raise DataError("choosing aux_weight needs validation_fraction > 0")
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
        self._set_standardisation(data, init)
        tt = targets[self.train_index_][has[self.train_index_]]
        self.target_mean_ = tt.mean(axis=0)
        ts = tt.std(axis=0)
        ts[ts < 1e-8] = 1.0
        self.target_scale_ = ts
        t_std = np.where(has[:, None], (targets - self.target_mean_) / self.target_scale_, 0.0)
        x_all = self._standardise(data)
        t_all = torch.from_numpy(t_std.astype(np.float32))
        h_all = torch.from_numpy(has)
        val_idx = torch.from_numpy(self.validation_index_)

        def losses(net, idx):
            xb, tb, hb = x_all[idx], t_all[idx], h_all[idx]
            z = net.encode(xb)
            rec = self._rec_loss(net, net.decode(z), xb)
            if hb.any():
                aux = nn.functional.mse_loss(net.head(z[hb][:, sup]), tb[hb])
            else:
                aux = torch.zeros(())
            return rec, aux

        def train_one(w: float):
            records = []
            with torch_session(seed, self.n_threads):
                net = self._build()
                if init_state is None and net.tumour_codes:
                    net.set_pool_standardisation(x_all[torch.from_numpy(self.train_index_)])
                if init_state is not None:
                    net.load_state_dict(init_state, strict=False)
                    if n_val:
                        net.eval()
                        with torch.no_grad():
                            self.init_val_loss_ = float(losses(net, val_idx)[0])
                opt = torch.optim.Adam(
                    self._param_groups(net),
                    lr=float(self.lr),
                    weight_decay=float(self.weight_decay),
                )
                stopper = EarlyStopping(self.patience)
                bar = progress_bar(
                    range(1, self.epochs + 1), desc="cond. CAE", enabled=self.progress
                )
                ep_rng = np.random.default_rng([seed, 1])
                for epoch in bar:
                    net.train()
                    order = torch.from_numpy(
                        self.train_index_[ep_rng.permutation(len(self.train_index_))]
                    )
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
                    records.append((w, epoch, tr_r, tr_a, vr, va))
                    monitor = vr + w * va if n_val else tr_r + w * tr_a
                    if not math.isfinite(monitor):
                        bar.close()
                        raise EstimationError(f"training diverged at epoch {epoch}; lower lr")
                    if stopper.update(monitor, epoch, net):
                        break
                bar.close()
                net.load_state_dict(stopper.best_state)
            net.eval()
            best = [r for r in records if r[1] == stopper.best_epoch][0]
            return net, int(stopper.best_epoch), best[4], best[5], records

        runs = [train_one(w) for w in weights]
        choice = _choose_weight(
            [(r[2], r[3]) for r in runs], self.init_val_loss_, float(self.rec_tolerance)
        )
        net, best_epoch, _, _, _ = runs[choice]
        self.aux_weight_ = weights[choice]
        self.weight_search_ = pd.DataFrame(
            [(w, r[1], r[2], r[3]) for w, r in zip(weights, runs, strict=True)],
            columns=["aux_weight", "best_epoch", "val_loss", "val_aux"],
        )
        self.net_ = net
        self.best_epoch_ = best_epoch
        self.history_ = pd.DataFrame(
            [r[1:] for r in runs[choice][4]],
            columns=["epoch", "train_loss", "train_aux", "val_loss", "val_aux"],
        )
        return self

    def _param_groups(self, net: _CondNet):
        """All parameters at ``lr``, or the head and tumour-code layer at ``head_lr``."""
        if self.head_lr is None:
            return net.parameters()
        if not float(self.head_lr) > 0:
            raise DataError(f"head_lr must be positive, got {self.head_lr!r}")
        fast = [p for n, p in net.named_parameters() if n.startswith(("head.", "tumour_latent."))]
        ids = {id(p) for p in fast}
        slow = [p for p in net.parameters() if id(p) not in ids]
        return [{"params": slow}, {"params": fast, "lr": float(self.head_lr)}]

    def predict_targets(self, X) -> pd.DataFrame:
        """The auxiliary head's prediction of the targets, in their original units."""
        codes = self.transform(X)
        with torch.no_grad():
            z = torch.from_numpy(codes.to_numpy(dtype=np.float32))
            pred = self.net_.head(z[:, self._supervised_slice()]).numpy()
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
