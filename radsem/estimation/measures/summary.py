"""A text report laid out like lavaan's ``summary()``."""

from __future__ import annotations

import numpy as np

__all__ = ["summary_text"]

_SECTIONS = (
    ("=~", "Latent Variables"),
    ("~", "Regressions"),
    ("~~cov", "Covariances"),
    ("~1", "Intercepts"),
    ("~~var", "Variances"),
)


def _num(x: float, width: int = 9, digits: int = 3) -> str:
    if x is None or not np.isfinite(x):
        return " " * width
    return f"{x:{width}.{digits}f}"


def _rows(t, key):
    if key == "~~cov":
        return t[(t["op"] == "~~") & (t["lhs"] != t["rhs"])]
    if key == "~~var":
        return t[(t["op"] == "~~") & (t["lhs"] == t["rhs"])]
    return t[t["op"] == key]


def _section(lines, t, key, title, endo=frozenset()):
    sub = _rows(t, key)
    if sub.empty:
        return
    lines += [
        "",
        f"{title}:",
        f"{'':20}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}"
        f"{'P(>|z|)':>9}{'Std.lv':>9}{'Std.all':>9}",
    ]
    last = None
    for r in sub.itertuples():
        if key in ("=~", "~") or key == "~~cov":
            if r.lhs != last:
                lines.append(f"  {r.lhs} {r.op if key != '~~cov' else '~~'}")
                last = r.lhs
            name = f"    {r.rhs}"
        else:
            name = f"   .{r.lhs}" if r.lhs in endo else f"    {r.lhs}"
        if r.label:
            name = f"{name} ({r.label})"
        fixed = not (r.se > 0)
        lines.append(
            f"{name:<20.20}{_num(r.est)}{'' if fixed else _num(r.se)}"
            f"{'' if fixed else _num(r.z, 9, 3)}{'' if fixed else _num(r.pvalue)}"
            f"{' ' * 27 if fixed else ''}{_num(r.std_lv)}{_num(r.std_all)}"
            if not fixed
            else f"{name:<20.20}{_num(r.est)}{' ' * 27}{_num(r.std_lv)}{_num(r.std_all)}"
        )


def summary_text(fit) -> str:
    """The report: header, model test, then parameters by section."""
    fm = fit.fit_measures()
    pe = fit.parameter_estimates()
    pb = fit.problem
    lines = [
        f"radsem {fit.options['model_type']}() fit "
        f"{'ended normally' if fit.converged else 'did NOT converge'} after "
        f"{fit.iterations} iterations",
        "",
        f"  {'Estimator':<40}{fit.options['estimator']:>12}",
        f"  {'Optimization method':<26}{fit._result.method:>26}",
        f"  {'Number of model parameters':<40}{int(pb.nfree):>12}",
    ]
    if fit.problem.constraints.n_eq:
        lines.append(f"  {'Number of equality constraints':<40}{fit.problem.constraints.n_eq:>12}")
    lines.append("")
    if len(pb.stats) > 1:
        lines.append(f"  {'Number of observations per group:':<40}")
        for lab, st in zip(fit.spec.group_labels, pb.stats, strict=True):
            lines.append(f"    {str(lab):<38}{st.nobs:>12}")
    else:
        lines.append(f"  {'Number of observations':<40}{pb.stats[0].nobs:>12}")
    lines += [
        "",
        "Model Test User Model:",
        "",
        f"  {'Test statistic':<40}{fm['chisq']:>12.3f}",
        f"  {'Degrees of freedom':<40}{int(fm['df']):>12}",
    ]
    if np.isfinite(fm.get("pvalue", np.nan)):
        lines.append(f"  {'P-value (Chi-square)':<40}{fm['pvalue']:>12.3f}")
    if "chisq.scaled" in fm.index or fit.options.get("test"):
        from radsem.estimation.robust.test_table import summary_lines

        lines += summary_lines(fit)
    lines += [
        "",
        "Parameter Estimates:",
        "",
        f"  {'Standard errors':<30}{fit.options.get('se', 'standard'):>22}",
        f"  {'Information':<40}{fit.options.get('information', 'expected').title():>12}",
    ]
    for g in range(1, len(pb.stats) + 1):
        t = pe[pe["group"] == g]
        if len(pb.stats) > 1:
            lines += ["", f"Group {g} [{fit.spec.group_labels[g - 1]}]:"]
        endo = frozenset(t.loc[t["op"] == "=~", "rhs"]) | frozenset(t.loc[t["op"] == "~", "lhs"])
        for key, title in _SECTIONS:
            _section(lines, t, key, title, endo)
    defined = pe[pe["op"] == ":="]
    if len(defined):
        lines += [
            "",
            "Defined Parameters:",
            f"{'':20}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}",
        ]
        for r in defined.itertuples():
            lines.append(f"    {r.lhs:<16.16}{_num(r.est)}{_num(r.se)}{_num(r.z)}{_num(r.pvalue)}")
    return "\n".join(lines) + "\n"
