"""A sparse input stage for the gene network: LassoNet (Lemhadri, Ruan, Abraham and
Tibshirani, JMLR 22(127), 2021), implemented from the paper.

A LassoNet is a residual network: a linear skip connection ``theta`` from the genes to the
output next to a feed-forward part whose first layer ``W`` is tied to it by the hierarchy
constraint ``|W_jk| <= M |theta_j|`` for every gene ``j`` and hidden unit ``k``: a gene can
reach the hidden units only if it also enters the linear part. The objective is the loss plus
``lambda * sum_j |theta_j|``; it is minimised by proximal gradient steps whose proximal map on
``(theta_j, W_j)`` is the paper's hierarchical proximal operator (:func:`hier_prox`, the
paper's Algorithm 2), along a path of penalties warm-started one from the next, and the
penalty is chosen on an inner validation split.

Here every target has its own LassoNet (its own skip weights, hidden units, penalty and
selected genes), all trained at once: the first layer stacks the skip rows (one per target,
whose bias is the target's intercept) and the hidden rows (``hidden`` per target), and the
head adds each target's skip output to the output of its own ReLU units. The first layer is an
``nn.Linear`` in the genes, which is what the gene-set masking of
:mod:`radsem.genemap.interpret` relies on.

Departures from the paper, for p >> n and a time budget: the path runs from sparse to dense
(from the smallest penalty that removes every gene downwards, as glmnet does) instead of from
the dense network upwards, and stops once no target's validation loss has improved for
``patience`` penalties; each penalty gets a fixed number of full-batch proximal gradient
steps, with a backtracking step size per target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SparseSettings", "hier_prox", "lassonet_fit"]


@dataclass(frozen=True)
class SparseSettings:
    """Settings of the LassoNet input stage (fixed before the benchmarks; the grid was
    chosen for time).

    Attributes
    ----------
    hidden : int
        ReLU units per target.
    hierarchy : float
        ``M`` of the hierarchy constraint ``|W_jk| <= M |theta_j|`` (fixed at 10, not tuned).
    n_lambdas : int
        Penalties on the path, log-spaced from ``lambda_max`` (every gene out) down to
        ``lambda_min_ratio * lambda_max``, per target.
    lambda_min_ratio : float
    steps : int
        Full-batch proximal gradient steps per penalty (warm-started from the previous one).
    patience : int
        Stop the path when no target's validation loss improved for this many penalties.
    refit : bool
        After choosing each target's penalty on the inner split, run the path again on all
        training rows down to that penalty (as cross-validated lasso fits do); otherwise keep
        the state fitted on the inner training rows.
    """

    hidden: int = 8
    hierarchy: float = 10.0
    n_lambdas: int = 20
    lambda_min_ratio: float = 0.01
    steps: int = 20
    patience: int = 4
    refit: bool = True


def hier_prox(theta, w, lam, m: float):
    """The hierarchical proximal operator of LassoNet (Lemhadri et al. 2021, Algorithm 2).

    For every row ``j`` it solves::

        minimise_{b, u}  1/2 ||b - theta_j||^2 + 1/2 ||u - w_j||^2 + lam_j ||b||_2
        subject to       ||u||_inf <= m ||b||_2

    (``theta_j`` a scalar in the single-output LassoNet; a vector gives the paper's
    multi-output version with a group penalty.)

    Parameters
    ----------
    theta : torch.Tensor
        (rows, g) skip weights.
    w : torch.Tensor
        (rows, k) first-layer weights of the same rows (a row = one input variable).
    lam : float or torch.Tensor
        Penalty (times the step size), scalar or per row.
    m : float
        Hierarchy coefficient ``M > 0``.

    Returns
    -------
    theta, w : torch.Tensor
        The minimisers.

    Notes
    -----
    A row with ``||theta_j|| + m sum_k |w_jk| <= lam_j`` is removed (both parts 0): every
    candidate level of the algorithm is then clipped at 0. Such rows (most genes along a
    sparse path) are screened out first with a relative margin of ``1e-4`` that float
    rounding cannot cross, and the algorithm runs on the other rows only; the result equals
    the algorithm on every row (:func:`_hier_prox_rows`, tested).
    """
    import torch

    rows = w.shape[0]
    lam = torch.as_tensor(lam, dtype=w.dtype).expand(rows)
    bound = theta.norm(dim=1) + m * w.abs().sum(1)
    keep = torch.nonzero(bound > lam * (1.0 - 1e-4)).squeeze(1)
    if len(keep) == rows:
        return _hier_prox_rows(theta, w, lam, m)
    out_theta, out_w = torch.zeros_like(theta), torch.zeros_like(w)
    if len(keep):
        out_theta[keep], out_w[keep] = _hier_prox_rows(theta[keep], w[keep], lam[keep], m)
    return out_theta, out_w


def _hier_prox_rows(theta, w, lam, m: float):
    """:func:`hier_prox` computed on every row (the paper's algorithm, no screening)."""
    import torch

    rows, k = w.shape
    lam = torch.as_tensor(lam, dtype=w.dtype).expand(rows)
    norm = theta.norm(dim=1)
    a = w.abs().sort(dim=1, descending=True).values
    zero = torch.zeros((rows, 1), dtype=w.dtype)
    counts = torch.arange(k + 1, dtype=w.dtype)
    # w_m for m = 0..k: the common magnitude if the m largest |w| are clipped to it
    wm = (m / (1.0 + counts * m**2)) * torch.clamp(
        norm[:, None] + m * torch.cat([zero, a.cumsum(1)], 1) - lam[:, None], min=0.0
    )
    upper = torch.cat([torch.full((rows, 1), float("inf"), dtype=w.dtype), a], 1)
    lower = torch.cat([a, zero], 1)
    tol = 1e-6 * (1.0 + wm)  # rounding
    ok = (lower <= wm + tol) & (wm <= upper + tol)
    first = torch.argmax(ok.to(torch.int8), dim=1)  # the first m satisfying the condition
    level = wm.gather(1, first[:, None])  # (rows, 1)
    direction = torch.where(norm[:, None] > 0, theta / norm.clamp(min=1e-30)[:, None], 0.0)
    return direction * level / m, torch.sign(w) * torch.minimum(level, w.abs())


def _head(n_targets: int, hidden: int):
    import torch
    import torch.nn as nn

    class SparseHead(nn.Module):
        """Per target: its skip output (first-layer row t) plus its own ReLU units."""

        def __init__(self) -> None:
            super().__init__()
            self.n_targets, self.hidden = n_targets, hidden
            self.out = nn.Parameter(torch.zeros(n_targets, hidden))

        def forward(self, h):
            return self.combine(h, self.out)

        def combine(self, h, out):
            """The head with output weights ``out`` (the module's own in :meth:`forward`)."""
            t = self.n_targets
            units = torch.relu(h[:, t:]).reshape(h.shape[0], t, self.hidden)
            return h[:, :t] + (units * out).sum(2)

    return SparseHead()


def _nonzero_columns(w):
    """Indices of the columns (genes) of ``w`` with a non-zero entry."""
    import torch

    return torch.nonzero(w.abs().amax(0) > 0).squeeze(1)  # much faster than (w != 0).any(0)


def _first_layer(x, w, b, genes):
    """``x @ w.T + b`` where every column of ``w`` outside ``genes`` is 0: on those genes
    only while they are few (gathering them costs more than it saves once they are not)."""
    if 3 * len(genes) > w.shape[1]:
        return x @ w.T + b
    return x.index_select(1, genes) @ w.index_select(1, genes).T + b


def _lipschitz(x) -> float:
    """Largest eigenvalue of x'x / n (the curvature of the linear part's loss)."""
    import torch

    s = torch.linalg.matrix_norm(x, ord=2)
    return float(s**2 / x.shape[0])


class _Path:
    """One LassoNet per target, trained along a penalty path on the rows ``x``, ``y``."""

    def __init__(self, n_in: int, n_targets: int, s: SparseSettings) -> None:
        import torch
        import torch.nn as nn

        self.s, self.t, self.k = s, n_targets, s.hidden
        first = nn.Linear(n_in, n_targets * (1 + s.hidden))
        head = _head(n_targets, s.hidden)
        with torch.no_grad():
            first.weight.zero_()  # every gene out: the sparse end of the path
            first.bias.zero_()
            # hidden biases and output weights drawn at random, so that units differ
            first.bias[n_targets:].uniform_(0.0, 1.0)
            head.out.normal_(0.0, 1.0 / np.sqrt(s.hidden))
        self.module = nn.Sequential(first, head)
        #: the target of every first-layer row (skip rows, then ``hidden`` rows per target)
        self.row_target = torch.cat(
            [torch.arange(n_targets), torch.arange(n_targets).repeat_interleave(s.hidden)]
        )

    def _prox_weight(self, w, lam):
        """The hierarchical proximal operator on every (target, gene) pair of the stacked
        first-layer weight ``w`` (skip rows, then ``hidden`` rows per target), with the
        penalty ``lam`` (per target, times the step size). Pairs removed by the screening
        rule of :func:`hier_prox` are set to 0 here, without being gathered. Returns the
        new weight and the genes that may be non-zero in it (a superset of them)."""
        import torch

        t, k, d = self.t, self.k, w.shape[1]
        theta, hid = w[:t], w[t:].reshape(t, k, d)
        bound = theta.abs() + self.s.hierarchy * hid.abs().sum(1)  # (targets, genes)
        ti, gi = torch.nonzero(bound > lam[:, None] * (1.0 - 1e-4), as_tuple=True)
        new = torch.zeros_like(w)
        if len(ti):
            b, u = _hier_prox_rows(
                theta[ti, gi][:, None], hid[ti, :, gi], lam[ti], self.s.hierarchy
            )
            new[:t][ti, gi] = b[:, 0]
            new[t:].view(t, k, d)[ti, :, gi] = u
        return new, torch.unique(gi)

    def lambda_max(self, x, y) -> np.ndarray:
        """Per target, the smallest penalty at which the empty model is a fixed point of the
        proximal step: ``max_j |g_theta_j| + M sum_k |g_W_jk|`` at the initial state."""
        self.module.zero_grad()
        self._losses(x, y).sum().backward()
        g = self.module[0].weight.grad
        t, k, d = self.t, self.k, x.shape[1]
        gt = g[:t].abs()
        gw = g[t:].reshape(t, k, d).abs().sum(1)
        self.module.zero_grad()
        return (gt + self.s.hierarchy * gw).max(1).values.numpy().astype(float)

    def run(self, x, y, lambdas: np.ndarray, val=None, stop_at=None):
        """Walk the path. ``lambdas`` is (n_lambdas, targets). With ``val`` (x, y): return
        each target's validation loss per penalty and its best state; with ``stop_at`` (the
        chosen penalty index per target): return the state of each target at its index."""
        import torch

        s = self.s
        lr = torch.full((self.t,), 1.0 / max(_lipschitz(x), 1e-12))
        n_steps = len(lambdas) if stop_at is None else int(np.max(stop_at)) + 1
        losses = np.full((len(lambdas), self.t), np.inf)
        best = np.full(self.t, np.inf)
        kept = self._state()
        stale = 0
        for i in range(n_steps):
            lam = torch.as_tensor(lambdas[i], dtype=torch.float32)
            lr = lr * 2.0  # let the step grow again; backtracking shrinks it
            for _ in range(s.steps):
                lr = self._step(x, y, lam, lr)
            if stop_at is not None:
                done = np.flatnonzero(np.asarray(stop_at) == i)
                self._keep(kept, done)
                continue
            with torch.no_grad():
                losses[i] = (((self.module(val[0]) - val[1]) ** 2).mean(0)).numpy()
            better = np.flatnonzero(losses[i] < best - 1e-6)
            best[better] = losses[i][better]
            self._keep(kept, better)
            stale = 0 if len(better) else stale + 1
            if stale >= s.patience:
                break
        self._load(kept)
        return losses

    def _losses(self, x, y):
        """Half the mean squared error of each target."""
        return 0.5 * ((self.module(x) - y) ** 2).mean(0)

    def _sparse_losses(self, x, y, w, b, out, genes):
        """:meth:`_losses` at first-layer weight ``w``, bias ``b`` and head ``out``, with
        the first layer evaluated on ``genes`` only (every other column of ``w`` is 0)."""
        h = _first_layer(x, w, b, genes)
        return 0.5 * ((self.module[1].combine(h, out) - y) ** 2).mean(0)

    def _loss_and_grads(self, x, y):
        """:meth:`_losses` at the current state, its gradients with respect to the first
        layer's weight and bias and the head's output weights (the same as autograd through
        the module, with the first layer evaluated on the genes in the model) and those
        genes."""
        w, b, out = (p.detach() for p in self._params())
        genes = _nonzero_columns(w)
        h = _first_layer(x, w, b, genes).requires_grad_()
        o = out.clone().requires_grad_()
        f0 = 0.5 * ((self.module[1].combine(h, o) - y) ** 2).mean(0)
        f0.sum().backward()
        return f0.detach(), (h.grad.T @ x, h.grad.sum(0), o.grad), genes

    def _step(self, x, y, lam, lr):
        """One proximal gradient step per target with backtracking (Beck and Teboulle
        2009): halve a target's step until its loss is below the quadratic upper bound
        at the new point. Returns the accepted steps.

        The path is sparse, so the first layer is evaluated on the genes in the model only;
        the gradient of its weight, ``dL/dh' x``, is the one product over every gene."""
        import torch

        f0, grads, _ = self._loss_and_grads(x, y)
        old = tuple(p.detach() for p in self._params())  # not written to before the end
        rows = self.row_target
        for _ in range(40):
            lr_rows = lr[rows]
            new_w, new_genes = self._prox_weight(old[0] - lr_rows[:, None] * grads[0], lam * lr)
            new = (new_w, old[1] - lr_rows * grads[1], old[2] - lr[:, None] * grads[2])
            f1 = self._sparse_losses(x, y, *new, new_genes)
            bound = f0.clone()
            for p, o_, g in zip(new, old, grads, strict=True):
                delta = p - o_
                lin = (g * delta).reshape(len(p), -1).sum(1)
                quad = (delta**2).reshape(len(p), -1).sum(1)
                if len(p) == self.t:
                    bound += lin + quad / (2 * lr)
                else:
                    bound.index_add_(0, rows, lin + quad / (2 * lr_rows))
            bad = f1 > bound + 1e-6 * (1 + f0.abs())
            if not bool(bad.any()):
                break
            lr = torch.where(bad, lr / 2, lr)
        with torch.no_grad():
            for p, v in zip(self._params(), new, strict=True):
                p.copy_(v)
        return lr

    def _state(self) -> list:
        return [p.detach().clone() for p in self._params()]

    def _params(self):
        return [self.module[0].weight, self.module[0].bias, self.module[1].out]

    def _rows(self, targets) -> np.ndarray:
        t, k = self.t, self.k
        hidden = [t + j * k + np.arange(k) for j in targets]
        return np.concatenate([np.asarray(targets, dtype=int), *hidden]).astype(int)

    def _keep(self, kept: list, targets) -> None:
        if len(targets) == 0:
            return
        rows = self._rows(targets)
        w, b, out = self._params()
        kept[0][rows] = w.detach()[rows]
        kept[1][rows] = b.detach()[rows]
        kept[2][targets] = out.detach()[targets]

    def _load(self, kept: list) -> None:
        import torch

        with torch.no_grad():
            for p, v in zip(self._params(), kept, strict=True):
                p.copy_(v)


def lassonet_fit(x, y, val_rows, train_rows, settings: SparseSettings, seed: int):
    """Fit one LassoNet per target on standardised genes and targets.

    The penalty path is walked on ``train_rows``, each target's penalty is the one with the
    smallest loss on ``val_rows``, and (``settings.refit``) the path is walked again on all
    rows down to that penalty.

    Parameters
    ----------
    x, y : torch.Tensor
        Standardised genes (patients x genes) and targets (patients x targets).
    val_rows, train_rows : torch.Tensor
        Inner validation and training rows.
    settings : SparseSettings
    seed : int
        Seeds the hidden units' initial biases and output weights.

    Returns
    -------
    module : torch.nn.Sequential
        ``Linear(genes, targets * (1 + hidden))`` then the per-target head; eval mode.
    info : dict
        ``lambdas`` (n_lambdas, targets), ``val_loss`` (n_lambdas, targets; inf where the
        path stopped), ``chosen`` (index per target) and ``n_selected`` (genes per target).
    """
    import torch

    s = settings
    ratios = np.logspace(0.0, np.log10(s.lambda_min_ratio), s.n_lambdas)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        path = _Path(x.shape[1], y.shape[1], s)
    init = path._state()
    xt, yt = x[train_rows], y[train_rows]
    lambdas = ratios[:, None] * path.lambda_max(xt, yt)[None, :]
    losses = path.run(xt, yt, lambdas, val=(x[val_rows], y[val_rows]))
    chosen = np.argmin(losses, axis=0)
    if s.refit:
        path._load(init)
        path.run(x, y, lambdas, stop_at=chosen)
    module = path.module.eval()
    theta = module[0].weight.detach()[: y.shape[1]]
    info = {
        "lambdas": lambdas,
        "val_loss": losses,
        "chosen": chosen,
        "n_selected": (theta != 0).sum(1).numpy(),
    }
    return module, info
