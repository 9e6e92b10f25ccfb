"""Asking a trained network which genes it relies on.

* **Gene-set masking (sufficiency)**, Smedley et al. 2021: keep one set at the patient's
  standardised values, put every other gene at its training mean, predict.
* **Set ablation (necessity)**: put one set at its training mean, keep the rest, predict.
* **Integrated gradients** for single genes, from the training mean to the patient.

Masking and ablation use captum's ``FeatureAblation`` with a feature mask that groups the
genes: for necessity the patient's values are the input and the training mean (0 after
standardisation) the baseline; for sufficiency the roles swap, so "ablating" a group restores
its genes to the patient's values while every other gene stays at the mean. Sets that do not
overlap share one mask (one call, batched forward passes); random sets of a given size are
drawn as disjoint blocks of random permutations of all genes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "SetLayout",
    "build_layout",
    "masked_predictions",
    "masked_predictions_genes",
    "gene_attributions",
]


@dataclass
class SetLayout:
    """The gene groups to mask and how they are packed into captum feature masks.

    Attributes
    ----------
    names : list of str
        Group names: the gene sets, then ``random:<size>:<k>``.
    sizes : ndarray of int
    is_random : ndarray of bool
    members : list of ndarray
        Gene column indices of each group.
    layers : list of (ndarray, list of int)
        Feature masks (one gene -> group id, the last id collects the genes in no group of the
        layer) and the layout group number of each id.
    """

    names: list = field(default_factory=list)
    sizes: np.ndarray = None
    is_random: np.ndarray = None
    members: list = field(default_factory=list)
    layers: list = field(default_factory=list)


def _layer(n_genes: int, groups: list[np.ndarray], numbers: list[int]):
    mask = np.full(n_genes, len(groups), dtype=np.int64)
    for k, idx in enumerate(groups):
        mask[idx] = k
    return mask, list(numbers)


def build_layout(
    sets: dict[str, np.ndarray], n_genes: int, n_random: int, rng: np.random.Generator
) -> SetLayout:
    """Pack the gene sets and ``n_random`` size-matched random sets per distinct size.

    Parameters
    ----------
    sets : dict
        Set name -> gene column indices.
    n_genes : int
    n_random : int
        Random sets per distinct set size (the null distribution).
    rng : numpy Generator
    """
    layout = SetLayout()
    sizes, rand = [], []
    for name, idx in sets.items():
        layout.names.append(name)
        layout.members.append(np.asarray(idx, dtype=np.int64))
        sizes.append(len(idx))
        rand.append(False)
    # greedy packing of the (possibly overlapping) real sets into disjoint layers
    open_layers: list[tuple[set, list]] = []
    for number, idx in enumerate(layout.members):
        genes = set(idx.tolist())
        for used, members in open_layers:
            if not used & genes:
                used |= genes
                members.append(number)
                break
        else:
            open_layers.append((set(genes), [number]))
    for _, numbers in open_layers:
        layout.layers.append(_layer(n_genes, [layout.members[k] for k in numbers], numbers))
    for size in sorted(set(sizes)):
        per_perm = max(1, n_genes // size)
        drawn = 0
        while drawn < n_random:
            perm = rng.permutation(n_genes)
            take = min(per_perm, n_random - drawn)
            groups, numbers = [], []
            for k in range(take):
                idx = np.sort(perm[k * size : (k + 1) * size])
                numbers.append(len(layout.names))
                layout.names.append(f"random:{size}:{drawn + k + 1}")
                layout.members.append(idx)
                sizes.append(size)
                rand.append(True)
                groups.append(idx)
            layout.layers.append(_layer(n_genes, groups, numbers))
            drawn += take
    layout.sizes = np.asarray(sizes, dtype=np.int64)
    layout.is_random = np.asarray(rand, dtype=bool)
    return layout


def _group_parts(x, weight, mask: np.ndarray, n_groups: int):
    """Each group's contribution to the first weighted layer, ``x_k @ W_k.T``, as a tensor
    (groups, patients, units); groups of one size (the random sets) in one batched product."""
    import torch

    order = np.argsort(mask, kind="stable")
    counts = np.bincount(mask, minlength=n_groups)
    xs, ws = x[:, torch.as_tensor(order)], weight[:, torch.as_tensor(order)]
    ends = np.cumsum(counts)
    starts = ends - counts
    size = counts[0] if n_groups else 0
    same = n_groups > 1 and (counts[:-1] == size).all()
    parts = torch.empty((n_groups, x.shape[0], weight.shape[0]), dtype=x.dtype)
    if same and size > 0:
        k, n = n_groups - 1, x.shape[0]
        parts[:k] = torch.einsum(
            "pks,hks->kph",
            xs[:, : k * size].reshape(n, k, size),
            ws[:, : k * size].reshape(-1, k, size),
        )
        first = k
    else:
        first = 0
    for g in range(first, n_groups):
        a, b = int(starts[g]), int(ends[g])
        parts[g] = xs[:, a:b] @ ws[:, a:b].T
    return parts


def _first_layers(module) -> list:
    """Per member: the first weighted layer's weight and bias and the layers after it."""
    import torch

    members = list(module.members) if hasattr(module, "members") else [module]
    out = []
    for net in members:
        at = next(
            i
            for i, m in enumerate(net)
            if isinstance(m, torch.nn.Linear) or type(m).__name__ == "GeneInput"
        )
        out.append((net[at].weight.detach(), net[at].bias.detach(), net[at + 1 :]))
    return out


class _GroupGates:
    """The network as a function of one gate per gene group.

    For patients ``x`` (standardised; 0 = training mean) and a layer of disjoint groups, the
    input ``c`` (perturbations * patients, groups + 1) scales each group's genes: gene ``g``
    of group ``k`` enters as ``c[k] * x[g]``, so ``c = 1`` is the patient and ``c = 0`` the
    training mean. The first dense layer is linear in the genes, so its response to the gates
    is ``b + sum_k c[k] * (x_k @ W_k.T)`` with the per-group products computed once; this
    is exactly the network on the masked genes, at a fraction of the cost.
    """

    def __init__(self, module, x, mask: np.ndarray, n_groups: int) -> None:
        self.n = x.shape[0]
        self.parts = [
            (_group_parts(x, weight, mask, n_groups), bias, rest)
            for weight, bias, rest in _first_layers(module)
        ]

    def __call__(self, gates):
        import torch

        c = gates.reshape(-1, self.n, gates.shape[1])  # (perturbations, patients, groups)
        outs = []
        for parts, bias, rest in self.parts:
            h = torch.einsum("apk,kph->aph", c, parts) + bias
            outs.append(rest(h.reshape(-1, h.shape[-1])))
        return torch.stack(outs).mean(0)

    def masked(self, n_kept: int, mode: str):
        """The network with each of the first ``n_kept`` groups' gate swapped alone:
        ``(groups, patients, targets)``. Sufficiency: the group at the patient's values,
        every other gene at the mean (``b + part_k``); necessity: the group at the mean, the
        rest at the patient's values (``b + sum(parts) - part_k``)."""
        import torch

        outs = []
        for parts, bias, rest in self.parts:
            kept = parts[:n_kept]
            h = bias + (kept if mode == "sufficiency" else parts.sum(0)[None] - kept)
            outs.append(rest(h.reshape(-1, h.shape[-1])).reshape(n_kept, self.n, -1))
        return torch.stack(outs).mean(0)


def masked_predictions(
    module,
    xz: np.ndarray,
    layout: SetLayout,
    mode: str,
    rows_per_eval: int = 8192,
    engine: str = "direct",
) -> np.ndarray:
    """Standardised predictions with each group kept alone or dropped.

    Parameters
    ----------
    module : torch.nn.Module
        Fitted network on standardised genes (eval mode): a ``Sequential`` whose first
        weighted layer is linear (layers before it are identities in eval mode, such as
        dropout), or a :class:`~radsem.genemap.GeneNetwork` ensemble of them.
    xz : ndarray
        Standardised genes of the patients to predict (patients x genes).
    layout : SetLayout
    mode : {"sufficiency", "necessity", "both"}
        Keep only the group (others at the training mean), drop the group, or both (a
        tuple ``(sufficiency, necessity)``; the per-group products are shared).
    rows_per_eval : int
        Rows per batched forward pass of captum (``engine="captum"``).
    engine : {"direct", "captum"}
        ``direct`` evaluates the layers after the first once per group on ``b + part_k``
        (sufficiency) or ``b + sum(parts) - part_k`` (necessity); ``captum`` runs captum's
        ``FeatureAblation`` on the group gates (same numbers to float precision, slower).

    Returns
    -------
    ndarray
        (groups, patients, targets); for ``mode="both"`` a tuple of two.

    Notes
    -----
    captum's ``FeatureAblation`` perturbs one gate per group (feature mask: one feature per
    group); necessity ablates the gate from 1 (the patient) to 0 (the mean), sufficiency
    starts from all gates at 0 and "ablates" one gate to 1. :func:`masked_predictions_genes`
    does the same with a gene-level feature mask on the network itself (slower; the tests
    check that all three agree).
    """
    import torch

    modes = ("sufficiency", "necessity") if mode == "both" else (mode,)
    x = torch.as_tensor(xz, dtype=torch.float32)
    n = x.shape[0]
    outs: dict = {}
    per_eval = max(1, rows_per_eval // max(n, 1))
    for mask, numbers in layout.layers:
        k = len(numbers) + 1
        with torch.no_grad():
            gates = _GroupGates(module, x, mask, k)
            for m in modes:
                if engine == "direct":
                    swapped = gates.masked(k - 1, m)
                else:
                    swapped = _captum_gates(gates, n, k, m, per_eval)
                if m not in outs:
                    outs[m] = np.empty((len(layout.names), n, swapped.shape[-1]), dtype=np.float32)
                outs[m][numbers] = swapped.numpy()
    return tuple(outs[m] for m in modes) if mode == "both" else outs[mode]


def _captum_gates(gates: _GroupGates, n: int, k: int, mode: str, per_eval: int):
    import torch
    from captum.attr import FeatureAblation

    ones = torch.ones((n, k))
    zeros = torch.zeros((n, k))
    inputs, baselines = (zeros, ones) if mode == "sufficiency" else (ones, zeros)
    reference = gates(inputs)
    attr = FeatureAblation(gates).attribute(
        inputs,
        baselines=baselines,
        feature_mask=torch.arange(k)[None, :],
        perturbations_per_eval=per_eval,
    )
    n_targets = reference.shape[1]
    # attr[(patient, target), group] = f(inputs) - f(inputs with the group's gate swapped)
    swapped = reference[:, :, None] - attr.reshape(n, n_targets, k)[:, :, :-1]
    return swapped.permute(2, 0, 1)


def masked_predictions_genes(
    module, xz: np.ndarray, layout: SetLayout, mode: str, rows_per_eval: int = 4096
) -> np.ndarray:
    """:func:`masked_predictions` with captum's ``FeatureAblation`` on the genes themselves
    (feature mask: gene -> group); the reference implementation, slower for many groups."""
    import torch
    from captum.attr import FeatureAblation

    x = torch.as_tensor(xz, dtype=torch.float32)
    zero = torch.zeros_like(x)
    n = x.shape[0]
    with torch.no_grad():
        reference = module(zero if mode == "sufficiency" else x)
    n_targets = reference.shape[1]
    inputs, baselines = (zero, x) if mode == "sufficiency" else (x, zero)
    ablation = FeatureAblation(module)
    out = np.empty((len(layout.names), n, n_targets), dtype=np.float32)
    per_eval = max(1, rows_per_eval // max(n, 1))
    for mask, numbers in layout.layers:
        with torch.no_grad():
            attr = ablation.attribute(
                inputs,
                baselines=baselines,
                feature_mask=torch.as_tensor(mask)[None, :],
                perturbations_per_eval=per_eval,
            )
        attr = attr.reshape(n, n_targets, -1)
        first = np.array([int(np.flatnonzero(mask == k)[0]) for k in range(len(numbers))])
        swapped = reference[:, :, None] - attr[:, :, torch.as_tensor(first)]
        out[numbers] = swapped.permute(2, 0, 1).numpy()
    return out


def gene_attributions(module, xz: np.ndarray, n_steps: int = 32) -> np.ndarray:
    """Integrated gradients of each target with respect to each gene, from the training mean
    (0 after standardisation) to the patient.

    Returns
    -------
    ndarray
        (patients, genes, targets) attributions on the standardised target scale.
    """
    import torch
    from captum.attr import IntegratedGradients

    x = torch.as_tensor(xz, dtype=torch.float32)
    with torch.no_grad():
        n_targets = module(x[:2]).shape[1]
    ig = IntegratedGradients(module)
    out = np.empty((x.shape[0], x.shape[1], n_targets), dtype=np.float32)
    for j in range(n_targets):
        out[:, :, j] = (
            ig.attribute(
                x,
                baselines=torch.zeros_like(x),
                target=j,
                n_steps=n_steps,
                internal_batch_size=2048,
            )
            .detach()
            .numpy()
        )
    return out
