"""Expression -> image generator: mechanics, determinism, save/load, CLI, bad inputs, evaluation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main
from radsem.deep.crops import Case
from radsem.deep.imagegen import (
    FORMAT_VERSION,
    ExpressionImageGenerator,
    fit_cohort,
    sample_cohort,
)
from radsem.deep.imagegen_data import (
    GEN_SPEC,
    binarise_mask,
    check_gene_table,
    cohort_image_set,
    cut_image_set,
)
from radsem.deep.imagegen_eval import (
    FEATURES,
    crop_features,
    evaluate_generator,
    imagegen_section,
    true_directions,
)
from radsem.errors import DataError

TINY = {"latent_dim": 2, "n_components": 3, "base_channels": 2, "epochs": 2, "batch_size": 8}


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    from radsem.simulate import simulate

    return simulate(20, 3, tmp_path_factory.mktemp("gen") / "cohort", missing_expression=0.2)


@pytest.fixture(scope="module")
def data(cohort_dir):
    from radsem.io import read_cohort

    cohort = read_cohort(cohort_dir)
    images = cohort_image_set(cohort)
    expr = cohort.expression.set_index("patient_id")
    return cohort, images, expr


def test_crops_have_mask_channel_and_fixed_extent(data):
    cohort, images, _ = data
    assert images.data.shape == (len(cohort.images), 4, 16, 32, 32)
    assert images.spacing == (4.0, 2.5, 2.5)
    m = images.data[:, 3]
    assert m.min() >= 0
    assert m.max() <= 1
    assert (m > 0.5).any(axis=(1, 2, 3)).all()
    # the fixed box keeps tumour size: mask volume on the crop tracks the true mask volume
    truth = pd.DataFrame(cohort.truth["patients"]).set_index("patient_id")
    vol = crop_features(images.data, images.spacing, list(images.patient_id))["volume_ml"]
    true = truth.loc[vol.index, "mask_volume_ml"]
    assert np.corrcoef(vol, true)[0, 1] > 0.95


def test_crop_features_known_values():
    data = np.zeros((1, 4, 8, 16, 16), dtype=np.float32)
    data[0, 3, 2:6, 4:8, 4:8] = 1.0  # 64 voxels
    data[0, 2] = 700.0
    data[0, 2, 2:6, 4:8, 4:8] = 900.0
    data[0, 0, 2:6, 4:8, 4:8] = np.tile([100.0, 300.0], 32).reshape(4, 4, 4)
    f = crop_features(data, (2.0, 1.0, 1.0))
    assert f["volume_ml"].iloc[0] == pytest.approx(64 * 2.0 / 1000)
    assert f["mean_adc"].iloc[0] == pytest.approx(900.0)
    assert f["heterogeneity"].iloc[0] == pytest.approx(100.0 / 200.0)


def test_binarise_keeps_largest_component():
    p = np.zeros((4, 8, 8))
    p[1:3, 1:4, 1:4] = 0.9
    p[0, 6, 6] = 0.8
    m = binarise_mask(p)
    assert m.sum() == 18
    assert not m[0, 6, 6]


def test_fit_sample_shapes_and_determinism(data):
    _, images, expr = data
    a = ExpressionImageGenerator(random_state=1, **TINY).fit(images, expr)
    b = ExpressionImageGenerator(random_state=1, **TINY).fit(images, expr)
    pd.testing.assert_frame_equal(a.history_, b.history_)
    both = [p for p in images.patient_id if p in expr.index]
    assert a.patients_ == both
    out, ids = a.sample(expr.iloc[:3], random_state=5)
    assert out.shape == (3, 4, 16, 32, 32)
    assert list(ids) == list(expr.index[:3])
    assert 0 <= out[:, 3].min()
    assert out[:, 3].max() <= 1
    again, _ = b.sample(expr.iloc[:3], random_state=5)
    np.testing.assert_array_equal(out, again)
    other, _ = a.sample(expr.iloc[:3], random_state=6)
    assert not np.array_equal(out, other)
    mean1, _ = a.sample(expr.iloc[:3], random_state=1, mode="mean")
    mean2, _ = a.sample(expr.iloc[:3], random_state=2, mode="mean")
    np.testing.assert_array_equal(mean1, mean2)
    # columns in another order are matched by name
    shuffled_cols = expr.iloc[:3, ::-1]
    np.testing.assert_array_equal(a.sample(shuffled_cols, random_state=5)[0], out)


def test_save_load_roundtrip_and_version(tmp_path, data):
    _, images, expr = data
    model = ExpressionImageGenerator(random_state=0, **TINY).fit(images, expr)
    folder = model.save(tmp_path / "model")
    meta = json.loads((folder / "model.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["genes"] == model.genes_
    loaded = ExpressionImageGenerator.load(folder)
    np.testing.assert_array_equal(
        loaded.sample(expr.iloc[:2], 3)[0], model.sample(expr.iloc[:2], 3)[0]
    )
    with pytest.raises(DataError, match="not an empty folder"):
        model.save(folder)
    meta["format_version"] = FORMAT_VERSION + 1
    old = tmp_path / "old"
    old.mkdir()
    (old / "model.json").write_text(json.dumps(meta))
    (old / "weights.pt").write_bytes((folder / "weights.pt").read_bytes())
    with pytest.raises(DataError, match=f"format version {FORMAT_VERSION + 1}.*retrain"):
        ExpressionImageGenerator.load(old)
    # a folder of the first format (before the hybrid objective and the validation split)
    meta1 = {k: v for k, v in meta.items() if k not in ("validation_patients", "best_epoch")}
    meta1["format_version"] = 1
    meta1["params"] = {
        k: v
        for k, v in meta1["params"].items()
        if k not in ("generation_weight", "validation_fraction", "patience")
    }
    (old / "model.json").write_text(json.dumps(meta1))
    with pytest.raises(DataError, match="format version 1 .*reads version 5 only: retrain"):
        ExpressionImageGenerator.load(old)
    # a folder of format 2 (before the heteroscedastic decoder)
    meta2 = {**meta, "format_version": 2}
    meta2["params"] = {
        k: v
        for k, v in meta["params"].items()
        if k not in ("image_likelihood", "sigma_floor", "nll_beta", "voxel_noise")
    }
    (old / "model.json").write_text(json.dumps(meta2))
    with pytest.raises(DataError, match="format version 2 .*reads version 5 only: retrain"):
        ExpressionImageGenerator.load(old)
    # a folder of format 3 (before the calibrated prior spread, noise range and mask offset)
    (old / "model.json").write_text(json.dumps({**meta, "format_version": 3}))
    with pytest.raises(DataError, match="format version 3 .*reads version 5 only: retrain"):
        ExpressionImageGenerator.load(old)
    # a folder of format 4 (before the log intensity scale and the unit prior variance)
    (old / "model.json").write_text(json.dumps({**meta, "format_version": 4}))
    with pytest.raises(DataError, match="format version 4 .*reads version 5 only: retrain"):
        ExpressionImageGenerator.load(old)
    for name in ("prior_sd_", "logvar_range_", "mask_offset_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    # the new fields survive the round trip
    assert loaded.validation_patients_ == model.validation_patients_ == []  # off by default
    assert loaded.best_epoch_ == model.best_epoch_ == TINY["epochs"]
    pd.testing.assert_frame_equal(loaded.history_, model.history_)
    with pytest.raises(DataError, match="no model.json"):
        ExpressionImageGenerator.load(tmp_path)
    (old / "model.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DataError, match="not a radsem imagegen model"):
        ExpressionImageGenerator.load(old)


def test_bad_sampling_tables(data):
    _, images, expr = data
    model = ExpressionImageGenerator(random_state=0, **TINY).fit(images, expr)
    extra = expr.iloc[:2].assign(NOTAGENE=1.0, ALSO_NEW=2.0)
    with pytest.raises(DataError, match=r"not trained on: \['NOTAGENE', 'ALSO_NEW'\]"):
        model.sample(extra)
    with pytest.raises(DataError, match=r"lacks 1 gene\(s\) the model needs: \['MKI67'\]"):
        model.sample(expr.iloc[:2].drop(columns="MKI67"))
    holed = expr.iloc[:3].copy()
    holed.iloc[1, 4] = np.nan
    pid, col = holed.index[1], holed.columns[4]
    with pytest.raises(DataError, match=f"patient '{pid}', column '{col}'"):
        model.sample(holed)
    with pytest.raises(DataError, match="mode"):
        model.sample(expr.iloc[:2], mode="median")
    with pytest.raises(DataError, match="not fitted"):
        ExpressionImageGenerator().sample(expr)
    with pytest.raises(DataError, match="positive integer"):
        ExpressionImageGenerator(epochs=0).fit(images, expr)


def test_check_gene_table_duplicates_and_text():
    t = pd.DataFrame({"patient_id": ["a", "a"], "G": [1.0, 2.0]})
    with pytest.raises(DataError, match="duplicated"):
        check_gene_table(t)
    t = pd.DataFrame({"patient_id": ["a"], "G": ["x"]})
    with pytest.raises(DataError, match="non-numeric"):
        check_gene_table(t)


def test_cut_image_set_needs_three_sequences():
    case = Case(np.ones((2, 8, 16, 16)), np.ones((8, 16, 16), bool), (4.0, 2.5, 2.5), "A")
    with pytest.raises(Exception, match="3 sequences"):
        cut_image_set([case], GEN_SPEC)


def test_cli_train_sample_extract(tmp_path, cohort_dir, capsys):
    from radsem.io import read_cohort

    model_dir = tmp_path / "model"
    assert (
        main(
            [
                "imagegen",
                "train",
                str(cohort_dir),
                "--out",
                str(model_dir),
                "--seed",
                "2",
                "--epochs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    # the default objective is the tumour-balanced ELBO (no generation term)
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta["params"]["generation_weight"] == 0.0
    assert meta["params"]["image_likelihood"] == "heteroscedastic"
    assert meta["params"]["intensity_scale"] == "log"
    assert meta["params"]["prior_variance"] == "unit"
    # --generation-weight selects the hybrid objective, --image-likelihood the decoder,
    # --intensity-scale the scale of T2 and DWI, --prior-variance the prior
    hybrid_dir = tmp_path / "hybrid"
    argv = ["imagegen", "train", str(cohort_dir), "--out", str(hybrid_dir), "--epochs", "1"]
    extra = ["--generation-weight", "0.5", "--image-likelihood", "unit", "--quiet"]
    extra += ["--intensity-scale", "linear", "--prior-variance", "learned"]
    assert main([*argv, *extra]) == 0
    hybrid = ExpressionImageGenerator.load(hybrid_dir)
    assert hybrid.generation_weight == 0.5
    assert hybrid.image_likelihood == "unit"
    assert hybrid.intensity_scale == "linear"
    assert hybrid.log_offset_.tolist() == [0.0, 0.0, 0.0]
    assert hybrid.prior_variance == "learned"
    assert hybrid.net_.prior[-1].out_features == 2 * hybrid.latent_dim
    assert hybrid.variance_net_ is None
    assert (hybrid.history_["generation"] > 0).all()
    capsys.readouterr()
    bad = [*argv[:3], "--out", str(tmp_path / "bad"), "--generation-weight", "-1"]
    assert main(bad) == 2
    assert "generation-weight" in capsys.readouterr().err
    cohort = read_cohort(cohort_dir)
    expr = cohort.expression.iloc[:2]
    expr_path = tmp_path / "expr.csv"
    expr.to_csv(expr_path, index=False)
    out = tmp_path / "generated"
    assert (
        main(
            [
                "imagegen",
                "sample",
                "--model",
                str(model_dir),
                "--expression",
                str(expr_path),
                "--out",
                str(out),
                "--seed",
                "4",
                "--quiet",
            ]
        )
        == 0
    )
    gen = read_cohort(out)
    assert list(gen.images["patient_id"]) == list(expr["patient_id"])
    assert (gen.clinical["generated"] == 1).all()
    from radsem.io import image_array

    arr, spacing = image_array(gen.images["mask"][0])
    assert arr.shape == (16, 32, 32)
    assert spacing == (4.0, 2.5, 2.5)
    # same seed -> same bytes
    out2 = tmp_path / "generated2"
    assert (
        main(
            [
                "imagegen",
                "sample",
                "--model",
                str(model_dir),
                "--expression",
                str(expr_path),
                "--out",
                str(out2),
                "--seed",
                "4",
                "--quiet",
            ]
        )
        == 0
    )
    for name in ("t2", "adc", "mask"):
        pid = expr["patient_id"].iloc[0]
        assert (out / "images" / pid / f"{name}.nii.gz").read_bytes() == (
            out2 / "images" / pid / f"{name}.nii.gz"
        ).read_bytes()
    # --mask-rule 0.5: the same images, the mask cut at 0.5
    out3 = tmp_path / "generated3"
    args = ["imagegen", "sample", "--model", str(model_dir), "--expression", str(expr_path)]
    assert main([*args, "--out", str(out3), "--seed", "4", "--mask-rule", "0.5"]) == 0
    model = ExpressionImageGenerator.load(model_dir)
    probs, ids = model.sample(expr.set_index("patient_id"), 4)
    for pid, vol in zip(ids, probs, strict=True):
        assert (out3 / "images" / pid / "t2.nii.gz").read_bytes() == (
            out / "images" / pid / "t2.nii.gz"
        ).read_bytes()
        m3, _ = image_array(out3 / "images" / pid / "mask.nii.gz")
        np.testing.assert_array_equal(m3 > 0, binarise_mask(vol[3]))
        m1, _ = image_array(out / "images" / pid / "mask.nii.gz")  # default: expected volume
        np.testing.assert_array_equal(m1 > 0, binarise_mask(vol[3], rule="expected_volume"))
    assert main([*args, "--out", str(tmp_path / "g4"), "--mask-rule", "otsu"]) == 2
    # the generated folder is not written over
    capsys.readouterr()
    assert (
        main(
            [
                "imagegen",
                "sample",
                "--model",
                str(model_dir),
                "--expression",
                str(expr_path),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 3
    )
    assert "not an empty folder" in capsys.readouterr().err
    # unseen genes are named, exit 3, no traceback
    expr.assign(FAKE1=1.0).to_csv(tmp_path / "bad.csv", index=False)
    assert (
        main(
            [
                "imagegen",
                "sample",
                "--model",
                str(model_dir),
                "--expression",
                str(tmp_path / "bad.csv"),
                "--out",
                str(tmp_path / "x"),
                "--quiet",
            ]
        )
        == 3
    )
    err = capsys.readouterr().err
    assert "FAKE1" in err
    assert "Traceback" not in err
    # a model folder from another version
    meta = json.loads((model_dir / "model.json").read_text())
    meta["format_version"] = 99
    (model_dir / "model.json").write_text(json.dumps(meta))
    assert (
        main(
            [
                "imagegen",
                "sample",
                "--model",
                str(model_dir),
                "--expression",
                str(expr_path),
                "--out",
                str(tmp_path / "y"),
                "--quiet",
            ]
        )
        == 3
    )
    assert "format version 99" in capsys.readouterr().err


def test_generated_cohort_runs_through_extract(tmp_path, data):
    pytest.importorskip("radiomics")
    from radsem.radiomics import extract_cohort

    _, images, expr = data
    model = ExpressionImageGenerator(random_state=0, **TINY).fit(images, expr)
    # the default (expected-volume) rule gives every generated patient a non-empty mask, even
    # from a barely trained model, so extraction always has something to run on
    out = sample_cohort(model, expr.iloc[:2], tmp_path / "g", random_state=0)
    masks = [binarise_mask(v[3], rule="expected_volume") for v in model.sample(expr.iloc[:2], 0)[0]]
    assert all(m.any() for m in masks)
    result = extract_cohort(out, progress=False)
    assert len(result.features) + len(result.failures) == 2


def test_fit_cohort_reports_expression_only(cohort_dir):
    model, summary = fit_cohort(cohort_dir, random_state=0, **TINY)
    assert summary["n_train"] == len(model.patients_)
    assert summary["expression_only"] == 0  # the simulator gives every patient images
    assert summary["n_train"] <= summary["n_images"]


def test_true_directions_from_truth(data):
    cohort, _, _ = data
    d = true_directions(cohort.truth).set_index(["mechanism", "feature"])["sign"]
    assert d[("E7", "volume_ml")] == 1
    assert d[("E7", "mean_adc")] == -1
    assert d[("hypoxia", "mean_adc")] == 1
    assert ("E6", "volume_ml") not in d.index
    with pytest.raises(DataError, match="truth"):
        true_directions({})


def test_evaluate_generator_tables_and_section(data):
    cohort, images, expr = data
    est = ExpressionImageGenerator(**TINY)
    ev = evaluate_generator(
        images,
        expr,
        estimator=est,
        truth=cohort.truth,
        test_size=0.3,
        n_draws=2,
        n_shuffles=4,
        random_state=0,
    )
    assert ev.n_test == 5
    # features the tiny model generates at all (a constant one has no rank correlation)
    varied = ev.spearman[np.isfinite(ev.spearman["rho_shuffled_prior_mean_z"])]
    assert len(varied) >= 3
    assert np.isfinite(varied[["rho_shuffled_mean", "rho_shuffled_sd"]].to_numpy()).all()
    assert (varied["rho_shuffled_mean"].abs() <= 1).all()
    assert (varied["rho_shuffled_sd"] > 0).all()  # four different derangements
    assert ev.n_train + ev.n_test == len([p for p in images.patient_id if p in expr.index])
    assert list(ev.spearman["feature"]) == [
        "volume_ml",
        "mean_adc",
        "heterogeneity",
        "mean_t2",
        "mean_dwi",
    ]
    assert set(ev.counterfactual["mechanism"]) <= {"E7", "hypoxia", "immune"}
    assert ev.counterfactual["n"].max() <= 2 * ev.n_test
    assert ev.distribution["feature"].iloc[-1] == "all (energy)"
    assert len(ev.memorisation) == 2
    sec = imagegen_section(ev)
    from radsem.report import Report

    html = Report("t", [sec]).to_html()
    assert "Counterfactuals" in html
    assert "Memorisation" in html
    assert html.count("<figure") == 2  # gallery and traversal
    with pytest.raises(DataError, match="hold out"):
        evaluate_generator(images, expr, estimator=est, test_size=0.9)
    with pytest.raises(DataError, match="n_shuffles"):
        evaluate_generator(images, expr, estimator=est, n_shuffles=-1)


def _held_out_sets(ev, ids):
    return [[p for p in ids if p not in set(m.patients_)] for m in ev.models]


def test_evaluate_generator_cross_fitted(data):
    from scipy import stats

    from radsem.report import Report

    cohort, images, expr = data
    ids = [p for p in images.patient_id if p in expr.index]
    est = ExpressionImageGenerator(**TINY)
    kw = dict(estimator=est, truth=cohort.truth, n_draws=2, n_shuffles=3, random_state=0)
    ev = evaluate_generator(images, expr, n_folds=3, **kw)
    assert ev.n_folds == 3
    assert len(ev.models) == 3
    # every patient is held out by exactly one fold and trains the other folds' generators
    held = _held_out_sets(ev, ids)
    assert sorted(p for h in held for p in h) == sorted(ids)
    assert [len(h) for h in held] == list(ev.folds["n_test"])
    assert sorted(ev.folds["n_test"]) == [5, 5, 6]
    assert (ev.folds["n_train"] + ev.folds["n_test"] == len(ids)).all()
    assert ev.n_test == len(ids)
    assert ev.n_train == ev.folds["n_train"].min()
    assert ev.folds["seed"].nunique() == 3
    # pooled tables: one row per feature / mechanism-feature pair / comparison
    assert list(ev.spearman["feature"]) == list(FEATURES)
    assert list(ev.fold_spearman["fold"]) == [k for k in range(3) for _ in FEATURES]
    assert ev.distribution["feature"].iloc[-1] == "all (energy)"
    assert len(ev.distribution) == len(FEATURES) + 1
    assert len(ev.memorisation) == 2
    vol = ev.counterfactual.set_index(["mechanism", "feature"])["n"]
    assert vol[("E7", "volume_ml")] == 2 * len(ids)  # volume is defined for every crop
    assert ev.counterfactual["n"].max() <= 2 * len(ids)
    # the pooled prior-mean Spearman, recomputed from each fold's generator on its own
    # held-out patients
    parts = []
    for model, h, seed in zip(ev.models, held, ev.folds["seed"], strict=True):
        crops = model.sample(expr.loc[h], int(seed), mode="mean")[0]
        parts.append(crop_features(crops, images.spacing, h, "expected_volume"))
    gen = pd.concat(parts).loc[ids]
    real = crop_features(images.subset(ids).data, images.spacing, ids)
    for f in FEATURES:
        ok = gen[f].notna() & real[f].notna()
        got = ev.spearman.set_index("feature").loc[f, "rho_prior_mean_z"]
        if ok.sum() >= 3 and gen.loc[ok, f].nunique() > 1:
            assert got == pytest.approx(stats.spearmanr(real.loc[ok, f], gen.loc[ok, f])[0])
        else:
            assert np.isnan(got)
        # within folds: each fold's own rank correlation, averaged over folds by size
        per_fold = []
        for h in held:
            ok_h = ok.loc[h]
            if ok_h.sum() >= 3 and gen.loc[h][ok_h][f].nunique() > 1:
                rho = stats.spearmanr(real.loc[h][ok_h][f], gen.loc[h][ok_h][f])[0]
                per_fold.append((rho, len(h)))
        within = ev.spearman_within_folds.set_index("feature").loc[f, "rho_prior_mean_z"]
        if per_fold:
            vals, sizes = zip(*per_fold, strict=True)
            assert within == pytest.approx(np.average(vals, weights=sizes))
        else:
            assert np.isnan(within)
    assert list(ev.spearman_within_folds["feature"]) == list(FEATURES)
    assert (ev.fold_spearman["median_real"] > 0).all()
    # same seed, same tables; another seed, other folds
    again = evaluate_generator(images, expr, n_folds=3, **kw)
    for name in (
        "spearman",
        "spearman_within_folds",
        "counterfactual",
        "distribution",
        "memorisation",
        "fold_spearman",
    ):
        pd.testing.assert_frame_equal(getattr(ev, name), getattr(again, name))
    np.testing.assert_array_equal(ev.gallery["generated"], again.gallery["generated"])
    other = evaluate_generator(images, expr, n_folds=3, **{**kw, "random_state": 1})
    assert _held_out_sets(other, ids) != held
    html = Report("t", [imagegen_section(ev)]).to_html()
    assert "Cross-fitted: 3 conditional VAEs" in html
    assert "Per fold" in html
    assert "within folds" in html
    assert html.count("<figure") == 2


def test_evaluate_generator_one_fold_is_the_single_split(data):
    _, images, expr = data
    kw = dict(estimator=ExpressionImageGenerator(**TINY), n_draws=1, n_shuffles=0)
    one = evaluate_generator(images, expr, n_folds=1, **kw)
    default = evaluate_generator(images, expr, **kw)
    assert one.n_folds == default.n_folds == 1
    assert one.n_test == default.n_test == 5
    # one split: the within-fold table is the pooled one (without p-values)
    pd.testing.assert_frame_equal(
        one.spearman_within_folds, one.spearman.drop(columns=["p_generated", "p_shuffled"])
    )
    for name in ("spearman", "distribution", "memorisation", "folds", "fold_spearman"):
        a, b = getattr(one, name), getattr(default, name)
        drop = [c for c in ("fit_seconds", "fit_cpu_seconds") if c in a]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop))


def test_evaluate_generator_reuses_models_under_another_mask_rule(data):
    cohort, images, expr = data
    kw = dict(
        estimator=ExpressionImageGenerator(**TINY),
        truth=cohort.truth,
        n_folds=2,
        n_draws=1,
        n_shuffles=2,
        random_state=3,
    )
    first = evaluate_generator(images, expr, **kw)
    again = evaluate_generator(images, expr, models=first.models, **kw)
    # the same generators, not retrained: the same tables, no training time
    assert again.models[0] is first.models[0]
    assert np.isnan(again.fit_seconds)
    for name in ("spearman", "spearman_within_folds", "counterfactual", "fold_spearman"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    ev = evaluate_generator(images, expr, models=first.models, mask_rule="0.5", **kw)
    # real features do not depend on the rule; generated volumes by the default rule are the
    # expected volumes
    med = ev.fold_spearman.set_index(["fold", "feature"])
    med0 = first.fold_spearman.set_index(["fold", "feature"])
    pd.testing.assert_series_equal(med["median_real"], med0["median_real"])
    held = _held_out_sets(first, [p for p in images.patient_id if p in expr.index])
    model = first.models[0]
    gen, _ = model.sample(expr.loc[held[0]], model.random_state, mode="mean")
    expected = [
        float(np.prod(images.spacing)) / 1000 * binarise_mask(v[3], rule="expected_volume").sum()
        for v in gen
    ]
    assert med0.loc[(0, "volume_ml"), "median_generated_prior_mean_z"] == pytest.approx(
        np.median(expected)
    )
    with pytest.raises(DataError, match="mask_rule"):
        evaluate_generator(images, expr, mask_rule="otsu", **kw)
    with pytest.raises(DataError, match="1 fitted models given for 2"):
        evaluate_generator(images, expr, models=first.models[:1], **kw)


@pytest.mark.parametrize(
    ("n_folds", "n_patients", "message"),
    [
        (0, 16, "n_folds must be an integer >= 2.*got 0"),
        (-2, 16, "got -2"),
        (True, 16, "got True"),
        (2.5, 16, "got 2.5"),
        ("3", 16, "got '3'"),
        (17, 16, "n_folds=17 is more than the 16 patients"),
        (2, 6, "n_folds=2 leaves 3 of 6 patients"),
    ],
)
def test_evaluate_generator_bad_folds(data, n_folds, n_patients, message):
    _, images, expr = data
    ids = [p for p in images.patient_id if p in expr.index]
    assert len(ids) == 16
    with pytest.raises(DataError, match=message):
        evaluate_generator(
            images,
            expr.loc[ids[:n_patients]],
            estimator=ExpressionImageGenerator(**TINY),
            n_folds=n_folds,
        )


def test_rare_subtype_augmentation_runs(data):
    from radsem.deep.gan import ConditionalWGAN
    from radsem.deep.imagegen_eval import rare_subtype_augmentation

    cohort, images, expr = data
    labels = cohort.clinical.set_index("patient_id")["hpv_type"]
    labels = labels.where(labels == "HPV16", "rare")  # two levels: common and rare
    out = rare_subtype_augmentation(
        images,
        expr,
        labels,
        estimator=ExpressionImageGenerator(**TINY),
        gan=ConditionalWGAN(epochs=2, progress=False, min_per_class=2),
        min_count=40,
        test_size=0.3,
        random_state=0,
    )
    assert set(out["model"]) == {"real only", "augmented"}
    assert set(out["patients"]) == {"all held-out", "rare subtypes"}
    assert (out["n_synthetic"] > 0).all()
    with pytest.raises(DataError, match="no subtype has fewer than 1"):
        rare_subtype_augmentation(images, expr, labels, min_count=1)


def test_tumour_balance_weights():
    import torch

    from radsem.deep.imagegen import tumour_balance_weights

    mask = torch.zeros(3, 1, 4, 4, 4)
    mask[0, 0, 1:3, 1:3, 1:3] = 1.0  # 8 of 64 voxels
    mask[1, 0, 0, 0, :2] = 0.5  # two partial voxels, one voxel of tumour
    w = tumour_balance_weights(mask)
    assert w.shape == mask.shape
    np.testing.assert_allclose(w.flatten(1).sum(1)[:2].numpy(), [64.0, 64.0], rtol=1e-6)
    # half of the weight on the tumour, half on the rest
    assert float((w[0] * mask[0]).sum()) == pytest.approx(32.0)
    assert float(w[0, 0, 1, 1, 1]) == pytest.approx(4.0)  # 32 / 8 tumour voxels
    assert float(w[0, 0, 0, 0, 0]) == pytest.approx(32.0 / 56.0)
    # an empty mask: the background keeps its half, nothing blows up
    assert torch.isfinite(w[2]).all()
    assert float(w[2].sum()) == pytest.approx(32.0)
    # below one voxel of tumour the tumour share shrinks instead of exploding
    mask[1, 0, 0, 0, :2] = 0.25
    expected = 64 * (0.5 * 0.25 / 1.0 + 0.5 * 0.75 / 63.5)  # tumour sum counted as 1 voxel
    assert float(tumour_balance_weights(mask)[1, 0, 0, 0, 0]) == pytest.approx(expected)


def test_hybrid_objective_adds_the_generation_term(data):
    import torch

    _, images, expr = data
    # the unit-variance decoder, whose image term is the half weighted sum of squares
    model = ExpressionImageGenerator(
        random_state=0, generation_weight=0.0, image_likelihood="unit", **TINY
    )
    model.fit(images, expr)
    assert (model.history_["generation"] == 0).all()
    both = [p for p in images.patient_id if p in expr.index][:6]
    x = model._to_tensor(images.subset(both).data)
    c = model._condition(expr.loc[both])
    net = model.net_
    parts = {}
    for w in (0.0, 2.5):
        model.set_params(generation_weight=w)
        with torch.no_grad():
            parts[w] = model._elbo(net, x, c, torch.Generator().manual_seed(3))
    loss0, sse, bce, kl, gen0, _ = (float(p) for p in parts[0.0])
    assert gen0 == 0.0
    assert loss0 == pytest.approx(sse + bce + kl, rel=1e-5)
    loss, _, _, _, gen, _ = (float(p) for p in parts[2.5])
    # the generation term is the reconstruction loss of the image decoded at the prior mean
    with torch.no_grad():
        h = net.cond(c)
        out = net.decode(net.prior_params(h)[0], h)
        sq = 0.5 * ((out[:, :3] - x[:, :3]) ** 2 * tumour_weights(x)).flatten(1).sum(1)
        bce_p = torch.nn.functional.binary_cross_entropy_with_logits(
            out[:, 3], x[:, 3], reduction="none"
        )
        expected = float((sq + bce_p.flatten(1).sum(1)).mean())
        assert gen == pytest.approx(float(model._generation_nll(net, x, c).mean()), rel=1e-5)
    assert gen == pytest.approx(expected, rel=1e-5)
    assert loss == pytest.approx(loss0 + 2.5 * gen, rel=1e-5)
    # trained with the term, the generation loss is recorded and falls
    hybrid = ExpressionImageGenerator(
        random_state=0, generation_weight=1.0, **{**TINY, "epochs": 4}
    )
    hist = hybrid.fit(images, expr).history_
    assert (hist["generation"] > 0).all()
    assert hist["generation"].iloc[-1] < hist["generation"].iloc[0]
    with pytest.raises(DataError, match="generation_weight"):
        ExpressionImageGenerator(generation_weight=-1.0).fit(images, expr)


def tumour_weights(x):
    from radsem.deep.imagegen import tumour_balance_weights

    return tumour_balance_weights(x[:, 3:4])


def test_validation_split_chooses_the_epoch(data):
    _, images, expr = data
    params = {**TINY, "epochs": 5, "patience": 2, "validation_fraction": 0.25}
    a = ExpressionImageGenerator(random_state=4, **params).fit(images, expr)
    b = ExpressionImageGenerator(random_state=4, **params).fit(images, expr)
    both = [p for p in images.patient_id if p in expr.index]
    n_val = round(0.25 * len(both))
    assert len(a.validation_patients_) == n_val
    assert set(a.validation_patients_) <= set(both)
    assert a.validation_patients_ == b.validation_patients_
    pd.testing.assert_frame_equal(a.history_, b.history_)
    for pa, pb in zip(a.net_.parameters(), b.net_.parameters(), strict=True):
        assert pa.detach().equal(pb.detach())
    # the standardisation never sees the validation patients
    fit_ids = [p for p in both if p not in set(a.validation_patients_)]
    np.testing.assert_allclose(a.gene_mean_, expr.loc[fit_ids].to_numpy().mean(axis=0))
    val = a.history_["val_generation"]
    assert np.isfinite(val).all()
    assert a.best_epoch_ == int(a.history_["epoch"][val.idxmin()])
    # the kept weights are the best epoch's: the validation loss recomputed equals its minimum
    import torch

    xv = a._to_tensor(images.subset(a.validation_patients_).data)
    cv = a._condition(expr.loc[a.validation_patients_])
    with torch.no_grad():
        again = float(a._generation_nll(a.net_, xv, cv).mean())
    assert again == pytest.approx(float(val.min()), rel=1e-5)
    with pytest.raises(DataError, match="validation_fraction"):
        ExpressionImageGenerator(validation_fraction=1.0).fit(images, expr)
    with pytest.raises(DataError, match="too few for a validation share"):
        ExpressionImageGenerator(validation_fraction=0.9, **TINY).fit(images, expr)
