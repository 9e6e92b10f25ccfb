"""The demo pipeline: every step of radsem on a simulated cohort with known ground truth.

``radsem demo`` (and :func:`run_demo`) simulates a cohort, extracts and harmonises radiomic
features, trains the convolutional autoencoder and the conditional GAN, fits the structural
equation model of the HPV oncogenic mechanisms, clusters the patients with k-medoids as Halle et
al. did, fits the Cox models, and writes every table and a Markdown report to one folder.
"""

from __future__ import annotations

import json
import logging
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsem._version import __version__
from radsem.errors import DataError
from radsem.workflows.study_table import sem_table

_log = logging.getLogger(__name__)

__all__ = ["DemoResult", "run_demo", "sem_table", "DEMO_MECHANISM_MODEL"]

#: Share of simulated patients without a tumour mask: the demo segments them automatically.
DEMO_UNLABELLED = 0.1
#: The demo's segmentation model: MONAI's residual U-Net (4x faster per step than the attention
#: U-Net on CPU), at most 40 training patients, 4 epochs of 5 patches per patient (200 steps;
#: held-out median Dice ~0.9). benchmarks/segmentation.py trains the full attention U-Net.
DEMO_SEG = {"architecture": "unet", "epochs": 4, "patches_per_case": 5}
DEMO_SEG_TRAIN = 40

#: The measurement model of the four HPV oncogenic mechanisms fitted in the demo (five marker
#: genes each; p53 targets load negatively on E6 activity, so their loadings are negative),
#: with advanced FIGO stage driving proliferation and hypoxia.
DEMO_MECHANISM_MODEL = """
# E6-mediated p53 degradation: p53 target genes fall as E6 activity rises
E6 =~ CDKN1A + MDM2 + BAX + TP53I3 + RRM2B
# E7-mediated Rb inactivation: E2F targets and p16 rise with proliferation
E7 =~ CDKN2A + MKI67 + MCM2 + TOP2A + CDC20
# immune activity / interferon signalling
immune =~ STAT1 + IRF1 + CXCL9 + CXCL10 + CD8A
# hypoxia and glycolysis
hypoxia =~ CA9 + VEGFA + SLC2A1 + NDRG1 + ADM
# advanced stage (FIGO III/IV) and the mechanisms
E7 ~ advanced
hypoxia ~ advanced
"""


@dataclass
class DemoResult:
    """What :func:`run_demo` produced.

    Attributes
    ----------
    out : Path
        The output folder.
    tables : dict of str to DataFrame
        Every result table, also written as CSV under ``out``.
    timings : dict of str to float
        Seconds per step.
    notes : list of str
        Warnings and remarks collected during the run (also in the report).
    """

    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Steps:
    """Runs named steps, timing them, printing progress and writing their tables."""

    def __init__(self, out: Path, progress: bool) -> None:
        self.result = DemoResult(out=out)
        self.progress = progress
        self.objects: dict[str, Any] = {}  # fitted objects the HTML reports are built from

    def say(self, text: str) -> None:
        if self.progress:
            _log.info(text)

    def run(self, name: str, func: Callable[[], Any]) -> Any:
        self.say(f"[radsem demo] {name} ...")
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = func()
        for item in caught:
            if issubclass(item.category, (DeprecationWarning, PendingDeprecationWarning)):
                continue
            note = f"{name}: {item.category.__name__}: {item.message}"
            if note not in self.result.notes:
                self.result.notes.append(note)
        seconds = time.perf_counter() - start
        self.result.timings[name] = seconds
        self.say(f"[radsem demo] {name}: done in {seconds:.1f} s")
        return value

    def table(self, key: str, frame: pd.DataFrame, index: bool = True) -> pd.DataFrame:
        from radsem.io import write_table

        self.result.tables[key] = frame
        path = self.result.out / f"{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(frame.reset_index() if index and frame.index.name else frame, path)
        return frame


def _check_arguments(n: int, jobs: int, out: Path, overwrite: bool) -> None:
    if n < 40:
        raise DataError(
            f"the demo needs at least 40 patients (got n={n}) for its Cox models "
            "and cross-checks to be meaningful"
        )
    if jobs < 1:
        raise DataError(f"jobs must be at least 1 (got {jobs})")
    if out.exists() and not out.is_dir():
        raise DataError(f"output folder {out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise DataError(
                f"output folder {out} exists and is not empty; choose another "
                "folder or pass overwrite=True (--overwrite)"
            )
        if not (out / "cohort" / "clinical.csv").is_file():  # the demo's first output
            raise DataError(
                f"refusing to replace {out}: it is not the output folder of an "
                "earlier demo (it has no cohort/clinical.csv); choose another folder"
            )


def run_demo(
    out: str | Path = "demo-output",
    n: int = 120,
    seed: int = 2026,
    *,
    jobs: int = 2,
    epochs: int = 40,
    overwrite: bool = False,
    progress: bool = True,
) -> DemoResult:
    """Run the whole radsem pipeline on a simulated cohort and write its results.

    Parameters
    ----------
    out : str or Path
        Output folder (created; must be empty unless ``overwrite``). It appears complete when
        the demo has finished and not at all when a step fails (an earlier demo's folder is
        then left as it was).
    n : int
        Number of simulated patients (at least 40).
    seed : int
        Seed of every random step: the same seed gives the same numbers.
    jobs : int
        Worker processes for radiomic extraction.
    epochs : int
        Maximum training epochs of the autoencoder (the GAN trains for ``5 * epochs``).
    overwrite : bool
        Replace the content of a non-empty output folder of an earlier demo (a folder without
        ``cohort/clinical.csv`` is never replaced).
    progress : bool
        Print progress to standard error.

    Returns
    -------
    DemoResult
    """
    from radsem.io.staging import staged_folder

    out = Path(out).resolve()
    _check_arguments(n, jobs, out, overwrite)
    # written whole or not at all: the steps write into a hidden sibling folder that replaces
    # ``out`` (an earlier demo's output, checked above) only when every step has finished
    with staged_folder(out) as work:
        steps = _Steps(work, progress)
        cohort = steps.run("simulate cohort", lambda: _simulate(work / "cohort", n, seed))
        cohort = steps.run(
            "segment unlabelled patients", lambda: _segment(steps, cohort, work, seed)
        )
        features = steps.run("extract radiomics", lambda: _extract(steps, cohort, work, jobs))
        harmonised = steps.run("harmonise radiomics", lambda: _harmonise(steps, cohort, features))
        steps.run("autoencoder", lambda: _autoencoder(steps, cohort, harmonised, seed, epochs))
        steps.run("expression GAN", lambda: _gan(steps, cohort, seed, 5 * epochs))
        scores = steps.run("structural equation model", lambda: _sem(steps, cohort))
        labels = steps.run("k-medoids clusters", lambda: _clusters(steps, cohort, harmonised, seed))
        steps.run("survival models", lambda: _survival(steps, cohort, labels, scores))
        steps.run(
            "compare outcome models", lambda: _compare(steps, cohort, features, seed, jobs, epochs)
        )
        steps.run("report", lambda: _write_report(steps, n, seed))
        steps.run("HTML reports", lambda: _write_html_reports(steps, n, seed, jobs, epochs))
    steps.result.out = out
    return steps.result


# --------------------------------------------------------------------------- steps


def _simulate(path: Path, n: int, seed: int):
    from radsem.io import read_cohort
    from radsem.simulate import simulate

    simulate(n=n, seed=seed, out=path, overwrite=True, unlabelled=DEMO_UNLABELLED)
    return read_cohort(path)


def _segment(steps: _Steps, cohort, out: Path, seed: int):
    """Train a small attention U-Net on labelled patients, check it on other labelled patients
    against the threshold baseline, and predict masks for the unlabelled ones."""
    from radsem.segment import (
        ThresholdSegmenter,
        UNetSegmenter,
        predict_masks,
        with_predicted_masks,
    )
    from radsem.segment.evaluate import evaluate_segmentation, summarise_evaluation

    images = cohort.images
    unlabelled = images.loc[images["mask"].isna(), "patient_id"].tolist()
    if not unlabelled:
        return cohort
    labelled = images.loc[images["mask"].notna(), "patient_id"].tolist()
    n_check = min(20, len(labelled) // 3)
    train, check = labelled[n_check:][:DEMO_SEG_TRAIN], labelled[:n_check]
    seg = UNetSegmenter(random_state=seed, **DEMO_SEG)
    seg.fit(cohort, patients=train)
    seg.save(out / "segmentation" / "model")
    base = ThresholdSegmenter().fit(cohort, patients=train)
    predicted = predict_masks(seg, cohort, out / "segmentation" / "masks", patients=unlabelled)
    steps.table("segmentation/predicted", predicted.table, index=False)
    if check:
        per = evaluate_segmentation(
            [
                predict_masks(seg, cohort, patients=check),
                predict_masks(base, cohort, patients=check),
            ],
            train,
        )
        summary = summarise_evaluation(per, model=seg.method)
        steps.table("segmentation/evaluation", summary.reset_index(), index=False)
        steps.table("segmentation/evaluation_per_patient", per, index=False)
        steps.objects.update(segmentation_per_patient=per, segmentation_summary=summary)
    steps.objects["segmentation_predicted"] = predicted.table
    failed = int((predicted.table["status"] == "failed").sum())
    steps.result.notes.append(
        f"segmentation: {len(unlabelled)} patient(s) had no tumour mask; a U-Net "
        f"({DEMO_SEG['epochs']} epochs on {len(train)} labelled patients, model hash "
        f"{seg.model_hash[:12]}) predicted theirs ({failed} failed); radiomics and crops use "
        "the predicted masks for them (mask_source in segmentation/mask_source.csv)"
    )
    completed = with_predicted_masks(cohort, out / "segmentation" / "masks")
    source = completed.images.loc[:, ["patient_id", "mask_source"]]
    steps.table("segmentation/mask_source", source, index=False)
    steps.objects["segmentation_mask_source"] = source
    return completed


def _extract(steps: _Steps, cohort, out: Path, jobs: int) -> pd.DataFrame:
    from radsem.radiomics import extract_cohort

    result = extract_cohort(cohort, n_jobs=jobs, cache_dir=out / "cache", progress=steps.progress)
    steps.table("radiomics/features", result.features)
    steps.table("radiomics/failures", result.failures, index=False)
    if len(result.failures):
        steps.result.notes.append(f"radiomics: {len(result.failures)} patient(s) skipped")
    return result.features


def _harmonise(steps: _Steps, cohort, features: pd.DataFrame) -> pd.DataFrame:
    from radsem.radiomics import ProtocolHarmonizer, protocol_association

    before = protocol_association(features, cohort.protocol)
    harmoniser = ProtocolHarmonizer(protocol=cohort.protocol).fit(features)
    harmonised = harmoniser.transform(features)
    after = protocol_association(harmonised, cohort.protocol)
    counts = pd.DataFrame(
        {
            "features": [len(before), len(after)],
            "associated_with_protocol": [
                int(before["associated"].sum()),
                int(after["associated"].sum()),
            ],
        },
        index=pd.Index(["before", "after"], name="harmonisation"),
    )
    steps.table("radiomics/harmonisation_counts", counts)
    steps.table("radiomics/features_harmonised", harmonised)
    return harmonised


def _autoencoder(steps: _Steps, cohort, harmonised: pd.DataFrame, seed: int, epochs: int):
    from radsem.deep import (
        ConvAutoencoder,
        crop_cohort,
        downstream_cindex,
        select_radiomic_features,
    )

    crops = crop_cohort(cohort, progress=False)
    steps.table("deep/crops_mask_source", crops.mask_source.to_frame())
    steps.objects["crops_mask_source"] = crops.mask_source
    cae = ConvAutoencoder(
        latent_dim=6,
        epochs=epochs,
        patience=8,
        random_state=seed,
        n_threads=2,
        progress=steps.progress,
    ).fit(crops)
    latent = cae.transform(crops)
    steps.objects["crops"] = crops
    steps.table("deep/cae_latent", latent)
    steps.table("deep/cae_history", pd.DataFrame(cae.history_), index=False)
    common = latent.index.intersection(harmonised.index)
    selection = select_radiomic_features(
        latent.loc[common], harmonised.loc[common], max_features=20, random_state=seed
    )
    steps.table("deep/cae_radiomic_selection", selection.table, index=False)
    clinical = cohort.clinical.set_index("patient_id").loc[common]
    value = downstream_cindex(
        latent.loc[common],
        harmonised.loc[common, selection.selected],
        clinical[["time", "event"]],
        random_state=seed,
    )
    steps.table("deep/cae_downstream_cindex", value, index=False)
    return latent


_GAN_MIN_PER_CLASS = 6


def _gan(steps: _Steps, cohort, seed: int, epochs: int):
    from radsem.deep import ConditionalWGAN, cohort_expression, evaluate_gan

    expression, labels = cohort_expression(cohort, conditions=("hpv_clade",))
    # the GAN and its held-out evaluation need a few real patients per class: classes with fewer
    # are left out of this step, and the report says which
    counts = labels["hpv_clade"].value_counts()
    too_small = sorted(counts[counts < _GAN_MIN_PER_CLASS].index)
    if too_small:
        keep = ~labels["hpv_clade"].isin(too_small).to_numpy()
        expression, labels = expression.loc[keep], labels.loc[keep]
        steps.result.notes.append(
            f"expression GAN: clade(s) {', '.join(map(str, too_small))} left out "
            f"(fewer than {_GAN_MIN_PER_CLASS} patients with expression)"
        )
    gan = ConditionalWGAN(epochs=epochs, random_state=seed, n_threads=2, progress=steps.progress)
    evaluation = evaluate_gan(gan, expression, labels, random_state=seed)
    steps.table("deep/gan_evaluation", evaluation, index=False)
    gan.fit(expression, labels)
    synthetic = gan.augment(expression, labels, n_per_class="balance", random_state=seed)
    steps.table("deep/gan_synthetic_expression", synthetic, index=False)
    return synthetic


def _sem(steps: _Steps, cohort) -> pd.DataFrame | None:
    import radsem
    from radsem.io import atomic_write_bytes

    data = sem_table(cohort)
    # FIML: patients without expression still contribute through their stage (a fixed covariate)
    fit = radsem.sem(
        DEMO_MECHANISM_MODEL,
        data.drop(columns="age").reset_index(drop=True),
        missing="ml",
        estimator="MLR",
    )
    steps.table("sem/parameter_estimates", fit.parameter_estimates(), index=False)
    measures = fit.fit_measures()
    steps.table("sem/fit_measures", measures.rename_axis("measure").rename("value").to_frame())
    steps.objects["sem_fit"] = fit
    steps.objects["sem_data"] = data
    (steps.result.out / "sem").mkdir(exist_ok=True)
    summary = steps.result.out / "sem" / "summary.txt"
    text = str(fit.summary(fit_measures=True, standardized=True, rsquare=True))
    atomic_write_bytes(text.encode("utf-8"), summary)  # atomic, like every output
    if not fit.converged:
        steps.result.notes.append("SEM: the optimiser did not converge")
    try:
        check = fit.cross_check(engine="lavaan")
    except Exception as exc:  # noqa: BLE001 - the cross-check is optional (needs R)
        steps.result.notes.append(f"SEM cross-check with lavaan not run: {exc}")
    else:
        steps.table("sem/cross_check_lavaan", check.parameters, index=False)
        verdict = "agree" if check.agree else "DISAGREE beyond the issue-3 tolerances"
        steps.table("sem/cross_check_lavaan_fit_measures", check.fit_measures)
        steps.result.notes.append(
            f"SEM cross-check with lavaan: {verdict}; largest differences: estimates "
            f"{check.max_abs_diff:.2e} (absolute), standard errors {check.max_se_reldiff:.2e} "
            f"and fit measures {check.max_fit_reldiff:.2e} (relative)"
        )
    has_expression = data.drop(columns=["age", "advanced"]).notna().any(axis=1).to_numpy()
    scores = fit.predict(method="regression")
    scores.index = data.index
    scores = scores.loc[has_expression]
    steps.table("sem/factor_scores", scores)
    return scores


def _clusters(steps: _Steps, cohort, harmonised: pd.DataFrame, seed: int) -> pd.Series:
    from radsem.cluster import KMedoids, feature_ranking, renumber_by_event_rate

    clinical = cohort.clinical.set_index("patient_id").loc[harmonised.index]
    model = KMedoids(n_clusters=3, metric="sqeuclidean", method="pam", random_state=seed)
    raw = model.fit_predict(harmonised.to_numpy())
    labels = pd.Series(
        renumber_by_event_rate(raw, clinical["dss_event"].to_numpy()),
        index=harmonised.index,
        name="cluster",
    )
    steps.table("clusters/labels", labels.to_frame())
    ranking = feature_ranking(harmonised, labels.to_numpy())
    steps.table("clusters/feature_ranking", ranking)
    steps.objects.update(
        clusters=labels,
        cluster_features=harmonised,
        feature_ranking=ranking.rename_axis("feature").reset_index(),
    )
    return labels


def _survival(steps: _Steps, cohort, labels: pd.Series, scores: pd.DataFrame | None) -> None:
    from radsem.survival import kaplan_meier, logrank

    data = cohort.clinical.set_index("patient_id")
    data = data.assign(advanced=data["figo_stage"].isin(["III", "IV"]).astype(int))
    data = data.join(labels, how="inner")
    data["cluster_high"] = (data["cluster"] > 1).astype(int)
    km = kaplan_meier(data, time="dss_time", event="dss_event", group="cluster")
    steps.table("survival/km_by_cluster", km.table, index=False)
    steps.table("survival/km_median_by_cluster", km.median, index=False)
    test = logrank(data, time="dss_time", event="dss_event", group="cluster")
    steps.objects["km"] = {"Disease-specific survival by radiomic cluster": km.table}
    steps.objects["logrank"] = {"Disease-specific survival by radiomic cluster": test}
    steps.objects["hazard_ratios"] = hazard_ratios = {}
    rows = []
    for name, covariates in {
        "clinical (FIGO III/IV + age)": ["advanced", "age"],
        "cluster 2/3 vs 1": ["cluster_high"],
        "cluster 2/3 vs 1 + FIGO + age": ["cluster_high", "advanced", "age"],
    }.items():
        result = _cox_or_firth(
            steps, name, data, time="dss_time", event="dss_event", covariates=covariates
        )
        hazard_ratios[name] = _hr_table(result)
        rows.append(_cox_rows(result, name))
    if scores is not None and len(scores):
        # factor scores in standard-deviation units, so each hazard ratio is per SD
        z = (scores - scores.mean()) / scores.std(ddof=1)
        with_scores = data.join(z, how="inner")
        name = "SEM mechanism scores (per SD) + FIGO + age (recurrence)"
        result = _cox_or_firth(
            steps,
            name,
            with_scores,
            time="time",
            event="event",
            covariates=[*scores.columns, "advanced", "age"],
        )
        hazard_ratios[name] = _hr_table(result, per_sd=list(scores.columns))
        rows.append(_cox_rows(result, name))
    steps.table("survival/cox_models", pd.concat(rows, ignore_index=True), index=False)
    steps.table(
        "survival/logrank_clusters",
        pd.DataFrame({"statistic": [test.statistic], "df": [test.df], "pvalue": [test.pvalue]}),
        index=False,
    )


def _cox_or_firth(steps: _Steps, name: str, data: pd.DataFrame, **kwargs):
    """A Cox fit; where the likelihood is monotone (perfect separation, common with small
    clusters) the Firth-penalised fit replaces it, and the report says so."""
    from radsem.errors import ConvergenceWarning
    from radsem.survival import cox

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = cox(data, **kwargs)
    separated = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for item in caught:
        if item not in separated:
            warnings.warn(item.message, item.category, stacklevel=2)
    if not separated:
        return result
    steps.result.notes.append(
        f"Cox model '{name}': {separated[0].message} Refitted with Firth's penalised likelihood."
    )
    return cox(data, firth=True, **kwargs)


def _hr_table(result, per_sd=()) -> pd.DataFrame:
    """Hazard ratios with N, events and the per-SD terms recorded for the report."""
    table = result.hazard_ratios()
    if per_sd:
        table.index = [f"{t} (per SD)" if t in per_sd else t for t in table.index]
    table.attrs.update(
        n=int(result.n), events=int(result.n_events), per_sd=[f"{t} (per SD)" for t in per_sd]
    )
    return table


def _cox_rows(result, name: str) -> pd.DataFrame:
    table = result.hazard_ratios().rename_axis("term").reset_index()
    table.insert(0, "model", name)
    table["concordance"] = result.concordance.concordance
    return table


#: the measurement part of the demo model, scored inside each training fold of the comparison
_MEASUREMENT_MODEL = "\n".join(line for line in DEMO_MECHANISM_MODEL.splitlines() if "=~" in line)


def demo_families(radiomic: list[str], seed: int) -> dict:
    """The outcome-model families the demo compares (``models/compare_demo.yaml`` describes the
    same families; a test keeps the two in step). The image-based CAE family is added by the
    demo itself because it needs the cohort's crops."""
    from radsem.compare import ClinicalCox, ClusterCox, PenalisedCox, ScoreCox, sem_scorer

    return {
        "clinical Cox (FIGO III/IV + age)": ClinicalCox(),
        "penalised radiomic Cox": PenalisedCox(features=radiomic, penalizer=1.0),
        "radiomic clusters (k-medoids) Cox": ClusterCox(features=radiomic, random_state=seed),
        "SEM mechanism scores + clinical": ScoreCox(
            scorer=sem_scorer(_MEASUREMENT_MODEL), clinical=("advanced", "age")
        ),
    }


#: Horizons (months) of the time-dependent AUC, calibration and decision curves (first one).
DEMO_HORIZONS = (24.0, 12.0, 36.0)

#: Horizon (months) of the demo's second comparison: recurrence within two years.
DEMO_HORIZON = 24.0


def _compare(
    steps: _Steps, cohort, features: pd.DataFrame, seed: int, jobs: int, epochs: int
) -> None:
    """Cross-validated comparison of the outcome models on the patients with expression; every
    data-dependent step (scaling, clustering, SEM fit, joint SEM-Cox fit, autoencoder) is
    refitted inside each training fold. Two outcomes: time to recurrence, and recurrence
    within DEMO_HORIZON months (censoring before the horizon handled by
    inverse-probability-of-censoring weights)."""
    from radsem.compare import CAECox, compare_models
    from radsem.estimation.families.survival_outcome import LatentSurvivalModel

    data = sem_table(cohort).join(cohort.clinical.set_index("patient_id")[["time", "event"]])
    data = data.join(features, how="inner").dropna().reset_index()
    models = demo_families(list(features.columns), seed)
    models["latent mechanisms -> recurrence (joint SEM-Cox)"] = LatentSurvivalModel(
        DEMO_MECHANISM_MODEL + "\nsurv ~ E6 + E7 + immune + hypoxia + advanced + age",
        method="joint",
    )
    if "crops" in steps.objects:
        models["CAE image codes + clinical Cox"] = CAECox(
            steps.objects["crops"],
            id_column="patient_id",
            epochs=max(2, epochs // 4),
            clinical=("advanced", "age"),
            random_state=seed,
        )
    settings = {
        "time": "time",
        "event": "event",
        "n_splits": 3,
        "n_repeats": 3,
        "random_state": seed,
        "n_jobs": min(jobs, 2),
    }
    # time-dependent metrics at clinically meaningful horizons (months); the first one is
    # also the horizon of the calibration table and the decision curves
    horizons = [h for h in DEMO_HORIZONS if h < float(data.loc[data["event"] == 1, "time"].max())]
    result = compare_models(
        data, models, progress=steps.progress, horizons=horizons or None, **settings
    )
    steps.table("compare/summary", result.summary(), index=False)
    steps.table("compare/paired", result.paired(), index=False)
    steps.table("compare/per_fold", result.folds, index=False)
    steps.table("compare/failures", result.failures, index=False)
    steps.objects["comparison"] = result
    _score_tertiles(steps, result, data, "SEM mechanism scores + clinical")
    if result.horizons:
        steps.result.notes.append(
            f"calibration: observed (Kaplan-Meier) vs predicted recurrence-free survival at "
            f"{result.horizons[0]:g} months by risk tertile, averaged over folds"
        )
    steps.result.notes.append(
        f"outcome comparison: {len(data)} patients with expression and images, 3-fold CV x 3"
    )
    binary = compare_models(
        data,
        demo_families(list(features.columns), seed),
        outcome="binary",
        horizon=DEMO_HORIZON,
        progress=steps.progress,
        **settings,
    )
    steps.table("compare/binary_summary", binary.summary(), index=False)
    steps.table("compare/binary_paired", binary.paired("auc"), index=False)
    steps.table("compare/binary_failures", binary.failures, index=False)
    steps.objects["binary_comparison"] = binary
    steps.result.notes.append(
        f"recurrence within {DEMO_HORIZON:g} months: same folds, logistic counterparts of the "
        "families, censoring before the horizon by inverse-probability weights"
    )


def _score_tertiles(steps: _Steps, result, data: pd.DataFrame, model: str) -> None:
    """Kaplan-Meier curves by tertile of a model's out-of-fold risk (first repeat: every
    patient scored once, by the model fitted without them), and the log-rank test."""
    from radsem.survival import kaplan_meier, logrank

    pred = result.predictions
    pred = pred[(pred["model"] == model) & (pred["repeat"] == 0)].dropna(subset=["risk"])
    if pred["row"].nunique() < 9:  # the model failed in too many folds to form tertiles
        steps.result.notes.append(f"no risk tertiles for {model!r}: too few scored patients")
        return
    frame = data.loc[pred["row"].to_numpy(), ["time", "event"]].reset_index(drop=True)
    frame["tertile"] = pd.qcut(pred["risk"].to_numpy(), 3, labels=["1 (low)", "2", "3 (high)"])
    frame["tertile"] = frame["tertile"].astype(str)
    title = f"Recurrence by tertile of out-of-fold risk ({model})"
    km = kaplan_meier(frame, time="time", event="event", group="tertile")
    steps.table("compare/km_by_score_tertile", km.table, index=False)
    steps.objects.setdefault("km", {})[title] = km.table
    steps.objects.setdefault("logrank", {})[title] = logrank(
        frame, time="time", event="event", group="tertile"
    )


def _calibration_by_model(result) -> pd.DataFrame | None:
    """Observed vs predicted survival at the first horizon by risk tertile, averaged over
    folds, per model (the comparison's per-fold calibration tables)."""
    cal = result.calibration
    if cal is None or cal.empty or not {"predicted", "observed"} <= set(cal.columns):
        return None
    return (
        cal.groupby(["model", "group"], sort=False)[["predicted", "observed"]].mean().reset_index()
    )


# --------------------------------------------------------------------------- report


def _markdown_section(title: str, frame: pd.DataFrame, max_rows: int = 25) -> dict:
    """One table of the Markdown report: header, formatted cells (pipes escaped), and how
    many rows only the CSV file has."""

    def cell(value) -> str:
        text = f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    shown = frame.head(max_rows)
    return {
        "title": title,
        "header": [cell(c) for c in shown.columns],
        "rows": [[cell(v) for v in row] for _, row in shown.iterrows()],
        "more": max(len(frame) - max_rows, 0),
    }


_REPORT_SECTIONS = [
    (
        "Automatic segmentation: check on labelled patients (model vs threshold baseline)",
        "segmentation/evaluation",
    ),
    (
        "Automatic segmentation: predicted masks of the unlabelled patients",
        "segmentation/predicted",
    ),
    ("Radiomic harmonisation", "radiomics/harmonisation_counts"),
    ("Autoencoder: downstream discrimination", "deep/cae_downstream_cindex"),
    ("GAN evaluation per HPV clade", "deep/gan_evaluation"),
    ("SEM fit measures", "sem/fit_measures"),
    ("SEM parameter estimates", "sem/parameter_estimates"),
    ("SEM cross-check with lavaan", "sem/cross_check_lavaan"),
    ("Halle feature ranking (top features)", "clusters/feature_ranking"),
    ("Cox models", "survival/cox_models"),
    ("Cross-validated comparison of outcome models", "compare/summary"),
    ("Paired differences between outcome models", "compare/paired"),
    ("Model fits that failed inside cross-validation folds", "compare/failures"),
    (
        f"Recurrence within {DEMO_HORIZON:g} months: cross-validated metrics",
        "compare/binary_summary",
    ),
    (f"Recurrence within {DEMO_HORIZON:g} months: paired differences", "compare/binary_paired"),
    ("Log-rank test across clusters", "survival/logrank_clusters"),
]


def _write_report(steps: _Steps, n: int, seed: int) -> None:
    from radsem.io import atomic_write_bytes
    from radsem.report._templates import render

    result = steps.result
    sections = []
    for title, key in _REPORT_SECTIONS:
        if key in result.tables:
            frame = result.tables[key]
            if frame.index.name is not None:
                frame = frame.reset_index()
            sections.append(_markdown_section(title, frame))
    timing = pd.DataFrame({"step": list(result.timings), "seconds": list(result.timings.values())})
    sections.append(_markdown_section("Run time", timing))
    text = render(
        "demo_report.md.j2",
        version=__version__,
        n=n,
        seed=seed,
        sections=sections,
        notes=[str(x) for x in result.notes],
    )
    atomic_write_bytes(text.encode(), result.out / "report.md")
    provenance = {"radsem": __version__, "n": n, "seed": seed, "timings": result.timings}
    atomic_write_bytes(json.dumps(provenance, indent=2).encode(), result.out / "provenance.json")


#: notes that record a warning ("step: SomeWarning: message"), shown in their own section
_WARNING_NOTE = re.compile(r"^[^:]+: \w*Warning: ")


def _write_html_reports(steps: _Steps, n: int, seed: int, jobs: int, epochs: int) -> None:
    """The SEM report and the outcome-model report, as self-contained HTML files."""
    from radsem.report import Provenance, comparison_report, sem_report

    out, objects = steps.result.out, steps.objects
    provenance = Provenance(
        inputs=sorted(p for p in (out / "cohort").glob("*.csv")),
        options={"n": n, "jobs": jobs, "epochs": epochs, "sem": "missing=ml, estimator=MLR"},
        seeds={"demo": seed},
        command="radsem demo",
    )
    if "sem_fit" in objects:
        report = sem_report(
            [objects["sem_fit"]],
            names=["HPV oncogenic mechanisms"],
            data=objects["sem_data"],
            title="radsem demo: HPV oncogenic-mechanism SEM",
            provenance=provenance,
        )
        report.to_html(out / "sem_report.html")
    metrics = differences = None
    if "comparison" in objects:
        summary = objects["comparison"].summary()
        metrics = summary[summary["metric"].isin(["harrell_c", "uno_c", "ibs"])].rename(
            columns={"mean": "estimate"}
        )[["model", "metric", "estimate", "ci_lower", "ci_upper"]]
        paired = objects["comparison"].paired()
        differences = paired.assign(
            comparison=paired["model"] + " - " + paired["reference"]
        ).rename(columns={"mean": "estimate"})[
            ["comparison", "metric", "estimate", "ci_lower", "ci_upper", "pvalue"]
        ]
    if "binary_comparison" in objects and metrics is not None:
        binary = objects["binary_comparison"].summary()
        binary = binary[binary["metric"].isin(["auc", "brier"])].rename(
            columns={"mean": "estimate"}
        )[["model", "metric", "estimate", "ci_lower", "ci_upper"]]
        binary["metric"] = binary["metric"] + f" ({DEMO_HORIZON:g} months)"
        metrics = pd.concat([metrics, binary], ignore_index=True)
    notes = [x for x in steps.result.notes if not _WARNING_NOTE.match(x)]
    warned = [x for x in steps.result.notes if _WARNING_NOTE.match(x)]
    comparison = objects.get("comparison")
    decision = None
    if comparison is not None and comparison.decision is not None and len(comparison.decision):
        decision = (
            comparison.decision.groupby(["model", "threshold"], sort=False)[
                ["net_benefit", "treat_all"]
            ]
            .mean()
            .reset_index()
        )
    absent = []
    if "binary_comparison" in objects and metrics is not None:
        binary_models = set(objects["binary_comparison"].summary()["model"])
        absent = sorted(set(metrics["model"]) - binary_models)
    metric_notes = (
        [
            f"Rows '({DEMO_HORIZON:g} months)': recurrence within {DEMO_HORIZON:g} "
            "months as a binary outcome (IPCW), same folds. "
            + (
                f"Not run for {', '.join(absent)}: the demo keeps the binary comparison "
                "to the families that train in seconds (the joint SEM-Cox model and the "
                "autoencoder would double its run time); radsem.compare.Logistic can "
                "wrap them."
                if absent
                else ""
            )
        ]
        if "binary_comparison" in objects
        else []
    )
    segmentation = []
    if any(k.startswith("segmentation_") for k in objects):
        from radsem.report import segmentation_section

        segmentation.append(
            segmentation_section(
                per_patient=objects.get("segmentation_per_patient"),
                summary=objects.get("segmentation_summary"),
                predicted=objects.get("segmentation_predicted"),
                mask_source=objects.get("segmentation_mask_source"),
                crops_mask_source=objects.get("crops_mask_source"),
                patient_ids=False,
                notes=[
                    f"{DEMO_UNLABELLED:.0%} of the simulated patients have no tumour mask; a "
                    "U-Net trained on labelled patients predicted theirs, and the radiomic "
                    "features and autoencoder crops of those patients use the predicted masks."
                ],
            )
        )
    report = comparison_report(
        sections=segmentation,
        warnings=warned,
        decision=decision,
        metric_notes=metric_notes,
        calibration_labels=(
            "Predicted recurrence-free survival",
            "Observed (Kaplan-Meier) recurrence-free survival",
        ),
        horizon=comparison.horizons[0] if comparison is not None and comparison.horizons else None,
        metrics=metrics,
        differences=differences,
        hazard_ratios=objects.get("hazard_ratios"),
        km=objects.get("km"),
        calibration=(
            _calibration_by_model(objects["comparison"]) if "comparison" in objects else None
        ),
        logrank=objects.get("logrank"),
        feature_ranking=objects.get("feature_ranking"),
        cluster_features=objects.get("cluster_features"),
        clusters=objects.get("clusters"),
        title="radsem demo: outcome models",
        provenance=provenance,
        notes=[
            f"Simulated cohort of {n} patients (seed {seed}); follow-up in months; see "
            "report.md for every table.",
            *notes,
        ],
    )
    report.to_html(out / "outcome_report.html")
