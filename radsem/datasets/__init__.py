"""Classic example data sets (lavaan's SEM examples, R survival's lung and veteran)."""

from radsem.datasets._load import available, describe, load

__all__ = ["load", "available", "describe"]
