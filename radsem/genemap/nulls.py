"""The two null hypotheses a gene set's masking score is tested against, and their
intersection-union combination.

* **Competitive** (Goeman and Bühlmann 2007, Bioinformatics 23:980): is the set more
  associated with the target than a random set of the same size? The score is compared with
  the scores of size-matched random gene sets.
* **Self-contained**: is the set associated with the target at all? The observed target is
  permuted across patients against the fixed out-of-fold masked predictions (which never saw
  the held-out patients' targets), the same permutation for every repeat. The statistic uses
  the predictions centred within each fold (:func:`fold_standardise`: the folds' networks
  have their own intercepts), and the permutation distribution is widened by the spread of
  the same statistic over the random gene sets (:func:`empirical_null_scale`: a prediction
  also depends on the other folds' targets, which makes the statistic vary more than the
  permutations say).

A set is called significant only when both tests reject: ``p = max(p_competitive,
p_self_contained)``, an intersection-union test (Berger 1982, Technometrics 24:295), which is
a level-alpha test of the union of the two null hypotheses whenever each test is a level-alpha
test of its own.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "competitive_p",
    "fold_standardise",
    "permutation_z",
    "empirical_null_scale",
    "self_contained_p",
    "intersection_union_p",
]


def competitive_p(score: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Empirical p-value of each score against the scores of random sets.

    Parameters
    ----------
    score : ndarray
        Scores of the sets (any shape).
    null : ndarray
        Scores of the size-matched random sets (1-d).

    Returns
    -------
    ndarray
        ``(1 + #null >= score) / (1 + len(null))``.
    """
    null = np.sort(np.asarray(null, dtype=float))
    above = len(null) - np.searchsorted(null, np.asarray(score, dtype=float), side="left")
    return (1.0 + above) / (1.0 + len(null))


def fold_standardise(
    predictions: np.ndarray, folds: np.ndarray, dtype: type = np.float64
) -> np.ndarray:
    """Centre out-of-fold predictions within each fold and scale them to unit norm.

    Parameters
    ----------
    predictions : ndarray
        (sets, patients, targets) out-of-fold predictions of one repeat.
    folds : ndarray
        (patients,) the fold that held each patient out.
    dtype : numpy dtype
        Of the result (float32 halves the memory for thousands of random sets).

    Returns
    -------
    ndarray
        (sets, patients, targets); a prediction constant within every fold is 0.

    Notes
    -----
    Each fold's network has its own intercept (its training targets' mean, which is
    anti-correlated with the held-out patients' mean): centring within folds removes these
    offsets, so the statistic measures only how the set orders the patients of each fold.
    """
    out = np.array(predictions, dtype=dtype)
    for k in np.unique(folds):
        rows = folds == k
        out[:, rows] -= out[:, rows].mean(1, keepdims=True)
    norm = np.sqrt((out * out).sum(1, keepdims=True))
    return np.where(norm > 1e-12, out / np.where(norm > 1e-12, norm, 1.0), 0.0).astype(dtype)


def _unit(y: np.ndarray) -> np.ndarray:
    yc = np.asarray(y, dtype=np.float64) - np.mean(y, axis=0)
    norm = np.sqrt((yc * yc).sum(0))
    return np.where(norm > 0, yc / np.where(norm > 0, norm, 1.0), 0.0)


def permutation_z(m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The self-contained statistic over its permutation standard deviation.

    Parameters
    ----------
    m : ndarray
        (sets, patients, targets): the mean over repeats of :func:`fold_standardise`.
    y : ndarray
        (patients, targets).

    Returns
    -------
    ndarray
        (sets, targets). For a linear statistic ``sum_i m_i y_pi(i)`` with centred ``m``
        the permutation variance is exactly ``|m|^2 |y - mean(y)|^2 / (n - 1)``.
    """
    yz = _unit(y)
    stat = np.einsum("snt,nt->st", m, yz)
    sd = np.sqrt((m * m).sum(1) / (len(yz) - 1))
    return np.where(sd > 0, stat / np.where(sd > 0, sd, 1.0), 0.0)


def empirical_null_scale(z_null: np.ndarray) -> np.ndarray:
    """Spread of the permutation z statistics of the random gene sets, per target, at least 1.

    Parameters
    ----------
    z_null : ndarray
        (random sets, targets), from :func:`permutation_z`.

    Returns
    -------
    ndarray
        (targets,): ``max(1, 1.4826 * MAD)``, a robust standard deviation (Efron 2004's
        empirical null; the few random sets that happen to hold driver genes sit in the tail
        and hardly move it).
    """
    z_null = np.asarray(z_null, dtype=float)
    med = np.median(z_null, axis=0)
    mad = 1.4826 * np.median(np.abs(z_null - med), axis=0)
    return np.maximum(1.0, mad)


def self_contained_p(
    m: np.ndarray,
    y: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
    scale: np.ndarray | None = None,
    chunk: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Permutation p-value of each set's association with the target.

    Parameters
    ----------
    m : ndarray
        (sets, patients, targets): out-of-fold masked predictions, centred within each fold
        and scaled to unit norm (:func:`fold_standardise`), averaged over repeats.
    y : ndarray
        Observed targets, (patients, targets).
    n_permutations : int
        Random permutations of the patients' targets (each shared by every set and target).
    rng : numpy Generator
    scale : ndarray, optional
        (targets,) factors >= 1 widening the permutation distribution
        (:func:`empirical_null_scale`); default 1.
    chunk : int
        Permutations evaluated at once (memory only).

    Returns
    -------
    statistic : ndarray
        (sets, targets): ``sum_i m_i (y_i - mean y) / |y - mean y|``.
    p_value : ndarray
        (sets, targets): ``(1 + #(scale * permuted >= statistic)) / (1 + n_permutations)``.

    Notes
    -----
    Each out-of-fold prediction comes from a network fitted without the patient's target,
    so under the hypothesis that the target does not depend on the set's genes a held-out
    patient's target is exchangeable given the predictions, and permuting targets against
    the fixed predictions needs no refitting. The predictions do depend on the *other*
    folds' targets: for a linear smoother the statistic is a quadratic form
    ``sum_{i,j} (w_ij + w_ji) y_i y_j`` over pairs in different folds, in which each pair
    enters through both patients' predictions, so its variance can exceed the permutation
    variance by up to a factor of 2 (``(a + b)^2 <= 2 (a^2 + b^2)``). ``scale`` corrects for
    that with the spread of the same statistic over the random gene sets.
    """
    yz = _unit(y)
    scale = np.ones(yz.shape[1]) if scale is None else np.asarray(scale, dtype=float)
    stat = np.einsum("snt,nt->st", m, yz)
    n = yz.shape[0]
    exceed = np.zeros(stat.shape)
    done = 0
    while done < n_permutations:
        take = min(chunk, n_permutations - done)
        perms = np.stack([rng.permutation(n) for _ in range(take)])  # (B, n)
        permuted = np.einsum("snt,bnt->bst", m, yz[perms]) * scale
        exceed += (permuted >= stat[None] - 1e-12).sum(0)
        done += take
    return stat, (1.0 + exceed) / (1.0 + n_permutations)


def intersection_union_p(*p_values: np.ndarray) -> np.ndarray:
    """The intersection-union p-value: the largest of the p-values (NaN if any is NaN)."""
    return np.max(np.stack([np.asarray(p, dtype=float) for p in p_values]), axis=0)
