"""Workflows behind the ``radsem fit`` and ``radsem compare`` commands, usable from Python:
fit a model file to a data file, and run a comparison described by a YAML file."""

from radsem.workflows.fit_workflow import (
    FitWorkflowResult,
    ModelFileSyntaxError,
    fit_files,
    read_model_file,
)

__all__ = ["fit_files", "FitWorkflowResult", "ModelFileSyntaxError", "read_model_file"]
