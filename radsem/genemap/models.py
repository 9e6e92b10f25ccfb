"""The models of a gene map: a multi-output feed-forward network (torch) and the regressors a
reviewer would compare it with (scikit-learn), behind one ``fit`` / ``predict`` interface.

Every model sees the same standardisation: genes are centred and scaled with the training
fold's means and standard deviations (a missing value becomes the training mean, i.e. 0), and
the network also standardises its targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radsem.genemap.lassonet import SparseSettings, lassonet_fit

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
        Initialise the first learned block from a gene autoencoder trained on the training
        fold's genes (Smedley et al. 2021); the ridge path is not affected.
    l1 : float
        Lasso penalty on the first learned layer's weights, added to the loss (default 0:
        through AdamW's subgradient steps it does not make weights exactly zero, and it did
        not improve held-out R² in the checks of docs/genemap.md).
    optimizer : {"adamw", "sgd"}
        AdamW, or SGD with momentum 0.9.
    members : int
        Networks averaged (a deep ensemble: each member has its own weights, inner split and
        minibatches); averaging lowers the variance of predictions and attributions.
    linear_path : bool
        A linear path next to the non-linear blocks (a "wide and deep" network): the output
        is a ridge regression of each target on the genes (fitted exactly on the member's
        inner training rows, penalty per target by leave-one-out error, then kept fixed)
        plus the dense blocks, whose last layer starts at zero so that the untrained network
        is the ridge fit and early stopping can keep it. Without it a ReLU network fitted on
        ~160 patients and 2,000 genes predicts worse than the linear models it is compared
        with (see docs/genemap.md).
    sparse : SparseSettings or None
        The default input stage: a LassoNet (Lemhadri et al. 2021; one per target, see
        :mod:`radsem.genemap.lassonet`): a sparse linear skip path and ReLU units whose gene
        weights are bounded by the skip weights, trained by proximal steps along a penalty
        path chosen on the inner split; the other settings above (``hidden``, ``dropout``, the
        optimiser, ``linear_path``, ``pretrain``, ``l1``) are then unused. ``None``: the
        ridge path and dense blocks (the default before LassoNet was added; see
        docs/genemap.md for the comparison).
    calibrate : bool
        Rescale the ensemble's outputs per target by the least-squares slope (clipped to
        [0, 1]) and intercept of the observed on the predicted values in the members' inner
        validation splits, shrinking over-confident predictions towards the mean (default
        off: estimated on ~32 patients the slope is itself noisy, and the ridge path already
        chooses its shrinkage by leave-one-out error).
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
    l1: float = 0.0
    optimizer: str = "adamw"
    members: int = 1
    linear_path: bool = True
    calibrate: bool = False
    sparse: SparseSettings | None = field(default_factory=SparseSettings)


def ridge_loo(x: np.ndarray, y: np.ndarray, n_alphas: int = 40):
    """Ridge regression of every column of ``y`` on ``x`` with its own penalty, chosen by
    exact leave-one-out error over a grid relative to the largest squared singular value.

    Returns
    -------
    coef : ndarray
        (features, targets).
    intercept : ndarray
        (targets,).
    alpha : ndarray
        The chosen penalty of each target.
    """
    xm, ym = x.mean(0), y.mean(0)
    u, sv, vt = np.linalg.svd(x - xm, full_matrices=False)
    uy = u.T @ (y - ym)
    s2 = sv**2
    grid = s2.max() * np.logspace(-4, 2, n_alphas)
    best = np.full(y.shape[1], np.inf)
    alpha = np.zeros(y.shape[1])
    for a in grid:
        shrink = s2 / (s2 + a)
        fitted = u @ (shrink[:, None] * uy)
        hat = (u**2) @ shrink + 1.0 / len(x)  # the intercept's leverage
        loo = (((y - ym - fitted) / (1.0 - hat)[:, None]) ** 2).mean(0)
        better = loo < best
        best[better], alpha[better] = loo[better], a
    coef = vt.T @ ((sv[:, None] / (s2[:, None] + alpha[None, :])) * uy)
    return coef, ym - xm @ coef, alpha


def _modules():
    import torch
    import torch.nn as nn

    class GeneInput(nn.Module):
        """The gene layer of a network with a linear path: the ridge predictions (fixed)
        next to the learned first dense layer (after input dropout). Linear in the genes;
        ``weight`` and ``bias`` are the two layers stacked (ridge rows first)."""

        def __init__(self, n_in: int, width: int, n_out: int, dropout: float) -> None:
            super().__init__()
            self.dropout = nn.Dropout(dropout)
            self.learned = nn.Linear(n_in, width)
            self.ridge = nn.Linear(n_in, n_out)
            self.ridge.requires_grad_(False)

        @property
        def weight(self):
            return torch.cat([self.ridge.weight, self.learned.weight])

        @property
        def bias(self):
            return torch.cat([self.ridge.bias, self.learned.bias])

        def forward(self, x):
            return torch.cat([self.ridge(x), self.learned(self.dropout(x))], 1)

    class LinearPath(nn.Module):
        """Output = the ridge predictions + the non-linear blocks on the learned units."""

        def __init__(self, n_out: int, body) -> None:
            super().__init__()
            self.n_out = n_out
            self.body = body

        def forward(self, h):
            return h[:, : self.n_out] + self.body(h[:, self.n_out :])

    return GeneInput, LinearPath


def _network(n_in: int, n_out: int, settings: NetworkSettings):
    """The layers of one network and the encoder the autoencoder pre-trains. The first
    weighted layer is linear in the genes (``radsem.genemap.interpret`` relies on it)."""
    import torch.nn as nn

    hidden, dropout = settings.hidden, settings.dropout
    if not settings.linear_path:
        layers, width = _blocks(n_in, hidden, dropout)
        return [*layers, nn.Linear(width, n_out)], layers[:5]
    gene_input, linear_path = _modules()
    genes = gene_input(n_in, hidden[0], n_out, dropout / 2)
    body: list = [nn.BatchNorm1d(hidden[0]), nn.ReLU(), nn.Dropout(dropout)]
    rest, width = _blocks(hidden[0], hidden[1:], dropout)
    body += rest[1:]  # no second input dropout
    out = nn.Linear(width, n_out)
    nn.init.zeros_(out.weight)  # the network starts as the ridge fit
    nn.init.zeros_(out.bias)
    body.append(out)
    return [genes, linear_path(n_out, nn.Sequential(*body))], [
        genes.dropout,
        genes.learned,
        *body[:2],
    ]


def _blocks(n_in: int, hidden: tuple, dropout: float):
    import torch.nn as nn

    layers: list = [nn.Dropout(dropout / 2)]
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    return layers, width


def _split(n: int, settings: NetworkSettings, generator):
    """Inner validation and training rows."""
    import torch

    perm = torch.randperm(n, generator=generator)
    n_val = max(2, int(round(settings.validation_share * n)))
    return perm[:n_val], perm[n_val:]


def _train(module, x, y, settings: NetworkSettings, generator, loss_fn=None, split=None):
    """Minibatch AdamW with early stopping on an inner split; returns the best state (the
    untrained network counts: early stopping may keep it)."""
    import copy

    import torch

    val, tr = split if split is not None else _split(x.shape[0], settings, generator)
    if settings.optimizer == "sgd":
        opt = torch.optim.SGD(
            [p for p in module.parameters() if p.requires_grad],
            lr=settings.learning_rate,
            momentum=0.9,
            weight_decay=settings.weight_decay,
        )
    else:
        opt = torch.optim.AdamW(
            [p for p in module.parameters() if p.requires_grad],
            lr=settings.learning_rate,
            weight_decay=settings.weight_decay,
        )
    supervised = loss_fn is None
    loss_fn = loss_fn or torch.nn.functional.mse_loss
    first = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
    l1 = first.weight if supervised and settings.l1 > 0 and first is not None else None
    module.eval()
    with torch.no_grad():
        best = float(loss_fn(module(x[val]), y[val]))
    best_state, stale = copy.deepcopy(module.state_dict()), 0
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
    paths_ : list of dict
        With a sparse input stage: each member's penalty path (see
        :func:`radsem.genemap.lassonet.lassonet_fit`).
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
        self.paths_ = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            for number in range(max(1, s.members)):
                if s.sparse is not None:
                    split = _split(xt.shape[0], s, gen)
                    member, info = lassonet_fit(
                        xt, yt, split[0], split[1], s.sparse, seed=self.seed + 7919 * number
                    )
                    self.paths_.append(info)
                    members.append(member)
                    with torch.no_grad():
                        pairs.append((member(xt[split[0]]).numpy(), yt[split[0]].numpy()))
                    continue
                layers, encoder = _network(xt.shape[1], yt.shape[1], s)
                split = _split(xt.shape[0], s, gen)
                if s.linear_path:
                    inner = split[1].numpy()
                    coef, intercept, _ = ridge_loo(xt.numpy()[inner], yt.numpy()[inner])
                    with torch.no_grad():
                        layers[0].ridge.weight.copy_(torch.as_tensor(coef.T))
                        layers[0].ridge.bias.copy_(torch.as_tensor(intercept))
                if s.pretrain:
                    self._pretrain(encoder, xt, gen)
                member, val = _train(nn.Sequential(*layers), xt, yt, s, gen, split=split)
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

        encoder = nn.Sequential(*layers)  # input dropout + first dense block
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
