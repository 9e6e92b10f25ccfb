"""Benchmark of radsem.deep: CAE and conditional WGAN-GP training time and memory, plus the
evaluation tables reported in docs/deep.md.

Usage::

    python benchmarks/bench_deep.py            # full run (~150 simulated patients, real GAN data)
    python benchmarks/bench_deep.py --quick    # smaller and shorter, for a smoke test

Each timed model is trained in a fresh subprocess so that its peak resident memory
(``resource.getrusage``) is its own; ``tracemalloc`` adds the peak of Python-level allocations
(torch tensors live outside it). Peers timed in the same run: PCA for the CAE, a per-class
multivariate normal for the GAN.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd


# ---------------------------------------------------------------------- synthetic cohort
def synthetic_cohort(n: int, seed: int = 0, shape=(24, 48, 48)):
    """Ellipsoid tumours in T2/DWI/ADC-like channels, a survival outcome driven by tumour size
    and ADC contrast, and a table of simple first-order/shape features (numpy, not pyradiomics)."""
    from scipy import stats

    from radsem.deep.crops import Case

    rng = np.random.default_rng(seed)
    zz, yy, xx = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    cases, feats, risk = [], [], []
    for i in range(n):
        c = np.array(shape) / 2 + rng.uniform(-4, 4, size=3)
        r = rng.uniform(3, 9, size=3) * np.array([0.5, 1.0, 1.0])
        d = ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2
        mask = d <= 1.0
        contrast = rng.uniform(0.5, 3.0, size=3)
        hetero = rng.uniform(0.0, 1.0)
        texture = rng.normal(size=shape)
        image = np.stack(
            [
                100
                + 25 * contrast[k] * np.exp(-d) * (1 + hetero * np.sin(3 * yy / r[1]))
                + 6 * texture
                + rng.normal(scale=3, size=shape)
                for k in range(3)
            ]
        )
        pid = f"SIM{i:04d}"
        cases.append(Case(image, mask, (4.0, 1.0, 1.0), pid, ("t2", "dwi", "adc")))
        row = {
            "patient_id": pid,
            "shape_voxels": float(mask.sum()),
            "shape_elongation": float(r.max() / r.min()),
        }
        for k, ch in enumerate(("t2", "dwi", "adc")):
            v = image[k][mask]
            row.update(
                {
                    f"{ch}_mean": v.mean(),
                    f"{ch}_sd": v.std(),
                    f"{ch}_skew": stats.skew(v),
                    f"{ch}_kurt": stats.kurtosis(v),
                    f"{ch}_p10": np.percentile(v, 10),
                    f"{ch}_p90": np.percentile(v, 90),
                }
            )
        feats.append(row)
        risk.append(0.8 * np.log(mask.sum()) - 0.6 * contrast[2] + 0.8 * hetero)
    risk = np.asarray(risk)
    risk = (risk - risk.mean()) / risk.std()
    t_event = rng.exponential(40.0 * np.exp(-risk))
    t_cens = rng.uniform(12, 80, size=n)
    ids = [c.patient_id for c in cases]
    outcome = pd.DataFrame(
        {"time": np.minimum(t_event, t_cens), "event": (t_event <= t_cens).astype(int)}, index=ids
    )
    radiomics = pd.DataFrame(feats).set_index("patient_id")
    return cases, radiomics, outcome


def synthetic_hpv_expression(seed: int = 0, n_genes: int = 40):
    """150 patients, 8 HPV types (two common, six rare), three correlated gene modules."""
    rng = np.random.default_rng(seed)
    types = {
        "HPV16": 70,
        "HPV18": 30,
        "HPV45": 12,
        "HPV31": 10,
        "HPV33": 9,
        "HPV52": 8,
        "HPV58": 6,
        "HPV35": 5,
    }
    load = rng.uniform(0.5, 0.9, size=n_genes)
    module = np.arange(n_genes) % 3
    rows, labels = [], []
    for j, (t, k) in enumerate(types.items()):
        shift = rng.normal(scale=0.8, size=n_genes) * (j > 0)
        f = rng.normal(size=(k, 3))
        rows.append(
            7 + shift + f[:, module] * load + rng.normal(size=(k, n_genes)) * np.sqrt(1 - load**2)
        )
        labels += [t] * k
    ids = [f"P{i:04d}" for i in range(len(labels))]
    genes = [f"GENE{g:02d}" for g in range(n_genes)]
    expr = pd.DataFrame(np.vstack(rows), index=ids, columns=genes)
    return expr, pd.Series(labels, index=ids, name="hpv_type")


def breast_cancer():
    from sksurv.datasets import load_breast_cancer

    x, _ = load_breast_cancer()
    genes = [c for c in x.columns if c.startswith("X")]
    return x[genes], x["er"].astype(str).rename("er")


# ---------------------------------------------------------------------- timed runs
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(kind: str, n: int, epochs: int) -> dict:
    """Train one model and return timings and memory (called in a subprocess)."""
    from radsem.deep.crops import CropSpec, crop_cases

    tracemalloc.start()
    out: dict = {"kind": kind}
    if kind in ("cae", "pca"):
        cases, _, _ = synthetic_cohort(n)
        t0 = time.perf_counter()
        crops = crop_cases(cases, CropSpec(shape=(16, 32, 32)))
        out["crop_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if kind == "cae":
            from radsem.deep.cae import ConvAutoencoder

            model = ConvAutoencoder(
                latent_dim=8, epochs=epochs, patience=epochs, random_state=0, progress=False
            ).fit(crops)
            out["epochs"] = len(model.history_)
        else:
            from sklearn.decomposition import PCA

            flat = crops.data.reshape(len(crops), -1)
            PCA(n_components=8, random_state=0).fit(flat)
            out["epochs"] = 1
    else:
        expr, labels = breast_cancer() if kind.endswith("breast") else synthetic_hpv_expression()
        t0 = time.perf_counter()
        if kind.startswith("gan"):
            from radsem.deep.gan import ConditionalWGAN

            ConditionalWGAN(epochs=epochs, random_state=0, progress=False).fit(expr, labels)
            out["epochs"] = epochs
        else:  # per-class multivariate normal: the simplest conditional generator
            for lv in labels.unique():
                x = expr[labels == lv].to_numpy()
                np.random.default_rng(0).multivariate_normal(
                    x.mean(0), np.cov(x.T), size=100, check_valid="ignore"
                )
            out["epochs"] = 1
        out["n"], out["p"] = expr.shape
    out["fit_s"] = time.perf_counter() - t0
    out["per_epoch_s"] = out["fit_s"] / out["epochs"]
    out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def timed(kind: str, n: int, epochs: int) -> dict:
    res = subprocess.run(
        [sys.executable, __file__, "--one", kind, "--n", str(n), "--epochs", str(epochs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- evaluation tables
def cae_tables(n: int, epochs: int) -> dict[str, pd.DataFrame]:
    from radsem.deep.cae import ConvAutoencoder
    from radsem.deep.cae_eval import downstream_cindex, latent_stability, reconstruction_benchmark
    from radsem.deep.crops import CropSpec, crop_cases
    from radsem.deep.selection import select_radiomic_features

    cases, radiomics, outcome = synthetic_cohort(n)
    spec = CropSpec(shape=(16, 32, 32))
    crops = crop_cases(cases, spec)
    params = dict(latent_dim=8, epochs=epochs, random_state=0, progress=False)
    recon = reconstruction_benchmark(ConvAutoencoder(**params), crops, random_state=0)
    model = ConvAutoencoder(**params).fit(crops)
    stab = latent_stability(model, cases, spec, random_state=0)
    latent = model.transform(crops)
    # a fixed 64 x 32 x 32 mm field of view keeps absolute tumour size in the crop
    fov = CropSpec(shape=(16, 32, 32), extent_mm=(64.0, 32.0, 32.0))
    fov_crops = crop_cases(cases, fov)
    fov_model = ConvAutoencoder(**params).fit(fov_crops)
    fov_stab = latent_stability(fov_model, cases, fov, random_state=0)
    cidx = downstream_cindex(
        latent,
        radiomics,
        outcome,
        n_splits=5,
        n_repeats=2,
        random_state=0,
        other={
            "latent_fixed_fov": fov_model.transform(fov_crops),
            "radiomics_without_volume": radiomics.drop(columns="shape_voxels"),
        },
    )
    sel = select_radiomic_features(latent, radiomics, corr_threshold=0.9, random_state=0)
    stab = pd.concat([stab.assign(crop="bbox"), fov_stab.assign(crop="fixed_fov")])
    stab_summary = stab.groupby(["crop", "perturbation"], sort=False)["icc"].agg(
        ["median", "min", "max"]
    )
    recon_fov = reconstruction_benchmark(ConvAutoencoder(**params), fov_crops, random_state=0)
    recon = pd.concat([recon.assign(crop="bbox"), recon_fov.assign(crop="fixed_fov")])
    return {
        "CAE held-out reconstruction (standardised MSE per voxel)": recon,
        "Latent stability, ICC(3,1) per perturbation (over latent features)": (
            stab_summary.reset_index()
        ),
        "Cross-validated C-index (ridge Cox, 5-fold x 2)": cidx,
        "CAE-guided radiomic selection (top 10)": sel.table.head(10),
        "CAE training curve (every 5th epoch)": model.history_.iloc[::5],
    }


def gan_tables(epochs: int) -> dict[str, pd.DataFrame]:
    from radsem.deep.gan import ConditionalWGAN
    from radsem.deep.gan_eval import augmentation_stability, evaluate_gan

    out = {}
    expr, er = breast_cancer()
    gan = ConditionalWGAN(epochs=epochs, random_state=0, progress=False)
    out["Breast cancer (198 x 76 genes), conditioned on ER: held-out evaluation"] = evaluate_gan(
        gan, expr, er, random_state=0
    )
    fitted = ConditionalWGAN(epochs=epochs, random_state=0, progress=False).fit(expr, er)
    out["Breast cancer: one-factor loading spread, 5 top-PC1 genes, 100 bootstraps"] = (
        augmentation_stability(fitted, expr, er, n_boot=100, random_state=0)
    )
    hx, hl = synthetic_hpv_expression()
    out["Simulated HPV expression (150 x 40, 8 types): held-out evaluation"] = evaluate_gan(
        ConditionalWGAN(epochs=epochs, random_state=0, progress=False),
        hx,
        hl,
        test_size=0.4,
        random_state=0,
    )
    fitted = ConditionalWGAN(epochs=epochs, random_state=0, progress=False).fit(hx, hl)
    out["Simulated HPV: loading spread with/without augmentation"] = augmentation_stability(
        fitted, hx, hl, n_boot=100, random_state=0
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument(
        "--part",
        choices=("all", "timing", "cae", "gan"),
        default="all",
        help="run only the timings or only one model's evaluation tables",
    )
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n, args.epochs)))
        return 0
    n = 40 if args.quick else args.n
    cae_epochs = 3 if args.quick else (args.epochs or 40)
    gan_epochs = 5 if args.quick else (args.epochs or 300)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    if args.part in ("all", "timing"):
        timing_table(n, cae_epochs, gan_epochs)
    tables = {}
    if args.part in ("all", "cae"):
        tables.update(cae_tables(n, cae_epochs))
    if args.part in ("all", "gan"):
        tables.update(gan_tables(gan_epochs))
    for title, df in tables.items():
        print(f"\n## {title}\n")
        print(df.round(3).to_string(index=False), flush=True)
    return 0


def timing_table(n: int, cae_epochs: int, gan_epochs: int) -> None:
    rows = [
        timed("cae", n, cae_epochs),
        timed("pca", n, 1),
        timed("gan_breast", 0, gan_epochs),
        timed("mvn_breast", 0, 1),
        timed("gan_hpv", 0, gan_epochs),
        timed("mvn_hpv", 0, 1),
    ]
    table = pd.DataFrame(rows).set_index("kind")
    table["ratio_to_peer"] = [
        table.loc["cae", "fit_s"] / table.loc["pca", "fit_s"],
        1.0,
        table.loc["gan_breast", "fit_s"] / table.loc["mvn_breast", "fit_s"],
        1.0,
        table.loc["gan_hpv", "fit_s"] / table.loc["mvn_hpv", "fit_s"],
        1.0,
    ]
    print(
        f"# radsem.deep benchmark (torch threads = 1; CAE on {n} simulated patients, "
        f"crops 3 x 16 x 32 x 32; GAN {gan_epochs} epochs)\n"
    )
    print(table.round(3).to_string(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
