"""The ``json`` format: the whole report as one JSON document (version 1: summary, findings, unknown, errors)."""

from __future__ import annotations

import json

from pulumi_mistral.cli import report_envelope
from pulumi_mistral.cli.drift.report import Report

__all__ = ["render_json"]


def render_json(report: Report) -> str:
    doc = {
        **report_envelope(report.source, report.exit_code),
        "summary": {
            "declared": report.declared,
            "live": report.live,
            "ignored": report.ignored,
            "tools_checked": report.tools_checked,
            "findings": len(report.findings),
            **report.counts(),
            "errors": len(report.errors),
            "requests": report.requests,
        },
        "findings": [f.to_dict() for f in report.findings],
        "unknown": report.unknown,
        "errors": report.errors,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
