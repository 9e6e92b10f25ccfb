"""Seeded synthetic images and expression for the deep-model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radsem.deep.crops import Case


def make_cases(n: int, seed: int = 0, shape=(12, 24, 24)) -> list[Case]:
    """Ellipsoid tumours of varying size/position/contrast in three noisy channels."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    cases = []
    for i in range(n):
        c = np.array(shape) / 2 + rng.uniform(-2, 2, size=3)
        r = rng.uniform(2.5, 4.5, size=3) * np.array([0.6, 1.0, 1.0])
        d = ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2
        mask = d <= 1.0
        contrast = rng.uniform(1.0, 3.0, size=3)
        texture = rng.normal(size=shape)
        image = np.stack(
            [
                100 + 20 * contrast[k] * np.exp(-d) + 5 * texture + rng.normal(scale=2, size=shape)
                for k in range(3)
            ]
        )
        cases.append(Case(image, mask, (3.0, 1.0, 1.0), f"P{i:03d}", ("t2", "dwi", "adc")))
    return cases


def make_expression(n_per_class=(40, 30, 8), n_genes: int = 8, seed: int = 0):
    """Three subtypes with different mean profiles and a shared one-factor correlation."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    loadings = np.linspace(0.5, 0.9, n_genes)
    for k, n in enumerate(n_per_class):
        shift = np.zeros(n_genes)
        shift[k % n_genes] = 3.0
        f = rng.normal(size=(n, 1))
        x = 8 + shift + f * loadings + rng.normal(size=(n, n_genes)) * np.sqrt(1 - loadings**2)
        rows.append(x)
        labels += [f"HPV{[16, 18, 45][k]}"] * n
    ids = [f"P{i:03d}" for i in range(sum(n_per_class))]
    expr = pd.DataFrame(
        np.vstack(rows),
        index=pd.Index(ids, name="patient_id"),
        columns=[f"G{j}" for j in range(n_genes)],
    )
    return expr, pd.Series(labels, index=expr.index, name="hpv_type")
