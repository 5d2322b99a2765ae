"""The pure parts of drift: stack-export parsing, findings, and rendering of hostile text (comparison: core)."""

from __future__ import annotations

import json

import pytest

from pulumi_mistral.cli.drift.formats import render
from pulumi_mistral.cli.drift.load import load_stack_export
from pulumi_mistral.cli.drift.report import Finding, Report
from pulumi_mistral.core.compare import UNKNOWN


def test_stack_export_markers() -> None:
    sig = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    doc = {
        "deployment": {
            "resources": [
                {"type": "pulumi:pulumi:Stack", "urn": "urn:s"},
                {
                    "type": "pulumi-python:dynamic/connector:Connector",
                    "urn": "urn:pulumi:dev::p::t::docs",
                    "id": "id-1",
                    "inputs": {
                        "__provider": {**sig, "ciphertext": "x"},
                        "description": "d",
                        "server": "https://x.example",
                        "name_prefix": "docs",
                        "headers": {**sig, "ciphertext": "v1:zz"},
                        "auth_data": {**sig, "plaintext": json.dumps({"client_id": "a", "client_secret": "s"})},
                    },
                    "outputs": {
                        "name": "docs-abc1234",
                        "connector_id": "id-1",
                        "tools": [{"name": "t", "fingerprint": "f"}],
                    },
                },
                {
                    "type": "pulumi-python:dynamic/connector:Connector",
                    "urn": "urn:pulumi:dev::p::t::old",
                    "delete": True,
                },
            ]
        }
    }
    (decl,) = load_stack_export(json.dumps(doc))
    assert decl.resource == "docs" and decl.connector_id == "id-1" and decl.name == "docs-abc1234"
    assert decl.inputs["headers"] is UNKNOWN
    assert decl.inputs["auth_data"] == {"client_id": "a", "client_secret": "s"}
    assert "__provider" not in decl.inputs
    assert decl.recorded_tools == [{"name": "t", "fingerprint": "f"}]


def test_hostile_tool_text_cannot_break_markdown_or_table() -> None:
    evil = "![x](https://evil.example/p.png) | <img src=x> `code`\nnew line"
    report = Report(
        source="connectors.yaml",
        declared=1,
        live=1,
        findings=[
            Finding(
                cls="tools",
                connector="docs",
                connector_id="c1",
                resource="docs",
                item="t|x",
                declared="pinned sha256:1",
                live="added",
                details=(f"description: '{evil}'",),
                level="error",
                policy="block",
                change="added",
            )
        ],
    )
    md = render(report, "markdown")
    row = next(line for line in md.splitlines() if line.startswith("| docs |"))
    assert row.count(" | ") == 4  # five cells: no pipe leaked out of a cell
    assert "`description: '![x](https://evil.example/p.png) \\| <img src=x> 'code' new line'`" in row
    table = render(report, "table")
    assert "\nnew line" not in table
    sarif = json.loads(render(report, "sarif"))
    assert sarif["runs"][0]["results"][0]["level"] == "error"


def test_clean_report_renders_in_every_format() -> None:
    report = Report(source="s", declared=2, live=3, ignored=1)
    assert report.exit_code == 0
    assert render(report).startswith(
        "No drift: the declared connectors match the workspace (2 declared, 3 live, 1 ignored)."
    )
    assert json.loads(render(report, "json"))["exit_code"] == 0
    assert json.loads(render(report, "sarif"))["runs"][0]["results"] == []
    assert render(report, "markdown").startswith("### Connector drift: 0 findings")
    assert Report(source="s", errors=["x"], findings=[Finding(cls="deleted", connector="a")]).exit_code == 1


def test_finding_takes_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        Finding("deleted", "a")  # type: ignore[misc]
    positional = ("tools", "docs", "c1", "docs", "t", "pinned sha256:1", "added", (), "error", "block", "added", (), 3)
    with pytest.raises(TypeError):
        Finding(*positional)  # type: ignore[misc]
    assert Finding(cls="deleted", connector="a").to_dict()["connector"] == "a"
