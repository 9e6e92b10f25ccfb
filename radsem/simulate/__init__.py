"""Synthetic cervical-cancer radiogenomic cohorts with known ground truth.

See ``docs/simulate.md`` for the generating model.
"""

from radsem.simulate.expression import lavaan_name, loading_table, measurement_syntax
from radsem.simulate.in_memory import SimulatedCohort, simulate_cohort
from radsem.simulate.parameters import MECHANISMS, SimulationParameters, default_parameters
from radsem.simulate.writer import simulate, write_cohort

__all__ = [
    "simulate_cohort",
    "SimulatedCohort",
    "write_cohort",
    "simulate",
    "SimulationParameters",
    "default_parameters",
    "loading_table",
    "measurement_syntax",
    "lavaan_name",
    "MECHANISMS",
]
