"""lavaan-style ``summary()`` of a categorical fit (thresholds, scales, WLSMV test)."""

from __future__ import annotations

import numpy as np

from radsem.estimation.measures.summary import _section

__all__ = ["ordinal_summary"]

_SECTIONS = (
    ("=~", "Latent Variables"),
    ("~", "Regressions"),
    ("~~cov", "Covariances"),
    ("~1", "Intercepts"),
    ("|", "Thresholds"),
    ("~~var", "Variances"),
    ("~*~", "Scales y*"),
)


def _header(fit, fm) -> list[str]:
    pb = fit.problem
    opts = fit.options
    lines = [
        f"radsem {opts['model_type']}() fit "
        f"{'ended normally' if fit.converged else 'did NOT converge'} after "
        f"{fit.iterations} iterations",
        "",
        f"  {'Estimator':<40}{pb.estimator_name:>12}",
        f"  {'Optimization method':<26}{fit._result.method:>26}",
        f"  {'Number of model parameters':<40}{int(pb.nfree):>12}",
    ]
    if pb.constraints.n_eq:
        lines.append(f"  {'Number of equality constraints':<40}{pb.constraints.n_eq:>12}")
    lines.append("")
    if len(pb.stats) > 1:
        lines.append("  Number of observations per group:")
        for lab, st in zip(fit.spec.group_labels, pb.stats, strict=True):
            lines.append(f"    {str(lab):<38}{st.nobs:>12}")
    else:
        lines.append(f"  {'Number of observations':<40}{pb.stats[0].nobs:>12}")
    lines += ["", "Model Test User Model:"]
    mv = "chisq.scaled" in fm.index
    lines.append(f"  {'':<40}{'Standard':>12}{'Scaled':>12}" if mv else "")
    row = f"  {'Test Statistic':<40}{fm['chisq']:>12.3f}"
    lines.append(row + (f"{fm['chisq.scaled']:>12.3f}" if mv else ""))
    row = f"  {'Degrees of freedom':<40}{int(fm['df']):>12}"
    lines.append(row + (f"{int(fm['df.scaled']):>12}" if mv else ""))
    row = f"  {'P-value (Chi-square)':<40}{fm['pvalue']:>12.3f}"
    lines.append(row + (f"{fm['pvalue.scaled']:>12.3f}" if mv else ""))
    if mv and fit.options["test"] == "satorra.bentler":
        lines += [
            f"  {'Scaling correction factor':<52}{fm['chisq.scaling.factor']:>12.3f}",
            "    Satorra-Bentler correction",
        ]
    elif mv:
        shift = fit._scaled_test[2]
        lines += [
            f"  {'Scaling correction factor':<52}{fm['chisq.scaling.factor']:>12.3f}",
            f"  {'Shift parameter':<52}{shift:>12.3f}",
            "    simple second-order correction",
        ]
    return lines


def ordinal_summary(fit) -> str:
    """The report: header, model test, then parameters by section (with thresholds)."""
    fm = fit.fit_measures()
    pe = fit.parameter_estimates()
    lines = _header(fit, fm)
    se_name = {"robust.sem": "Robust.sem", "standard": "Standard", "none": "None"}
    lines += [
        "",
        "Parameter Estimates:",
        "",
        f"  {'Standard errors':<30}{se_name.get(fit.options['se'], fit.options['se']):>22}",
        f"  {'Information':<40}{'Expected':>12}",
        f"  {'Parameterization':<40}{fit.options['parameterization'].title():>12}",
    ]
    ngroups = len(fit.problem.stats)
    for g in range(1, ngroups + 1):
        t = pe[pe["group"] == g]
        if ngroups > 1:
            lines += ["", f"Group {g} [{fit.spec.group_labels[g - 1]}]:"]
        endo = frozenset(t.loc[t["op"] == "=~", "rhs"]) | frozenset(t.loc[t["op"] == "~", "lhs"])
        for key, title in _SECTIONS:
            if key in ("|", "~*~"):
                sub = t[t["op"] == key].copy()
                if key == "|":
                    sub["lhs"] = sub["lhs"] + "|" + sub["rhs"]
                _section(lines, sub.assign(op="~1"), "~1", title)
            else:
                _section(lines, t, key, title, endo)
    defined = pe[pe["op"] == ":="]
    if len(defined):
        lines += ["", "Defined Parameters:"]
        for r in defined.itertuples():
            z = r.z if np.isfinite(r.z) else np.nan
            lines.append(f"    {r.lhs:<16.16}{r.est:9.3f}{r.se:9.3f}{z:9.3f}{r.pvalue:9.3f}")
    return "\n".join(lines) + "\n"
