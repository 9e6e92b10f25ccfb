from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from radsem.deep.gan import ConditionalWGAN, combine_real_synthetic
from radsem.errors import DataError


def _small(**kw):
    params = dict(
        latent_dim=8,
        hidden=32,
        embedding_dim=4,
        epochs=40,
        batch_size=32,
        lr=2e-3,
        random_state=11,
        progress=False,
    )
    params.update(kw)
    return ConditionalWGAN(**params)


@pytest.fixture(scope="module")
def fitted(expression):
    expr, labels = expression
    return _small().fit(expr, labels)


def test_conditioning_is_learned(fitted, expression):
    expr, labels = expression
    levels = ["HPV16", "HPV18", "HPV45"]
    synth = fitted.sample(pd.Series(np.repeat(levels, 200), name="hpv_type"), random_state=0)
    real_means = expr.groupby(labels).mean()
    for lv in levels:
        s = synth.iloc[[i for i, v in enumerate(np.repeat(levels, 200)) if v == lv]].mean()
        dist = ((real_means - s) ** 2).sum(axis=1)
        assert dist.idxmin() == lv, f"synthetic {lv} rows look like {dist.idxmin()}"
    # generated values are on the input (log2) scale, not standardised
    assert abs(synth.to_numpy().mean() - expr.to_numpy().mean()) < 0.5
    h = fitted.history_
    assert list(h.columns) == [
        "epoch",
        "critic_loss",
        "generator_loss",
        "wasserstein",
        "gradient_penalty",
    ]
    assert len(h) == 40
    assert np.isfinite(h.to_numpy()).all()


def test_rare_class_borrows_strength(fitted):
    # HPV45 has only 8 real rows; its synthetic spread stays close to the shared residual
    # spread rather than collapsing to a point
    synth = fitted.sample(pd.Series(["HPV45"] * 300, name="hpv_type"), random_state=1)
    assert synth.std().mean() > 0.3


def test_augment_rows_are_flagged_and_outcome_free(fitted, expression):
    expr, labels = expression
    aug = fitted.augment(expr, labels, n_per_class={"HPV45": 5, "HPV18": 2}, random_state=3)
    assert list(aug.columns[:3]) == ["patient_id", "hpv_type", "synthetic"]
    assert list(aug.columns[3:]) == list(expr.columns)
    assert aug["synthetic"].dtype == bool
    assert aug["synthetic"].all()
    assert list(aug["patient_id"]) == [f"SYN-{i:04d}" for i in range(1, 8)]
    assert aug["hpv_type"].value_counts().to_dict() == {"HPV45": 5, "HPV18": 2}
    assert not {"time", "event"} & set(aug.columns)
    balanced = fitted.augment(expr, labels, n_per_class="balance", random_state=3)
    counts = labels.value_counts() + balanced["hpv_type"].value_counts().reindex(
        labels.value_counts().index, fill_value=0
    )
    assert counts.nunique() == 1
    both = combine_real_synthetic(expr, labels, aug)
    assert len(both) == len(expr) + len(aug)
    assert both["synthetic"].sum() == len(aug)
    assert list(both.columns) == list(aug.columns)


def test_extra_conditions(expression):
    expr, labels = expression
    clade = labels.map({"HPV16": "A9", "HPV18": "A7", "HPV45": "A7"}).rename("clade")
    conds = pd.concat([labels, clade], axis=1)
    model = _small(epochs=5).fit(expr, conds)
    assert model.conditions_ == ["hpv_type", "clade"]
    aug = model.augment(expr, conds, n_per_class=4, random_state=0)
    # secondary conditions are drawn from the real rows of the same subtype
    assert (aug.loc[aug["hpv_type"] == "HPV16", "clade"] == "A9").all()
    assert (aug.loc[aug["hpv_type"] != "HPV16", "clade"] == "A7").all()


def test_determinism_and_round_trip(tmp_path, fitted, expression):
    expr, labels = expression
    state = torch.random.get_rng_state()
    again = _small().fit(expr, labels)
    assert torch.equal(torch.random.get_rng_state(), state)
    a = fitted.augment(expr, labels, n_per_class=3, random_state=9)
    pd.testing.assert_frame_equal(a, again.augment(expr, labels, n_per_class=3, random_state=9))
    pd.testing.assert_frame_equal(fitted.history_, again.history_)
    b = fitted.augment(expr, labels, n_per_class=3, random_state=10)
    assert not np.allclose(a[expr.columns].to_numpy(), b[expr.columns].to_numpy())
    path = tmp_path / "gan.pt"
    fitted.save(path)
    loaded = ConditionalWGAN.load(path)
    pd.testing.assert_frame_equal(a, loaded.augment(expr, labels, n_per_class=3, random_state=9))
    assert loaded.class_counts_ == fitted.class_counts_
    pd.testing.assert_frame_equal(loaded.history_, fitted.history_)


def test_bad_inputs(expression, fitted):
    expr, labels = expression
    with_nan = expr.copy()
    with_nan.iloc[3, 2] = np.nan
    with pytest.raises(DataError, match="missing or infinite.*G2"):
        _small().fit(with_nan, labels)
    with pytest.raises(DataError, match="too few samples.*HPV45"):
        _small(min_per_class=10).fit(expr, labels)
    with pytest.raises(DataError, match="unknown hpv_type label.*HPV99"):
        fitted.sample(pd.Series(["HPV99"], name="hpv_type"))
    with pytest.raises(DataError, match="unknown hpv_type label.*HPV99"):
        fitted.augment(expr, labels, n_per_class={"HPV99": 3})
    with pytest.raises(DataError, match="outcome"):
        _small().fit(expr.assign(event=1), labels)
    with pytest.raises(DataError, match="no label"):
        _small().fit(expr, labels.iloc[:-2])
    nan_labels = labels.copy()
    nan_labels.iloc[0] = None
    with pytest.raises(DataError, match="missing values"):
        _small().fit(expr, nan_labels)
    with pytest.raises(DataError, match="non-numeric"):
        _small().fit(expr.assign(note="x"), labels)
    with pytest.raises(DataError, match="not fitted"):
        _small().sample(labels)
    with pytest.raises(DataError, match="genes differ"):
        fitted.augment(expr.iloc[:, :-1], labels)
    with pytest.raises(DataError, match="n_per_class"):
        fitted.augment(expr, labels, n_per_class=-1)
    with pytest.raises(DataError, match="synthetic"):
        combine_real_synthetic(expr, labels, expr.reset_index())


def test_cohort_expression(expression):
    from types import SimpleNamespace

    from radsem.deep.expression_inputs import cohort_expression
    from radsem.errors import DataWarning

    expr, labels = expression
    clinical = pd.DataFrame(
        {"patient_id": expr.index, "hpv_type": labels.to_numpy(), "time": 1.0, "event": 0}
    )
    clinical.loc[0, "hpv_type"] = None
    cohort = SimpleNamespace(expression=expr.reset_index(), clinical=clinical)
    with pytest.warns(DataWarning, match="1 of 78"):
        e, lab = cohort_expression(cohort)
    assert len(e) == len(lab) == 77
    assert list(lab.columns) == ["hpv_type"]
    assert "time" not in e.columns
    with pytest.raises(DataError, match="condition columns"):
        cohort_expression(cohort, ("hpv_clade",))


def test_divergence_is_an_estimation_error(expression):
    from radsem.errors import EstimationError

    expr, labels = expression
    with pytest.raises(EstimationError, match="diverged"):
        _small(lr=1e30, epochs=5).fit(expr, labels)
