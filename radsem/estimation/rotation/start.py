"""Starting values for the identified (unrotated) efa blocks.

Principal-axis loadings from the sample covariances of a block's indicators (communalities
from squared multiple correlations), turned into the echelon pattern of
:func:`radsem.syntax.efa.efa_spec` by an orthogonal rotation (a QR decomposition of the top
block), with positive leading loadings. Without them the optimiser starts every factor of a
block at the same loadings, a saddle of the likelihood.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["efa_starts"]


def efa_starts(spec, blocks: dict[str, list[str]], data: pd.DataFrame):
    """``spec`` with ``ustart`` set for the free loadings and residual variances of each
    efa block (blocks whose factors do not share one indicator list are left alone)."""
    from dataclasses import replace

    pt = spec.partable.copy()
    lhs, op, rhs = pt["lhs"].to_numpy(), pt["op"].to_numpy(), pt["rhs"].to_numpy()
    free = pt["free"].to_numpy()
    ustart = pt["ustart"].to_numpy(float).copy()
    for factors in blocks.values():
        m = len(factors)
        lists = [list(rhs[(lhs == f) & (op == "=~")]) for f in factors]
        ind = lists[0]
        if any(li != ind for li in lists) or len(ind) <= m:
            continue
        if not all(v in data.columns for v in ind):
            continue
        x = data[ind].dropna().to_numpy(float)
        if len(x) <= len(ind):
            continue
        S = np.cov(x, rowvar=False, bias=True)
        try:
            smc = 1.0 - 1.0 / np.diag(np.linalg.inv(S)) / np.diag(S)
        except np.linalg.LinAlgError:
            continue
        theta = np.diag(S) * np.clip(1.0 - smc, 0.05, 0.95)
        val, vec = np.linalg.eigh(S - np.diag(theta))
        top = np.argsort(val)[::-1][:m]
        A = vec[:, top] * np.sqrt(np.clip(val[top], 1e-3, None))
        q, r = np.linalg.qr(A[:m].T)
        L = A @ q
        L = L * np.where(np.diag(L[:m]) < 0, -1.0, 1.0)
        for k, f in enumerate(factors):
            for i, v in enumerate(ind):
                pos = np.flatnonzero((lhs == f) & (op == "=~") & (rhs == v))
                if len(pos) and free[pos[0]] > 0 and np.isnan(ustart[pos[0]]):
                    ustart[pos[0]] = L[i, k]
        resid = np.clip(np.diag(S) - (L * L).sum(axis=1), 0.05 * np.diag(S), None)
        for i, v in enumerate(ind):
            pos = np.flatnonzero((lhs == v) & (op == "~~") & (rhs == v))
            if len(pos) and free[pos[0]] > 0 and np.isnan(ustart[pos[0]]):
                ustart[pos[0]] = resid[i]
    pt["ustart"] = ustart
    return replace(spec, partable=pt)
