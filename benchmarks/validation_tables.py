"""The validation tables of docs/validation.md, computed live.

Usage (from the repository root)::

    .venv/bin/python benchmarks/validation_tables.py [--stored] [--only sem,survival,...]

Prints Markdown tables of the largest differences between radsem and independent references:

* ``sem``: every parity case of ``tests/reference/sem_reference.py`` against lavaan (live through
  rpy2 when R and lavaan are present, else the stored lavaan 0.6-14 results): estimates, standard
  errors, fit measures, modification indices;
* ``ordinal``: ordered-categorical indicators (WLSMV, delta and theta, polyserial) against
  lavaan (R needed);
* ``bootstrap``: bootstrap standard errors and percentile intervals against lavaan's, within
  Monte Carlo error (R needed);
* ``survival``: Cox (Efron/Breslow, strata, robust), concordance, ``cox.zph``, predicted
  survival, ``survdiff`` and Kaplan-Meier against R ``survival`` on its lung and veteran data
  (live R code of ``tests/reference/make_survival_references.py``, else its stored output);
* ``compare``: Harrell's C and the paired C difference against R ``concordance`` (R needed);
* ``cluster``: PAM medoids and objectives against R ``cluster::pam`` (R needed);
* ``combat``: ``ComBatHarmonizer`` against R ``sva::ComBat`` (R needed);
* ``simulation``: recovery of the generating values of ``radsem.simulate`` (Cox log hazard
  ratios on the true mechanisms, CFA loading ratios).

``--stored`` uses the stored references even where R is available. Sections that need R say
so and are skipped without it. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))

import radsem  # noqa: E402
from radsem._r import r_available  # noqa: E402

N_REPLICATES, N_SIMULATED = 20, 2000
N_BOOTSTRAP = 1000
SECTIONS = ("sem", "ordinal", "bootstrap", "survival", "compare", "cluster", "combat", "simulation")


# ----------------------------------------------------------------------------- helpers


def rel_diff(ours, ref, floor: float = 1e-12) -> float:
    """Largest relative difference |a - b| / |b| (absolute where |b| < floor)."""
    a = np.asarray(ours, float).ravel()
    b = np.asarray(ref, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    keep = np.isfinite(a) | np.isfinite(b)
    a, b = a[keep], b[keep]
    if not len(a):
        return 0.0
    scale = np.where(np.abs(b) < floor, 1.0, np.abs(b))
    return float(np.max(np.abs(a - b) / scale))


def abs_diff(ours, ref) -> float:
    a = np.asarray(ours, float).ravel()
    b = np.asarray(ref, float).ravel()
    return float(np.max(np.abs(a - b))) if len(a) else 0.0


def markdown(frame: pd.DataFrame, fixed: tuple[str, ...] = ()) -> str:
    """A pipe table; floats as 2-significant-digit scientific notation (``fixed`` columns: 3
    decimals)."""

    def cell(v, column):
        if isinstance(v, (float, np.floating)):
            if np.isnan(v):
                return "-"
            if column in fixed:
                return f"{v:.3f}"
            return "0" if v == 0 else f"{v:.1e}"
        return str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(v, c) for v, c in zip(row, frame.columns)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def r_version(package: str) -> str:
    import rpy2.robjects as ro

    return str(ro.r["as.character"](ro.r["packageVersion"](package))[0])


def skipped(live: bool, package: str) -> str:
    """Why a live-R section is skipped."""
    if not live:
        return "skipped (--stored: this section has no stored reference)"
    return f"skipped: needs R with {package} (through rpy2)"


def header(title: str, source: str = "") -> None:
    print(f"\n### {title}\n")
    if source:
        print(f"Reference: {source}.\n")


# ----------------------------------------------------------------------------- SEM


class _StoredFit:
    def __init__(self, ref):
        self._ref = ref

    def parameter_estimates(self):
        return self._ref.parameters.copy()

    def fit_measures(self):
        return self._ref.fit_measures.copy()

    def modindices(self):
        return None if self._ref.modindices is None else self._ref.modindices.copy()


def _mi_diff(ours: pd.DataFrame, ref: pd.DataFrame | None) -> tuple[float, int]:
    if ref is None or not len(ref):
        return np.nan, 0
    key = ["lhs", "op", "rhs", "group"]
    both = ours.merge(ref, on=key, suffixes=("", "_ref"))
    return abs_diff(both["mi"], both["mi_ref"]), len(both)


def sem_section(live: bool) -> None:
    from sem_reference import SEM_CASES, case_data, load_sem_reference

    from radsem.engines.crosscheck import cross_check_fits, fit_engine

    live = live and r_available("lavaan")
    source = (
        f"lavaan {r_version('lavaan')}, fitted live through rpy2"
        if live
        else "stored lavaan results (tests/reference/sem, written by make_sem_references.py)"
    )
    header("SEM engine vs lavaan", source)
    rows = []
    for name, case in SEM_CASES.items():
        data = case_data(name)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. rows dropped listwise: same for both engines
            fit = getattr(radsem, case.function)(case.model, data, **case.options)
            fit.parameter_estimates()
            fit.fit_measures()
        seconds = time.perf_counter() - t0
        if live:
            ref = fit_engine("lavaan", case.model, data, function=case.function, **case.options)
        else:
            ref = _StoredFit(load_sem_reference(name))
        check = cross_check_fits(fit, ref)
        mi, n_mi = (
            _mi_diff(fit.modindices(), ref.modindices())
            if name in ("hs_cfa_ml", "hs_cfa_mlr", "poldem_labels", "hs_multigroup")
            else (np.nan, 0)
        )
        rows.append(
            {
                "case": name,
                "parameters": len(check.parameters),
                "max abs diff est": check.max_abs_diff,
                "max rel diff SE": check.max_se_reldiff,
                "fit measures": len(check.fit_measures),
                "max rel diff fit": check.max_fit_reldiff,
                "max abs diff MI": mi,
                "MI rows": n_mi,
                "within tolerance": "yes" if check.agree else "NO",
                "radsem s": round(seconds, 2),
            }
        )
    print(markdown(pd.DataFrame(rows), fixed=("radsem s",)))
    print(
        "\nTolerances of issue 3: estimates 1e-3 absolute, SEs and fit measures 1% relative. "
        "Relative differences use an absolute floor below 1e-8 (SEs) and 1e-6 (fit measures)."
    )


# ----------------------------------------------------------------------------- ordinal


def _hs_tertiles() -> pd.DataFrame:
    """The nine Holzinger-Swineford tests cut at their tertiles into 1, 2, 3."""
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")
    out = hs[[f"x{i}" for i in range(1, 10)]].copy()
    for column in out.columns:
        cuts = np.quantile(hs[column], [1 / 3, 2 / 3])
        out[column] = 1 + np.searchsorted(cuts, hs[column].to_numpy(), side="right")
    return out


def ordinal_section(live: bool) -> None:
    if not (live and r_available("lavaan")):
        header("Ordinal indicators vs lavaan", skipped(live, "lavaan"))
        return
    from radsem.datasets.example_models import HOLZINGER_SWINEFORD_CFA
    from radsem.engines.crosscheck import cross_check_fits, fit_engine

    header(
        "Ordinal indicators vs lavaan",
        f"lavaan {r_version('lavaan')} `cfa(..., ordered = ...)`, fitted live through rpy2",
    )
    ordinal = _hs_tertiles()
    mixed = ordinal.copy()
    from radsem.datasets import load

    hs = load("HolzingerSwineford1939")
    mixed[["x1", "x4", "x7"]] = hs[["x1", "x4", "x7"]]
    cases = {
        "HS 9 items in tertiles, WLSMV, delta": (ordinal, list(ordinal.columns), {}),
        "HS 9 items in tertiles, WLSMV, theta": (
            ordinal,
            list(ordinal.columns),
            {"parameterization": "theta"},
        ),
        "HS, markers continuous + 6 ordinal (polyserial), WLSMV": (
            mixed,
            [c for c in mixed.columns if c not in ("x1", "x4", "x7")],
            {},
        ),
    }
    rows = []
    for label, (data, ordered, options) in cases.items():
        t0 = time.perf_counter()
        fit = radsem.cfa(HOLZINGER_SWINEFORD_CFA, data, ordered=ordered, **options)
        fit.parameter_estimates()
        fit.fit_measures()
        seconds = time.perf_counter() - t0
        ref = fit_engine(
            "lavaan", HOLZINGER_SWINEFORD_CFA, data, function="cfa", ordered=ordered, **options
        )
        check = cross_check_fits(fit, ref)
        rows.append(
            {
                "case": label,
                "parameters (incl. thresholds)": len(check.parameters),
                "max abs diff est": check.max_abs_diff,
                "max rel diff SE": check.max_se_reldiff,
                "fit measures": len(check.fit_measures),
                "max rel diff fit": check.max_fit_reldiff,
                "within tolerance": "yes" if check.agree else "NO",
                "radsem s": round(seconds, 2),
            }
        )
    print(markdown(pd.DataFrame(rows), fixed=("radsem s",)))
    print(
        "\nFit measures include the scaled-shifted chi-square and the `.scaled`/`.robust` "
        "CFI, TLI and RMSEA."
    )


# ----------------------------------------------------------------------------- bootstrap


def bootstrap_section(live: bool) -> None:
    if not (live and r_available("lavaan")):
        header("Bootstrap vs lavaan", skipped(live, "lavaan"))
        return
    from sem_reference import MEDIATION_MODEL, case_data

    from radsem.engines.crosscheck import fit_engine

    header(
        "Bootstrap vs lavaan",
        f'lavaan {r_version("lavaan")} `sem(..., se = "bootstrap", bootstrap = R)`',
    )
    data = case_data("mediation")
    replicates = N_BOOTSTRAP
    t0 = time.perf_counter()
    fit = radsem.sem(MEDIATION_MODEL, data, se="bootstrap", bootstrap=replicates, seed=1)
    ours = fit.parameter_estimates()
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = fit_engine(
        "lavaan",
        MEDIATION_MODEL,
        data,
        function="sem",
        se="bootstrap",
        bootstrap=replicates,
        seed=1,
    ).parameter_estimates()
    lavaan_s = time.perf_counter() - t0
    key = ["lhs", "op", "rhs"]
    both = ours.merge(ref, on=key, suffixes=("", "_lavaan"))
    both = both[both["se_lavaan"] > 0]
    mc = 1 / np.sqrt(replicates - 1)  # relative MC SD of the difference of two bootstrap SEs
    table = pd.DataFrame(
        {
            "parameter": both["lhs"] + " " + both["op"] + " " + both["rhs"],
            "estimate": both["est"],
            "boot SE radsem": both["se"],
            "boot SE lavaan": both["se_lavaan"],
            "SE ratio": both["se"] / both["se_lavaan"],
            "difference in MC SDs": (both["se"] / both["se_lavaan"] - 1) / mc,
            "95% perc. CI radsem": [
                f"{a:.3f}, {b:.3f}" for a, b in zip(both["ci_lower"], both["ci_upper"])
            ],
            "95% perc. CI lavaan": [
                f"{a:.3f}, {b:.3f}"
                for a, b in zip(both["ci_lower_lavaan"], both["ci_upper_lavaan"])
            ],
        }
    )
    print(
        f"Mediation model with `:=` indirect and total effects (n = {len(data)}), R = "
        f"{replicates} replicates each, different random streams (radsem: numpy, seed 1; "
        f"lavaan: R, iseed 1), so the two agree only up to Monte Carlo error: the relative "
        f"difference of two independent bootstrap SEs has an SD of about "
        f"1/sqrt(R - 1) = {mc:.3f}. Time: radsem {ours_s:.1f} s, lavaan {lavaan_s:.1f} s "
        "(one process).\n"
    )
    print(markdown(table, fixed=tuple(table.columns[1:6])))


# ----------------------------------------------------------------------------- survival


def _survival_references(live: bool) -> tuple[dict, str]:
    stored = json.loads((ROOT / "tests/reference/survival/references.json").read_text())
    if not (live and r_available("survival")):
        v = stored["versions"]
        return stored, f"stored results of {v['R']}, survival {v['survival']}"
    import rpy2.robjects as ro
    from make_survival_references import CASES, KM_CASES

    ro.r("suppressMessages(library(survival))")
    ro.globalenv["lung"] = ro.r("survival::lung")
    ro.globalenv["veteran"] = ro.r("survival::veteran")
    refs = {}
    for name, code in CASES.items():
        res = ro.r(code)
        refs[name] = {k: np.asarray(res.rx2(k), float).tolist() for k in res.names}
    for ct in KM_CASES:
        ro.globalenv["ct"] = ct
        res = ro.r("""local({f <- survfit(Surv(time, status) ~ sex, lung, conf.type = ct)
            s <- summary(f, censored = TRUE); m <- summary(f)$table
            list(time = s$time, surv = s$surv, std_err = s$std.err, lower = s$lower,
                 upper = s$upper, median = unname(m[, "median"]),
                 median_lower = unname(m[, "0.95LCL"]), median_upper = unname(m[, "0.95UCL"]))})""")
        refs[f"km_{ct}"] = {k: np.asarray(res.rx2(k), float).tolist() for k in res.names}
    return refs, (
        f"{ro.r('R.version.string')[0]}, survival {r_version('survival')}, run live through rpy2"
    )


def survival_section(live: bool) -> None:
    from radsem.survival import cox, cox_zph, kaplan_meier, logrank

    refs, source = _survival_references(live)
    lung = pd.read_csv(ROOT / "tests/reference/survival/lung.csv")
    vet = pd.read_csv(ROOT / "tests/reference/survival/veteran.csv")
    vet["celltype"] = pd.Categorical(vet["celltype"], ["squamous", "smallcell", "adeno", "large"])
    header("Survival vs R survival", source)
    rows = []

    def add(case, quantity, ours, ref):
        rows.append(
            {
                "case": case,
                "quantity": quantity,
                "values": np.size(ref),
                "max abs diff": abs_diff(ours, ref),
                "max rel diff": rel_diff(ours, ref),
            }
        )

    r = refs["lung_efron_robust"]
    case = "lung: age + sex + ph.ecog, Efron, robust"
    fit = cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], robust=True, missing="drop")
    add(case, "coef", fit.params, r["coef"])
    add(case, "model SE", fit.naive_se, r["se"])
    add(case, "robust SE", fit.robust_se, r["robust_se"])
    add(case, "p-values", fit.summary["p"], r["p"])
    add(case, "loglik (null, fitted)", fit.loglik, r["loglik"])
    t = fit.tests["statistic"]
    add(
        case,
        "Wald / score / LR / robust score",
        [t["wald"], t["score"], t["likelihood_ratio"], t["robust_score"]],
        [r["wald"][0], r["score"][0], r["lrt"][0], r["robust_score"][0]],
    )
    add(
        case,
        "concordance, its SE",
        [fit.concordance.concordance, fit.concordance.std_err],
        [r["concordance"][0], r["concordance_se"][0]],
    )
    for tr in ("km", "identity", "rank"):
        add(case, f"cox.zph chisq ({tr})", cox_zph(fit, tr)["chisq"], r[f"zph_{tr}"])
    add(
        case,
        "survfit.coxph S(t; x)",
        fit.predict_survival(lung.iloc[[0, 4, 8]], [100, 300, 500]).to_numpy().ravel(),
        r["surv_pred"],
    )

    r = refs["lung_breslow"]
    case = "lung: Breslow ties"
    fit = cox(lung, "time", "dead", ["age", "sex", "ph.ecog"], ties="breslow", missing="drop")
    add(case, "coef", fit.params, r["coef"])
    add(case, "SE", fit.se, r["se"])
    add(
        case,
        "survfit.coxph S(t; x)",
        fit.predict_survival(lung.iloc[[0, 4, 8]], [100, 300, 500]).to_numpy().ravel(),
        r["surv_pred"],
    )

    r = refs["veteran_strata"]
    case = "veteran: trt + karno + age + strata(celltype), robust"
    fit = cox(vet, "time", "status", ["trt", "karno", "age"], strata="celltype", robust=True)
    add(case, "coef", fit.params, r["coef"])
    add(case, "model SE", fit.naive_se, r["se"])
    add(case, "robust SE", fit.robust_se, r["robust_se"])
    add(
        case,
        "concordance, its SE",
        [fit.concordance.concordance, fit.concordance.std_err],
        [r["concordance"][0], r["concordance_se"][0]],
    )
    add(
        case,
        "cox.zph chisq (identity, km)",
        [*cox_zph(fit, "identity")["chisq"], *cox_zph(fit, "km")["chisq"]],
        [*r["zph_identity"], *r["zph_km"]],
    )
    add(
        case,
        "survfit.coxph S(t; x)",
        fit.predict_survival(vet.iloc[[0, 1, 2]], [10, 50, 100]).to_numpy().ravel(),
        r["surv_pred"],
    )

    r = refs["veteran_celltype"]
    case = "veteran: celltype dummies, Breslow"
    fit = cox(vet, "time", "status", ["trt", "karno", "age", "celltype"], ties="breslow")
    add(case, "coef", fit.params, r["coef"])
    add(case, "SE", fit.se, r["se"])
    zph = cox_zph(fit)
    add(case, "cox.zph chisq (km), df", [*zph["chisq"], *zph["df"]], [*r["zph_km"], *r["zph_df"]])

    r = refs["survdiff"]
    a = logrank(lung, "time", "dead", "sex")
    add(
        "survdiff: lung by sex",
        "chisq, expected",
        [a.statistic, *a.table["expected"]],
        [r["lung_chisq"][0], *r["lung_exp"]],
    )
    b = logrank(vet, "time", "status", "trt", strata="celltype")
    add(
        "survdiff: veteran by trt, strata(celltype)",
        "chisq, expected",
        [b.statistic, *b.table["expected"]],
        [r["vet_chisq"][0], *r["vet_exp"]],
    )
    c = logrank(lung, "time", "dead", "sex", rho=1)
    add(
        "survdiff: lung by sex, rho = 1",
        "chisq, expected",
        [c.statistic, *c.table["expected"]],
        [r["rho1_chisq"][0], *r["rho1_exp"]],
    )

    for ct in ("log", "log-log", "plain"):
        r = refs[f"km_{ct}"]
        km = kaplan_meier(lung, "time", "dead", "sex", conf_type=ct)
        tab = km.table
        case = f"survfit: lung by sex, conf.type = '{ct}'"
        add(case, "surv, std.err", [*tab["surv"], *tab["std_err"]], [*r["surv"], *r["std_err"]])
        add(case, "lower, upper", [*tab["lower"], *tab["upper"]], [*r["lower"], *r["upper"]])
        add(
            case,
            "median and its CI",
            [*km.median["median"], *km.median["ci_lower"], *km.median["ci_upper"]],
            [*r["median"], *r["median_lower"], *r["median_upper"]],
        )
    print(markdown(pd.DataFrame(rows)))


# ----------------------------------------------------------------------------- compare


def compare_section(live: bool) -> None:
    if not (live and r_available("survival")):
        header("Concordance vs R survival", skipped(live, "survival"))
        return
    import rpy2.robjects as ro

    from radsem._r import to_r_dataframe
    from radsem.compare import paired_concordance
    from radsem.survival import concordance_index

    header(
        "Concordance vs R survival",
        f"R survival {r_version('survival')} `concordance(fit)` and `concordance(fit1, fit2)`",
    )
    rng = np.random.default_rng(20261123)
    rows = []
    for n, ties in ((300, False), (300, True), (1000, True)):
        x1, x2 = rng.normal(size=n), rng.normal(size=n)
        t = rng.exponential(1 / np.exp(0.7 * x1 - 0.4 * x2))
        cens = rng.exponential(1.5, size=n)
        d = pd.DataFrame(
            {
                "time": np.minimum(t, cens),
                "event": (t <= cens).astype(float),
                "ra": np.round(x1, 1) if ties else x1,
                "rb": -x2,
            }
        )
        ro.globalenv["d"] = to_r_dataframe(d)
        res = np.asarray(
            ro.r("""local({
            f <- survival::concordance(survival::Surv(time, event) ~ ra, d, reverse = TRUE)
            f1 <- survival::coxph(survival::Surv(time, event) ~ ra, d)
            f2 <- survival::coxph(survival::Surv(time, event) ~ rb, d)
            cc <- survival::concordance(f1, f2)
            c(f$concordance, sqrt(f$var), cc$concordance, cc$var[1, 1], cc$var[2, 2],
              cc$var[1, 2])})""")
        )
        single = concordance_index(d["time"], d["event"], d["ra"])
        pair = paired_concordance((d["time"], d["event"]), d["ra"], d["rb"])
        label = f"n = {n}, {'tied' if ties else 'untied'} scores"
        rows.append(
            {
                "data": label,
                "quantity": "Harrell's C, SE",
                "max rel diff": rel_diff([single.concordance, single.std_err], res[:2]),
            }
        )
        rows.append(
            {
                "data": label,
                "quantity": "paired: C_a, C_b, var_a, var_b, cov",
                "max rel diff": rel_diff(
                    [pair["c_a"], pair["c_b"], pair["se_a"] ** 2, pair["se_b"] ** 2, pair["cov"]],
                    res[2:],
                ),
            }
        )
    print(markdown(pd.DataFrame(rows)))
    print(
        "\nSimulated exponential times with exponential censoring (seed 20261123); R's "
        "`concordance(coxph_a, coxph_b)` gives the joint infinitesimal-jackknife covariance."
    )


# ----------------------------------------------------------------------------- cluster


def cluster_section(live: bool) -> None:
    if not (live and r_available("cluster")):
        header("k-medoids vs R cluster::pam", skipped(live, "cluster"))
        return
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri

    from radsem.cluster import KMedoids, dissimilarity

    header(
        "k-medoids vs R cluster::pam",
        f"R cluster {r_version('cluster')} `pam(as.dist(D), k, diss = TRUE)`",
    )
    rng = np.random.default_rng(20261123)
    latent = rng.normal(size=(90, 3)) + np.repeat(np.eye(3) * 1.5, 30, axis=0)
    radiomic = latent @ rng.normal(size=(3, 30)) + rng.normal(size=(90, 30))
    centres = rng.normal(scale=4.0, size=(3, 12))
    blobs = np.vstack([c + rng.normal(size=(40, 12)) for c in centres])
    datasets = {
        "radiomics-like 90 x 30": radiomic,
        "blobs 120 x 12": blobs,
        "noise 50 x 4": rng.normal(size=(50, 4)),
        "noise 200 x 293": rng.normal(size=(200, 293)),
    }
    pam = ro.r("function(d, k) cluster::pam(as.dist(d), k, diss = TRUE)")
    rows = []
    for label, X in datasets.items():
        X = (X - X.mean(0)) / X.std(0)
        for metric in ("sqeuclidean", "euclidean", "cityblock"):
            D = dissimilarity(X, metric=metric)
            same, objective, r_s, ours_s = 0, 0.0, 0.0, 0.0
            for k in (2, 3, 5):
                t0 = time.perf_counter()
                fit = KMedoids(k, metric=metric).fit(X)
                ours_s += time.perf_counter() - t0
                t0 = time.perf_counter()
                with (ro.default_converter + numpy2ri.converter).context():
                    res = pam(D, k)
                r_s += time.perf_counter() - t0
                same += np.array_equal(
                    np.sort(fit.medoid_indices_), np.sort(np.asarray(res["id.med"]) - 1)
                )
                objective = max(
                    objective, rel_diff(fit.inertia_ / len(X), np.asarray(res["objective"])[1])
                )
            rows.append(
                {
                    "data (z-scored)": label,
                    "metric": metric,
                    "K": "2, 3, 5",
                    "identical medoids": f"{same}/3",
                    "max rel diff objective": objective,
                    "radsem s": round(ours_s, 3),
                    "R pam s (D given)": round(r_s, 3),
                }
            )
    print(markdown(pd.DataFrame(rows), fixed=("radsem s", "R pam s (D given)")))


# ----------------------------------------------------------------------------- ComBat


def combat_section(live: bool) -> None:
    if not (live and r_available("sva")):
        header("ComBat vs R sva", skipped(live, "sva"))
        return
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter

    from radsem._r import r_function
    from radsem.radiomics import ComBatHarmonizer

    header("ComBat vs R sva", f"R sva {r_version('sva')} `ComBat(dat, batch, mod = cbind(1, age))`")
    combat = r_function("ComBat", "sva")
    rows = []
    for n, p, seed in ((60, 8, 3), (150, 40, 4)):
        rng = np.random.default_rng(seed)
        ids = [f"p{i}" for i in range(n)]
        batch = pd.Series(np.repeat(["s1", "s2", "s3"], n // 3), index=ids)
        cov = pd.DataFrame({"age": rng.normal(60, 10, n)}, index=ids)
        X = pd.DataFrame(rng.normal(size=(n, p)), index=ids, columns=[f"f{i}" for i in range(p)])
        X = X + (batch == "s2").to_numpy()[:, None] * 1.5 + cov.to_numpy() * 0.05
        X.loc[batch == "s3"] *= 2.0
        for parametric, mean_only in ((True, False), (False, False), (True, True)):
            ours = ComBatHarmonizer(
                batch=batch, covariates=cov, parametric=parametric, mean_only=mean_only
            ).fit_transform(X)
            with localconverter(ro.default_converter + numpy2ri.converter):
                dat = ro.r["matrix"](X.to_numpy().T.copy(), nrow=X.shape[1])
                mod = ro.r["cbind"](1.0, cov["age"].to_numpy())
                ref = np.asarray(
                    combat(
                        dat=dat,
                        batch=ro.StrVector(batch.tolist()),
                        mod=mod,
                        **{"par.prior": parametric, "mean.only": mean_only, "prior.plots": False},
                    )
                )
            kind = ("parametric" if parametric else "non-parametric") + (
                ", mean only" if mean_only else ""
            )
            rows.append(
                {
                    "data": f"{n} x {p}, 3 batches, age covariate",
                    "ComBat": kind,
                    "max abs diff": abs_diff(ours.to_numpy(), ref.T),
                }
            )
    print(markdown(pd.DataFrame(rows)))
    print(
        "\nThe parametric difference reflects the iteration tolerance of the empirical-Bayes "
        "fixed point (1e-4 in both implementations)."
    )


# ----------------------------------------------------------------------------- simulation


def simulation_section(live: bool) -> None:
    from radsem.simulate import lavaan_name, simulate_cohort
    from radsem.survival import cox

    header("Simulation truth", "the generating values of `radsem.simulate`")
    names = ["E6", "E7", "immune", "hypoxia", "stage_II", "stage_III", "stage_IV", "age"]
    estimates, ses, events = [], [], []
    for seed in range(1, N_REPLICATES + 1):
        cohort = simulate_cohort(n=N_SIMULATED, seed=seed, images=False)
        data = cohort.clinical.merge(cohort.latent, on="patient_id")
        for stage in ("II", "III", "IV"):
            data[f"stage_{stage}"] = (data["figo_stage"] == stage).astype(float)
        fit = cox(data, "time", "event", names)
        estimates.append(fit.params[names].to_numpy())
        ses.append(fit.se[names].to_numpy())
        events.append(int(data["event"].sum()))
    truth = cohort.truth["parameters"]
    true = pd.Series(truth["recurrence_log_hr"]).rename({"age_per_year": "age"})[names]
    est, se = np.array(estimates), np.array(ses)
    covered = np.abs(est - true.to_numpy()) <= 1.959964 * se
    table = pd.DataFrame(
        {
            "term": names,
            "true log HR": true.to_numpy(),
            "mean estimate": est.mean(0),
            "bias": est.mean(0) - true.to_numpy(),
            "empirical SD": est.std(0, ddof=1),
            "mean SE": se.mean(0),
            "95% CI coverage": covered.mean(0),
        }
    )
    print(
        f"Cox model of recurrence on the true mechanisms, FIGO stage and age: {N_REPLICATES} "
        f"simulated cohorts (seeds 1-{N_REPLICATES}) of n = {N_SIMULATED}, "
        f"{min(events)}-{max(events)} recurrences each. Monte Carlo SE of the bias is about "
        f"SD / {np.sqrt(N_REPLICATES):.1f}.\n"
    )
    print(markdown(table, fixed=tuple(table.columns[1:])))

    cohort = simulate_cohort(n=3000, seed=1, images=False)
    mechanisms = list(truth["mechanisms"])
    expression = cohort.expression.set_index("patient_id").rename(columns=lavaan_name)
    markers = pd.DataFrame(truth["markers"], index=["mechanism", "lambda", "mean", "sd"]).T
    markers.index = [lavaan_name(g) for g in markers.index]
    model = "\n".join(
        f"{m} =~ " + " + ".join(markers.index[markers["mechanism"] == m]) for m in mechanisms
    )
    cfa = radsem.cfa(model, expression[markers.index])
    est = cfa.parameter_estimates().query("op == '=~'").set_index("rhs")["est"]
    loading = markers["lambda"].astype(float) * markers["sd"].astype(float)
    rows = []
    for m in mechanisms:
        genes = markers.index[markers["mechanism"] == m]
        ratio_true = loading[genes] / loading[genes[0]]
        ratio_est = est[genes] / est[genes[0]]
        dev = (ratio_est / ratio_true - 1).iloc[1:].abs()
        rows.append(
            {
                "mechanism": m,
                "indicators": len(genes),
                "max relative deviation of the ratio": dev.max(),
                "mean relative deviation": dev.mean(),
            }
        )
    measures = cfa.fit_measures()
    print(
        f"\nradsem CFA of the {len(markers)} marker genes (4 factors, ML) on the "
        f"{len(expression)} patients with expression: chisq {measures['chisq']:.1f} on "
        f"{int(measures['df'])} df (p = {measures['pvalue']:.2f}), CFI {measures['cfi']:.3f}, "
        f"RMSEA {measures['rmsea']:.3f}, SRMR {measures['srmr']:.3f}. Loadings relative to the "
        "first marker of each factor against the generating s_g lambda_g ratios:\n"
    )
    print(markdown(pd.DataFrame(rows), fixed=tuple(rows[0])[2:]))


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stored", action="store_true", help="use stored references even where R is available"
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections among {', '.join(SECTIONS)}",
    )
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    live = not args.stored
    print(
        f"Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
        f"`python benchmarks/validation_tables.py{' --stored' if args.stored else ''}`; "
        f"radsem {radsem.__version__}, Python {platform.python_version()}, numpy "
        f"{np.__version__}, R available: {'yes' if r_available() else 'no'}."
    )
    functions = {
        "sem": sem_section,
        "ordinal": ordinal_section,
        "bootstrap": bootstrap_section,
        "survival": survival_section,
        "compare": compare_section,
        "cluster": cluster_section,
        "combat": combat_section,
        "simulation": simulation_section,
    }
    for name in SECTIONS:
        if name in chosen:
            t0 = time.perf_counter()
            functions[name](live)
            print(f"\n({name}: {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
