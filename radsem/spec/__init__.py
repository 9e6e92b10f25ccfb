"""lavaan model syntax: parsing, the parameter table and safe constraint expressions."""

from radsem.spec.expression import Expression, compile_expression
from radsem.spec.model import ModelSpec
from radsem.spec.names import VariableNames, variable_names
from radsem.spec.options import SpecOptions
from radsem.spec.partable import PARTABLE_COLUMNS, build_partable
from radsem.spec.syntax import Modifier, Statement, Term, parse_model

__all__ = [
    "parse_model",
    "build_partable",
    "compile_expression",
    "ModelSpec",
    "Statement",
    "Term",
    "Modifier",
    "Expression",
    "SpecOptions",
    "VariableNames",
    "variable_names",
    "PARTABLE_COLUMNS",
]
