"""Convolutional autoencoder (CAE) for tumour crops: 3D volumes or 2D slices -> latent codes."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from radsem._optional import require
from radsem.deep._runtime import (
    EarlyStopping,
    atomic_torch_save,
    check_random_state_int,
    safe_torch_load,
    torch_session,
)
from radsem.deep.crops import Crops
from radsem.errors import DataError, EstimationError

torch = require("torch", "the convolutional autoencoder")
nn = torch.nn

__all__ = ["ConvAutoencoder"]

_KIND = "radsem.ConvAutoencoder"


class _CAENet(nn.Module):
    """Strided-convolution encoder, linear bottleneck, transposed-convolution decoder."""

    def __init__(
        self,
        channels: int,
        grid: tuple[int, ...],
        latent_dim: int,
        base_channels: int,
        n_blocks: int,
    ) -> None:
        super().__init__()
        dims = len(grid)
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        convt = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
        widths = [base_channels * 2**b for b in range(n_blocks)]
        enc: list[nn.Module] = []
        prev = channels
        for w in widths:
            enc += [conv(prev, w, kernel_size=3, stride=2, padding=1), nn.LeakyReLU(0.1)]
            prev = w
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.reduced = (widths[-1],) + tuple(g // 2**n_blocks for g in grid)
        flat = math.prod(self.reduced)
        self.to_latent = nn.Linear(flat, latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(latent_dim, flat), nn.LeakyReLU(0.1))
        dec: list[nn.Module] = []
        for w_in, w_out in zip(widths[::-1], widths[::-1][1:] + [base_channels], strict=True):
            dec += [convt(w_in, w_out, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.1)]
        dec.append(conv(base_channels, channels, kernel_size=3, padding=1))
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.from_latent(z).reshape((z.shape[0],) + self.reduced)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ConvAutoencoder(TransformerMixin, BaseEstimator):
    """Convolutional autoencoder on tumour crops, with a scikit-learn interface.

    Parameters
    ----------
    latent_dim : int
        Size of the code (the number of latent features per patient).
    dims : {3, 2}
        3D volumes ``(n, C, Z, Y, X)`` or 2D slices ``(n, C, Y, X)``.
    channels : int or None
        Expected number of channels (3 for T2/DWI/ADC); ``None`` accepts any.
    base_channels, n_blocks : int
        Width of the first convolution and number of stride-2 blocks (the width doubles per
        block). Every grid side must be divisible by ``2 ** n_blocks``.
    epochs, batch_size, lr, weight_decay : training settings (Adam).
    patience : int
        Stop when the validation loss has not improved for this many epochs; the weights of
        the best epoch are kept.
    validation_fraction : float
        Share of patients held out (at random) for early stopping; 0 disables early stopping.
    random_state : int or None
        Seeds the weight initialisation, the validation split and the batch order.
    n_threads : int
        torch intra-op threads while fitting/transforming (1 keeps results identical across
        machines; raise it on a dedicated machine).
    progress : bool
        Show a tqdm bar with the losses.

    Attributes
    ----------
    history_ : DataFrame
        ``epoch, train_loss, val_loss`` (mean squared error per voxel, standardised units).
    best_epoch_ : int
    train_index_, validation_index_ : ndarray of int
        Row positions used for training and for early stopping.
    channel_mean_, channel_scale_ : ndarray
        Per-channel standardisation learned on the training rows.

    Notes
    -----
    Encoder: ``n_blocks`` x [conv 3, stride 2, LeakyReLU(0.1)], flatten, linear -> code.
    Decoder: linear, LeakyReLU, ``n_blocks`` x [transposed conv 4, stride 2, LeakyReLU],
    conv 3 -> C channels (linear output). Loss: mean squared error on per-channel
    standardised inputs. Determinism is enforced with
    ``torch.use_deterministic_algorithms(True)`` and a fixed thread count.
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
    ) -> None:
        self.latent_dim = latent_dim
        self.dims = dims
        self.channels = channels
        self.base_channels = base_channels
        self.n_blocks = n_blocks
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        for name in ("latent_dim", "base_channels", "n_blocks", "epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise DataError(f"{name} must be a positive integer, got {value!r}")
        if self.dims not in (2, 3):
            raise DataError(f"dims must be 2 or 3, got {self.dims!r}")
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise DataError(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}"
            )
        if not float(self.lr) > 0:
            raise DataError(f"lr must be positive, got {self.lr!r}")

    def _check_X(self, X, fitting: bool) -> tuple[np.ndarray, pd.Index]:
        if isinstance(X, Crops):
            data, index = X.data, X.patient_id
        else:
            data = np.asarray(X)
            index = pd.RangeIndex(data.shape[0]) if data.ndim else pd.RangeIndex(0)
        if not np.issubdtype(data.dtype, np.number):
            raise DataError(f"crops must be numeric, got dtype {data.dtype}")
        if data.ndim != self.dims + 2:
            raise DataError(
                f"dims={self.dims} needs crops of shape (n, channels, "
                f"{'Z, Y, X' if self.dims == 3 else 'Y, X'}), got shape {data.shape}"
            )
        if self.channels is not None and data.shape[1] != self.channels:
            raise DataError(f"expected {self.channels} channels, got {data.shape[1]}")
        if not np.isfinite(data).all():
            raise DataError("crops contain NaN or infinite values")
        if fitting:
            step = 2**self.n_blocks
            bad = [g for g in data.shape[2:] if g % step]
            if bad:
                raise DataError(
                    f"every crop side must be divisible by 2**n_blocks = {step}; "
                    f"grid {data.shape[2:]} is not"
                )
        elif tuple(data.shape[1:]) != tuple(self.input_shape_):
            raise DataError(
                f"crops have shape {tuple(data.shape[1:])} but the autoencoder was "
                f"fitted on {tuple(self.input_shape_)}"
            )
        return data.astype(np.float32, copy=False), index

    def _standardise(self, data: np.ndarray) -> torch.Tensor:
        shape = (1, -1) + (1,) * self.dims
        out = (data - self.channel_mean_.reshape(shape)) / self.channel_scale_.reshape(shape)
        return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))

    def _build(self) -> _CAENet:
        grid = tuple(int(g) for g in self.input_shape_[1:])
        return _CAENet(
            int(self.input_shape_[0]),
            grid,
            int(self.latent_dim),
            int(self.base_channels),
            int(self.n_blocks),
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None) -> ConvAutoencoder:
        """Train on crops ``X`` (array ``(n, C, ...)`` or :class:`~radsem.deep.crops.Crops`)."""
        from radsem._progress import progress_bar

        self._check_params()
        data, _ = self._check_X(X, fitting=True)
        n = data.shape[0]
        seed = check_random_state_int(self.random_state)
        rng = np.random.default_rng(seed)
        n_val = int(round(self.validation_fraction * n)) if self.validation_fraction > 0 else 0
        if self.validation_fraction > 0:
            n_val = max(n_val, 1)
        if n - n_val < 2:
            raise DataError(
                f"{n} patients are too few to train an autoencoder with a "
                f"validation share of {self.validation_fraction}"
            )
        perm = rng.permutation(n)
        self.validation_index_ = np.sort(perm[:n_val])
        self.train_index_ = np.sort(perm[n_val:])
        self.input_shape_ = tuple(int(s) for s in data.shape[1:])
        axes = (0,) + tuple(range(2, data.ndim))
        train = data[self.train_index_]
        self.channel_mean_ = train.mean(axis=axes, dtype=np.float64).astype(np.float32)
        scale = train.std(axis=axes, dtype=np.float64)
        scale[scale < 1e-8] = 1.0
        self.channel_scale_ = scale.astype(np.float32)
        x_train = self._standardise(train)
        x_val = self._standardise(data[self.validation_index_]) if n_val else None

        records = []
        with torch_session(seed, self.n_threads):
            net = self._build()
            opt = torch.optim.Adam(
                net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
            )
            stopper = EarlyStopping(self.patience)
            bar = progress_bar(range(1, self.epochs + 1), desc="CAE", enabled=self.progress)
            for epoch in bar:
                net.train()
                order = torch.from_numpy(rng.permutation(len(x_train)))
                total = 0.0
                for start in range(0, len(order), self.batch_size):
                    batch = x_train[order[start : start + self.batch_size]]
                    opt.zero_grad()
                    loss = nn.functional.mse_loss(net(batch), batch)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(batch)
                train_loss = total / len(x_train)
                val_loss = self._loss(net, x_val) if x_val is not None else math.nan
                records.append((epoch, train_loss, val_loss))
                bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
                monitor = val_loss if x_val is not None else train_loss
                if not math.isfinite(monitor):
                    bar.close()
                    raise EstimationError(
                        f"autoencoder training diverged at epoch {epoch} "
                        f"(loss {monitor}); lower lr (now {self.lr})"
                    )
                if stopper.update(monitor, epoch, net):
                    break
            bar.close()
            net.load_state_dict(stopper.best_state)
        net.eval()
        self.net_ = net
        self.best_epoch_ = int(stopper.best_epoch)
        self.history_ = pd.DataFrame(records, columns=["epoch", "train_loss", "val_loss"])
        return self

    def _batches(self, x: torch.Tensor):
        step = max(int(self.batch_size), 1) * 4
        for start in range(0, len(x), step):
            yield x[start : start + step]

    def _loss(self, net: _CAENet, x: torch.Tensor) -> float:
        net.eval()
        with torch.no_grad():
            total = sum(
                float(nn.functional.mse_loss(net(b), b, reduction="sum")) for b in self._batches(x)
            )
        return total / x.numel()

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise DataError("this ConvAutoencoder is not fitted yet; call fit() first")

    # ------------------------------------------------------------------ use
    def transform(self, X) -> pd.DataFrame:
        """Latent codes, one row per crop: columns ``latent_0 ... latent_{k-1}``."""
        self._check_fitted()
        data, index = self._check_X(X, fitting=False)
        x = self._standardise(data)
        with torch_session(0, self.n_threads), torch.no_grad():
            z = torch.cat([self.net_.encode(b) for b in self._batches(x)]).numpy()
        cols = [f"latent_{i}" for i in range(z.shape[1])]
        return pd.DataFrame(z.astype(np.float64), index=index, columns=cols)

    def reconstruct(self, X) -> np.ndarray:
        """Decoded crops, in the units of ``X``."""
        self._check_fitted()
        data, _ = self._check_X(X, fitting=False)
        x = self._standardise(data)
        with torch_session(0, self.n_threads), torch.no_grad():
            out = torch.cat([self.net_(b) for b in self._batches(x)]).numpy()
        shape = (1, -1) + (1,) * self.dims
        return out * self.channel_scale_.reshape(shape) + self.channel_mean_.reshape(shape)

    def reconstruction_error(self, X) -> pd.Series:
        """Mean squared error per crop, in standardised units (the training loss)."""
        self._check_fitted()
        data, index = self._check_X(X, fitting=False)
        x = self._standardise(data).numpy()
        rec = self._standardise(self.reconstruct(X)).numpy()
        err = ((x - rec) ** 2).reshape(len(x), -1).mean(axis=1)
        return pd.Series(err.astype(np.float64), index=index, name="mse")

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write weights, configuration and training history to ``path`` (atomically)."""
        self._check_fitted()
        payload = {
            "kind": _KIND,
            "format": 1,
            "params": self.get_params(),
            "input_shape": list(self.input_shape_),
            "channel_mean": torch.from_numpy(self.channel_mean_.copy()),
            "channel_scale": torch.from_numpy(self.channel_scale_.copy()),
            "state_dict": self.net_.state_dict(),
            "history": {c: self.history_[c].tolist() for c in self.history_},
            "best_epoch": self.best_epoch_,
            "train_index": [int(i) for i in self.train_index_],
            "validation_index": [int(i) for i in self.validation_index_],
        }
        atomic_torch_save(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ConvAutoencoder:
        """Read a model written by :meth:`save` (``torch.load(weights_only=True)``)."""
        payload = safe_torch_load(path, _KIND)
        model = cls(**payload["params"])
        model.input_shape_ = tuple(payload["input_shape"])
        model.channel_mean_ = payload["channel_mean"].numpy()
        model.channel_scale_ = payload["channel_scale"].numpy()
        net = model._build()
        net.load_state_dict(payload["state_dict"])
        net.eval()
        model.net_ = net
        model.history_ = pd.DataFrame(payload["history"])
        model.best_epoch_ = int(payload["best_epoch"])
        model.train_index_ = np.asarray(payload["train_index"], dtype=int)
        model.validation_index_ = np.asarray(payload["validation_index"], dtype=int)
        return model
