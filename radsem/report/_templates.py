"""The jinja2 templates of the reports (package data under ``radsem/report/templates``)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

__all__ = ["render", "read_asset"]


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    from radsem.report.latex import latex_escape

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("radsem.report", "templates"),
        # HTML templates escape every value; Markdown and LaTeX ones escape where they say so
        # (the ``latex`` filter) or take text that is already formatted (tables)
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["latex"] = latex_escape
    return env


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` (``"report.html.j2"``, ``"report.md.j2"``,
    ``"report.tex.j2"``, ...) with ``context``."""
    return _environment().get_template(name).render(**context)


@functools.lru_cache(maxsize=None)
def read_asset(name: str) -> str:
    """A static file of the templates folder (e.g. the report's CSS), as text."""
    return resources.files("radsem.report").joinpath("templates", name).read_text("utf-8")
