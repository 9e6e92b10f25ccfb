"""The models of a gene map: a multi-output feed-forward network (torch) and the regressors a
reviewer would compare it with (scikit-learn), behind one ``fit`` / ``predict`` interface.

Every model sees the same standardisation: genes are centred and scaled with the training
fold's means and standard deviations (a missing value becomes the training mean, i.e. 0), and
the network also standardises its targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NetworkSettings", "GeneNetwork", "Standardiser", "make_model", "MODEL_NAMES"]

#: Model names in the outputs, the network first.
MODEL_NAMES = ("network", "elastic_net", "random_forest", "gradient_boosting", "svr", "mean")


class Standardiser:
    """Centre and scale columns with the training data's mean and standard deviation; missing
    values become 0 (the training mean)."""

    def fit(self, x: np.ndarray) -> Standardiser:
        self.mean_ = np.nanmean(x, axis=0)
        sd = np.nanstd(x, axis=0)
        self.scale_ = np.where(sd > 1e-12, sd, 1.0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean_) / self.scale_
        return np.where(np.isnan(z), 0.0, z)


@dataclass(frozen=True)
class NetworkSettings:
    """Settings of the feed-forward network (standard choices, not tuned to any data set).

    Attributes
    ----------
    hidden : tuple of int
        Widths of the dense blocks (Linear, BatchNorm, ReLU, Dropout).
    dropout : float
        Dropout after every block (also on the inputs, at half this rate).
    weight_decay : float
        Decoupled weight decay of AdamW.
    learning_rate : float
    batch_size : int
    max_epochs : int
    patience : int
        Early stopping: epochs without improvement of the inner-validation loss.
    validation_share : float
        Share of the training fold held out for early stopping.
    pretrain : bool
        Initialise the first block from a gene autoencoder trained on the training fold's
        genes (Smedley et al. 2021).
    l1 : float
        Lasso penalty on the first layer's weights (sparse input, as in LassoNet-style
        genomic networks); without it a dense 2,000-input layer fitted on ~160 patients
        behaves like ridge regression and misses sparse drivers.
    optimizer : {"adamw", "sgd"}
        AdamW, or SGD with momentum 0.9.
    members : int
        Networks averaged (a deep ensemble: each member has its own weights, inner split and
        minibatches); averaging lowers the variance of predictions and attributions.
    calibrate : bool
        Rescale the ensemble's outputs per target by the least-squares slope (clipped to
        [0, 1]) and intercept of the observed on the predicted values in the members' inner
        validation splits, shrinking over-confident predictions towards the mean.
    """

    hidden: tuple = (64, 32)
    dropout: float = 0.3
    weight_decay: float = 1e-2
    learning_rate: float = 1e-3
    batch_size: int = 16
    max_epochs: int = 500
    patience: int = 50
    validation_share: float = 0.2
    pretrain: bool = False
    l1: float = 1e-3
    optimizer: str = "adamw"
    members: int = 1
    calibrate: bool = True


def _blocks(n_in: int, hidden: tuple, dropout: float):
    import torch.nn as nn

    layers: list = [nn.Dropout(dropout / 2)]
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    return layers, width


def _train(module, x, y, settings: NetworkSettings, generator, loss_fn=None):
    """Minibatch AdamW with early stopping on an inner split; returns the best state."""
    import copy

    import torch

    n = x.shape[0]
    perm = torch.randperm(n, generator=generator)
    n_val = max(2, int(round(settings.validation_share * n)))
    val, tr = perm[:n_val], perm[n_val:]
    if settings.optimizer == "sgd":
        opt = torch.optim.SGD(
            module.parameters(),
            lr=settings.learning_rate,
            momentum=0.9,
            weight_decay=settings.weight_decay,
        )
    else:
        opt = torch.optim.AdamW(
            module.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
    supervised = loss_fn is None
    loss_fn = loss_fn or torch.nn.functional.mse_loss
    first = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
    l1 = first.weight if supervised and settings.l1 > 0 and first is not None else None
    best, best_state, stale = float("inf"), copy.deepcopy(module.state_dict()), 0
    for _ in range(settings.max_epochs):
        module.train()
        order = tr[torch.randperm(len(tr), generator=generator)]
        for start in range(0, len(order), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            if len(idx) < 2:  # batch normalisation needs two rows
                continue
            opt.zero_grad()
            loss = loss_fn(module(x[idx]), y[idx])
            if l1 is not None:
                loss = loss + settings.l1 * l1.abs().sum()
            loss.backward()
            opt.step()
        module.eval()
        with torch.no_grad():
            current = float(loss_fn(module(x[val]), y[val]))
        if current < best - 1e-6:
            best, best_state, stale = current, copy.deepcopy(module.state_dict()), 0
        else:
            stale += 1
            if stale >= settings.patience:
                break
    module.load_state_dict(best_state)
    module.eval()
    return module, val


def _ensemble(members):
    import torch

    class Ensemble(torch.nn.Module):
        """The mean of the members' outputs."""

        def __init__(self, members) -> None:
            super().__init__()
            self.members = torch.nn.ModuleList(members)

        def forward(self, x):
            return torch.stack([m(x) for m in self.members]).mean(0)

    return Ensemble(members).eval()


class GeneNetwork:
    """Multi-output feed-forward network from standardised genes to standardised targets.

    Parameters
    ----------
    settings : NetworkSettings, optional
    seed : int
        Seeds the weights, the inner split, the minibatches and dropout.

    Attributes
    ----------
    module_ : torch.nn.Module
        After :meth:`fit`: the ensemble (mean of the members) mapping standardised genes
        (0 = training mean) to standardised targets, before calibration; what the
        interpretation methods query (their scores do not depend on the calibration's
        positive rescaling).
    slope_, intercept_ : ndarray
        The calibration of :meth:`predict`, per target (standardised scale).
    x_scaler_, y_scaler_ : Standardiser
    """

    name = "network"

    def __init__(self, settings: NetworkSettings | None = None, seed: int = 0) -> None:
        self.settings = settings or NetworkSettings()
        self.seed = int(seed)

    def fit(self, x: np.ndarray, y: np.ndarray) -> GeneNetwork:
        """Fit on genes ``x`` (patients x genes) and targets ``y`` (patients x targets)."""
        import torch
        import torch.nn as nn

        s = self.settings
        self.x_scaler_ = Standardiser().fit(x)
        self.y_scaler_ = Standardiser().fit(y)
        xt = torch.as_tensor(self.x_scaler_.transform(x), dtype=torch.float32)
        yt = torch.as_tensor(self.y_scaler_.transform(y), dtype=torch.float32)
        gen = torch.Generator().manual_seed(self.seed)
        # weights and dropout masks draw from torch's global generator: seed it, and leave
        # the caller's random state as it was
        members, pairs = [], []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            for _ in range(max(1, s.members)):
                layers, width = _blocks(xt.shape[1], s.hidden, s.dropout)
                if s.pretrain:
                    self._pretrain(layers, xt, gen)
                head = nn.Linear(width, yt.shape[1])
                member, val = _train(nn.Sequential(*layers, head), xt, yt, s, gen)
                members.append(member)
                with torch.no_grad():
                    pairs.append((member(xt[val]).numpy(), yt[val].numpy()))
        self.module_ = _ensemble(members)
        pred = np.concatenate([p for p, _ in pairs])
        obs = np.concatenate([o for _, o in pairs])
        self.slope_ = np.ones(yt.shape[1])
        self.intercept_ = np.zeros(yt.shape[1])
        if s.calibrate:
            pc = pred - pred.mean(0)
            var = (pc**2).sum(0)
            slope = np.where(
                var > 0, (pc * (obs - obs.mean(0))).sum(0) / np.where(var > 0, var, 1), 0
            )
            self.slope_ = np.clip(slope, 0.0, 1.0)
            self.intercept_ = obs.mean(0) - self.slope_ * pred.mean(0)
        return self

    def _pretrain(self, layers, xt, gen) -> None:
        """Gene autoencoder: the first block encodes, a linear layer reconstructs the genes."""
        import torch.nn as nn

        encoder = nn.Sequential(*layers[:5])  # input dropout + first dense block
        auto = nn.Sequential(encoder, nn.Linear(self.settings.hidden[0], xt.shape[1]))
        _train(auto, xt, xt, self.settings, gen, loss_fn=nn.functional.mse_loss)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions on the targets' original scale."""
        import torch

        with torch.no_grad():
            z = self.module_(torch.as_tensor(self.x_scaler_.transform(x), dtype=torch.float32))
        z = self.intercept_ + self.slope_ * z.numpy().astype(float)
        return z * self.y_scaler_.scale_ + self.y_scaler_.mean_


class _PerTarget:
    """A scikit-learn regressor fitted per target on standardised genes."""

    def __init__(self, name: str, factory) -> None:
        self.name = name
        self.factory = factory

    def fit(self, x: np.ndarray, y: np.ndarray) -> _PerTarget:
        self.x_scaler_ = Standardiser().fit(x)
        z = self.x_scaler_.transform(x)
        self.models_ = [self.factory().fit(z, y[:, j]) for j in range(y.shape[1])]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = self.x_scaler_.transform(x)
        return np.column_stack([m.predict(z) for m in self.models_])


class _Forest:
    """One multi-output random forest for every target, on standardised genes."""

    name = "random_forest"

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Forest:
        from sklearn.ensemble import RandomForestRegressor

        self.x_scaler_ = Standardiser().fit(x)
        self.model_ = RandomForestRegressor(
            n_estimators=200, max_features="sqrt", random_state=self.seed, n_jobs=1
        )
        self.model_.fit(self.x_scaler_.transform(x), y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model_.predict(self.x_scaler_.transform(x)).reshape(len(x), -1)


class _Mean:
    name = "mean"

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Mean:
        self.mean_ = y.mean(axis=0)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.tile(self.mean_, (x.shape[0], 1))


def make_model(name: str, seed: int = 0, network: NetworkSettings | None = None):
    """A fresh, unfitted model by its output name.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`.
    seed : int
    network : NetworkSettings, optional
        For ``"network"``.

    Notes
    -----
    Settings are scikit-learn's defaults except where p >> n makes them unusable or slow:
    elastic net chooses its penalty by 3-fold inner cross-validation (``l1_ratio=0.5``,
    30 penalties); random forest uses 200 trees with ``max_features="sqrt"``; gradient
    boosting uses ``max_features="sqrt"`` and ``subsample=0.8``; SVR is the RBF default.
    """
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import ElasticNetCV
    from sklearn.svm import SVR

    if name == "network":
        return GeneNetwork(network, seed=seed)
    if name == "elastic_net":
        return _PerTarget(
            name, lambda: ElasticNetCV(l1_ratio=0.5, alphas=30, cv=3, max_iter=5000, tol=1e-3)
        )
    if name == "random_forest":
        return _Forest(seed)
    if name == "gradient_boosting":
        return _PerTarget(
            name,
            lambda: GradientBoostingRegressor(
                max_features="sqrt", subsample=0.8, random_state=seed
            ),
        )
    if name == "svr":
        return _PerTarget(name, SVR)
    if name == "mean":
        return _Mean()
    from radsem.errors import DataError

    raise DataError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
