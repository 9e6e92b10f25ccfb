"""The textbook models fitted to the example data sets, in lavaan syntax.

They are the models of lavaan's tutorial, used across radsem's documentation, parity tests and
benchmarks, so that every comparison with lavaan fits exactly the same specification.
"""

from __future__ import annotations

__all__ = ["HOLZINGER_SWINEFORD_CFA", "POLITICAL_DEMOCRACY_SEM"]

#: Three correlated factors of mental ability (Holzinger & Swineford, 1939), for
#: ``load("HolzingerSwineford1939")``.
HOLZINGER_SWINEFORD_CFA = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

#: Industrialisation and political democracy in 1960 and 1965 (Bollen, 1989), with loadings made
#: equal over time through shared labels and autocorrelated residuals, for
#: ``load("PoliticalDemocracy")``.
POLITICAL_DEMOCRACY_SEM = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""
