"""The audit report's formats (table, json, markdown, sarif), on the drift report's shared helpers and SARIF log."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pulumi_mistral.cli import report_envelope
from pulumi_mistral.cli.audit.report import AuditReport
from pulumi_mistral.cli.drift.formats import FORMATS
from pulumi_mistral.cli.drift.formats.common import md
from pulumi_mistral.cli.drift.formats.sarif import sarif_log
from pulumi_mistral.policy.rules import RULES

__all__ = ["FORMATS", "render"]

SARIF_LEVELS = {"advisory": "warning", "mandatory": "error", "remediate": "error"}


def headline(report: AuditReport) -> str:
    scope = (
        f"{report.connectors} connector{'s' if report.connectors != 1 else ''}"
        + (f", {report.ignored} ignored" if report.ignored else "")
        + f", {len(report.rules)} rule{'s' if len(report.rules) != 1 else ''}"
    )
    if not report.findings:
        return f"Audit clean: no connector breaks a rule ({scope})."
    blocking = len(report.blocking)
    return (
        f"Audit: {len(report.findings)} violation{'s' if len(report.findings) != 1 else ''} ({blocking} "
        f"mandatory, {len(report.findings) - blocking} advisory) ({scope})."
    )


def _not_applied(report: AuditReport) -> str | None:
    if not report.skipped:
        return None
    return f"Not applied (a live connector does not show what they check): {', '.join(report.skipped)}."


def render_table(report: AuditReport) -> str:
    lines = [headline(report)]
    if report.findings:
        header = ("CONNECTOR", "RULE", "LEVEL", "MESSAGE")
        rows = [(f.connector, f.rule, f.level, " ".join(f.message.split())) for f in report.findings]
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(3)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
        lines += ["", fmt.format(*header), fmt.format(*("-" * w for w in widths), "-------")]
        lines += [fmt.format(*row).rstrip() for row in rows]
    note = _not_applied(report)
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def render_json(report: AuditReport) -> str:
    doc = {
        **report_envelope(report.source, report.exit_code),
        "summary": {
            "connectors": report.connectors,
            "ignored": report.ignored,
            "findings": len(report.findings),
            "mandatory": len(report.blocking),
            "advisory": len(report.findings) - len(report.blocking),
            "rules": [r.id for r in report.rules],
            "not_applied": report.skipped,
            "requests": report.requests,
        },
        "findings": [f.to_dict() for f in report.findings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_markdown(report: AuditReport) -> str:
    lines = [
        f"### Connector audit: {len(report.findings)} violation{'s' if len(report.findings) != 1 else ''}",
        "",
        md(headline(report)),
        "",
    ]
    if report.findings:
        lines += ["| Connector | Rule | Level | Message |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {md(f.connector)} | {md(f.rule, code=True)} | {md(f.level)} | {md(f.message)} |"
            for f in report.findings
        ]
        lines.append("")
    note = _not_applied(report)
    if note:
        lines += [md(note), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_sarif(report: AuditReport) -> str:
    rule_ids = [r.id for r in RULES]
    results: list[dict[str, Any]] = []
    for f in report.findings:
        # Code scanning needs a file and a line: the config file the rules come from (else the API's URL).
        location = {
            "physicalLocation": {"artifactLocation": {"uri": report.source}, "region": {"startLine": 1}},
            "logicalLocations": [
                {"name": f.connector, "kind": "resource", "fullyQualifiedName": f"connector/{f.connector}/{f.rule}"}
            ],
        }
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule),
                "level": SARIF_LEVELS.get(f.level, "warning"),
                "message": {"text": f"Connector '{f.connector}': {f.message}."},
                "locations": [location],
                "partialFingerprints": {"connectorRule/v1": f"{f.rule}:{f.connector_id or f.connector}"},
            }
        )
    note = _not_applied(report)
    notes = [{"level": "note", "message": {"text": note}}] if note else []
    return sarif_log(
        tool="pulumi-mistral audit",
        rules=[(r.id, r.id, r.description) for r in RULES],
        results=results,
        notifications=notes,
    )


RENDERERS: dict[str, Callable[[AuditReport], str]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
}


def render(report: AuditReport, fmt: str = "table") -> str:
    """The report in one of :data:`FORMATS` (the drift command's formats)."""
    return RENDERERS[fmt](report)
