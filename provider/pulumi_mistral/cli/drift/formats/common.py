"""What every report format shares: class titles, the "not compared" text, value display, cells, the headline.

``md`` (text for a Markdown table cell) is shared with the ``audit`` command's formats too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi_mistral.cli.drift.report import CLASSES, Report

__all__ = ["CELL_MAX", "CLASS_TITLES", "NOT_COMPARED", "cell", "display", "headline", "md"]

CLASS_TITLES: dict[str, str] = {
    "settings": "Settings drift",
    "tools": "Tool drift",
    "deleted": "Deleted",
    "unmanaged": "Unmanaged",
}
CELL_MAX = 44
NOT_COMPARED = "the declared value cannot be read here: a {secret:} reference or an encrypted stack-export value"


def display(value: Any) -> str:
    """A declared or live value as text: ``unset`` for None, strings as they are, anything else as compact JSON."""
    if value is None:
        return "unset"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def cell(value: Any, limit: int = CELL_MAX) -> str:
    """:func:`display` on one line, cut to ``limit`` characters (with an ellipsis)."""
    text = " ".join(display(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md(value: Any, *, code: bool = False) -> str:
    """``value`` on one line for Markdown: escaped, or in a code span (``code``) so hostile text cannot render
    links, images or HTML."""
    text = " ".join(display(value).split())
    if code:
        return "`" + text.replace("`", "'").replace("|", "\\|") + "`" if text else ""
    return re.sub(r"([\\|*_<>\[\]`#])", r"\\\1", text)


def headline(report: Report) -> str:
    """The one-line summary every human format starts with ("No drift: ..." or "Drift: N findings ...")."""
    counts = report.counts()
    total = len(report.findings)
    scope = f"{report.declared} declared, {report.live} live" + (
        f", {report.ignored} ignored" if report.ignored else ""
    )
    if not total and not report.errors:
        return f"No drift: the declared connectors match the workspace ({scope})."
    parts = ", ".join(f"{CLASS_TITLES[c].lower()} {counts[c]}" for c in CLASSES if counts[c])
    errors = f"; {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}" if report.errors else ""
    return f"Drift: {total} finding{'s' if total != 1 else ''} ({parts or 'none'}{errors}) ({scope})."
