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
from radsem.deep.voxel_weights import tumour_balance_weights
from radsem.errors import DataError, EstimationError

torch = require("torch", "the convolutional autoencoder")
nn = torch.nn

__all__ = ["ConvAutoencoder", "tumour_weights"]

_KIND = "radsem.ConvAutoencoder"


def tumour_weights(mask: torch.Tensor, share: float) -> torch.Tensor:
    """Per-voxel reconstruction weights giving the tumour ``share`` of each crop's total weight.

    Parameters
    ----------
    mask : Tensor, shape (n, 1, ...)
        Tumour fraction per voxel in [0, 1].
    share : float
        Share of the total weight on the tumour voxels (weighted by their fraction), in (0, 1);
        the rest of the crop carries ``1 - share``.

    Returns
    -------
    Tensor, same shape as ``mask``
        Weights with mean 1 per crop (so the loss stays on the unweighted scale), those of
        :func:`radsem.deep.voxel_weights.tumour_balance_weights`; a crop whose tumour is under
        one voxel, or fills it all, keeps uniform weights.
    """
    inside = mask.flatten(1).sum(1)
    outside = mask[0].numel() - inside
    ok = ((inside >= 1.0) & (outside >= 1.0)).reshape((-1,) + (1,) * (mask.ndim - 1))
    return torch.where(ok, tumour_balance_weights(mask, share), torch.ones_like(mask))


class _CAENet(nn.Module):
    """Strided-convolution encoder, linear bottleneck, transposed-convolution decoder.

    With ``mask_channel`` the last input channel is the tumour mask: the encoder sees it, the
    decoder does not reconstruct it. With ``tumour_codes = k > 0`` the last ``k`` code
    dimensions are a linear map of tumour-pooled features (mask-weighted mean and SD of the
    input images, mask-weighted means of every encoder block's features, log tumour voxel
    count) instead of the flattened feature map.
    """

    def __init__(
        self,
        channels: int,
        grid: tuple[int, ...],
        latent_dim: int,
        base_channels: int,
        n_blocks: int,
        mask_channel: bool = False,
        tumour_codes: int = 0,
    ) -> None:
        super().__init__()
        dims = len(grid)
        self.mask_channel = bool(mask_channel)
        self.tumour_codes = int(tumour_codes)
        out_channels = channels - 1 if self.mask_channel else channels
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        convt = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
        self._pool = (
            nn.functional.adaptive_avg_pool3d if dims == 3 else nn.functional.adaptive_avg_pool2d
        )
        widths = [base_channels * 2**b for b in range(n_blocks)]
        enc: list[nn.Module] = []
        prev = channels
        for w in widths:
            enc += [conv(prev, w, kernel_size=3, stride=2, padding=1), nn.LeakyReLU(0.1)]
            prev = w
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.reduced = (widths[-1],) + tuple(g // 2**n_blocks for g in grid)
        flat = math.prod(self.reduced)
        self.to_latent = nn.Linear(flat, latent_dim - self.tumour_codes)
        self.from_latent = nn.Sequential(nn.Linear(latent_dim, flat), nn.LeakyReLU(0.1))
        dec: list[nn.Module] = []
        for w_in, w_out in zip(widths[::-1], widths[::-1][1:] + [base_channels], strict=True):
            dec += [convt(w_in, w_out, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.1)]
        dec.append(conv(base_channels, out_channels, kernel_size=3, padding=1))
        self.decoder = nn.Sequential(*dec)
        if self.tumour_codes:
            n_fixed = 2 * out_channels + 1
            self.tumour_latent = nn.Linear(n_fixed + sum(widths), self.tumour_codes)
            # standardisation of the pooled image statistics and log size (set by
            # ``set_pool_standardisation`` from the training crops; saved with the weights)
            self.register_buffer("pool_mean", torch.zeros(n_fixed))
            self.register_buffer("pool_scale", torch.ones(n_fixed))

    @staticmethod
    def _wmean(f: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, f.ndim))
        return (f * m).sum(dim=dims) / m.sum(dim=dims).clamp(min=1e-6)

    def _fixed_features(self, x: torch.Tensor) -> torch.Tensor:
        m = x[:, -1:]
        img = x[:, :-1]
        mean = self._wmean(img, m)
        sd = (self._wmean(img**2, m) - mean**2).clamp(min=0.0).add(1e-6).sqrt()
        size = torch.log1p(m.sum(dim=tuple(range(1, m.ndim))))[:, None]
        return torch.cat([mean, sd, size], dim=1)

    def set_pool_standardisation(self, x: torch.Tensor) -> None:
        """Standardise the pooled image statistics and log size with their mean and SD
        over the crops ``x`` (the training crops)."""
        with torch.no_grad():
            f = self._fixed_features(x)
            sd = f.std(dim=0)
            self.pool_mean.copy_(f.mean(dim=0))
            self.pool_scale.copy_(torch.where(sd > 1e-6, sd, torch.ones_like(sd)))

    def tumour_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The tumour-pooled features (standardised mask-weighted mean and SD of each image
        channel, standardised log tumour voxel count, mask-weighted mean of each encoder
        block's features) and the flattened encoder output."""
        m = x[:, -1:]
        pooled = [(self._fixed_features(x) - self.pool_mean) / self.pool_scale]
        h = x
        for layer in self.encoder:
            h = layer(h)
            if isinstance(layer, nn.LeakyReLU):
                pooled.append(self._wmean(h, self._pool(m, h.shape[2:])))
        return torch.cat(pooled, dim=1), h

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if not self.tumour_codes:
            return self.to_latent(self.encoder(x))
        pooled, flat = self.tumour_features(x)
        return torch.cat([self.to_latent(flat), self.tumour_latent(pooled)], dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.from_latent(z).reshape((z.shape[0],) + self.reduced)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def image_part(self, x: torch.Tensor) -> torch.Tensor:
        """The channels the decoder reconstructs (all but the mask)."""
        return x[:, :-1] if self.mask_channel else x


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
    mask_channel : bool
        The last channel of the crops is the tumour mask (fraction per voxel in [0, 1], e.g.
        from ``CropSpec(with_mask=True)``): the encoder sees it, it is not standardised and
        not reconstructed (``reconstruct`` returns the other channels).
    tumour_codes : int
        Needs ``mask_channel``. The last ``tumour_codes`` code dimensions are a linear map of
        features pooled over the tumour mask (mask-weighted mean and SD of each image channel,
        mask-weighted mean of every encoder block's feature maps, log tumour voxel count),
        so they describe the tumour rather than the anatomy around it; the others come from
        the whole feature map as usual.
    tumour_share : float, optional
        Needs ``mask_channel``. Weight the reconstruction error per voxel so that the tumour
        carries this share of each crop's total weight (the rest of the crop ``1 -
        tumour_share``; mean weight 1, see :func:`tumour_weights`). Default: uniform.

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
        mask_channel: bool = False,
        tumour_codes: int = 0,
        tumour_share: float | None = None,
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
        self.mask_channel = mask_channel
        self.tumour_codes = tumour_codes
        self.tumour_share = tumour_share

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
        k = self.tumour_codes
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise DataError(f"tumour_codes must be a non-negative integer, got {k!r}")
        if k >= self.latent_dim:
            raise DataError(f"tumour_codes ({k}) must be below latent_dim ({self.latent_dim})")
        share = self.tumour_share
        if share is not None and not 0.0 < float(share) < 1.0:
            raise DataError(f"tumour_share must be in (0, 1), got {share!r}")
        if (k or share is not None) and not self.mask_channel:
            raise DataError("tumour_codes and tumour_share need mask_channel=True")

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
        if self.mask_channel:
            if data.shape[1] < 2:
                raise DataError("mask_channel needs at least one image channel and the mask")
            mask = data[:, -1]
            if mask.min() < 0 or mask.max() > 1:
                raise DataError(
                    "the last channel must be the tumour mask with values in [0, 1] "
                    "(cut the crops with CropSpec(with_mask=True))"
                )
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
            bool(self.mask_channel),
            int(self.tumour_codes),
        )

    def _fit_standardisation(self, train: np.ndarray) -> None:
        """Per-channel mean and SD of the training crops (the mask channel is left as is)."""
        axes = (0,) + tuple(range(2, train.ndim))
        self.channel_mean_ = train.mean(axis=axes, dtype=np.float64).astype(np.float32)
        scale = train.std(axis=axes, dtype=np.float64)
        scale[scale < 1e-8] = 1.0
        self.channel_scale_ = scale.astype(np.float32)
        if self.mask_channel:
            self.channel_mean_[-1] = 0.0
            self.channel_scale_[-1] = 1.0

    def _rec_loss(self, net: _CAENet, out: torch.Tensor, x: torch.Tensor, reduction="mean"):
        """Reconstruction error of ``out`` against ``x`` (tumour-weighted with
        ``tumour_share``)."""
        target = net.image_part(x)
        if self.tumour_share is None:
            return nn.functional.mse_loss(out, target, reduction=reduction)
        err = (out - target) ** 2 * tumour_weights(x[:, -1:], float(self.tumour_share))
        return err.mean() if reduction == "mean" else err.sum()

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
        train = data[self.train_index_]
        self._fit_standardisation(train)
        x_train = self._standardise(train)
        x_val = self._standardise(data[self.validation_index_]) if n_val else None

        records = []
        with torch_session(seed, self.n_threads):
            net = self._build()
            if net.tumour_codes:
                net.set_pool_standardisation(x_train)
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
                    loss = self._rec_loss(net, net(batch), batch)
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
                float(self._rec_loss(net, net(b), b, reduction="sum")) for b in self._batches(x)
            )
        return total / net.image_part(x).numel()

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
        """Decoded crops, in the units of ``X`` (without the mask channel with
        ``mask_channel``)."""
        self._check_fitted()
        data, _ = self._check_X(X, fitting=False)
        x = self._standardise(data)
        with torch_session(0, self.n_threads), torch.no_grad():
            out = torch.cat([self.net_(b) for b in self._batches(x)]).numpy()
        shape = (1, -1) + (1,) * self.dims
        n_img = out.shape[1]
        return out * self.channel_scale_[:n_img].reshape(shape) + self.channel_mean_[
            :n_img
        ].reshape(shape)

    def reconstruction_error(self, X) -> pd.Series:
        """Mean squared error per crop, in standardised units (the training loss without
        tumour weights; image channels only)."""
        self._check_fitted()
        data, index = self._check_X(X, fitting=False)
        x = self._standardise(data).numpy()
        rec = self.reconstruct(X)
        if self.mask_channel:
            x = x[:, :-1]
            rec = np.concatenate([rec, data[:, -1:]], axis=1)
        rec = self._standardise(rec).numpy()[:, : x.shape[1]]
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
