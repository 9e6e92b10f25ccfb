"""lavaan's ``efa("block")*`` modifier (exploratory SEM) and the efa identification.

``efa("efa1")*f1 + efa("efa1")*f2 =~ x1 + ... + x9`` declares ``f1`` and ``f2`` one rotation
block. :func:`split_efa` removes the modifiers from the syntax and returns the blocks;
:func:`efa_spec` then identifies the unrotated model as lavaan 0.6-14 documents it: the
factors of a block have unit variances and free loadings, their covariances are fixed to 0,
and the ``k``-th factor of a block has its first ``k - 1`` loadings fixed to 0 (an echelon
pattern, rows marked ``user = 7`` as in lavaan). The rotation then frees those cells
again (see :mod:`radsem.estimation.rotation.model`).
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from radsem.errors import ModelSpecificationError, ModelSyntaxError
from radsem.syntax.model import ModelSpec

__all__ = ["split_efa", "efa_spec", "efa_syntax", "EFA_USER"]

#: ``user`` code of the rows fixed to identify the unrotated solution (lavaan's 7)
EFA_USER = 7

_EFA = re.compile(r"""efa\s*\(\s*(["'])([^"']*)\1\s*\)\s*\*\s*([A-Za-z_.][\w.]*)""")


def split_efa(model: str) -> tuple[str, dict[str, list[str]]]:
    """The syntax without ``efa("...")*`` modifiers, and the blocks ``{block: [factors]}``.

    Raises
    ------
    ModelSyntaxError
        An efa modifier with an empty block name, or a factor in two blocks.
    """
    blocks: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    out = []
    for lineno, line in enumerate(model.splitlines(), start=1):
        code, comment = _split_comment(line)

        def strip(m: re.Match, lineno=lineno, line=line) -> str:
            block, name = m.group(2), m.group(3)
            if not block:
                raise ModelSyntaxError("efa() needs a block name", lineno, m.start() + 1, line)
            if owner.setdefault(name, block) != block:
                raise ModelSyntaxError(
                    f"factor {name!r} is in two efa blocks", lineno, m.start() + 1, line
                )
            if name not in blocks.setdefault(block, []):
                blocks[block].append(name)
            return name

        out.append(_EFA.sub(strip, code) + comment)
    return "\n".join(out), blocks


def _split_comment(line: str) -> tuple[str, str]:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "#!":
            return line[:i], line[i:]
    return line, ""


def efa_syntax(ov_names, nfactors: int) -> str:
    """The model lavaan's ``efa()`` fits: ``efa("efa")*f1 + ... =~`` all variables."""
    rhs = " + ".join(ov_names)
    return "\n".join(f'efa("efa")*f{k} =~ {rhs}' for k in range(1, nfactors + 1))


def efa_spec(spec: ModelSpec, blocks: dict[str, list[str]]) -> ModelSpec:
    """``spec`` with the efa blocks identified as lavaan's unrotated solution.

    Raises
    ------
    ModelSpecificationError
        An efa factor that is not a latent variable defined with ``=~``, a factor without
        enough indicators for the echelon pattern, or a multi-group model.
    """
    if not blocks:
        return spec
    if spec.ngroups > 1:
        raise ModelSpecificationError("efa blocks are not supported with several groups")
    pt = spec.partable.copy()
    lhs, op, rhs = pt["lhs"].to_numpy(), pt["op"].to_numpy(), pt["rhs"].to_numpy()
    free, ustart, user = pt["free"].to_numpy().copy(), pt["ustart"].to_numpy().copy(), None
    user = pt["user"].to_numpy().copy()
    fixed_by_user = _user_fixed_loadings(spec)
    for block, factors in blocks.items():
        for f in factors:
            if not ((lhs == f) & (op == "=~")).any():
                raise ModelSpecificationError(
                    f"efa block {block!r}: {f!r} is not a latent variable defined with =~"
                )
        for k, f in enumerate(factors):
            rows = np.flatnonzero((lhs == f) & (op == "=~"))
            for pos in rows:  # loadings free (the factor variance sets the scale)
                if (f, rhs[pos]) not in fixed_by_user:
                    free[pos], ustart[pos] = 1, np.nan
            var = np.flatnonzero((lhs == f) & (op == "~~") & (rhs == f))
            free[var], ustart[var] = 0, 1.0
            if len(factors) < 2:
                continue
            if len(rows) < k:
                raise ModelSpecificationError(
                    f"efa factor {f!r} has not enough indicators for the echelon pattern"
                )
            zero = rows[:k]
            free[zero], ustart[zero], user[zero] = 0, 0.0, EFA_USER
        if len(factors) > 1:
            cov = np.isin(lhs, factors) & np.isin(rhs, factors) & (op == "~~") & (lhs != rhs)
            cov &= pt["user"].to_numpy() == 0
            free[cov], ustart[cov], user[cov] = 0, 0.0, EFA_USER
    pt["free"] = np.cumsum(free > 0) * (free > 0)
    pt["ustart"], pt["user"] = ustart, user
    pt["free"] = pt["free"].astype(np.int64)
    pt["user"] = pt["user"].astype(np.int64)
    return replace(spec, partable=pt)


def _user_fixed_loadings(spec: ModelSpec) -> set[tuple[str, str]]:
    out = set()
    for st in spec.statements:
        if st.op != "=~":
            continue
        for term in st.rhs:
            if term.modifier("fixed") is not None:
                out.update((f, term.name) for f in st.lhs)
    return out
