"""The drift report's formats: :data:`FORMATS`, one renderer per format in :data:`RENDERERS`, and ``render``.

Each format is one module (``table``, ``json_report``, ``markdown``, ``sarif``); what they share (class titles,
value display, cells, the headline) is in ``common``.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_mistral.cli.drift.formats.json_report import render_json
from pulumi_mistral.cli.drift.formats.markdown import render_markdown
from pulumi_mistral.cli.drift.formats.sarif import render_sarif
from pulumi_mistral.cli.drift.formats.table import render_table
from pulumi_mistral.cli.drift.report import Report

__all__ = ["FORMATS", "RENDERERS", "render", "render_json", "render_markdown", "render_sarif", "render_table"]

FORMATS: tuple[str, ...] = ("table", "json", "markdown", "sarif")
RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
}


def render(report: Report, fmt: str = "table") -> str:
    """The report in one of :data:`FORMATS`."""
    return RENDERERS[fmt](report)
