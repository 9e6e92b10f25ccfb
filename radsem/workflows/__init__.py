"""Workflows behind the ``radsem fit`` and ``radsem compare`` commands, usable from Python:
fit a model file to a data file, and run a comparison described by a YAML file."""

from radsem.workflows._yaml import ConfigError
from radsem.workflows.compare_config import (
    ComparisonConfig,
    load_comparison,
    read_comparison_config,
)
from radsem.workflows.compare_workflow import (
    ComparisonData,
    ComparisonRun,
    read_comparison_data,
    run_comparison,
)
from radsem.workflows.families import register_family, registered_families, unregister_family
from radsem.workflows.fit_workflow import (
    FitWorkflowResult,
    ModelFileSyntaxError,
    fit_files,
    read_model_file,
)

__all__ = [
    "fit_files",
    "FitWorkflowResult",
    "ModelFileSyntaxError",
    "read_model_file",
    "ConfigError",
    "ComparisonConfig",
    "read_comparison_config",
    "load_comparison",
    "ComparisonData",
    "ComparisonRun",
    "read_comparison_data",
    "run_comparison",
    "register_family",
    "unregister_family",
    "registered_families",
]
