"""The gene map end to end on a small simulated truth (120 patients x 300 genes): the driver
sets are found, runs are deterministic, the outputs and the command line behave."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from radsem.cli import main
from radsem.genemap import GenemapSettings, genemap, join_tables, match_gene_sets
from radsem.simulate.genemap_truth import simulate_genemap_truth, write_genemap_truth

SETTINGS = GenemapSettings(repeats=1, mask_repeats=1, n_random=200, n_boot=200, stability_seeds=1)


@pytest.fixture(scope="module")
def truth():
    return simulate_genemap_truth(
        n_patients=120, n_genes=300, n_features=5, n_sets=8, signal_share=0.7, seed=2
    )


@pytest.fixture(scope="module")
def result(truth):
    data = join_tables(truth.expression, truth.features)
    sets = match_gene_sets(truth.gene_sets, data.genes.columns)
    return genemap(data, sets, SETTINGS, seed=5)


def test_simulated_truth_structure(truth):
    assert truth.expression.shape == (120, 301)
    assert truth.features.shape == (120, 6)
    forms = [f["form"] for f in truth.truth["features"].values()]
    assert forms == ["linear", "linear", "linear", "hinge", "noise"]
    genes = truth.expression.iloc[:, 1:]
    # co-expression blocks: genes of one module correlate, genes of different modules hardly
    corr = np.corrcoef(genes.to_numpy().T)
    assert corr[0, 1:20].mean() > 0.2
    assert abs(corr[0, 40:].mean()) < 0.1
    for f, t in truth.truth["features"].items():
        if t["form"] == "noise":
            continue
        assert set(t["driver_genes"]) <= set(truth.gene_sets[t["driver_set"]])
        z = (genes[t["driver_genes"]] - genes[t["driver_genes"]].mean()) / genes[
            t["driver_genes"]
        ].std(ddof=0)
        score = z.to_numpy() @ np.array(t["weights"])
        if t["form"] == "hinge":
            score = np.maximum((score - score.mean()) / score.std(), 0)
        r = np.corrcoef(score, truth.features[f])[0, 1]
        assert r**2 == pytest.approx(0.7, abs=0.15)  # 0.7 in expectation, n = 120


def test_simulation_is_seeded(tmp_path):
    a = write_genemap_truth(
        tmp_path / "a", n_patients=40, n_genes=200, n_features=3, n_sets=4, seed=9
    )
    b = write_genemap_truth(
        tmp_path / "b", n_patients=40, n_genes=200, n_features=3, n_sets=4, seed=9
    )
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes()
    assert json.loads(a["truth.json"].read_text())["features"]["feature_03"]["form"] == "noise"


# sha256 of write_genemap_truth(n_patients=40, n_genes=200, n_features=4, n_sets=6, seed=3)
# made with the generator before the options for poorer set guides were added
_DEFAULT_BYTES = {
    "expression.csv": "ba8e627a5ff5394917e1e8da8405db07592c085640c4c0e346587011112e8b3e",
    "features.csv": "c8210894bb81bf601a493b592d18669561e0a7fd4190ba51060c4734a47507fd",
    "gene_sets.gmt": "51c458ebcbc37852264037d045b6d6ac7249b8de3cbdc55671b71d8cf8f58db8",
    "truth.json": "bd5727218cb848aa2c35977e7e0af2df24a330dcc6944fc123ab6bdf9b69c204",
}


def test_default_simulation_unchanged_by_the_options(tmp_path):
    import hashlib

    small = {"n_patients": 40, "n_genes": 200, "n_features": 4, "n_sets": 6, "seed": 3}
    plain = write_genemap_truth(tmp_path / "plain", **small)
    spelled = write_genemap_truth(
        tmp_path / "spelled", **small, in_set=1.0, outside="scattered", set_mates=0, set_padding=0
    )
    for name, path in plain.items():
        assert path.read_bytes() == spelled[name].read_bytes(), name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == _DEFAULT_BYTES[name], name
    assert "options" not in json.loads(plain["truth.json"].read_text())


@pytest.mark.parametrize("outside", ["module", "scattered"])
def test_drivers_outside_every_set(outside):
    sim = simulate_genemap_truth(
        n_patients=60, n_genes=600, n_features=4, n_sets=10, seed=4, in_set=0.5, outside=outside
    )
    in_any = set().union(*sim.gene_sets.values())
    set_modules = set(sim.truth["set_modules"].values())
    for t in sim.truth["features"].values():
        if t["form"] == "noise":
            continue
        drivers = t["driver_genes"]
        assert len(set(drivers)) == len(drivers) == 12
        inside = [g for g in drivers if g in sim.gene_sets[t["driver_set"]]]
        assert len(inside) == 6
        away = t["drivers_outside_sets"]
        assert sorted(away) == sorted(set(drivers) - set(inside))
        assert not set(away) & in_any
        modules = {(int(g[4:]) - 1) // 20 + 1 for g in away}
        assert not modules & set_modules
        if outside == "module":
            assert modules == {t["outside_module"]}
        else:
            assert len(modules) > 1
    assert sim.truth["options"]["in_set"] == 0.5


def test_diluted_sets():
    base = simulate_genemap_truth(n_patients=60, n_genes=600, n_features=4, n_sets=10, seed=4)
    sim = simulate_genemap_truth(
        n_patients=60, n_genes=600, n_features=4, n_sets=10, seed=4, set_mates=8, set_padding=5
    )
    for name, genes in sim.gene_sets.items():
        module = sim.truth["set_modules"][name]
        own = [g for g in genes if (int(g[4:]) - 1) // 20 + 1 == module]
        assert len(own) == 20  # 12 possible drivers and all 8 module mates
        assert len(genes) - len(own) in {3 + 5, 8 + 5, 13 + 5}
    for f, t in sim.truth["features"].items():
        assert len(t["driver_genes"]) == len(base.truth["features"][f]["driver_genes"])
        if t["driver_set"] is not None:
            assert set(t["driver_genes"]) <= set(sim.gene_sets[t["driver_set"]])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"in_set": 0.0}, "in_set"),
        ({"in_set": 1.5}, "in_set"),
        ({"outside": "elsewhere"}, "outside"),
        ({"set_mates": 9}, "set_mates"),
        ({"set_padding": -1}, "set_padding"),
        ({"in_set": 0.5, "n_sets": 30}, "without a gene set"),
    ],
)
def test_poorer_guide_options_are_checked(options, message):
    from radsem.errors import DataError

    kw = {"n_patients": 40, "n_genes": 600, "n_features": 4, "n_sets": 10, "seed": 1}
    kw.update(options)
    with pytest.raises(DataError, match=message):
        simulate_genemap_truth(**kw)


@pytest.mark.slow
def test_driver_sets_rank_first(truth, result):
    gs = result.gene_sets
    for f, t in truth.truth["features"].items():
        rows = gs[gs["target"] == f]
        if t["form"] == "linear":
            top = rows[rows["rank"] == 1].iloc[0]
            assert top["gene_set"] == t["driver_set"], f
            assert top["q_value"] < 0.05
        if t["form"] == "noise":
            assert rows["q_value"].min() >= 0.05


@pytest.mark.slow
def test_driver_genes_lead_the_importance(truth, result):
    gi = result.gene_importance
    precision = []
    for f, t in truth.truth["features"].items():
        if t["form"] == "linear":
            top = gi[(gi["target"] == f) & (gi["rank"] <= 10)]["gene"]
            precision.append(np.mean([g in t["driver_genes"] for g in top]))
    assert np.mean(precision) >= 0.3  # chance: 12 driver genes of 300, 0.04
    # a gene no fit kept has no attribution; the unused genes follow in entry-penalty order
    assert gi["selection_frequency"].between(0, 1).all()
    assert (gi.loc[gi["selection_frequency"] == 0, "importance"] == 0).all()
    significant = result.significant()
    for target, rows in gi.groupby("target", sort=False):
        assert rows["rank"].is_monotonic_increasing
        unused = rows[rows["importance"] == 0]
        assert unused["entry_penalty"].is_monotonic_decreasing
        assert (unused["entry_penalty"] <= rows["entry_penalty"].max()).all()
        # set-guided: the used genes of the significant sets first, in the flat order
        promoted = (rows["in_significant_set"] & (rows["importance"] > 0)).to_numpy()
        assert not (np.diff(promoted.astype(int)) > 0).any()
        assert rows["rank_flat"][promoted].is_monotonic_increasing
        assert rows["rank_flat"][~promoted].is_monotonic_increasing
        members = set().union(
            *(result.sets[s] for s in significant[significant.target == target].gene_set)
        )
        assert set(rows.loc[rows["in_significant_set"], "gene"]) == members
        if not members:  # e.g. the noise feature: the flat ranking
            assert (rows["rank"] == rows["rank_flat"]).all()


@pytest.mark.slow
def test_performance_table_shape(result, truth):
    perf = result.performance
    assert list(perf["model"].unique()) == [
        "network",
        "elastic_net",
        "random_forest",
        "gradient_boosting",
        "svr",
        "mean",
    ]
    assert len(perf) == 6 * 5
    noise = perf[perf["target"] == "feature_05"]
    assert (noise["r2_lower"] <= 0.02).all()
    linear = perf[(perf["target"] == "feature_01") & (perf["model"] == "elastic_net")].iloc[0]
    assert linear["r2_lower"] > 0.1
    assert (
        perf[["r2_lower", "spearman_lower", "auc_lower"]].to_numpy()
        <= perf[["r2", "spearman", "auc"]].to_numpy() + 1e-12
    ).all()


@pytest.mark.slow
def test_same_seed_same_bytes(truth, result, tmp_path):
    data = join_tables(truth.expression, truth.features)
    sets = match_gene_sets(truth.gene_sets, data.genes.columns)
    quick = GenemapSettings(
        repeats=1,
        mask_repeats=1,
        folds=3,
        n_random=30,
        n_boot=100,
        stability_seeds=0,
        models=("network", "elastic_net"),
    )
    first = genemap(data, sets, quick, seed=8)
    again = genemap(data, sets, quick, seed=8)
    other = genemap(data, sets, quick, seed=9)
    a = first.write(tmp_path / "a")
    b = again.write(tmp_path / "b")
    for name in (
        "performance.csv",
        "gene_importance.csv",
        "gene_sets.csv",
        "stability.csv",
        "paths.lav",
    ):
        assert a[name].read_bytes() == b[name].read_bytes(), name
    assert not first.gene_sets["score"].equals(other.gene_sets["score"])
    html = result.write(tmp_path / "full")["report.html"].read_text()
    assert html.count("data:image/svg+xml") == 2
    assert "Top three sets per target" in html


@pytest.mark.slow
def test_paths_lav_parses(result, truth):
    from radsem.syntax import parse_model

    text = result.paths_lav()
    assert "feature_01 ~ " + truth.truth["features"]["feature_01"]["driver_set"] in text
    model = "\n".join(line[2:] if " =~ " in line else line for line in text.splitlines())
    statements = parse_model(model)
    assert any(s.op == "~" for s in statements)
    assert any(s.op == "=~" for s in statements)


def test_lavaan_identifiers():
    from radsem.genemap.report import lavaan_identifier

    assert lavaan_identifier("HLA-A") == "HLA_A"
    assert lavaan_identifier("histology:squamous cell") == "histology_squamous_cell"
    assert lavaan_identifier("5-HT") == "v5_HT"
    assert lavaan_identifier("c") == "vc"
    used: dict = {}
    assert [lavaan_identifier(n, used) for n in ("a-b", "a_b", "a-b")] == ["a_b", "a_b_2", "a_b"]


@pytest.mark.slow
def test_stability_table(result):
    st = result.stability
    assert list(st.columns) == [
        "target",
        "seed",
        "other_seed",
        "kendall_tau",
        "weighted_tau",
        "n_significant",
        "kendall_tau_significant",
        "same_top_set",
    ]
    linear = [f"feature_0{k}" for k in (1, 2, 3)]
    assert st.set_index("target").loc[linear, "same_top_set"].all()
    assert st["kendall_tau"].between(-1, 1).all()
    assert st["weighted_tau"].between(-1, 1).all()


# ------------------------------------------------------------------ command line
@pytest.fixture(scope="module")
def cohort(tmp_path_factory, truth):
    return write_genemap_truth(tmp_path_factory.mktemp("gm") / "in", truth)


def _args(files, out, *extra):
    return [
        "genemap",
        "--expression",
        str(files["expression.csv"]),
        "--features",
        str(files["features.csv"]),
        "--gene-sets",
        str(files["gene_sets.gmt"]),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


@pytest.mark.slow
def test_cli_runs_and_refuses_to_overwrite(cohort, tmp_path, capsys):
    fast = [
        "--repeats",
        "1",
        "--mask-repeats",
        "1",
        "--random-sets",
        "50",
        "--stability-seeds",
        "0",
        "--models",
        "network,mean",
        "--gene-ranking",
        "flat",
    ]
    assert main(_args(cohort, tmp_path / "out", *fast)) == 0
    perf = pd.read_csv(tmp_path / "out" / "performance.csv")
    assert set(perf["model"]) == {"network", "mean"}
    genes = pd.read_csv(tmp_path / "out" / "gene_importance.csv")
    assert (genes["rank"] == genes["rank_flat"]).all()
    assert main(_args(cohort, tmp_path / "out", *fast)) == 3
    assert "already holds" in capsys.readouterr().err
    assert main(_args(cohort, cohort["expression.csv"].parent, *fast)) == 3
    assert "is the folder of the input" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("empty_gmt", "no gene sets"),
        ("absent_genes", "none of the"),
        ("missing_target", "missing value for patient_id"),
        ("few_patients", "only 10 patient(s)"),
        ("duplicate", "duplicated patient_id"),
        ("text_gene", "is not a number"),
    ],
)
def test_cli_bad_inputs_exit_3(cohort, tmp_path, capsys, change, message):
    files = dict(cohort)
    expr = pd.read_csv(files["expression.csv"], dtype={"patient_id": str})
    feats = pd.read_csv(files["features.csv"], dtype={"patient_id": str})
    if change == "empty_gmt":
        files["gene_sets.gmt"] = tmp_path / "empty.gmt"
        files["gene_sets.gmt"].write_text("")
    elif change == "absent_genes":
        files["gene_sets.gmt"] = tmp_path / "absent.gmt"
        files["gene_sets.gmt"].write_text("S\tNA\tNOPE1\tNOPE2\n")
    elif change == "missing_target":
        feats.loc[4, "feature_02"] = np.nan
    elif change == "few_patients":
        feats = feats.iloc[:10]
    elif change == "duplicate":
        expr.loc[3, "patient_id"] = expr.loc[2, "patient_id"]
    elif change == "text_gene":
        expr["GENE00007"] = expr["GENE00007"].astype(object)
        expr.loc[1, "GENE00007"] = "n/a?"
    files["expression.csv"] = tmp_path / "expr.csv"
    files["features.csv"] = tmp_path / "feats.csv"
    expr.to_csv(files["expression.csv"], index=False)
    feats.to_csv(files["features.csv"], index=False)
    assert main(_args(files, tmp_path / "out")) == 3
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
