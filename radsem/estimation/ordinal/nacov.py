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

__all__ = ["ScoreBlocks", "muthen_gamma"]


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
        Scores and bookkeeping prepared by :func:`~radsem.estimation.ordinal.samplestats.
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
