"""Fit a confirmatory factor analysis with radsem and cross-check it against lavaan.

The three-factor model of Holzinger and Swineford (1939) is the standard first example of lavaan;
radsem reproduces lavaan's estimates, standard errors and fit measures. The cross-check needs R
with lavaan and rpy2; without them the script says so and still shows radsem's fit.
"""

import radsem
from radsem.datasets import load
from radsem.errors import EngineUnavailableError

MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

data = load("HolzingerSwineford1939")
fit = radsem.cfa(MODEL, data)
print(fit.summary())

measures = fit.fit_measures()
print(
    measures[
        ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr"]
    ]
    .round(3)
    .to_string()
)

# the five largest modification indices (lavaan's modindices(fit, sort. = TRUE))
print(fit.modindices().sort_values("mi", ascending=False).head(5).round(3).to_string())

try:
    check = fit.cross_check(engine="lavaan")
except EngineUnavailableError as exc:
    print(f"lavaan cross-check skipped: {exc}")
else:
    print(check)
    if not check.agree:
        raise SystemExit("radsem and lavaan disagree beyond the documented tolerances")
