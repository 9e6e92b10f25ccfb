"""CAE-feature Cox family: the autoencoder is trained on the training fold's crops only (an
instrumented autoencoder records what it is trained on), seeds reproduce the numbers, it runs on
a simulated cohort folder, and patients without crops are named in a DataError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radsem.compare import CAECox, ClinicalCox, CropStore, compare_models
from radsem.errors import DataError, ModelSpecificationError

pytest.importorskip("torch")

from radsem.deep.cae import ConvAutoencoder  # noqa: E402

SEEN: dict[str, list] = {"fit": [], "transform": []}


class RecordingCAE(ConvAutoencoder):
    """A ConvAutoencoder that records the patient ids of the crops it is fitted on / encodes."""

    def fit(self, X, y=None):
        SEEN["fit"].append(list(X.patient_id))
        return super().fit(X, y)

    def transform(self, X):
        SEEN["transform"].append(list(X.patient_id))
        return super().transform(X)


@pytest.fixture(scope="module")
def cohort_folder(tmp_path_factory):
    """A simulated cohort folder (40 patients, small images) and its 8 x 16 x 16 crops."""
    from radsem.deep import CropSpec, crop_cohort
    from radsem.io import read_cohort
    from radsem.simulate import simulate

    path = simulate(40, 3, tmp_path_factory.mktemp("cae") / "cohort", image_shape=(8, 24, 24))
    cohort = read_cohort(path)
    crops = crop_cohort(cohort, CropSpec(shape=(8, 16, 16)), progress=False)
    data = cohort.clinical.set_index("patient_id")[["age", "figo_stage", "time", "event"]]
    return path, cohort, crops, data


def _small_cae(**kw):
    return RecordingCAE(
        latent_dim=3,
        channels=None,
        base_channels=4,
        n_blocks=2,
        epochs=3,
        batch_size=8,
        patience=3,
        random_state=0,
        progress=False,
        **kw,
    )


def test_autoencoder_never_sees_test_patients(cohort_folder):
    _, _, crops, data = cohort_folder
    SEEN["fit"].clear()
    SEEN["transform"].clear()
    model = CAECox(crops, autoencoder=_small_cae(), penalizer=1.0)
    res = compare_models(
        data,
        {"cae": model},
        time="time",
        event="event",
        n_splits=3,
        n_repeats=1,
        horizons=[24.0],
        random_state=0,
    )
    assert res.failures.empty
    assert len(SEEN["fit"]) == 3
    preds = res.predictions
    for fold, trained_on in enumerate(SEEN["fit"]):
        test_ids = set(preds.loc[preds["fold"] == fold, "row"])
        assert not test_ids & set(trained_on)  # no test crop reached training
        assert set(trained_on) | test_ids == set(data.index)
    # every fold encodes its training rows (for scaling/Cox) and its test rows (prediction)
    encoded_test = [set(ids) for ids in SEEN["transform"] if not set(ids) & set(SEEN["fit"][0])]
    assert encoded_test  # the test fold of fold 0 was encoded (predicted), not trained on


def test_fit_is_fold_local_and_seeded(cohort_folder):
    _, _, crops, data = cohort_folder
    train, test = data.iloc[:28], data.iloc[28:]
    a = CAECox(crops, epochs=3, random_state=1).fit(train, "time", "event")
    assert a.train_ids_ == list(train.index)
    assert list(a.autoencoder_.history_["epoch"])[-1] <= 3
    ra = a.predict_risk(test)
    assert ra.index.equals(test.index)
    assert np.isfinite(ra).all()
    b = CAECox(crops, epochs=3, random_state=1).fit(train, "time", "event")
    pd.testing.assert_series_equal(ra, b.predict_risk(test))
    c = CAECox(crops, epochs=3, random_state=2).fit(train, "time", "event")
    assert not np.allclose(ra, c.predict_risk(test))
    # the codes of the test rows equal encoding them with the fold's autoencoder directly
    from radsem.deep.crops import Crops

    pos = [list(crops.patient_id).index(p) for p in test.index]
    direct = a.autoencoder_.transform(Crops(crops.data[pos], pd.Index(test.index)))
    np.testing.assert_allclose(a._encode(test).to_numpy(), direct.to_numpy())
    # clinical covariates enter next to the codes
    d = CAECox(crops, epochs=2, clinical=["advanced", "age"]).fit(train, "time", "event")
    assert list(d.cox_.params.index)[-2:] == ["advanced", "age"]


def test_same_seed_same_table_and_cohort_folder(cohort_folder):
    path, cohort, _, data = cohort_folder
    model = CAECox.from_cohort(path, epochs=2, random_state=0)
    assert model.crops.data.shape[1:] == (3, 8, 16, 16)
    kw = {
        "time": "time",
        "event": "event",
        "n_splits": 3,
        "n_repeats": 1,
        "horizons": [24.0],
        "random_state": 5,
    }
    models = {"clinical": ClinicalCox(), "cae": model}
    a = compare_models(data, models, **kw)
    b = compare_models(
        data,
        {"clinical": ClinicalCox(), "cae": CAECox.from_cohort(cohort, epochs=2, random_state=0)},
        **kw,
    )
    pd.testing.assert_frame_equal(a.folds, b.folds)
    assert a.failures.empty
    assert set(a.folds["model"]) == {"clinical", "cae"}


def test_id_column_mapping_and_callable(cohort_folder):
    _, _, crops, data = cohort_folder
    frame = data.reset_index()  # ids in a column, RangeIndex
    as_dict = {p: crops.data[i] for i, p in enumerate(crops.patient_id)}
    train, test = frame.iloc[:30], frame.iloc[30:]
    r1 = CAECox(as_dict, id_column="patient_id", epochs=2).fit(train, "time", "event")
    r2 = CAECox(as_dict.__getitem__, id_column="patient_id", epochs=2).fit(train, "time", "event")
    pd.testing.assert_series_equal(r1.predict_risk(test), r2.predict_risk(test))
    assert r1.predict_risk(test).index.equals(test.index)


def test_missing_crops_and_bad_input(cohort_folder):
    _, _, crops, data = cohort_folder
    extra = pd.DataFrame(
        {"age": [50.0], "figo_stage": ["IIB"], "time": [10.0], "event": [1]},
        index=pd.Index(["NOIMG7"], name="patient_id"),
    )
    bigger = pd.concat([data, extra])
    with pytest.raises(DataError, match="no image crop for patient.*NOIMG7"):
        CAECox(crops, epochs=1).fit(bigger, "time", "event")
    # the harness checks up front, before any fold runs
    with pytest.raises(DataError, match="NOIMG7"):
        compare_models(
            bigger,
            {"cae": CAECox(crops, epochs=1)},
            time="time",
            event="event",
            n_splits=3,
            n_repeats=1,
        )
    with pytest.raises(DataError, match="patient-id column 'pid'"):
        CAECox(crops, id_column="pid").fit(data, "time", "event")
    with pytest.raises(ModelSpecificationError, match="Crops stack, a mapping"):
        CropStore(42).stack(["P001"])
    odd = {p: np.zeros((3, 8, 16, 16 if i else 8)) for i, p in enumerate(data.index)}
    with pytest.raises(DataError, match="mismatched shapes"):
        CropStore(odd).stack(list(data.index))
    with pytest.raises(ModelSpecificationError, match="penalizer"):
        CAECox(crops, penalizer=-1).fit(data, "time", "event")


def test_logistic_counterpart_trains_the_cae_on_training_rows(cohort_folder):
    from radsem.compare import Logistic, horizon_labels

    _, _, crops, data = cohort_folder
    train, test = data.iloc[:28], data.iloc[28:]
    lab = horizon_labels((train.time, train.event), 24.0)
    SEEN["fit"].clear()
    m = Logistic(CAECox(crops, autoencoder=_small_cae(), penalizer=1.0)).fit(
        train, lab["label"].to_numpy(), lab["weight"].to_numpy(), "time", "event"
    )
    assert SEEN["fit"] == [list(train.index)]
    p = m.predict_probability(test)
    assert p.index.equals(test.index)
    assert list(m.params_.index) == ["Intercept", "latent_0", "latent_1", "latent_2"]
