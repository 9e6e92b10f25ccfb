"""Generate the stored R survival references used by tests/survival on machines without R.

Run from the repository root:  .venv/bin/python tests/reference/make_survival_references.py
Writes tests/reference/survival/{lung,veteran}.csv (R's data sets, status recoded 0/1 for lung
as column ``dead``) and references.json (R and package versions recorded). The R code below is
fixed text: no user-provided names are pasted into it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "survival"

# each case: (name, R expression returning a named list of numeric vectors)
CASES = {
    "lung_efron_robust": """local({f <- coxph(Surv(time, status) ~ age + sex + ph.ecog, lung,
        robust = TRUE); s <- summary(f)
        list(coef = unname(coef(f)), se = unname(sqrt(diag(f$naive.var))),
             robust_se = unname(sqrt(diag(f$var))), p = unname(s$coefficients[, 6]),
             loglik = f$loglik,
             wald = drop(coef(f) %*% solve(f$var, coef(f))), score = f$score,
             lrt = 2 * diff(f$loglik), robust_score = f$rscore,
             concordance = unname(concordance(f)$concordance),
             concordance_se = sqrt(concordance(f)$var),
             zph_km = unname(cox.zph(f)$table[, 1]),
             zph_identity = unname(cox.zph(f, "identity")$table[, 1]),
             zph_rank = unname(cox.zph(f, "rank")$table[, 1]),
             surv_pred = as.vector(summary(survfit(f, newdata = lung[c(1, 5, 9), ]),
                                           times = c(100, 300, 500))$surv))})""",
    "lung_breslow": """local({f <- coxph(Surv(time, status) ~ age + sex + ph.ecog, lung,
        ties = "breslow"); s <- summary(f)
        list(coef = unname(coef(f)), se = unname(sqrt(diag(f$var))), loglik = f$loglik,
             surv_pred = as.vector(summary(survfit(f, newdata = lung[c(1, 5, 9), ]),
                                           times = c(100, 300, 500))$surv))})""",
    "veteran_strata": """local({f <- coxph(Surv(time, status) ~ trt + karno + age +
        strata(celltype), veteran, robust = TRUE)
        list(coef = unname(coef(f)), se = unname(sqrt(diag(f$naive.var))),
             robust_se = unname(sqrt(diag(f$var))), loglik = f$loglik,
             concordance = unname(concordance(f)$concordance),
             concordance_se = sqrt(concordance(f)$var),
             zph_identity = unname(cox.zph(f, "identity")$table[, 1]),
             zph_km = unname(cox.zph(f)$table[, 1]),
             surv_pred = as.vector(summary(survfit(f, newdata = veteran[c(1, 2, 3), ]),
                                           times = c(10, 50, 100))$surv))})""",
    "veteran_celltype": """local({f <- coxph(Surv(time, status) ~ trt + karno + age +
        celltype, veteran, ties = "breslow")
        list(coef = unname(coef(f)), se = unname(sqrt(diag(f$var))), loglik = f$loglik,
             zph_km = unname(cox.zph(f)$table[, 1]), zph_df = unname(cox.zph(f)$table[, 2]))})""",
    "survdiff": """local({a <- survdiff(Surv(time, status) ~ sex, lung)
        b <- survdiff(Surv(time, status) ~ trt + strata(celltype), veteran)
        c <- survdiff(Surv(time, status) ~ sex, lung, rho = 1)
        list(lung_chisq = a$chisq, lung_obs = a$obs, lung_exp = a$exp,
             vet_chisq = b$chisq, vet_obs = rowSums(b$obs), vet_exp = rowSums(b$exp),
             rho1_chisq = c$chisq, rho1_exp = c$exp)})""",
}

KM_CASES = ("log", "log-log", "plain")


sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_io import atomic_write_text  # noqa: E402


def main() -> None:
    from radsem._r import from_r_dataframe, require_r

    require_r("survival")
    import rpy2.robjects as ro

    ro.r("suppressMessages(library(survival))")
    ro.globalenv["lung"] = ro.r("survival::lung")
    ro.globalenv["veteran"] = ro.r("survival::veteran")
    version = str(ro.r('as.character(packageVersion("survival"))')[0])
    refs: dict = {"versions": {"R": str(ro.r("R.version.string")[0]), "survival": version}}
    for name, code in CASES.items():
        res = ro.r(code)
        refs[name] = {k: np.asarray(res.rx2(k), float).tolist() for k in res.names}
    for ct in KM_CASES:
        ro.globalenv["ct"] = ct
        res = ro.r("""local({f <- survfit(Surv(time, status) ~ sex, lung, conf.type = ct)
            s <- summary(f, censored = TRUE); m <- summary(f)$table
            list(time = s$time, n_risk = s$n.risk, n_event = s$n.event, surv = s$surv,
                 std_err = s$std.err, lower = s$lower, upper = s$upper,
                 median = unname(m[, "median"]), median_lower = unname(m[, "0.95LCL"]),
                 median_upper = unname(m[, "0.95UCL"]))})""")
        refs[f"km_{ct}"] = {k: np.asarray(res.rx2(k), float).tolist() for k in res.names}
    OUT.mkdir(parents=True, exist_ok=True)
    lung = from_r_dataframe(ro.globalenv["lung"])
    lung["dead"] = (lung["status"] == 2).astype(int)
    vet = from_r_dataframe(ro.globalenv["veteran"])
    vet["celltype"] = vet["celltype"].astype(str)
    for frame, fname in ((lung, "lung.csv"), (vet, "veteran.csv")):
        atomic_write_text(OUT / fname, frame.to_csv(index=False))
    atomic_write_text(OUT / "references.json", json.dumps(refs, indent=1))
    print(f"wrote {len(refs) - 1} reference blocks to {OUT}")


if __name__ == "__main__":
    main()
