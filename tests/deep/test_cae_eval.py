from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.deep.cae import ConvAutoencoder
from radsem.deep.cae_eval import downstream_cindex, latent_stability
from radsem.deep.crops import CropSpec, crop_cases
from radsem.deep.selection import select_radiomic_features
from radsem.errors import DataError

SPEC = CropSpec(shape=(8, 16, 16))


def _icc_c1(wide: np.ndarray) -> float:
    """ICC(3,1) from the two-way ANOVA mean squares (Shrout & Fleiss 1979), by hand."""
    n, k = wide.shape
    grand = wide.mean()
    ss_rows = k * ((wide.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((wide.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((wide - grand) ** 2).sum() - ss_rows - ss_cols
    ms_rows, ms_err = ss_rows / (n - 1), ss_err / ((n - 1) * (k - 1))
    return (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err)


@pytest.fixture(scope="module")
def model(cases):
    return ConvAutoencoder(
        latent_dim=3,
        base_channels=4,
        n_blocks=2,
        epochs=5,
        batch_size=8,
        random_state=3,
        progress=False,
    ).fit(crop_cases(cases, SPEC))


def test_latent_stability_matches_anova_icc(model, cases):
    table = latent_stability(model, cases, SPEC, noise_sd=0.2, random_state=1)
    assert list(table.columns) == ["perturbation", "feature", "icc", "ci_lower", "ci_upper"]
    assert set(table["perturbation"]) == {"dilate", "erode", "noise", "all"}
    assert len(table) == 4 * 3
    ok = table.dropna()
    assert ((ok["icc"] <= 1) & (ok["icc"] >= -1)).all()
    assert (ok["ci_lower"] <= ok["icc"] + 0.01).all()
    # independent check of one ICC against the ANOVA formula
    base = model.transform(crop_cases(cases, SPEC))
    from radsem.deep.cae_eval import _perturbed

    pert = model.transform(crop_cases(_perturbed(cases, "dilate", 0.2, None), SPEC))
    wide = np.column_stack([base["latent_0"], pert["latent_0"]])
    row = table[(table["perturbation"] == "dilate") & (table["feature"] == "latent_0")]
    assert row["icc"].iloc[0] == pytest.approx(_icc_c1(wide), abs=1e-8)
    # same seed, same table
    pd.testing.assert_frame_equal(
        table, latent_stability(model, cases, SPEC, noise_sd=0.2, random_state=1)
    )


def test_latent_stability_bad_input(model, cases):
    with pytest.raises(DataError, match="perturbation"):
        latent_stability(model, cases, SPEC, perturbations=("rotate",))
    with pytest.raises(DataError, match="at least 5"):
        latent_stability(model, cases[:3], SPEC)
    with pytest.raises(DataError, match="icc"):
        latent_stability(model, cases, SPEC, icc="ICC(1,1)")


def _survival(n=120, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id")
    latent = pd.DataFrame(
        rng.normal(size=(n, 3)), index=idx, columns=["latent_0", "latent_1", "latent_2"]
    )
    radiomics = pd.DataFrame(
        rng.normal(size=(n, 20)), index=idx, columns=[f"rad_{j}" for j in range(20)]
    )
    hazard = np.exp(1.2 * latent["latent_0"].to_numpy())
    t_event = rng.exponential(1 / hazard)
    t_cens = rng.exponential(1.5, size=n)
    outcome = pd.DataFrame(
        {"time": np.minimum(t_event, t_cens), "event": (t_event <= t_cens).astype(int)}, index=idx
    )
    return latent, radiomics, outcome


def test_downstream_cindex_finds_the_informative_set():
    latent, radiomics, outcome = _survival()
    table = downstream_cindex(latent, radiomics, outcome.reset_index(), n_splits=4, random_state=0)
    assert list(table["feature_set"]) == ["latent", "radiomics"]
    t = table.set_index("feature_set")
    assert t.loc["latent", "cindex_mean"] > 0.68
    assert t.loc["radiomics", "cindex_mean"] < 0.6
    assert t.loc["latent", "n_patients"] == 120
    assert t.loc["radiomics", "n_features"] == 20
    # a wrong outcome column is reported
    with pytest.raises(DataError, match="lacks columns"):
        downstream_cindex(latent, radiomics, outcome.rename(columns={"event": "status"}))
    with pytest.raises(DataError, match="too few"):
        downstream_cindex(latent.iloc[:10], radiomics, outcome)


def test_select_radiomic_features_ranks_and_prunes():
    rng = np.random.default_rng(5)
    n = 80
    latent = pd.DataFrame(rng.normal(size=(n, 3)), columns=["latent_0", "latent_1", "latent_2"])
    radiomics = pd.DataFrame(
        {
            "explained": latent["latent_0"] + 0.3 * rng.normal(size=n),
            "twin": 2.0 * latent["latent_0"] + 0.05 * rng.normal(size=n),
            "partly": latent["latent_1"] + 1.0 * rng.normal(size=n),
            "noise": rng.normal(size=n),
            "constant": np.ones(n),
        }
    )
    before = radiomics.copy()
    sel = select_radiomic_features(latent, radiomics, corr_threshold=0.9, min_r2=0.1)
    pd.testing.assert_frame_equal(radiomics, before)
    t = sel.table.set_index("feature")
    assert sel.selected[0] in ("explained", "twin")
    assert "partly" in sel.selected
    assert "noise" not in sel.selected
    twin_loser = ({"explained", "twin"} - {sel.selected[0]}).pop()
    assert t.loc[twin_loser, "reason"] == "redundant"
    assert t.loc[twin_loser, "redundant_with"] == sel.selected[0]
    assert t.loc["constant", "reason"] == "constant"
    assert t.loc["noise", "reason"] == "low_r2"
    assert t.loc["twin", "r2_cv"] > 0.8
    assert t.loc["noise", "r2_cv"] < 0.1
    # out-of-fold R^2 agrees with an independent cross_val_predict computation
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = radiomics["partly"].to_numpy()
    pred = cross_val_predict(
        make_pipeline(StandardScaler(), RidgeCV(alphas=(0.1, 1.0, 10.0, 100.0))),
        latent.to_numpy(),
        (y - y.mean()) / y.std(),
        cv=KFold(5, shuffle=True, random_state=0),
    )
    z = (y - y.mean()) / y.std()
    assert t.loc["partly", "r2_cv"] == pytest.approx(1 - ((z - pred) ** 2).sum() / (z**2).sum())
    capped = select_radiomic_features(latent, radiomics, max_features=1)
    assert len(capped.selected) == 1


def test_select_radiomic_features_bad_input():
    latent = pd.DataFrame(np.zeros((5, 2)))
    with pytest.raises(DataError, match="only 5 patients"):
        select_radiomic_features(latent, pd.DataFrame(np.zeros((5, 2))))
    with pytest.raises(DataError, match="non-numeric"):
        select_radiomic_features(latent, pd.DataFrame({"a": ["x"] * 5}))
    with pytest.raises(DataError, match="corr_threshold"):
        select_radiomic_features(latent, latent, corr_threshold=0)
