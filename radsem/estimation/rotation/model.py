"""Rotating the efa blocks of a fitted model (EFA and ESEM), as lavaan 0.6-14 documents.

The unrotated model (see :func:`radsem.syntax.efa.efa_spec`) is fitted first. For each efa
block the loadings ``A`` of its factors on their indicators are rotated
(:func:`radsem.estimation.rotation.gpa.rotate`), with the rows standardised by the implied
standard deviations ``sqrt(diag(A A' + Theta))`` when ``std_ov`` is true. The rotation matrix
``H`` of the block then transforms the whole model: with ``D`` the identity on every variable
except ``H'`` on the block's factors, ``A_ram -> D A_ram D^-1``, ``S -> D S D'`` and
``means -> D means`` (for a measurement part this is lavaan's ``Lambda H^-T`` and
``Psi -> H' Psi H``; regressions among factors become ``H' B H^-T``). The implied moments,
and so the fit, are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.rotation.criteria import ORTHOGONAL_BY_DEFAULT
from radsem.estimation.rotation.gpa import RotationResult, rotate

__all__ = [
    "RotationOptions",
    "rotation_options",
    "rotate_values",
    "block_indices",
    "method_args",
]

_DEFAULTS = {
    "orthogonal": None,
    "row_weights": "default",
    "std_ov": True,
    "geomin_epsilon": 0.001,
    "orthomax_gamma": 1.0,
    "cf_gamma": 0.0,
    "oblimin_gamma": 0.0,
    "promax_kappa": 4.0,
    "target": None,
    "target_mask": None,
    "rstarts": 30,
    "algorithm": "gpa",
    "reflect": True,
    "order_lv_by": "index",
    "gpa_tol": 1e-5,
    "max_iter": 10000,
    "seed": 0,
}

#: lavaan rotation.args radsem does not use (accepted for scripts that set them)
_IGNORED = {"tol", "warn", "verbose", "jac_init_rot"}


@dataclass(frozen=True)
class RotationOptions:
    """lavaan's ``rotation`` and resolved ``rotation.args`` (names with ``_``)."""

    method: str
    args: dict = field(default_factory=dict)

    @property
    def orthogonal(self) -> bool:
        """Whether the rotation is orthogonal."""
        return bool(self.args["orthogonal"])


def rotation_options(rotation: str, rotation_args: dict | None) -> RotationOptions:
    """Check ``rotation`` / ``rotation_args`` and fill in lavaan 0.6-14's defaults.

    ``orthogonal`` defaults to True for varimax/quartimax/orthomax; ``row_weights``
    ``"default"`` is ``"kaiser"`` for varimax and promax, else ``"none"``. ``algorithm``
    must be ``"gpa"``.
    """
    method = str(rotation).lower()
    args = {}
    for key, value in dict(rotation_args or {}).items():
        k = key.replace(".", "_")
        if k not in _DEFAULTS and k not in _IGNORED:
            raise EstimationError(
                f"unknown rotation_args entry {key!r}; known: {', '.join(sorted(_DEFAULTS))}"
            )
        args[k] = value
    out = {**_DEFAULTS, **{k: v for k, v in args.items() if k in _DEFAULTS}}
    if out["orthogonal"] is None:
        out["orthogonal"] = method in ORTHOGONAL_BY_DEFAULT
    if method == "promax":
        out["orthogonal"] = False
    if out["row_weights"] == "default":
        out["row_weights"] = "kaiser" if method in ("varimax", "promax") else "none"
    if str(out["algorithm"]).lower() != "gpa":
        raise EstimationError(
            f"rotation algorithm {out['algorithm']!r} is not available; radsem uses 'gpa' "
            "(lavaan's default; 'pairwise' reaches the same optimum)"
        )
    return RotationOptions(method, out)


def method_args(opts: RotationOptions) -> dict:
    """The criterion parameters among the rotation arguments."""
    keys = (
        "geomin_epsilon",
        "oblimin_gamma",
        "orthomax_gamma",
        "cf_gamma",
        "promax_kappa",
        "target",
        "target_mask",
    )
    return {k: opts.args[k] for k in keys if opts.args.get(k) is not None}


def block_indices(model, blocks: dict[str, list[str]], g: int = 0):
    """Per efa block: node indices of its indicators and of its factors in the RAM matrices
    (observed variables first, then latent variables) and the rows of the loadings."""
    gm = model.groups[g]
    nodes = {n: k for k, n in enumerate(model.observed + model.latent)}
    par = model.par
    out = {}
    for name, factors in blocks.items():
        lv = [nodes[f] for f in factors]
        ov: list[int] = []
        for pos in gm.rows:
            if par.at[pos, "op"] == "=~" and par.at[pos, "lhs"] in factors:
                k = nodes[par.at[pos, "rhs"]]
                if k not in ov:
                    ov.append(k)
        out[name] = (np.array(ov, int), np.array(lv, int))
    return out


def rotate_values(
    model,
    values: np.ndarray,
    blocks: dict[str, list[str]],
    opts: RotationOptions,
    init: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, dict[str, RotationResult]]:
    """Rotated values of all parameter rows of ``model`` (a RamModel of the rotated table)
    from the unrotated ``values``.

    With ``init`` (one start rotation per block, e.g. the estimate's), each block is rotated
    from it without random starts, reflection or reordering (used for derivatives).
    """
    a_ram, s, m = model.matrices(values, 0)
    D = np.eye(a_ram.shape[0])
    results = {}
    args = opts.args
    for name, (ov, lv) in block_indices(model, blocks).items():
        if len(lv) < 2 or opts.method == "none":
            continue
        A = a_ram[np.ix_(ov, lv)]
        ov_var = (A * A).sum(axis=1) + np.diag(s)[ov] if args["std_ov"] else None
        start = None if init is None else init[name]
        res = rotate(
            A,
            opts.method,
            orthogonal=opts.orthogonal,
            method_args=method_args(opts),
            ov_var=ov_var,
            row_weights=args["row_weights"],
            rstarts=0 if start is not None else int(args["rstarts"]),
            seed=args["seed"],
            init=start,
            reflect=bool(args["reflect"]) and start is None,
            order_lv_by=args["order_lv_by"] if start is None else "none",
            gpa_tol=float(args["gpa_tol"]),
            polish_tol=1e-9 if start is not None else 1e-7,
            max_iter=int(args["max_iter"]),
        )
        results[name] = res
        D[np.ix_(lv, lv)] = res.rot.T
    Di = np.linalg.inv(D)
    a_new, s_new, m_new = D @ a_ram @ Di, D @ s @ D.T, D @ m
    gm = model.groups[0]
    out = np.asarray(values, float).copy()
    k = gm.kind
    out[gm.rows[k == 0]] = a_new[gm.i[k == 0], gm.j[k == 0]]
    out[gm.rows[k == 1]] = s_new[gm.i[k == 1], gm.j[k == 1]]
    out[gm.rows[k == 2]] = m_new[gm.i[k == 2]]
    return out, results
