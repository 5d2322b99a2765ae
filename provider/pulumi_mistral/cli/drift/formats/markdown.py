"""The ``markdown`` format, for a pull-request comment: hostile tool text is escaped or kept in code spans."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pulumi_mistral.cli.drift.formats.common import CLASS_TITLES, NOT_COMPARED, cell, display, headline
from pulumi_mistral.cli.drift.report import CLASSES, Finding, Report

__all__ = ["render_markdown"]


def _md(value: Any, *, code: bool = False) -> str:
    text = " ".join(display(value).split())
    if code:  # tool texts are hostile input: a code span keeps links, images and HTML from rendering
        return "`" + text.replace("`", "'").replace("|", "\\|") + "`" if text else ""
    return re.sub(r"([\\|*_<>\[\]`#])", r"\\\1", text)


def render_markdown(report: Report) -> str:
    counts = report.counts()
    lines = [f"### Connector drift: {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}",
             "", _md(headline(report)), ""]
    if report.findings:
        lines += ["| Class | Findings |", "| --- | ---: |"]
        lines += [f"| {CLASS_TITLES[c]} | {counts[c]} |" for c in CLASSES]
        lines.append("")
    sections: dict[str, tuple[tuple[str, ...], Callable[[Finding], tuple[str, ...]]]] = {
        "tools": (("Connector", "Tool", "Change", "Details", "Policy"),
                  lambda f: (_md(f.connector), _md(f.item, code=True), _md(f.live),
                             "<br>".join(_md(d, code=True) for d in f.details), _md(f.policy))),
        "settings": (("Connector", "Property", "Declared", "Live"),
                     lambda f: (_md(f.connector), _md(f.item), _md(cell(f.declared, 80), code=True),
                                _md(cell(f.live, 80), code=True) + "".join(
                                    f"<br>{_md(d)}" for d in f.details))),
        "deleted": (("Connector", "Connector id"), lambda f: (_md(f.connector), _md(f.connector_id or "-"))),
        "unmanaged": (("Connector", "Connector id"), lambda f: (_md(f.connector), _md(f.connector_id or "-"))),
    }
    for cls in ("tools", "settings", "deleted", "unmanaged"):
        items = [f for f in report.findings if f.cls == cls]
        if not items:
            continue
        header, row = sections[cls]
        lines += [f"#### {CLASS_TITLES[cls]}", "", "| " + " | ".join(header) + " |",
                  "| " + " | ".join("---" for _ in header) + " |"]
        lines += ["| " + " | ".join(row(f)) + " |" for f in items]
        lines.append("")
    if report.unknown:
        lines += ["#### Not compared", "", _md(NOT_COMPARED[:1].upper() + NOT_COMPARED[1:] + "."), "",
                  "| Connector | Properties |", "| --- | --- |"]
        lines += [f"| {_md(name)} | {_md(', '.join(props))} |" for name, props in sorted(report.unknown.items())]
        lines.append("")
    if report.errors:
        lines += ["#### Errors", ""] + [f"- {_md(e)}" for e in report.errors] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
