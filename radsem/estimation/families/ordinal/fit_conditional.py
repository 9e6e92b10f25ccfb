"""The result of a categorical fit with exogenous covariates (lavaan's conditional.x)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.errors import EstimationError
from radsem.estimation.families.ordinal.fit import OrdinalFit

__all__ = ["ConditionalOrdinalFit"]


class ConditionalOrdinalFit(OrdinalFit):
    """An :class:`OrdinalFit` whose sample statistics are conditional on the covariates.

    ``implied()`` / ``residuals()`` give per group the residual correlations (``"cov"``),
    thresholds (``"th"``) and slopes (``"slopes"``), as lavaan's ``res.cov``, ``res.th`` and
    ``res.slopes``. ``modindices()`` works on the reduced form (no candidates among the
    covariates' moments, as lavaan); ``predict()`` gives EBM scores with the covariates in
    the prior and in the indicators' latent responses.
    """

    def _labelled(self, vec: np.ndarray, g: int) -> dict:
        model = self._problem.model
        endo = [model.observed[k] for k in model.endo]
        xs = [model.observed[k] for k in model.exo]
        pe = len(endo)
        cor = np.eye(pe)
        lr, lc = model.cor_local
        k = model.n_marginal
        cor[lr, lc] = cor[lc, lr] = vec[k:]
        loc = {int(v): i for i, v in enumerate(model.endo)}
        num = [loc[int(v)] for v in model.num]
        start = model.n_uni + model.n_slopes
        if num:
            cor[num, num] = vec[start:k]
        slopes = vec[model.n_uni : start].reshape(len(xs), pe).T
        labels = [f"{model.par.at[r, 'lhs']}|{model.par.at[r, 'rhs']}" for r in model.th_rows[g]]
        return {
            "cov": pd.DataFrame(cor, index=endo, columns=endo),
            "th": pd.Series(vec[model.th_slot[g]], index=labels),
            "slopes": pd.DataFrame(slopes, index=endo, columns=xs),
        }

    def _std_columns(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """As :meth:`OrdinalFit._std_columns`, thresholds divided by the total (not the
        residual) standard deviation of ``y*``, ``sqrt(diag(Sigma_res + PI Sigma_xx PI'))``,
        as lavaan."""
        out = super()._std_columns(theta)
        model = self._problem.model
        values = model.values(theta)
        par = model.par
        grp, lhs, op = par["group"].to_numpy(int), par["lhs"].to_numpy(), par["op"].to_numpy()
        obs = {v: k for k, v in enumerate(model.observed)}
        total = [np.sqrt(np.diag(model._joint_sigma(imp))) for imp in model.implied(theta)]
        for pos in np.flatnonzero(op == "|"):
            sd = total[grp[pos] - 1][obs[lhs[pos]]]
            for col in ("std_all", "std_nox"):
                out[col][pos] = values[pos] / sd
        return out

    def predict(self, method: str = "ebm") -> pd.DataFrame:
        """EBM factor scores given the covariates (see
        :mod:`radsem.estimation.measures.predict_ordinal_conditional`)."""
        from radsem.estimation.measures.predict_ordinal_conditional import (
            ebm_scores_conditional,
        )

        if str(method).lower() != "ebm":
            raise EstimationError(
                f"factor scores with ordered indicators: only method='ebm' (empirical Bayes "
                f"modal, lavaan's default for categorical data) is available, not {method!r}"
            )
        return ebm_scores_conditional(self, self._problem, self._theta)
