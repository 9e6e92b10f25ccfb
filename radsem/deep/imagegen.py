"""Conditional VAE generating tumour crops (T2, DWI, ADC and the mask) from gene expression.

The condition is the patient's expression, standardised with training means and SDs and
projected on its first principal components (fitted on the training patients). The model is a
conditional VAE with a learned conditional prior (Sohn, Lee & Yan, NeurIPS 2015): an encoder
``q(z | x, c)``, a prior network ``p(z | c)`` (by default its mean, with unit variance) and a
decoder ``p(x | z, c)``; generation draws ``z`` around the conditional prior's mean, so the
expression sets what the image shares with it and ``z`` the rest. T2 and DWI are modelled on
the log scale by default; images are standardised per channel; the mask is a fourth output
channel with a Bernoulli likelihood (logits). By default the decoder is heteroscedastic: a
variance network also predicts a per-voxel log-variance of the three images (floored), fitted
by the Gaussian likelihood of the voxel-scale detail of the mean model's residuals, and
generation draws voxel noise from it, so that within-tumour texture is generated.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from torch import nn

from radsem.deep._runtime import EarlyStopping, check_random_state_int, torch_session
from radsem.deep.imagegen_data import ImageSet, check_gene_table
from radsem.deep.voxel_weights import tumour_balance_weights
from radsem.errors import DataError, EstimationError

__all__ = ["ExpressionImageGenerator", "FORMAT", "FORMAT_VERSION"]

FORMAT = "radsem.ExpressionImageGenerator"
#: Version of the model folder layout (``model.json`` + ``weights.pt``); loading any other
#: version is refused with a clear error.
FORMAT_VERSION = 5
_NOISE_DRAWS = 4  # draws of z per training patient for the noise scale (_calibrate)
_LOG_CHANNELS = (0, 1)  # T2 and DWI: modelled on the log scale with intensity_scale="log"
_LOG_OFFSET_SHARE = 0.01  # log(x + share * training median), so zeros stay finite
_LOG_CEILING = 80.0  # exp() of larger log intensities would overflow float32
# version 2: the hybrid objective (generation_weight), the inner validation split
# (validation_fraction, patience, validation patients, best epoch) and a generation-loss history
# version 3: the heteroscedastic decoder (image_likelihood, sigma_floor, variance_epochs,
# voxel_noise; the variance network's weights, its history and the fitted noise correlation
# noise_rho_) and the history columns image_nll / image_mse
# version 4: the calibration of generation (prior_sd_, logvar_range_, noise_scale_, mask_offset_)
# version 5: intensity_scale (log_offset_) and prior_variance

_LOG_2PI = math.log(2.0 * math.pi)
#: Columns of ``history_`` (the mean model's training).
HISTORY_COLUMNS = [
    "epoch",
    "loss",
    "image_nll",
    "mask_bce",
    "kl",
    "generation",
    "val_generation",
    "image_mse",
]


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, n_out))


class _CVAENet(nn.Module):
    """Encoder q(z|x,c), conditional prior p(z|c), decoder p(x|z,c) on (4, Z, Y, X) crops
    (image means and the mask logit)."""

    def __init__(
        self,
        grid: tuple[int, int, int],
        n_cond: int,
        latent: int,
        base: int,
        n_blocks: int = 3,
        hidden: int = 64,
        learned_prior_variance: bool = True,
    ) -> None:
        super().__init__()
        self.learned_prior_variance = learned_prior_variance
        widths = [base * 2**b for b in range(n_blocks)]
        enc: list[nn.Module] = []
        prev = 4
        for w in widths:
            enc += [nn.Conv3d(prev, w, 3, stride=2, padding=1), nn.LeakyReLU(0.1)]
            prev = w
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.reduced = (widths[-1],) + tuple(g // 2**n_blocks for g in grid)
        flat = math.prod(self.reduced)
        self.cond = _mlp(n_cond, hidden, hidden)
        self.posterior = nn.Linear(flat + hidden, 2 * latent)
        self.prior = _mlp(hidden, hidden, (2 if learned_prior_variance else 1) * latent)
        self.from_latent = nn.Sequential(nn.Linear(latent + hidden, flat), nn.LeakyReLU(0.1))
        dec: list[nn.Module] = []
        for w_in, w_out in zip(widths[::-1], widths[::-1][1:] + [base], strict=True):
            dec += [nn.ConvTranspose3d(w_in, w_out, 4, stride=2, padding=1), nn.LeakyReLU(0.1)]
        dec.append(nn.Conv3d(base, 4, 3, padding=1))
        self.decoder = nn.Sequential(*dec)

    def prior_params(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.learned_prior_variance:  # a learned mean with unit variance
            mu = self.prior(h)
            return mu, torch.zeros_like(mu)
        mu, logvar = self.prior(h).chunk(2, dim=1)
        return mu, logvar.clamp(-8.0, 8.0)

    def posterior_params(self, x: torch.Tensor, h: torch.Tensor):
        mu, logvar = self.posterior(torch.cat([self.encoder(x), h], dim=1)).chunk(2, dim=1)
        return mu, logvar.clamp(-8.0, 8.0)

    def decode(self, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        flat = self.from_latent(torch.cat([z, h], dim=1))
        return self.decoder(flat.reshape((z.shape[0],) + self.reduced))


def _ar1_field(shape: tuple, rho: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Stationary Gaussian field ``(n, C, Z, Y, X)`` with unit variance and correlation
    ``prod_a rho[c, a]^|lag_a|`` (a separable AR(1) filter along z, y and x per channel).

    ``rho`` has shape ``(C, 3)``; zeros give white noise (the draws are made either way, so
    the stream position after the call does not depend on ``rho``).
    """
    field = torch.randn(shape, generator=gen, dtype=torch.float32)
    rho = rho.to(torch.float32)
    for axis in range(3):
        r = rho[:, axis].reshape(1, -1, 1, 1, 1)
        if not bool((r > 0).any()):
            continue
        innov = (1.0 - r**2).sqrt()
        dim = axis + 2
        steps = list(field.unbind(dim))
        for t in range(1, len(steps)):
            steps[t] = r[..., 0] * steps[t - 1] + innov[..., 0] * steps[t]
        field = torch.stack(steps, dim=dim)
    return field


def _detail(resid: torch.Tensor) -> torch.Tensor:
    """Residuals ``(n, C, Z, Y, X)`` minus their local mean over 3 x 3 x 3 voxels (the
    neighbours inside the crop): the voxel-scale detail, without the smooth part."""
    local = nn.functional.avg_pool3d(resid, 3, stride=1, padding=1, count_include_pad=False)
    return resid - local


class _VarianceNet(nn.Module):
    """Raw log-variances ``(n, 3, Z, Y, X)`` of the three images from ``z`` and the condition's
    features ``h`` (a decoder of the same shape as the mean decoder's, with its own weights)."""

    def __init__(
        self, reduced: tuple[int, ...], latent: int, hidden: int, base: int, bias: np.ndarray
    ) -> None:
        super().__init__()
        self.reduced = tuple(reduced)
        widths = [reduced[0] // 2**b for b in range(len(reduced[1:]))]
        self.from_latent = nn.Sequential(
            nn.Linear(latent + hidden, math.prod(self.reduced)), nn.LeakyReLU(0.1)
        )
        dec: list[nn.Module] = []
        for w_in, w_out in zip(widths, widths[1:] + [base], strict=True):
            dec += [nn.ConvTranspose3d(w_in, w_out, 4, stride=2, padding=1), nn.LeakyReLU(0.1)]
        last = nn.Conv3d(base, 3, 3, padding=1)
        with torch.no_grad():
            last.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
        self.decoder = nn.Sequential(*dec, last)

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        flat = self.from_latent(torch.cat([z, h], dim=1))
        return self.decoder(flat.reshape((z.shape[0],) + self.reduced))


def _kl(mu_q, lv_q, mu_p, lv_p) -> torch.Tensor:
    """KL(N(mu_q, e^lv_q) || N(mu_p, e^lv_p)) summed over dimensions, per row."""
    return 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1.0).sum(1)


class ExpressionImageGenerator(BaseEstimator):
    """Generate T2/DWI/ADC tumour crops and their masks from gene expression (conditional VAE).

    Parameters
    ----------
    latent_dim : int
        Size of ``z`` (what the image does not share with the expression).
    n_components : int
        Principal components of the standardised expression used as the condition (capped at
        the number of genes and of training patients minus one).
    base_channels : int
        Width of the first convolution (doubles per stride-2 block; 3 blocks).
    epochs, batch_size, lr : training settings (Adam, fixed number of epochs).
    tumour_balance : bool
        Weight the image likelihood so that the tumour voxels (the real mask) and the rest of
        the crop contribute equally per patient (total weight unchanged). The tumour fills a
        few percent of the crop, so with uniform weights the decoder can ignore the tumour's
        intensities; False gives the plain ELBO.
    image_likelihood : {"heteroscedastic", "unit"}
        ``"heteroscedastic"`` (the default): after the mean model (the ELBO with the
        unit-variance image likelihood, unchanged), a variance network predicts a
        log-variance per voxel and image channel from ``z`` and the expression, fitted by the
        (tumour-balanced) Gaussian likelihood of the voxel-scale detail of the mean model's
        residuals (``z`` at the posterior mean, the mean model held fixed; detail = residual
        minus its 3 x 3 x 3 local mean); ``sample(mode="sample")`` adds voxel noise drawn from
        it, so that the within-tumour texture (and its dependence on expression) is
        generated. The smooth part of the residuals is left out: it is mostly the mean
        model's error in the level of a whole region (the tumour's T2 is off by an RMS 163
        against a within-tumour SD of 66 on a simulated cohort), which independent voxel
        noise would turn into speckle several times the real texture.
        ``"unit"``: the mean model alone (format version 2's decoder); generation returns the
        mean image in both modes. On four simulated cohorts the heteroscedastic decoder
        raised the counterfactual direction rate on every one (by 0.003-0.034) at the same
        volume and mean-ADC fidelity, for twice the training CPU (``docs/imagegen.md``).
    sigma_floor : float
        Smallest voxel SD of the variance network, in units of the channel's SD:
        ``sigma^2 = floor^2 + exp(raw)``, so the variance cannot collapse to 0 on voxels the
        mean model predicts exactly.
    variance_epochs : int
        Training epochs of the variance network (Adam, ``lr``, ``batch_size``); its output
        starts at each channel's mean squared residual (the constant-variance fit).
    voxel_noise : {"correlated", "white"}
        Spatial correlation of the generated voxel noise (heteroscedastic decoder). The
        likelihood treats voxels as independent; ``"correlated"`` draws a stationary separable
        AR(1) field per channel whose lag-one correlations along z, y and x are those of the
        standardised detail residuals ``d / sigma`` of the training crops (tumour-balanced
        weights; negative correlations, usual for a detail, are clipped to 0, i.e. white).
        ``"white"``: independent voxel noise.
    generation_weight : float
        Weight of the generation term of the hybrid objective (Sohn, Lee & Yan 2015): the
        reconstruction loss of the image decoded with ``z`` at the conditional prior's mean,
        i.e. from the expression alone, added to the ELBO. It trains the path used at
        generation time (prior and decoder) directly. 0 (the default) gives the ELBO alone;
        1 is the hybrid objective, which gets E7 -> mean ADC counterfactuals right on every
        simulated cohort measured but loses volume fidelity and the overall counterfactual
        rate (figures in ``docs/imagegen.md``).
    validation_fraction : float
        Share of the training patients held out to choose the training length: after every
        epoch the generation loss (above) of these patients is measured, the weights of the
        best epoch are kept and training stops after ``patience`` epochs without improvement.
        The standardisation (genes, principal components, channels) is fitted on the other
        patients. 0 (the default): no validation, all ``epochs`` are run. Not recommended:
        the generation loss of the validation patients is lowest after a few epochs, while
        the decoder still draws a blurred mask probability below 0.5 everywhere, so the kept
        weights generate empty masks (measured on three simulated cohorts, see
        ``docs/imagegen.md``).
    patience : int
        Epochs without improvement of the validation generation loss before stopping.
    intensity_scale : {"log", "linear"}
        Scale on which T2 and DWI are modelled. ``"log"`` (the default): ``log(x + o)`` with
        ``o`` a hundredth of the channel's training median (``log_offset_``), standardised
        like the other channels and mapped back by ``exp(.) - o`` at generation; ADC, a
        quantitative map, stays linear. Weighted MR images are in arbitrary units and differ
        by multiplicative gains between scanners; on the log scale a gain is an additive
        offset, and a change of the tumour's intensity level no longer changes the
        coefficient of variation (the heterogeneity feature) of the generated texture. On
        two simulated cohorts (with the unit prior variance) it raised the E7 ->
        heterogeneity counterfactual from 0.53 / 0.52 to 0.87 / 0.75 of draws and the
        overall direction rate from 0.88 / 0.91 to 0.96 / 0.93 (``docs/imagegen.md``). T2
        and DWI must be non-negative. ``"linear"``: the
        intensities as given (format version 4's model).
    prior_variance : {"unit", "learned"}
        Variance of the conditional prior ``p(z | c)`` in training. ``"unit"`` (the
        default): the prior network predicts the mean of ``z`` from the expression and the
        variance is 1, so the KL term pulls every posterior towards ``N(prior mean, I)`` and
        trains the prior mean as a regression of the posterior means on the expression.
        ``"learned"``: the network also predicts a log-variance, clipped to [-8, 8] (format
        version 4's model). The learned variance grows with the spread of the posteriors
        (it reached the clip in most dimensions), and the KL term's gradient on the prior
        mean shrinks with it, so the prior mean hardly depended on the expression (its spread
        over patients 0.04-0.2 of ``prior_sd_`` on a simulated cohort, against 0.17-0.95 with
        unit variance) and the expression reached generated images through the decoder's
        direct input only. With unit variance the counterfactual direction rate rose from
        0.93 / 0.88 / 0.93 to 0.96 / 0.93 / 0.95 and the tumour-volume Spearman from 0.49 /
        0.25 / 0.53 to 0.53 / 0.47 / 0.61 on three simulated cohorts (both with the log
        scale; ``docs/imagegen.md``).
    random_state : int or None
        Seeds the initialisation and the batch order.
    n_threads : int
        torch intra-op threads.
    progress : bool
        Show a progress bar.

    Attributes
    ----------
    genes_ : list of str
    history_ : DataFrame
        The mean model's training: ``epoch, loss, image_nll, mask_bce, kl, generation,
        val_generation, image_mse`` (per patient; ``image_nll`` the image term of the loss,
        half the weighted sum of squared errors; ``image_mse`` the unweighted squared error
        per voxel; ``val_generation`` NaN without validation).
    variance_history_ : DataFrame
        The variance network's training: ``epoch, image_nll`` (per patient, the weighted
        Gaussian negative log-likelihood of the residuals); empty for the unit likelihood.
    validation_patients_ : list of str
        Patients held out for the training length (not used to fit the weights).
    best_epoch_ : int
        Epoch whose weights were kept (the last one without validation).
    spacing_ : tuple of 3 floats
        Voxel size of the crops (written into generated NIfTI files).
    noise_rho_ : ndarray, shape (3, 3)
        Lag-one correlation of the generated voxel noise per image channel (T2, DWI, ADC) and
        axis (z, y, x); zeros for ``voxel_noise="white"`` or the unit likelihood.
    prior_sd_ : ndarray, shape (latent_dim,)
        Spread of the generated ``z`` around the conditional prior's mean, per dimension: the
        root mean square over the training patients of (posterior mean - prior mean) with the
        posterior variance added, i.e. the constant prior variance that minimises the
        training KL term given the prior means. ``sample`` draws ``z = mean + eps *
        prior_sd_``. With ``prior_variance="learned"`` the learned prior log-variance is not
        used for generation: it is clipped at 8 during training, where its gradient
        vanishes, and on a simulated cohort it sat at that bound (SD 54.6) in 1 to 7 of the 8
        dimensions of each fold's model while the posterior means spread by 5-35, so prior
        draws fell far outside the training posteriors.
    logvar_range_ : ndarray, shape (3, 2)
        Smallest and largest log-variance of the variance network on the training voxels
        (``z`` at the posterior mean); generated noise is clipped to it.
    noise_scale_ : ndarray, shape (3,)
        Factor on the generated voxel SD per channel: the square root of the weighted mean
        square of the training detail residuals over the weighted mean variance at ``z``
        drawn as in generation (4 draws per training patient, a fixed seed); ones for the
        unit likelihood.
    mask_offset_ : ndarray, shape (1,)
        Shift of the mask logits making the median expected volume of the training
        patients' prior-mean images equal to their median real volume.
    log_offset_ : ndarray, shape (3,)
        Offsets ``o`` of the log scale for T2, DWI and ADC (zeros for ADC and for
        ``intensity_scale="linear"``).

    Notes
    -----
    Mean model, loss per patient: ``0.5 * sum w (x - x_hat)^2`` over the standardised image
    voxels (unit Gaussian likelihood; ``w`` the tumour-balance weights, or 1) + binary
    cross-entropy of the mask channel + KL(q(z|x,c) || p(z|c)), plus ``generation_weight``
    times the same reconstruction loss for the image decoded from the prior mean. Variance
    network (heteroscedastic), per patient:
    ``sum w * 0.5 * (d^2 / sigma^2 + log sigma^2 + log 2 pi)`` with ``d`` the detail
    (:func:`_detail`) of ``x - x_hat``, ``x_hat`` the fixed mean model's image at the
    posterior mean of ``z``. The two are fitted one after the
    other rather than jointly: the joint likelihood would weight each voxel's squared error by
    ``1 / sigma^2``, letting the well-predicted background outweigh the textured tumour, which
    the tumour-balance weights are there to prevent (and a shared decoder moved the means).
    """

    def __init__(
        self,
        latent_dim: int = 8,
        n_components: int = 16,
        base_channels: int = 8,
        epochs: int = 60,
        batch_size: int = 16,
        lr: float = 1e-3,
        tumour_balance: bool = True,
        image_likelihood: str = "heteroscedastic",
        sigma_floor: float = 0.005,
        variance_epochs: int = 60,
        voxel_noise: str = "correlated",
        generation_weight: float = 0.0,
        validation_fraction: float = 0.0,
        patience: int = 10,
        intensity_scale: str = "log",
        prior_variance: str = "unit",
        random_state: int | None = None,
        n_threads: int = 1,
        progress: bool = False,
    ) -> None:
        self.latent_dim = latent_dim
        self.n_components = n_components
        self.base_channels = base_channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.tumour_balance = tumour_balance
        self.image_likelihood = image_likelihood
        self.sigma_floor = sigma_floor
        self.variance_epochs = variance_epochs
        self.voxel_noise = voxel_noise
        self.generation_weight = generation_weight
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.intensity_scale = intensity_scale
        self.prior_variance = prior_variance
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        for name in (
            "latent_dim",
            "n_components",
            "base_channels",
            "epochs",
            "batch_size",
            "patience",
            "variance_epochs",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise DataError(f"{name} must be a positive integer, got {value!r}")
        if not float(self.lr) > 0:
            raise DataError(f"lr must be positive, got {self.lr!r}")
        w = self.generation_weight
        if (
            isinstance(w, bool)
            or not isinstance(w, int | float)
            or not (math.isfinite(w) and w >= 0)
        ):
            raise DataError(f"generation_weight must be a finite number >= 0, got {w!r}")
        v = self.validation_fraction
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1:
            raise DataError(f"validation_fraction must be in [0, 1), got {v!r}")
        if self.image_likelihood not in ("heteroscedastic", "unit"):
            raise DataError(
                "image_likelihood must be 'heteroscedastic' or 'unit', "
                f"got {self.image_likelihood!r}"
            )
        if self.intensity_scale not in ("linear", "log"):
            raise DataError(
                f"intensity_scale must be 'linear' or 'log', got {self.intensity_scale!r}"
            )
        if self.prior_variance not in ("learned", "unit"):
            raise DataError(
                f"prior_variance must be 'learned' or 'unit', got {self.prior_variance!r}"
            )
        if self.voxel_noise not in ("correlated", "white"):
            raise DataError(
                f"voxel_noise must be 'correlated' or 'white', got {self.voxel_noise!r}"
            )
        f = self.sigma_floor
        if (
            isinstance(f, bool)
            or not isinstance(f, int | float)
            or not (math.isfinite(f) and f > 0)
        ):
            raise DataError(f"sigma_floor must be a finite number > 0, got {f!r}")

    @property
    def _heteroscedastic(self) -> bool:
        return self.image_likelihood == "heteroscedastic"

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise DataError("this ExpressionImageGenerator is not fitted yet; call fit() first")

    def _condition(self, expression: pd.DataFrame) -> torch.Tensor:
        x = (expression.to_numpy(dtype=np.float64) - self.gene_mean_) / self.gene_scale_
        pcs = (x - self.pc_mean_) @ self.components_.T / self.pc_scale_
        return torch.from_numpy(pcs.astype(np.float32))

    def _build(self) -> _CVAENet:
        return _CVAENet(
            tuple(self.grid_),
            int(self.components_.shape[0]),
            int(self.latent_dim),
            int(self.base_channels),
            learned_prior_variance=self.prior_variance == "learned",
        )

    def _build_variance(self, net: _CVAENet, bias: np.ndarray) -> _VarianceNet:
        return _VarianceNet(
            net.reduced,
            int(self.latent_dim),
            net.prior[0].in_features,
            int(self.base_channels),
            bias,
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, images: ImageSet, expression: pd.DataFrame) -> ExpressionImageGenerator:
        """Train on the patients present in both ``images`` and ``expression``.

        Parameters
        ----------
        images : ImageSet
            Crops with the mask channel (:func:`~radsem.deep.imagegen_data.cut_image_set`).
        expression : DataFrame
            Patients x genes (log2), indexed by patient or with ``patient_id``; no missing
            values.
        """
        from radsem._progress import progress_bar

        self._check_params()
        if not isinstance(images, ImageSet):
            raise DataError("images must be an ImageSet (see radsem.deep.imagegen_data)")
        expr = check_gene_table(expression)
        common = [p for p in images.patient_id if p in set(expr.index)]
        if len(common) < 4:
            raise DataError(
                f"only {len(common)} patients have both images and expression; "
                "the generator needs at least 4"
            )
        data = images.subset(common).data
        if data.shape[1] != 4 or data.ndim != 5:
            raise DataError(f"expected crops of shape (n, 4, Z, Y, X), got {data.shape}")
        if any(g % 8 for g in data.shape[2:]):
            raise DataError(f"every crop side must be divisible by 8, got {data.shape[2:]}")
        expr = expr.loc[common]
        seed = check_random_state_int(self.random_state)
        rng = np.random.default_rng(seed)
        self.genes_ = [str(g) for g in expr.columns]
        self.grid_ = tuple(int(g) for g in data.shape[2:])
        self.spacing_ = tuple(float(s) for s in images.spacing)
        self.patients_ = list(common)
        n_val = 0
        if self.validation_fraction > 0:
            n_val = max(1, int(round(float(self.validation_fraction) * len(common))))
            if len(common) - n_val < 4:
                raise DataError(
                    f"{len(common)} patients are too few for a validation share of "
                    f"{self.validation_fraction} (at least 4 must train)"
                )
        perm = rng.permutation(len(common))
        val_pos = np.sort(perm[:n_val])
        fit_pos = np.sort(perm[n_val:])
        self.validation_patients_ = [common[i] for i in val_pos]
        # every standardisation is fitted on the patients that train the weights
        g = expr.to_numpy(dtype=np.float64)[fit_pos]
        self.gene_mean_ = g.mean(axis=0)
        sd = g.std(axis=0)
        sd[sd < 1e-8] = 1.0
        self.gene_scale_ = sd
        z = (g - self.gene_mean_) / self.gene_scale_
        k = int(min(self.n_components, z.shape[1], len(z) - 1))
        self.pc_mean_ = z.mean(axis=0)
        _, s, vt = np.linalg.svd(z - self.pc_mean_, full_matrices=False)
        vt = vt[:k]
        vt *= np.where(vt[np.arange(k), np.abs(vt).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]
        self.components_ = vt
        self.pc_scale_ = np.maximum(s[:k] / math.sqrt(max(len(z) - 1, 1)), 1e-8)
        self.log_offset_ = self._log_offsets(data, common, fit_pos)
        img = self._to_model_scale(data[fit_pos, :3].astype(np.float64))
        self.channel_mean_ = img.mean(axis=(0, 2, 3, 4))
        cs = img.std(axis=(0, 2, 3, 4))
        cs[cs < 1e-8] = 1.0
        self.channel_scale_ = cs
        x = self._to_tensor(data[fit_pos])
        c = self._condition(expr.iloc[fit_pos])
        x_val = self._to_tensor(data[val_pos]) if n_val else None
        c_val = self._condition(expr.iloc[val_pos]) if n_val else None
        records = []
        with torch_session(seed, self.n_threads) as gen:
            net = self._build()
            opt = torch.optim.Adam(net.parameters(), lr=float(self.lr))
            stopper = EarlyStopping(int(self.patience))
            bar = progress_bar(range(1, self.epochs + 1), desc="imagegen", enabled=self.progress)
            for epoch in bar:
                net.train()
                order = torch.from_numpy(rng.permutation(len(x)))
                sums = np.zeros(6)
                for start in range(0, len(order), self.batch_size):
                    idx = order[start : start + self.batch_size]
                    parts = self._elbo(net, x[idx], c[idx], gen)
                    opt.zero_grad()
                    parts[0].backward()
                    opt.step()
                    sums += np.array([float(p.detach()) for p in parts]) * len(idx)
                mean = sums / len(x)
                if not np.isfinite(mean[0]):
                    bar.close()
                    raise EstimationError(
                        f"generator training diverged at epoch {epoch}; lower lr (now {self.lr})"
                    )
                val = math.nan
                if x_val is not None:
                    net.eval()
                    with torch.no_grad():
                        val = float(self._generation_nll(net, x_val, c_val).mean())
                records.append((epoch, *mean, val))
                bar.set_postfix(loss=f"{mean[0]:.1f}")
                if x_val is not None and stopper.update(val, epoch, net):
                    break
            bar.close()
            if x_val is not None:
                net.load_state_dict(stopper.best_state)
            net.eval()
            var_net, var_records, rho = None, [], np.zeros((3, 3))
            if self._heteroscedastic:
                var_net, var_records, rho = self._fit_variance(net, x, c, rng)
        self.net_ = net
        self.variance_net_ = var_net
        self.noise_rho_ = rho
        self._calibrate(x, c)
        self.best_epoch_ = int(stopper.best_epoch) if x_val is not None else len(records)
        self.history_ = pd.DataFrame(
            records,
            columns=[
                "epoch",
                "loss",
                "image_nll",
                "mask_bce",
                "kl",
                "generation",
                "image_mse",
                "val_generation",
            ],
        )[HISTORY_COLUMNS]
        self.variance_history_ = pd.DataFrame(var_records, columns=["epoch", "image_nll"])
        return self

    def _fit_variance(
        self, net: _CVAENet, x: torch.Tensor, c: torch.Tensor, rng: np.random.Generator
    ) -> tuple[_VarianceNet, list, np.ndarray]:
        """Fit the variance network to the detail of the fixed mean model's residuals (``z`` at
        the posterior mean; :func:`_detail`); return it, its history and the lag-one
        correlations of the standardised detail residuals (:meth:`_noise_correlation`)."""
        b = self.batch_size
        with torch.no_grad():
            h = net.cond(c)
            z = net.posterior_params(x, h)[0]
            mean = torch.cat(
                [net.decode(z[i : i + b], h[i : i + b])[:, :3] for i in range(0, len(x), b)]
            )
            resid = _detail(x[:, :3] - mean)
            w = self._voxel_weights(x)
            ms = ((w * resid**2).sum((0, 2, 3, 4)) / w.sum()).double().numpy()
        floor2 = float(self.sigma_floor) ** 2
        bias = np.log(np.maximum(ms - floor2, floor2))  # the constant-variance fit
        var_net = self._build_variance(net, bias)
        opt = torch.optim.Adam(var_net.parameters(), lr=float(self.lr))
        records = []
        for epoch in range(1, int(self.variance_epochs) + 1):
            var_net.train()
            order = torch.from_numpy(rng.permutation(len(x)))
            total = 0.0
            for start in range(0, len(order), b):
                idx = order[start : start + b]
                nll = self._variance_nll(var_net(z[idx], h[idx]), resid[idx], x[idx])
                opt.zero_grad()
                nll.mean().backward()
                opt.step()
                total += float(nll.detach().sum())
            if not math.isfinite(total):
                raise EstimationError(
                    f"variance network training diverged at epoch {epoch}; lower lr (now {self.lr})"
                )
            records.append((epoch, total / len(x)))
        var_net.eval()
        with torch.no_grad():
            sd = torch.cat(
                [
                    (0.5 * self._logvar(var_net(z[i : i + b], h[i : i + b]))).exp()
                    for i in range(0, len(x), b)
                ]
            )
        return var_net, records, self._noise_correlation(resid / sd, w)

    def _calibrate(self, x: torch.Tensor, c: torch.Tensor) -> None:
        """Set ``prior_sd_``, ``logvar_range_``, ``noise_scale_`` and ``mask_offset_`` (see
        the class's attributes) from the training crops ``x`` and their conditions ``c``
        (deterministic; nothing but the fitted networks and these patients).

        ``logvar_range_`` ``(3, 2)``: the smallest and largest log-variance per image channel
        that the variance network gives on the training voxels at the posterior mean of ``z``
        (where it was fitted); generation clips to it, as ``z`` drawn from the prior can lie
        far from every training posterior, where the network's output is an extrapolation.
        ``mask_offset_`` ``(1,)``: the shift of the mask logits that makes the median
        expected tumour volume (sum of the mask probabilities) of the training patients'
        prior-mean images equal to the median real tumour volume (mask fraction > 0.5) of the
        same patients, found by bisection (the expected volume rises with the shift).
        """
        b = self.batch_size
        self.logvar_range_ = np.zeros((3, 2))
        self.noise_scale_ = np.ones(3)
        with torch.no_grad():
            h = self.net_.cond(c)
            mu_q, lv_q = self.net_.posterior_params(x, h)
            mu_p = self.net_.prior_params(h)[0]
            spread = ((mu_q - mu_p).double() ** 2 + lv_q.double().exp()).mean(0)
            self.prior_sd_ = spread.sqrt().numpy()
            if self.variance_net_ is not None:
                z = mu_q
                lo = torch.full((3,), math.inf, dtype=torch.float64)
                hi = torch.full((3,), -math.inf, dtype=torch.float64)
                for i in range(0, len(x), b):
                    lv = self._logvar(self.variance_net_(z[i : i + b], h[i : i + b])).double()
                    lo = torch.minimum(lo, lv.amin((0, 2, 3, 4)))
                    hi = torch.maximum(hi, lv.amax((0, 2, 3, 4)))
                self.logvar_range_ = torch.stack([lo, hi], 1).numpy()
                # the noise scale: the variance at z drawn as in generation, against the
                # detail residuals it was fitted to (same weights), on the same patients
                draw = torch.Generator().manual_seed(0)
                sd = torch.from_numpy(self.prior_sd_).to(mu_p.dtype)
                num = torch.zeros(3, dtype=torch.float64)
                den = torch.zeros(3, dtype=torch.float64)
                for i in range(0, len(x), b):
                    xi, hi_, zi = x[i : i + b], h[i : i + b], z[i : i + b]
                    wi = self._voxel_weights(xi).double()
                    d = _detail(xi[:, :3] - self.net_.decode(zi, hi_)[:, :3]).double()
                    num += (wi * d**2).sum((0, 2, 3, 4)) * _NOISE_DRAWS
                    for _ in range(_NOISE_DRAWS):
                        zd = mu_p[i : i + b] + torch.randn(zi.shape, generator=draw) * sd
                        den += (wi * self._bounded_logvar(zd, hi_).double().exp()).sum((0, 2, 3, 4))
                self.noise_scale_ = (num / den.clamp(min=1e-12)).sqrt().numpy()
            logits = torch.cat(
                [self.net_.decode(mu_p[i : i + b], h[i : i + b])[:, 3] for i in range(0, len(x), b)]
            ).double()
        target = float(np.median((x[:, 3] > 0.5).flatten(1).sum(1).double().numpy()))
        lo_b, hi_b = -30.0, 30.0
        for _ in range(60):
            mid = 0.5 * (lo_b + hi_b)
            volume = float(torch.sigmoid(logits + mid).flatten(1).sum(1).median())
            if volume < target:
                lo_b = mid
            else:
                hi_b = mid
        self.mask_offset_ = np.array([0.5 * (lo_b + hi_b)])

    def _noise_correlation(self, resid: torch.Tensor, w: torch.Tensor) -> np.ndarray:
        """Lag-one correlation per image channel and axis (z, y, x) of standardised residuals
        ``(n, 3, Z, Y, X)``, voxel pairs weighted by the mean of their weights ``w``
        ``(n, 1, Z, Y, X)``, clipped to [0, 0.95]; zeros for white noise."""
        if self.voxel_noise == "white":
            return np.zeros((3, 3))
        r = resid.double()
        w = w.double().expand_as(r)
        rho = np.zeros((3, 3))
        dims = (0, 2, 3, 4)
        for axis in range(3):
            n = r.shape[axis + 2]
            a, b = r.narrow(axis + 2, 0, n - 1), r.narrow(axis + 2, 1, n - 1)
            wp = 0.5 * (w.narrow(axis + 2, 0, n - 1) + w.narrow(axis + 2, 1, n - 1))
            num = (wp * a * b).sum(dims)
            den = ((wp * a * a).sum(dims) * (wp * b * b).sum(dims)).sqrt().clamp(min=1e-12)
            rho[:, axis] = (num / den).numpy()
        return np.clip(rho, 0.0, 0.95)

    def _log_offsets(self, data: np.ndarray, patients: list, fit_pos: np.ndarray) -> np.ndarray:
        """``log_offset_`` (3,): for ``intensity_scale="log"``, a hundredth of the training
        median (rows ``fit_pos`` of the crops ``data``) of T2 and DWI (0 for ADC, which stays
        linear); zeros otherwise. Negative T2 or DWI values are refused with the
        ``patients`` (one per row of ``data``) named."""
        offsets = np.zeros(3)
        if self.intensity_scale != "log":
            return offsets
        for ch in _LOG_CHANNELS:
            negative = (data[:, ch] < 0).reshape(len(data), -1).any(axis=1)
            bad = [patients[i] for i in np.flatnonzero(negative)]
            if bad:
                name = ("T2", "DWI")[ch]
                raise DataError(
                    f"intensity_scale='log' needs non-negative {name} intensities; negative "
                    f"values in patient(s) {', '.join(map(str, bad[:5]))}"
                    + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
                    + "; train with intensity_scale='linear' (--intensity-scale linear) for "
                    "images with negative values"
                )
            median = float(np.median(data[fit_pos, ch]))
            offsets[ch] = _LOG_OFFSET_SHARE * median if median > 0 else 1.0
        return offsets

    def _to_model_scale(self, img: np.ndarray) -> np.ndarray:
        """T2, DWI, ADC ``(n, 3, ...)`` in the input units -> the modelled scale (the log of
        T2 and DWI plus ``log_offset_`` with ``intensity_scale="log"``; unchanged otherwise)."""
        if self.intensity_scale != "log":
            return img
        out = np.array(img, dtype=np.float64)
        for ch in _LOG_CHANNELS:
            out[:, ch] = np.log(np.maximum(out[:, ch], 0.0) + self.log_offset_[ch])
        return out

    def _from_model_scale(self, img: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`_to_model_scale` (float64, in place)."""
        if self.intensity_scale == "log":
            for ch in _LOG_CHANNELS:
                img[:, ch] = np.exp(np.minimum(img[:, ch], _LOG_CEILING)) - self.log_offset_[ch]
        return img

    def _to_tensor(self, data: np.ndarray) -> torch.Tensor:
        out = np.empty(data.shape, dtype=np.float32)
        shape = (1, -1, 1, 1, 1)
        out[:, :3] = (
            self._to_model_scale(data[:, :3]) - self.channel_mean_.reshape(shape)
        ) / self.channel_scale_.reshape(shape)
        out[:, 3] = data[:, 3]
        return torch.from_numpy(out)

    def _voxel_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Tumour-balance weights ``(n, 1, Z, Y, X)`` of the crops ``x``, or ones."""
        if self.tumour_balance:
            return tumour_balance_weights(x[:, 3:4])
        return torch.ones_like(x[:, 3:4])

    def _logvar(self, raw: torch.Tensor) -> torch.Tensor:
        """Log-variance from the variance network's raw output: ``log(floor^2 + exp(raw))``
        (a smooth floor)."""
        floor = torch.full_like(raw, 2.0 * math.log(float(self.sigma_floor)))
        return torch.logaddexp(raw, floor)

    def _bounded_logvar(self, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Log-variance of the generated voxel noise, clipped per channel to
        ``logvar_range_`` (the range on the training voxels)."""
        lv = self._logvar(self.variance_net_(z, h))
        rng = torch.from_numpy(self.logvar_range_).to(lv.dtype)
        shape = (1, -1, 1, 1, 1)
        return torch.clamp(lv, min=rng[:, 0].reshape(shape), max=rng[:, 1].reshape(shape))

    def _variance_nll(
        self, raw: torch.Tensor, resid: torch.Tensor, x: torch.Tensor
    ) -> torch.Tensor:
        """Weighted Gaussian negative log-likelihood per row of residuals ``(n, 3, ...)`` with
        the variance from ``raw``; ``x`` gives the mask for the tumour-balance weights."""
        lv = self._logvar(raw)
        nll = 0.5 * (resid**2 * (-lv).exp() + lv + _LOG_2PI)
        return (self._voxel_weights(x) * nll).flatten(1).sum(1)

    def _image_nll(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Image term of the mean model's loss per row: half the (tumour-balanced) sum of
        squared errors of the three standardised images (unit-variance Gaussian)."""
        sq = (out[:, :3] - x[:, :3]) ** 2
        return 0.5 * (self._voxel_weights(x) * sq).flatten(1).sum(1)

    @staticmethod
    def _mask_bce(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (
            nn.functional.binary_cross_entropy_with_logits(out[:, 3], x[:, 3], reduction="none")
            .flatten(1)
            .sum(1)
        )

    def _reconstruction(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of ``x`` under the decoder output, per row."""
        return self._image_nll(out, x) + self._mask_bce(out, x)

    def _generation_nll(self, net: _CVAENet, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss of ``x`` decoded from its condition alone (z at the prior mean)."""
        h = net.cond(c)
        return self._reconstruction(net.decode(net.prior_params(h)[0], h), x)

    def _elbo(self, net: _CVAENet, x: torch.Tensor, c: torch.Tensor, gen: torch.Generator):
        h = net.cond(c)
        mu_q, lv_q = net.posterior_params(x, h)
        mu_p, lv_p = net.prior_params(h)
        eps = torch.randn(mu_q.shape, generator=gen)
        z = mu_q + eps * (0.5 * lv_q).exp()
        out = net.decode(z, h)
        nll = self._image_nll(out, x)
        bce = self._mask_bce(out, x)
        kl = _kl(mu_q, lv_q, mu_p, lv_p)
        loss = nll + bce + kl
        gen_term = torch.zeros(())
        if self.generation_weight > 0:
            gen_term = self._reconstruction(net.decode(mu_p, h), x).mean()  # Sohn's GSNN term
            loss = loss + float(self.generation_weight) * gen_term
        mse = ((out[:, :3] - x[:, :3]) ** 2).detach().mean()
        return loss.mean(), nll.mean(), bce.mean(), kl.mean(), gen_term, mse

    # ------------------------------------------------------------------ generation
    def sample(
        self, expression: pd.DataFrame, random_state: int | None = None, *, mode: str = "sample"
    ) -> tuple[np.ndarray, pd.Index]:
        """Generate one crop per row of ``expression``.

        Parameters
        ----------
        expression : DataFrame
            Patients x the model's genes (all of them, no others, no missing values).
        random_state : int or None
            Seeds the draws of ``z`` (same seed, same images).
        mode : {"sample", "mean"}
            ``"sample"``: ``z`` drawn from the conditional prior and, with the heteroscedastic
            decoder, voxel noise drawn from the decoder's variance (white or correlated, see
            ``voxel_noise``; its log-variance clipped to ``logvar_range_`` and its SD
            multiplied by ``noise_scale_``) added to the image means, ``z = mean +
            prior_sd_ * eps``; ``"mean"``: ``z`` at the prior mean and
            the mean image (the typical image for that expression, without texture). The
            draws of ``z`` come first from the seeded stream, so the same seed gives the same
            ``z`` and the same unit noise field for any expression (common random numbers).

        Returns
        -------
        images : ndarray of float32, shape (n, 4, Z, Y, X)
            T2, DWI, ADC in the training units and the mask probability.
        patient_id : Index
        """
        self._check_fitted()
        if mode not in ("sample", "mean"):
            raise DataError(f"mode must be 'sample' or 'mean', got {mode!r}")
        expr = check_gene_table(expression, self.genes_, what="sampling expression")
        c = self._condition(expr)
        seed = check_random_state_int(random_state)
        with torch_session(seed, self.n_threads) as gen, torch.no_grad():
            h = self.net_.cond(c)
            mu = self.net_.prior_params(h)[0]
            eps = torch.randn(mu.shape, generator=gen)
            sd = torch.from_numpy(self.prior_sd_).to(mu.dtype)
            z = mu if mode == "mean" else mu + eps * sd
            dec = self.net_.decode(z, h)
            images = dec[:, :3]
            if mode == "sample" and self._heteroscedastic:
                noise = _ar1_field(images.shape, torch.from_numpy(self.noise_rho_), gen)
                scale = torch.from_numpy(self.noise_scale_).to(images.dtype).reshape(1, -1, 1, 1, 1)
                images = images + noise * scale * (0.5 * self._bounded_logvar(z, h)).exp()
            mask = dec[:, 3:4] + float(self.mask_offset_[0])
            out = torch.cat([images, mask], dim=1).numpy().astype(np.float64)
        shape = (1, -1, 1, 1, 1)
        out[:, :3] = self._from_model_scale(
            out[:, :3] * self.channel_scale_.reshape(shape) + self.channel_mean_.reshape(shape)
        )
        out[:, 3] = 1.0 / (1.0 + np.exp(-out[:, 3]))
        return out.astype(np.float32), expr.index

    # ------------------------------------------------------------------ persistence
    _ARRAYS = (
        "gene_mean_",
        "gene_scale_",
        "pc_mean_",
        "components_",
        "pc_scale_",
        "channel_mean_",
        "channel_scale_",
        "noise_rho_",
        "logvar_range_",
        "mask_offset_",
        "prior_sd_",
        "noise_scale_",
        "log_offset_",
    )

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``model.json`` (format, version, genes, settings) and ``weights.pt``
        (state dict and standardisation arrays) into a new folder, atomically."""
        from radsem import __version__
        from radsem.io import atomic_write_bytes
        from radsem.io.staging import staged_folder

        self._check_fitted()
        folder = Path(folder).absolute()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise DataError(f"{folder}: exists and is not an empty folder (choose a new --out)")
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "radsem_version": __version__,
            "genes": self.genes_,
            "params": {k: v for k, v in self.get_params().items() if k not in ("progress",)},
            "grid": list(self.grid_),
            "spacing": list(self.spacing_),
            "n_train": len(self.patients_),
            "train_patients": self.patients_,
            "validation_patients": self.validation_patients_,
            "best_epoch": self.best_epoch_,
            "history": {
                c: [float(v) if math.isfinite(v) else None for v in self.history_[c]]
                for c in self.history_
            },
            "variance_history": {
                c: [float(v) for v in self.variance_history_[c]] for c in self.variance_history_
            },
        }
        payload = {"state_dict": self.net_.state_dict()}
        if self.variance_net_ is not None:
            payload["variance_state_dict"] = self.variance_net_.state_dict()
        payload.update(
            {k: torch.from_numpy(np.ascontiguousarray(getattr(self, k))) for k in self._ARRAYS}
        )
        from radsem.deep._runtime import atomic_torch_save

        with staged_folder(folder) as tmp:
            atomic_torch_save(payload, tmp / "weights.pt")
            text = json.dumps(meta, indent=1, allow_nan=False) + "\n"
            atomic_write_bytes(text.encode("utf-8"), tmp / "model.json")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> ExpressionImageGenerator:
        """Read a model folder written by :meth:`save` (weights with ``weights_only=True``).

        Raises
        ------
        DataError
            The folder is missing, is not a generator model, or was written in another
            format version.
        """
        folder = Path(folder)
        meta_path = folder / "model.json"
        if not meta_path.is_file():
            raise DataError(f"{folder}: not a radsem imagegen model folder (no model.json)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{meta_path}: not valid JSON ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DataError(
                f"{meta_path}: not a radsem imagegen model "
                f"(format {meta.get('format') if isinstance(meta, dict) else None!r})"
            )
        if meta.get("format_version") != FORMAT_VERSION:
            raise DataError(
                f"{folder}: model folder format version "
                f"{meta.get('format_version')!r} (written by radsem "
                f"{meta.get('radsem_version', '?')}); this radsem reads version "
                f"{FORMAT_VERSION} only: retrain with `radsem imagegen train`"
            )
        weights = folder / "weights.pt"
        if not weights.is_file():
            raise DataError(f"{folder}: weights.pt is missing")
        try:
            payload = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - unreadable weights are a data problem
            raise DataError(f"{weights}: not readable model weights ({exc})") from exc
        model = cls(**meta["params"])
        model.genes_ = list(meta["genes"])
        model.grid_ = tuple(meta["grid"])
        model.spacing_ = tuple(meta["spacing"])
        model.patients_ = list(meta["train_patients"])
        try:
            model.validation_patients_ = list(meta["validation_patients"])
            model.best_epoch_ = int(meta["best_epoch"])
            hist = pd.DataFrame(meta["history"]).astype(float)
            hist["epoch"] = hist["epoch"].astype(np.int64)
            model.history_ = hist
            var_hist = pd.DataFrame(meta["variance_history"], columns=["epoch", "image_nll"])
            model.variance_history_ = var_hist.astype({"epoch": np.int64, "image_nll": float})
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{meta_path}: incomplete model description ({exc})") from exc
        try:
            for k in cls._ARRAYS:
                setattr(model, k, payload[k].numpy().astype(np.float64))
            net = model._build()
            net.load_state_dict(payload["state_dict"])
            var_net = None
            if model._heteroscedastic:
                var_net = model._build_variance(net, np.zeros(3))
                var_net.load_state_dict(payload["variance_state_dict"])
                var_net.eval()
        except (KeyError, RuntimeError) as exc:
            raise DataError(f"{weights}: weights do not match model.json ({exc})") from exc
        net.eval()
        model.net_ = net
        model.variance_net_ = var_net
        return model


def fit_cohort(
    cohort, random_state: int | None = 0, progress: bool = False, **params
) -> tuple[ExpressionImageGenerator, dict]:
    """Train a generator on the patients of a cohort folder with both images and expression.

    Parameters
    ----------
    cohort : str, path or Cohort
        A cohort folder (see ``docs/cohort-folder.md``) or a :func:`radsem.io.read_cohort`
        result.
    random_state : int or None
    **params
        Settings of :class:`ExpressionImageGenerator`.

    Returns
    -------
    model : ExpressionImageGenerator
    summary : dict
        ``n_images``, ``n_expression``, ``n_train`` and ``expression_only`` (patients with
        expression but no images: not used, the generator needs both).
    """
    from radsem.deep.crops import load_cases
    from radsem.deep.imagegen_data import cut_image_set
    from radsem.io import read_cohort

    if isinstance(cohort, str | os.PathLike):
        cohort = read_cohort(cohort)
    expr = cohort.expression
    if expr.shape[1] <= 1 or expr.empty:
        raise DataError(
            f"{cohort.path}: the cohort has no expression.csv rows; the generator "
            "learns from patients with both expression and images"
        )
    if cohort.images.empty:
        raise DataError(f"{cohort.path}: the cohort has no images")
    with_images = set(cohort.images["patient_id"])
    both = [p for p in expr["patient_id"] if p in with_images]
    if len(both) < 4:
        raise DataError(
            f"{cohort.path}: only {len(both)} patients have both images and "
            "expression; the generator needs at least 4"
        )
    rows = cohort.images.loc[cohort.images["patient_id"].isin(set(both))]
    images = cut_image_set(load_cases(rows, progress=progress))
    table = check_gene_table(
        expr.set_index("patient_id").loc[both], what=f"{cohort.path}/expression"
    )
    model = ExpressionImageGenerator(random_state=random_state, progress=progress, **params)
    model.fit(images, table)
    summary = {
        "n_images": len(cohort.images),
        "n_expression": len(expr),
        "n_train": len(both),
        "expression_only": len(set(expr["patient_id"]) - with_images),
    }
    return model, summary


def sample_cohort(
    model: ExpressionImageGenerator,
    expression: pd.DataFrame,
    out: str | os.PathLike,
    random_state: int | None = 0,
    mask_rule: str = "expected_volume",
) -> Path:
    """Generate images for every row of ``expression`` and write them as a cohort folder.

    The folder gets ``images/<patient_id>/{t2,dwi,adc,mask}.nii.gz``, ``expression.csv`` and a
    placeholder ``clinical.csv`` (see
    :func:`~radsem.deep.imagegen_data.write_generated_cohort`), so ``radsem extract`` runs on it.
    ``mask_rule`` binarises the generated mask probability (see
    :func:`~radsem.deep.imagegen_data.binarise_mask`).
    """
    from radsem.deep.imagegen_data import write_generated_cohort

    expr = check_gene_table(expression, model.genes_, what="sampling expression")
    images, ids = model.sample(expr, random_state)
    return write_generated_cohort(
        images, ids, model.spacing_, out, expression=expr, mask_rule=mask_rule
    )
