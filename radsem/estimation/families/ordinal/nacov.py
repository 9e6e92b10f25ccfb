"""Asymptotic covariance (NACOV, lavaan's "gamma") of two-step thresholds and correlations.

The sample statistics are estimated in two steps: univariate parameters :math:`\\theta_1`
(thresholds; means and variances of continuous variables) from each margin, then each
correlation :math:`\\rho_{ij}` from its bivariate margin with :math:`\\theta_1` fixed. Muthén
(1984) and Muthén and Satorra (1995) derive their joint asymptotic covariance from the casewise
scores; with :math:`S = [S_1, S_2]` the ``N x m`` matrix of scores of all univariate and
bivariate log-likelihoods (the bivariate ones with respect to their correlation only),

.. math::
    B = \\begin{pmatrix} A_{11} & 0 \\\\ A_{21} & A_{22} \\end{pmatrix},\\qquad
    \\widehat{\\operatorname{acov}} = B^{-1} (S^\\top S) B^{-\\top},

where :math:`A_{11}` is the block-diagonal (one block per variable) part of :math:`S_1^\\top S_1`
(the outer-product estimate of the univariate information), :math:`A_{22}` is the diagonal
matrix of :math:`\\sum_i s_{i,\\rho}^2`, and :math:`A_{21}` holds the cross-products of each
correlation score with the *bivariate* scores of the same pair with respect to the univariate
parameters of its two variables (the correction for having fixed them in step two).

For continuous variables the correlation is turned into a covariance
(:math:`\\sigma_{ij} = \\rho_{ij}\\sigma_i\\sigma_j`) by the delta method, and the rows and
columns of their means change sign because lavaan's ``wls.obs`` holds :math:`-\\mu`. Gamma is
``N`` times the covariance (lavaan's ``lavInspect(fit, "gamma")``, which this reproduces:
tests against lavaan 0.6-14).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radsem.errors import EstimationError
from radsem.estimation.families.ordinal.margins import Margin
from radsem.estimation.families.ordinal.pairs import PolychoricBatch
from radsem.estimation.families.ordinal.polychoric import polychoric_cell_scores
from radsem.estimation.families.ordinal.polyserial import polyserial_scores
from radsem.estimation.families.ordinal.thresholds import extended_thresholds, threshold_scores

__all__ = ["ScoreBlocks", "muthen_gamma", "gamma_from_margins"]


@dataclass
class ScoreBlocks:
    """Casewise scores and bookkeeping for :func:`muthen_gamma`.

    Attributes
    ----------
    uni : numpy.ndarray, shape (N, n_th + n_num)
        Univariate scores: the threshold/mean block (lavaan's ``SC.TH``) then the variances of
        the continuous variables (``SC.VAR``).
    uni_groups : list of numpy.ndarray
        For every variable, the columns of ``uni`` that belong to it (its block of A11).
    cor : numpy.ndarray, shape (N, pstar)
        Correlation scores, pairs in lavaan's ``vech(diagonal = FALSE)`` order.
    a21 : numpy.ndarray, shape (pstar, n_th + n_num)
        Cross-products of correlation scores with the pair's bivariate univariate-parameter
        scores.
    h21, h22 : numpy.ndarray
        Delta-method Jacobian from correlations to covariances (identity for ordinal pairs).
    mean_columns : numpy.ndarray of int
        Columns of the threshold block holding means of continuous variables (sign flip).
    """

    uni: np.ndarray
    uni_groups: list[np.ndarray]
    cor: np.ndarray
    a21: np.ndarray
    h21: np.ndarray
    h22: np.ndarray
    mean_columns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def muthen_gamma(blocks: ScoreBlocks) -> np.ndarray:
    """N times the asymptotic covariance of ``[thresholds/-means, variances, correlations]``.

    Parameters
    ----------
    blocks : ScoreBlocks
        Scores and bookkeeping prepared by :func:`~radsem.estimation.families.ordinal.samplestats.
        categorical_sample_stats`.

    Returns
    -------
    numpy.ndarray
        The ``m x m`` matrix lavaan calls NACOV / gamma.
    """
    n_obs = blocks.uni.shape[0]
    n_uni = blocks.uni.shape[1]
    uni = blocks.uni
    a11_inv = np.zeros((n_uni, n_uni))
    for cols in blocks.uni_groups:
        block = uni[:, cols].T @ uni[:, cols]
        try:
            a11_inv[np.ix_(cols, cols)] = np.linalg.inv(block)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the information matrix of the thresholds of a variable is singular; "
                "check for categories with very few observations"
            ) from exc
    a22 = np.einsum("ij,ij->j", blocks.cor, blocks.cor)
    a22_inv = np.where(a22 == 0.0, 0.0, 1.0 / np.where(a22 == 0.0, 1.0, a22))
    # influence functions: rows of S B^{-T}, using the block-triangular structure of B^{-1}
    #   [S1, S2] B^{-T} = [S1 A11^{-T},  (S2 - S1 A11^{-T} A21^T) A22^{-1}]
    first = uni @ a11_inv.T
    second = (blocks.cor - first @ blocks.a21.T) * a22_inv[None, :]
    # delta method to the covariance metric: only the correlation block changes
    if blocks.h21.any() or np.any(np.diag(blocks.h22) != 1.0):
        second = first @ blocks.h21.T + second @ blocks.h22.T
    influence = np.hstack([first, second])
    flip = blocks.mean_columns
    if flip.size:
        influence[:, flip] *= -1.0
    gamma = (influence.T @ influence) * n_obs
    return 0.5 * (gamma + gamma.T)


# --- casewise scores of the two steps ------------------------------------------------------
# Rows where a variable (or one variable of a pair) is missing contribute zero scores, which is
# what lavaan's NA-removing cross-products do with missing = "pairwise".


def _layout(margins: list[Margin]):
    """Columns of every variable's step-one parameters: thresholds/means, then variances."""
    th_cols, col = [], 0
    for m in margins:
        width = len(m.tau) if m.kind == "ordered" else 1
        th_cols.append(np.arange(col, col + width))
        col += width
    var_col = {}
    for v, m in enumerate(margins):
        if m.kind == "numeric":
            var_col[v] = col
            col += 1
    return th_cols, var_col, col


def _univariate_scores(margins, th_cols, var_col, n_uni, n_obs):
    scores = np.zeros((n_obs, n_uni))
    for v, m in enumerate(margins):
        rows = m.present
        if m.kind == "ordered":
            scores[np.ix_(rows, th_cols[v])] = threshold_scores(m.codes[rows], m.tau)
        else:
            resid = m.values[rows] - m.mean
            scores[rows, th_cols[v][0]] = resid / m.var
            scores[rows, var_col[v]] = -0.5 / m.var + resid * resid / (2.0 * m.var * m.var)
    return scores


def _polychoric_scores(margins, batch: PolychoricBatch, th_cols, sc_cor, a21):
    d_rho, d_th1, d_th2 = polychoric_cell_scores(batch.ext1, batch.ext2, batch.rho)
    weight = batch.tables * d_rho
    a_row = np.einsum("pab,pabk->pk", weight, d_th1)
    a_col = np.einsum("pab,pabk->pk", weight, d_th2)
    q_idx = np.array([q for q, _, _ in batch.pairs])
    rows = np.stack([margins[j].filled_codes for _, _, j in batch.pairs], axis=1)
    cols = np.stack([margins[i].filled_codes for _, i, _ in batch.pairs], axis=1)
    # rows of the table = variable j, columns = variable i
    values = d_rho[np.arange(q_idx.size)[None, :], rows, cols]
    if not all(m.present.all() for m in margins):
        both = np.stack(
            [margins[i].present & margins[j].present for _, i, j in batch.pairs], axis=1
        )
        values = np.where(both, values, 0.0)
    sc_cor[:, q_idx] = values
    for r, (q, i, j) in enumerate(batch.pairs):
        a21[q, th_cols[j]] = a_row[r, : th_cols[j].size]
        a21[q, th_cols[i]] = a_col[r, : th_cols[i].size]


def _pearson_pair_scores(mi: Margin, mj: Margin, rho: float):
    """Scores of the bivariate normal log-likelihood: rho, mu_i, mu_j, var_i, var_j."""
    both = (mi.present & mj.present).astype(float)
    sd_i, sd_j = np.sqrt(mi.var), np.sqrt(mj.var)
    ci, cj = mi.filled_values - mi.mean, mj.filled_values - mj.mean
    one_minus = 1.0 - rho * rho
    quad = ci * ci / mi.var - 2.0 * rho * ci * cj / (sd_i * sd_j) + cj * cj / mj.var
    s_rho = (
        rho / one_minus + ci * cj / (sd_i * sd_j * one_minus) - quad * rho / one_minus**2
    ) * both
    mu_i = (ci / mi.var - rho * cj / (sd_i * sd_j)) / one_minus
    mu_j = (cj / mj.var - rho * ci / (sd_i * sd_j)) / one_minus
    var_i = -0.5 / mi.var + (ci * ci / mi.var**2 - rho * ci * cj / (mi.var * sd_i * sd_j)) / (
        2.0 * one_minus
    )
    var_j = -0.5 / mj.var + (cj * cj / mj.var**2 - rho * ci * cj / (mj.var * sd_i * sd_j)) / (
        2.0 * one_minus
    )
    return s_rho, mu_i * both, mu_j * both, var_i * both, var_j * both


def _pair_scores(margins, pairs, cor, batch, th_cols, var_col, n_uni, n_obs):
    pstar = len(pairs)
    sc_cor = np.zeros((n_obs, pstar))
    a21 = np.zeros((pstar, n_uni))
    if batch is not None:
        _polychoric_scores(margins, batch, th_cols, sc_cor, a21)
    h21 = np.zeros((pstar, n_uni))
    h22 = np.eye(pstar)
    for q, (i, j) in enumerate(pairs):
        rho = cor[i, j]
        mi, mj = margins[i], margins[j]
        if mi.kind == "ordered" and mj.kind == "ordered":
            continue  # done in one batch above
        if mi.kind == "numeric" and mj.kind == "numeric":
            s_rho, mu_i, mu_j, var_i, var_j = _pearson_pair_scores(mi, mj, rho)
            sd_i, sd_j = np.sqrt(mi.var), np.sqrt(mj.var)
            sc_cor[:, q] = s_rho
            a21[q, th_cols[i][0]] = s_rho @ mu_i
            a21[q, th_cols[j][0]] = s_rho @ mu_j
            a21[q, var_col[i]] = s_rho @ var_i
            a21[q, var_col[j]] = s_rho @ var_j
            h21[q, var_col[i]] = sd_j * rho / (2.0 * sd_i)
            h21[q, var_col[j]] = sd_i * rho / (2.0 * sd_j)
            h22[q, q] = sd_i * sd_j
            continue
        c, o = (i, j) if mi.kind == "numeric" else (j, i)
        num, ordv = margins[c], margins[o]
        both = (num.present & ordv.present).astype(float)
        sd = np.sqrt(num.var)
        z = (num.filled_values - num.mean) / sd
        ext = extended_thresholds(ordv.tau)
        codes = ordv.filled_codes
        sc = polyserial_scores(z, ext[codes + 1], ext[codes], codes, len(ordv.tau), sd, rho)
        s_rho = sc["rho"] * both
        sc_cor[:, q] = s_rho
        a21[q, th_cols[c][0]] = s_rho @ sc["mu"]
        a21[q, var_col[c]] = s_rho @ sc["var"]
        a21[q, th_cols[o]] = s_rho @ sc["th"]
        h21[q, var_col[c]] = rho / (2.0 * sd)
        h22[q, q] = sd
    return sc_cor, a21, h21, h22


def gamma_from_margins(
    margins: list[Margin],
    pairs: list[tuple[int, int]],
    cor: np.ndarray,
    batch: PolychoricBatch | None,
) -> np.ndarray:
    """Gamma of ``wls.obs`` from the step-one margins and the step-two correlations."""
    n_obs = margins[0].present.size
    th_cols, var_col, n_uni = _layout(margins)
    sc_uni = _univariate_scores(margins, th_cols, var_col, n_uni, n_obs)
    sc_cor, a21, h21, h22 = _pair_scores(margins, pairs, cor, batch, th_cols, var_col, n_uni, n_obs)
    groups = [
        np.array(list(th_cols[v]) + ([var_col[v]] if v in var_col else []))
        for v in range(len(margins))
    ]
    mean_cols = np.array(
        [th_cols[v][0] for v, m in enumerate(margins) if m.kind == "numeric"], dtype=int
    )
    return muthen_gamma(ScoreBlocks(sc_uni, groups, sc_cor, a21, h21, h22, mean_cols))
