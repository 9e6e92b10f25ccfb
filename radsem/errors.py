"""Exceptions and warnings raised by radsem.

Every error radsem raises on purpose derives from :class:`RadsemError`, so a script can catch
all of them at once; the subclasses say which kind of input was wrong.
"""

from __future__ import annotations

__all__ = [
    "RadsemError",
    "ModelSyntaxError",
    "ModelSpecificationError",
    "DataError",
    "ImageError",
    "EstimationError",
    "EngineUnavailableError",
    "MissingExtraError",
    "RadsemWarning",
    "ConvergenceWarning",
    "ImproperSolutionWarning",
    "DataWarning",
]


class RadsemError(Exception):
    """Base class of every error radsem raises deliberately."""


class ModelSyntaxError(RadsemError, ValueError):
    """A model written in lavaan syntax cannot be parsed.

    Parameters
    ----------
    message : str
        What is wrong, in words a lavaan user understands.
    line, column : int
        1-based position of the offending token in the model text.
    text : str, optional
        The offending line, shown under the message with a caret.
    """

    def __init__(self, message: str, line: int, column: int, text: str | None = None) -> None:
        self.message = message
        self.line = int(line)
        self.column = int(column)
        self.text = text
        full = f"line {self.line}, column {self.column}: {message}"
        if text is not None:
            full += f"\n    {text}\n    {' ' * max(self.column - 1, 0)}^"
        super().__init__(full)

    def __reduce__(self):
        return (type(self), (self.message, self.line, self.column, self.text))


class ModelSpecificationError(RadsemError, ValueError):
    """A syntactically valid model that cannot be estimated as written.

    Examples: a latent variable without indicators, a label used with conflicting
    values, an equality constraint on an unknown label, an unidentified model.

    Parameters
    ----------
    message : str
    line, column : int, optional
        1-based position in the model text when the problem has one (``None`` for problems
        of options or of the model as a whole).
    text : str, optional
        The offending line, shown under the message with a caret.
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        text: str | None = None,
    ) -> None:
        self.message = message
        self.line = None if line is None else int(line)
        self.column = None if column is None else int(column)
        self.text = text
        full = message
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
            full = f"{where}: {message}"
            if text is not None and self.column:
                full += f"\n    {text}\n    {' ' * max(self.column - 1, 0)}^"
        super().__init__(full)

    def __reduce__(self):
        return (type(self), (self.message, self.line, self.column, self.text))


class DataError(RadsemError, ValueError):
    """Input data are unusable: missing or unknown columns, wrong types, values out of range,
    too few rows, all-missing columns, a non-positive-definite covariance matrix, ..."""


class ImageError(RadsemError):
    """An image or mask cannot be used: unreadable file, empty mask, geometry mismatch, ..."""


class EstimationError(RadsemError, RuntimeError):
    """Estimation failed in a way that leaves no usable solution."""


class EngineUnavailableError(RadsemError, ImportError):
    """An optional engine (lavaan through rpy2, semopy, ...) is not installed or not usable."""


class MissingExtraError(EngineUnavailableError):
    """A feature needs an optional extra of radsem (``imaging``, ``deep`` or ``r``) that is not
    installed; the message names the ``pip install "radsem[...]"`` line to run."""

    def __init__(self, message: str, extra: str) -> None:
        self.extra = extra
        super().__init__(message)


class RadsemWarning(UserWarning):
    """Base class of radsem's warnings."""


class ConvergenceWarning(RadsemWarning):
    """The optimiser stopped without meeting its convergence criterion."""


class ImproperSolutionWarning(RadsemWarning):
    """The solution is improper: negative variances (Heywood cases) or a non-positive-definite
    covariance matrix of latent variables or residuals."""


class DataWarning(RadsemWarning):
    """Data were usable but something deserves attention (dropped rows, near-singularity, ...)."""
