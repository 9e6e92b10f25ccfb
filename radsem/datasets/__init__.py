"""Classic example data sets (lavaan's SEM examples, R survival's lung and veteran); their
textbook models in lavaan syntax are in :mod:`radsem.datasets.example_models`."""

from radsem.datasets._load import available, describe, load

__all__ = ["load", "available", "describe"]
