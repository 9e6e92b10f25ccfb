"""lavaan model syntax: parsing, the parameter table and safe constraint expressions."""

from radsem.syntax.call_args import parse_lavaan_arguments, parse_lavaan_call
from radsem.syntax.expression import Expression, compile_expression
from radsem.syntax.model import ModelSpec
from radsem.syntax.names import VariableNames, variable_names
from radsem.syntax.options import SpecOptions
from radsem.syntax.parse import Modifier, Statement, Term, parse_model
from radsem.syntax.partable import PARTABLE_COLUMNS, build_partable

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
    "parse_lavaan_arguments",
    "parse_lavaan_call",
]
