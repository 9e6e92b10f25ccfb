"""Conditional Wasserstein GAN with gradient penalty (WGAN-GP) for log2 expression profiles."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from radsem._optional import require
from radsem.deep._runtime import (
    atomic_torch_save,
    check_random_state_int,
    safe_torch_load,
    torch_session,
)
from radsem.errors import DataError, EstimationError

torch = require("torch", "the conditional GAN")
nn = torch.nn

__all__ = ["ConditionalWGAN", "combine_real_synthetic", "OUTCOME_COLUMNS"]

_KIND = "radsem.ConditionalWGAN"
#: Column names refused as genes: outcomes must never be generated or carried by synthetic rows.
OUTCOME_COLUMNS = frozenset(
    {
        "time",
        "event",
        "status",
        "dss_event",
        "dss_time",
        "os_event",
        "os_time",
        "pfs_event",
        "pfs_time",
        "recurrence",
        "death",
    }
)


class _Conditioner(nn.Module):
    """One embedding per condition variable, concatenated."""

    def __init__(self, sizes: list[int], dim: int) -> None:
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(s, dim) for s in sizes)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.cat([t(codes[:, i]) for i, t in enumerate(self.tables)], dim=1)


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, n_out),
    )


class _Generator(nn.Module):
    def __init__(self, sizes, emb, latent, hidden, n_genes) -> None:
        super().__init__()
        self.cond = _Conditioner(sizes, emb)
        self.body = _mlp(latent + emb * len(sizes), hidden, n_genes)

    def forward(self, z, codes):
        return self.body(torch.cat([z, self.cond(codes)], dim=1))


class _Critic(nn.Module):
    def __init__(self, sizes, emb, hidden, n_genes) -> None:
        super().__init__()
        self.cond = _Conditioner(sizes, emb)
        self.body = _mlp(n_genes + emb * len(sizes), hidden, 1)

    def forward(self, x, codes):
        return self.body(torch.cat([x, self.cond(codes)], dim=1)).squeeze(1)


def _py(value):
    return value.item() if isinstance(value, np.generic) else value


def _as_expression(expression: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(expression, pd.DataFrame):
        raise DataError("expression must be a DataFrame (patients x genes, log2 values)")
    if "patient_id" in expression.columns:
        expression = expression.set_index("patient_id")
    outcome = sorted(c for c in expression.columns if str(c).lower() in OUTCOME_COLUMNS)
    if outcome:
        raise DataError(
            f"expression has outcome columns {outcome}; pass genes only "
            "(synthetic rows never carry outcomes)"
        )
    nonnum = [c for c in expression.columns if not pd.api.types.is_numeric_dtype(expression[c])]
    if nonnum:
        raise DataError(f"expression has non-numeric columns {nonnum[:5]}; pass genes only")
    if expression.shape[1] < 2:
        raise DataError("expression needs at least two genes")
    if expression.index.has_duplicates:
        raise DataError("expression has duplicated patient ids")
    values = expression.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        bad = expression.columns[~np.isfinite(values).all(axis=0)].tolist()
        raise DataError(
            f"expression has missing or infinite values in genes {bad[:5]}; "
            "impute or drop them first"
        )
    return expression


def _as_labels(labels, index: pd.Index) -> pd.DataFrame:
    if isinstance(labels, pd.Series):
        labels = labels.to_frame(name=labels.name if labels.name is not None else "label")
    if not isinstance(labels, pd.DataFrame) or labels.shape[1] < 1:
        raise DataError("labels must be a Series or DataFrame of conditions indexed by patient")
    if "patient_id" in labels.columns:
        labels = labels.set_index("patient_id")
    missing = index.difference(labels.index)
    if len(missing):
        raise DataError(
            f"{len(missing)} patients have expression but no label, e.g. {list(missing[:3])}"
        )
    labels = labels.loc[index]
    if labels.isna().any().any():
        bad = labels.columns[labels.isna().any()].tolist()
        raise DataError(f"labels have missing values in {bad}")
    return labels


class ConditionalWGAN(BaseEstimator):
    """Conditional WGAN-GP that generates expression profiles for a given subtype.

    Parameters
    ----------
    latent_dim : int
        Size of the generator's noise vector.
    hidden : int
        Width of the two hidden layers of generator and critic.
    embedding_dim : int
        Size of each condition embedding.
    epochs : int
        Each epoch has ``ceil(n / batch_size)`` generator steps, each preceded by
        ``n_critic`` critic steps on random batches (drawn without replacement).
    batch_size, lr : training settings (Adam with ``betas=(0.5, 0.9)``).
    n_critic : int
        Critic steps per generator step.
    gp_weight : float
        Weight :math:`\\lambda` of the gradient penalty.
    min_per_class : int
        Fewest real samples accepted for any level of the first condition.
    random_state, n_threads, progress : as in :class:`~radsem.deep.cae.ConvAutoencoder`.

    Attributes
    ----------
    genes_ : list of str
    conditions_ : list of str
        Names of the condition variables (the first is the primary label, e.g. HPV type).
    categories_ : dict of list
        Levels of each condition.
    class_counts_ : dict
        Real samples per level of the primary condition.
    history_ : DataFrame
        ``epoch, critic_loss, generator_loss, wasserstein, gradient_penalty``.

    Notes
    -----
    Genes are standardised (training mean and SD) and the output is mapped back, so samples
    are on the log2 scale of the input. Generator and critic are two-hidden-layer MLPs with
    LeakyReLU(0.2); conditions enter both through learned embeddings concatenated to the
    input, so all subtypes share the hidden layers (rare subtypes borrow strength from common
    ones) and differ by their embedding. Critic loss (Gulrajani et al. 2017,
    arXiv:1704.00028): :math:`E[D(\\tilde x|c)] - E[D(x|c)] + \\lambda
    E[(\\lVert\\nabla_{\\hat x} D(\\hat x|c)\\rVert_2 - 1)^2]` with :math:`\\hat x` uniform on
    segments between real and generated rows of the same condition; generator loss
    :math:`-E[D(G(z|c)|c)]`.
    """

    def __init__(
        self,
        latent_dim: int = 32,
        hidden: int = 64,
        embedding_dim: int = 8,
        epochs: int = 300,
        batch_size: int = 32,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        lr: float = 1e-3,
        min_per_class: int = 3,
        random_state: int | None = None,
        n_threads: int = 1,
        progress: bool = True,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.embedding_dim = embedding_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.lr = lr
        self.min_per_class = min_per_class
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress

    # ------------------------------------------------------------------ helpers
    def _check_params(self) -> None:
        for name in (
            "latent_dim",
            "hidden",
            "embedding_dim",
            "epochs",
            "batch_size",
            "n_critic",
            "min_per_class",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise DataError(f"{name} must be a positive integer, got {value!r}")
        if not float(self.gp_weight) >= 0 or not float(self.lr) > 0:
            raise DataError("gp_weight must be >= 0 and lr > 0")

    def _encode(self, labels: pd.DataFrame) -> torch.Tensor:
        codes = []
        for name in self.conditions_:
            cats = self.categories_[name]
            lookup = {c: i for i, c in enumerate(cats)}
            values = [_py(v) for v in labels[name]]
            unknown = sorted({str(v) for v in values if v not in lookup})
            if unknown:
                raise DataError(f"unknown {name} label(s) {unknown}; the model knows {cats}")
            codes.append([lookup[v] for v in values])
        return torch.tensor(np.asarray(codes, dtype=np.int64).T.copy())

    def _networks(self) -> tuple[_Generator, _Critic]:
        sizes = [len(self.categories_[c]) for c in self.conditions_]
        g = _Generator(sizes, self.embedding_dim, self.latent_dim, self.hidden, len(self.genes_))
        d = _Critic(sizes, self.embedding_dim, self.hidden, len(self.genes_))
        return g, d

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise DataError("this ConditionalWGAN is not fitted yet; call fit() first")

    # ------------------------------------------------------------------ fitting
    def fit(self, expression: pd.DataFrame, labels) -> ConditionalWGAN:
        """Train on real expression (patients x genes) and their condition labels.

        ``labels`` is a Series (one condition) or a DataFrame (the first column is the primary
        label, e.g. ``hpv_type``; more columns such as clade or histology are extra
        conditions), indexed by patient like ``expression``.
        """
        from radsem._progress import progress_bar

        self._check_params()
        expr = _as_expression(expression)
        labs = _as_labels(labels, expr.index)
        clash = set(map(str, labs.columns)) & set(map(str, expr.columns))
        if clash:
            raise DataError(f"label columns {sorted(clash)} are also gene names")
        counts = labs.iloc[:, 0].value_counts()
        small = counts[counts < self.min_per_class]
        if len(small):
            raise DataError(
                f"too few samples for {labs.columns[0]} level(s) "
                f"{ {str(k): int(v) for k, v in small.items()} }; "
                f"each needs at least min_per_class={self.min_per_class}"
            )
        self.genes_ = [str(c) for c in expr.columns]
        self.conditions_ = [str(c) for c in labs.columns]
        labs.columns = self.conditions_
        self.categories_ = {c: sorted({_py(v) for v in labs[c]}, key=str) for c in self.conditions_}
        self.class_counts_ = {_py(k): int(v) for k, v in counts.items()}
        x = expr.to_numpy(dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-12] = 1.0
        self.scale_ = scale
        real = torch.from_numpy(((x - self.mean_) / self.scale_).astype(np.float32))
        codes = self._encode(labs)
        seed = check_random_state_int(self.random_state)
        rng = np.random.default_rng(seed)
        n = len(real)
        records = []
        with torch_session(seed, self.n_threads) as gen:
            g, d = self._networks()
            opt_g = torch.optim.Adam(g.parameters(), lr=float(self.lr), betas=(0.5, 0.9))
            opt_d = torch.optim.Adam(d.parameters(), lr=float(self.lr), betas=(0.5, 0.9))
            n_steps = max(1, math.ceil(n / self.batch_size))
            size = min(self.batch_size, n)
            bar = progress_bar(range(1, self.epochs + 1), desc="WGAN-GP", enabled=self.progress)
            for epoch in bar:
                stats = {"critic": [], "gen": [], "w": [], "gp": []}
                for _ in range(n_steps):
                    for _ in range(self.n_critic):
                        idx = torch.from_numpy(rng.choice(n, size=size, replace=False))
                        self._critic_step(g, d, opt_d, real[idx], codes[idx], gen, stats)
                    pick = torch.from_numpy(rng.integers(0, n, size=size))
                    self._generator_step(g, d, opt_g, codes[pick], gen, stats)
                rec = (
                    epoch,
                    np.mean(stats["critic"]),
                    np.mean(stats["gen"]) if stats["gen"] else math.nan,
                    np.mean(stats["w"]),
                    np.mean(stats["gp"]),
                )
                records.append(rec)
                if not np.isfinite(rec[1]):
                    bar.close()
                    raise EstimationError(
                        f"WGAN-GP training diverged at epoch {epoch} "
                        f"(critic loss {rec[1]}); lower lr (now {self.lr})"
                    )
                bar.set_postfix(critic=f"{rec[1]:.3f}", W=f"{rec[3]:.3f}")
            bar.close()
        g.eval()
        d.eval()
        self.generator_, self.critic_ = g, d
        self.history_ = pd.DataFrame(
            records,
            columns=["epoch", "critic_loss", "generator_loss", "wasserstein", "gradient_penalty"],
        )
        return self

    def _critic_step(self, g, d, opt, x, c, gen, stats) -> None:
        z = torch.randn(len(x), self.latent_dim, generator=gen)
        with torch.no_grad():
            fake = g(z, c)
        eps = torch.rand(len(x), 1, generator=gen)
        mix = (eps * x + (1 - eps) * fake).requires_grad_(True)
        grad = torch.autograd.grad(d(mix, c).sum(), mix, create_graph=True)[0]
        gp = ((grad.norm(2, dim=1) - 1.0) ** 2).mean()
        w = d(x, c).mean() - d(fake, c).mean()
        loss = -w + float(self.gp_weight) * gp
        opt.zero_grad()
        loss.backward()
        opt.step()
        stats["critic"].append(float(loss.detach()))
        stats["w"].append(float(w.detach()))
        stats["gp"].append(float(gp.detach()))

    def _generator_step(self, g, d, opt, c, gen, stats) -> None:
        z = torch.randn(len(c), self.latent_dim, generator=gen)
        loss = -d(g(z, c), c).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        stats["gen"].append(float(loss.detach()))

    # ------------------------------------------------------------------ sampling
    def sample(self, conditions, random_state: int | None = None) -> pd.DataFrame:
        """Generate one profile per row of ``conditions`` (Series or DataFrame of labels).

        Returns a DataFrame of genes on the input (log2) scale, indexed like ``conditions``.
        """
        self._check_fitted()
        if isinstance(conditions, pd.Series):
            conditions = conditions.to_frame(
                self.conditions_[0] if conditions.name is None else conditions.name
            )
        if not isinstance(conditions, pd.DataFrame):
            raise DataError("conditions must be a Series or DataFrame of labels")
        missing = [c for c in self.conditions_ if c not in conditions.columns]
        if missing:
            raise DataError(f"conditions lack columns {missing}")
        codes = self._encode(conditions)
        seed = check_random_state_int(random_state)
        with torch_session(seed, self.n_threads) as gen, torch.no_grad():
            z = torch.randn(len(codes), self.latent_dim, generator=gen)
            out = self.generator_(z, codes).numpy().astype(np.float64)
        return pd.DataFrame(
            out * self.scale_ + self.mean_, index=conditions.index, columns=self.genes_
        )

    def augment(
        self,
        expression: pd.DataFrame,
        labels,
        n_per_class: int | dict | str = 10,
        random_state: int | None = None,
    ) -> pd.DataFrame:
        """Synthetic rows for each level of the primary condition, flagged as synthetic.

        Parameters
        ----------
        expression : DataFrame
            The real expression (used to check genes and, if the model is unfitted, to fit it).
        labels : Series or DataFrame
            The real labels; extra conditions of synthetic rows are drawn from the real rows
            of the same primary level.
        n_per_class : int, dict or "balance"
            Rows per level present in ``labels``; a dict ``{level: n}``; or ``"balance"`` to
            bring every level up to the size of the largest.

        Returns
        -------
        DataFrame
            ``patient_id`` (``SYN-0001`` ...), the condition columns, ``synthetic`` (True) and
            the genes. Only synthetic rows: combine them with real rows explicitly
            (:func:`combine_real_synthetic`). No outcome columns are ever produced.
        """
        if not hasattr(self, "generator_"):
            self.fit(expression, labels)
        expr = _as_expression(expression)
        if set(map(str, expr.columns)) != set(self.genes_):
            raise DataError("expression genes differ from the genes the model was fitted on")
        labs = _as_labels(labels, expr.index)
        labs.columns = [str(c) for c in labs.columns]
        primary = self.conditions_[0]
        if list(labs.columns) != self.conditions_:
            raise DataError(
                f"labels must have the columns {self.conditions_}, got {list(labs.columns)}"
            )
        self._encode(labs)
        counts = labs[primary].value_counts()
        if isinstance(n_per_class, str):
            if n_per_class != "balance":
                raise DataError(
                    f"n_per_class must be an int, a dict or 'balance', got {n_per_class!r}"
                )
            wanted = {k: int(counts.max() - v) for k, v in counts.items()}
        elif isinstance(n_per_class, dict):
            unknown = [k for k in n_per_class if k not in counts.index]
            if unknown:
                raise DataError(
                    f"unknown {primary} label(s) {unknown} in n_per_class; "
                    f"known: {list(counts.index)}"
                )
            wanted = dict(n_per_class)
        else:
            wanted = {k: n_per_class for k in counts.index}
        if any(
            isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0
            for v in wanted.values()
        ):
            raise DataError("n_per_class values must be non-negative integers")
        rng = np.random.default_rng(check_random_state_int(random_state))
        parts = []
        for level in sorted(wanted, key=str):
            pool = labs[labs[primary] == level]
            rows = pool.iloc[rng.integers(0, len(pool), size=int(wanted[level]))]
            parts.append(rows)
        cond = (
            pd.concat(parts, ignore_index=True) if parts else labs.iloc[:0].reset_index(drop=True)
        )
        genes = self.sample(cond, random_state=int(rng.integers(2**31)))
        width = max(4, len(str(len(cond))))
        out = cond.copy()
        out.insert(0, "patient_id", [f"SYN-{i + 1:0{width}d}" for i in range(len(cond))])
        out["synthetic"] = True
        out = pd.concat(
            [out, genes[[str(c) for c in expr.columns]].set_axis(expr.columns, axis=1)], axis=1
        )
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write weights, configuration, gene scaling and history to ``path`` (atomically)."""
        self._check_fitted()
        atomic_torch_save(
            {
                "kind": _KIND,
                "format": 1,
                "params": self.get_params(),
                "genes": list(self.genes_),
                "conditions": list(self.conditions_),
                "categories": {k: list(v) for k, v in self.categories_.items()},
                "class_counts": [[k, v] for k, v in self.class_counts_.items()],
                "mean": torch.from_numpy(self.mean_.copy()),
                "scale": torch.from_numpy(self.scale_.copy()),
                "generator": self.generator_.state_dict(),
                "critic": self.critic_.state_dict(),
                "history": {c: self.history_[c].tolist() for c in self.history_},
            },
            path,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> ConditionalWGAN:
        """Read a model written by :meth:`save` (``torch.load(weights_only=True)``)."""
        p = safe_torch_load(path, _KIND)
        model = cls(**p["params"])
        model.genes_, model.conditions_ = list(p["genes"]), list(p["conditions"])
        model.categories_ = {k: list(v) for k, v in p["categories"].items()}
        model.class_counts_ = {k: v for k, v in p["class_counts"]}
        model.mean_, model.scale_ = p["mean"].numpy(), p["scale"].numpy()
        g, d = model._networks()
        g.load_state_dict(p["generator"])
        d.load_state_dict(p["critic"])
        g.eval()
        d.eval()
        model.generator_, model.critic_ = g, d
        model.history_ = pd.DataFrame(p["history"])
        return model


def combine_real_synthetic(
    expression: pd.DataFrame, labels, synthetic: pd.DataFrame
) -> pd.DataFrame:
    """Stack real rows (``synthetic=False``) and rows from :meth:`ConditionalWGAN.augment`.

    The result has the columns of ``synthetic``; real patients keep their ids.
    """
    expr = _as_expression(expression)
    labs = _as_labels(labels, expr.index)
    if "synthetic" not in synthetic.columns or not synthetic["synthetic"].all():
        raise DataError("synthetic must be the output of ConditionalWGAN.augment")
    real = pd.concat([labs, expr], axis=1)
    real.columns = [str(c) for c in real.columns]
    real.insert(0, "patient_id", [str(i) for i in expr.index])
    real["synthetic"] = False
    clash = set(real["patient_id"]) & set(synthetic["patient_id"])
    if clash:
        raise DataError(f"real patient ids collide with synthetic ids: {sorted(clash)[:3]}")
    synth = synthetic.copy()
    synth.columns = [str(c) for c in synth.columns]
    return pd.concat([real[synth.columns], synth], ignore_index=True)
