"""What a model written in lavaan syntax declares, read once before it is fitted.

:func:`radsem.estimation.api.fit_model` routes a model to its family by this declaration:
``level:`` blocks make it a two-level model, a ``name =~ Surv(time, event)`` statement a
survival-outcome model; thresholds written in the syntax (``y | t1``) make its variables
ordered. The variable names let the router see which data columns the model uses (ordered
pandas Categoricals among them make the model ordinal).
"""

from __future__ import annotations

from dataclasses import dataclass

from radsem.errors import RadsemError
from radsem.syntax._tokens import Token, split_statements
from radsem.syntax.efa import split_efa
from radsem.syntax.levels import has_levels
from radsem.syntax.names import VariableNames, variable_names
from radsem.syntax.partable import _user_rows

__all__ = ["ModelDeclaration", "read_declaration"]


@dataclass(frozen=True)
class ModelDeclaration:
    """The families a model declares.

    Attributes
    ----------
    survival : bool
        A statement calls ``Surv(...)`` (a censored-time outcome, ``name =~ Surv(time, event)``).
    levels : bool
        ``level: 1`` / ``level: 2`` block labels (a two-level model).
    efa : bool
        ``efa("block")*`` modifiers (exploratory blocks, rotated).
    names : VariableNames or None
        The model's variables by role (``None`` for survival-outcome and two-level models and
        for syntax that does not parse: the family's own parser then reports the error).
    """

    survival: bool
    names: VariableNames | None
    levels: bool = False
    efa: bool = False

    @property
    def thresholds(self) -> tuple[str, ...]:
        """Observed variables with thresholds written in the syntax (``y | t1 + t2``)."""
        return () if self.names is None else tuple(self.names.ov_ord)

    @property
    def observed(self) -> tuple[str, ...]:
        """Observed variables of the model (empty when unknown)."""
        return () if self.names is None else tuple(self.names.ov)


def _calls_surv(statement: list[Token]) -> bool:
    return any(
        tok.kind == "NAME" and tok.text == "Surv" and nxt.text == "("
        for tok, nxt in zip(statement, statement[1:], strict=False)
    )


def read_declaration(model: object) -> ModelDeclaration:
    """Read what ``model`` declares (never raises: errors are the fitting family's to report).

    Parameters
    ----------
    model : str
        lavaan model syntax (anything else declares nothing: the families check it).

    Returns
    -------
    ModelDeclaration

    Examples
    --------
    >>> read_declaration("f =~ x1 + x2\\nr =~ Surv(t, d)\\nr ~ f").survival
    True
    >>> read_declaration("f =~ u1 + u2 + u3\\nu1 | t1").thresholds
    ('u1',)
    """
    if not isinstance(model, str):
        return ModelDeclaration(False, None)
    if "level" in model and has_levels(model):
        return ModelDeclaration(False, None, levels=True)
    if "Surv" in model:  # tokens tell a Surv() call from a name, a comment or a label
        try:
            statements, _ = split_statements(model)
        except RadsemError:
            return ModelDeclaration(False, None)
        if any(_calls_surv(st) for st in statements):
            return ModelDeclaration(True, None)
    if "efa" in model and split_efa(model)[1]:
        return ModelDeclaration(False, None, efa=True)
    try:
        names = variable_names(_user_rows(model)[1])
    except Exception:  # noqa: BLE001 - syntax errors are reported by the family's parser
        names = None
    return ModelDeclaration(False, names)
