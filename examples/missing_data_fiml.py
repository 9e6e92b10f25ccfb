"""Full-information maximum likelihood with robust (MLR) standard errors on incomplete data.

In radiogenomic cohorts gene expression exists for only part of the patients. Listwise deletion
throws the others away; FIML (``missing="ml"``) uses every observed value. This script removes
20% of the Holzinger-Swineford values at random, depending on an observed variable (missing at
random), and compares the listwise and FIML fits with the complete-data fit.
"""

import numpy as np
import pandas as pd

import radsem
from radsem.datasets import load

MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

rng = np.random.default_rng(7)
complete = load("HolzingerSwineford1939")[[f"x{i}" for i in range(1, 10)]]
incomplete = complete.copy()
# missing at random: the probability of losing x2..x9 rises with x1, which stays observed
prob = 0.4 / (1 + np.exp(-(complete["x1"] - complete["x1"].mean())))
for column in incomplete.columns[1:]:
    incomplete.loc[rng.random(len(incomplete)) < prob, column] = np.nan
print(f"share of missing values: {incomplete.isna().to_numpy().mean():.1%}")

# Listwise deletion keeps only the complete rows (69 of 301 here); on so few rows the model has an
# improper solution (a negative residual variance, a Heywood case, which lavaan reproduces), and
# radsem says so with an ImproperSolutionWarning rather than hiding it.
print(f"complete rows kept by listwise deletion: {len(incomplete.dropna())} of {len(incomplete)}")
fits = {
    "complete data": radsem.cfa(MODEL, complete),
    "listwise deletion": radsem.cfa(MODEL, incomplete.dropna()),
    "FIML + MLR": radsem.cfa(MODEL, incomplete, missing="ml", estimator="MLR"),
}
loadings = pd.DataFrame(
    {
        name: fit.parameter_estimates().query("op == '=~'").set_index("rhs")["est"]
        for name, fit in fits.items()
    }
)
print(loadings.round(3).to_string())
print(
    fits["FIML + MLR"]
    .fit_measures()[["chisq.scaled", "df", "cfi.robust", "rmsea.robust"]]
    .round(3)
    .to_string()
)
