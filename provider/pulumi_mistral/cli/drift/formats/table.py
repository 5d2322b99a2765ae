"""The ``table`` format: the headline, one aligned row per finding with its details, then what was not compared."""

from __future__ import annotations

from pulumi_mistral.cli.drift.formats.common import NOT_COMPARED, cell, headline
from pulumi_mistral.cli.drift.report import Report

__all__ = ["render_table"]


def render_table(report: Report) -> str:
    lines = [headline(report)]
    if report.findings:
        header = ("CONNECTOR", "CLASS", "PROPERTY/TOOL", "DECLARED", "LIVE")
        rows = [(f.connector, f.cls, f.item or "-", cell(f.declared), cell(f.live)) for f in report.findings]
        widths = [max(len(header[i]), *(len(cell(r[i])) for r in rows)) for i in range(5)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines += ["", fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
        for finding, row in zip(report.findings, rows, strict=True):
            lines.append(fmt.format(*(cell(c) for c in row)).rstrip())
            if finding.cls in ("settings", "tools"):
                lines.extend(f"    {' '.join(d.split())}" for d in finding.details)
    if report.unknown:
        lines += ["", f"Not compared ({NOT_COMPARED}):"]
        lines += [f"  {name}: {', '.join(props)}" for name, props in sorted(report.unknown.items())]
    for error in report.errors:
        lines.append(f"error: {error}")
    return "\n".join(lines) + "\n"
