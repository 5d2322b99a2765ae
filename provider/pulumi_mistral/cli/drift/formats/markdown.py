"""The ``markdown`` format, for a pull-request comment: hostile tool text is escaped or kept in code spans."""

from __future__ import annotations

from collections.abc import Callable

from pulumi_mistral.cli.drift.formats.common import CLASS_TITLES, NOT_COMPARED, cell, headline, md
from pulumi_mistral.cli.drift.report import CLASSES, Finding, Report

__all__ = ["render_markdown"]


# Each class of finding: its table header and how a finding becomes a row.
_SECTIONS: dict[str, tuple[tuple[str, ...], Callable[[Finding], tuple[str, ...]]]] = {
    "tools": (
        ("Connector", "Tool", "Change", "Details", "Policy"),
        lambda f: (
            md(f.connector),
            md(f.item, code=True),
            md(f.live),
            "<br>".join(md(d, code=True) for d in f.details),
            md(f.policy),
        ),
    ),
    "settings": (
        ("Connector", "Property", "Declared", "Live"),
        lambda f: (
            md(f.connector),
            md(f.item),
            md(cell(f.declared, 80), code=True),
            md(cell(f.live, 80), code=True) + "".join(f"<br>{md(d)}" for d in f.details),
        ),
    ),
    "deleted": (("Connector", "Connector id"), lambda f: (md(f.connector), md(f.connector_id or "-"))),
    "unmanaged": (("Connector", "Connector id"), lambda f: (md(f.connector), md(f.connector_id or "-"))),
}


def render_markdown(report: Report) -> str:
    counts = report.counts()
    lines = [
        f"### Connector drift: {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}",
        "",
        md(headline(report)),
        "",
    ]
    if report.findings:
        lines += ["| Class | Findings |", "| --- | ---: |"]
        lines += [f"| {CLASS_TITLES[c]} | {counts[c]} |" for c in CLASSES]
        lines.append("")
    for cls in ("tools", "settings", "deleted", "unmanaged"):
        items = [f for f in report.findings if f.cls == cls]
        if not items:
            continue
        header, row = _SECTIONS[cls]
        lines += [
            f"#### {CLASS_TITLES[cls]}",
            "",
            "| " + " | ".join(header) + " |",
            "| " + " | ".join("---" for _ in header) + " |",
        ]
        lines += ["| " + " | ".join(row(f)) + " |" for f in items]
        lines.append("")
    if report.unknown:
        lines += [
            "#### Not compared",
            "",
            md(NOT_COMPARED[:1].upper() + NOT_COMPARED[1:] + "."),
            "",
            "| Connector | Properties |",
            "| --- | --- |",
        ]
        lines += [f"| {md(name)} | {md(', '.join(props))} |" for name, props in sorted(report.unknown.items())]
        lines.append("")
    if report.errors:
        lines += ["#### Errors", ""] + [f"- {md(e)}" for e in report.errors] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
