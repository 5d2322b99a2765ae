"""The ``sarif`` format (SARIF 2.1.0 for code scanning): one rule per class, one located result per finding.

``sarif_log`` writes the document around the results; the ``audit`` command's SARIF uses it too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pulumi_mistral._version import __version__
from pulumi_mistral.cli.drift.formats.common import CLASS_TITLES, NOT_COMPARED, cell
from pulumi_mistral.cli.drift.report import CLASSES, Finding, Report

__all__ = ["RULES", "SARIF_SCHEMA", "render_sarif", "sarif_log"]

RULES: dict[str, tuple[str, str]] = {  # class -> (SARIF rule id, short description)
    "settings": ("settings-drift", "A declared connector property differs from the live connector."),
    "tools": ("tool-drift", "The MCP tools of a connector differ from its pinned or recorded tools."),
    "deleted": ("deleted", "A declared connector no longer exists in the workspace."),
    "unmanaged": ("unmanaged", "A connector exists in the workspace but is declared nowhere."),
}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _sarif_message(f: Finding) -> str:
    if f.cls == "settings":
        what = (
            f"{f.item} changed"
            if f.declared == "(secret)"
            else f"{f.item}: declared {cell(f.declared, 120)}, live {cell(f.live, 120)}"
        )
        text = f"Connector '{f.connector}': settings drift: {what}."
    elif f.cls == "tools":
        text = f"Connector '{f.connector}': tool '{f.item}' {f.live} (tool_drift={f.policy})."
    elif f.cls == "deleted":
        text = f"Connector '{f.connector}' is declared but not in the workspace."
    else:
        text = f"Connector '{f.connector}' is in the workspace but declared nowhere."
    return " ".join([text, *(f"{d}." for d in f.details if f.cls in ("settings", "tools"))])


def render_sarif(report: Report) -> str:
    rule_ids = [RULES[c][0] for c in CLASSES]
    results = []
    for f in report.findings:
        # GitHub code scanning needs a file and a line for every result: a declared connector points at its
        # declaration, an unmanaged one at the declarations (or stack) file's connectors.
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": report.source}, "region": {"startLine": f.line or 1}},
            "logicalLocations": [
                {
                    "name": f.connector,
                    "kind": "resource",
                    "fullyQualifiedName": "/".join(p for p in ("connector", f.connector, f.item) if p),
                }
            ],
        }
        results.append(
            {
                "ruleId": RULES[f.cls][0],
                "ruleIndex": rule_ids.index(RULES[f.cls][0]),
                "level": f.level,
                "message": {"text": _sarif_message(f)},
                "locations": [location],
                "partialFingerprints": {"connectorItem/v1": f"{f.cls}:{f.connector}:{f.item or ''}"},
            }
        )
    notifications = [
        *({"level": "error", "message": {"text": e}} for e in report.errors),
        *(
            {
                "level": "note",
                "message": {"text": f"Connector '{name}': not compared: {', '.join(props)} ({NOT_COMPARED})."},
            }
            for name, props in sorted(report.unknown.items())
        ),
    ]
    rules = [(RULES[c][0], CLASS_TITLES[c].replace(" ", ""), RULES[c][1]) for c in CLASSES]
    return sarif_log(
        tool="pulumi-mistral drift",
        rules=rules,
        results=results,
        notifications=notifications,
        successful=not report.errors,
    )


def sarif_log(
    *,
    tool: str,
    rules: Sequence[tuple[str, str, str]],
    results: Sequence[dict[str, Any]],
    notifications: Iterable[dict[str, Any]] = (),
    successful: bool = True,
) -> str:
    """A SARIF 2.1.0 log of one run: ``rules`` as (id, name, short description), ``results`` as built by the
    caller, ``notifications`` (tool execution notes and errors)."""
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "version": __version__,
                        "rules": [
                            {"id": rule_id, "name": name, "shortDescription": {"text": text}}
                            for rule_id, name, text in rules
                        ],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": successful,
                        "toolExecutionNotifications": list(notifications),
                    }
                ],
                "results": list(results),
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
