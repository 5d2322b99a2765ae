"""The pure parts of drift: settings comparison, stack-export parsing, and rendering of hostile text."""

from __future__ import annotations

import json

from pulumi_mistral.cli.drift import (
    UNKNOWN,
    Finding,
    Report,
    compare_settings,
    load_stack_export,
    render,
)

LIVE = {"id": "c1", "name": "docs", "description": "Docs", "server": "https://mcp.example.com/mcp",
        "visibility": "shared_workspace", "icon_url": None, "system_prompt": None, "connection_config": {"n": 1},
        "header_names": ["X-Key"], "headers": {"X-Key": "live-secret"}, "auth_data": None,
        "connection_secret_names": [], "connection_secrets": None}
DECLARED = {"name": "docs", "description": "Docs", "server": "HTTPS://MCP.example.com:443/mcp",
            "connection_config": {"n": 1.0}, "headers": {"X-Key": "live-secret"}, "tool_pins": {"a": "sha256:x"},
            "tool_drift": "block", "adopt": True}


def test_equivalent_forms_and_control_fields_are_not_drift() -> None:
    assert compare_settings(DECLARED, LIVE) == ([], [])


def test_unset_visibility_is_unmanaged_but_set_visibility_drifts() -> None:
    assert compare_settings({**DECLARED, "visibility": "private"}, LIVE)[0][0].property == "visibility"


def test_secret_drift_names_keys_never_values() -> None:
    (drift,), _ = compare_settings({**DECLARED, "headers": {"X-Key": "canary-9f1", "X-New": "v"}}, LIVE)
    assert (drift.property, drift.declared, drift.live, drift.secret) == ("headers", "(secret)", "changed", True)
    assert drift.details == ("header 'X-New' only declared", "header 'X-Key' value changed")
    assert "canary-9f1" not in repr(drift) and "live-secret" not in repr(drift)


def test_unknown_values_are_reported_as_unknown() -> None:
    assert compare_settings({**DECLARED, "headers": UNKNOWN}, LIVE) == ([], ["headers"])
    assert compare_settings({**DECLARED, "headers": {"X-Key": UNKNOWN}}, LIVE) == ([], ["headers"])
    (drift,), unknown = compare_settings({**DECLARED, "headers": {"X-Other": UNKNOWN}}, LIVE)
    assert drift.property == "headers" and unknown == []


def test_missing_live_field_is_unknown_not_cleared() -> None:
    live = {k: v for k, v in LIVE.items() if k not in ("headers", "system_prompt")}
    assert compare_settings({**DECLARED, "system_prompt": "p"}, {**live, "header_names": ["X-Key"]}) == ([], [])


def test_stack_export_markers() -> None:
    sig = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    doc = {"deployment": {"resources": [
        {"type": "pulumi:pulumi:Stack", "urn": "urn:s"},
        {"type": "pulumi-python:dynamic/connector:Connector", "urn": "urn:pulumi:dev::p::t::docs", "id": "id-1",
         "inputs": {"__provider": {**sig, "ciphertext": "x"}, "description": "d", "server": "https://x.example",
                    "name_prefix": "docs", "headers": {**sig, "ciphertext": "v1:zz"},
                    "auth_data": {**sig, "plaintext": json.dumps({"client_id": "a", "client_secret": "s"})}},
         "outputs": {"name": "docs-abc1234", "connector_id": "id-1", "tools": [{"name": "t", "fingerprint": "f"}]}},
        {"type": "pulumi-python:dynamic/connector:Connector", "urn": "urn:pulumi:dev::p::t::old", "delete": True},
    ]}}
    (decl,) = load_stack_export(json.dumps(doc))
    assert decl.resource == "docs" and decl.connector_id == "id-1" and decl.name == "docs-abc1234"
    assert decl.inputs["headers"] is UNKNOWN
    assert decl.inputs["auth_data"] == {"client_id": "a", "client_secret": "s"}
    assert "__provider" not in decl.inputs
    assert decl.recorded_tools == [{"name": "t", "fingerprint": "f"}]


def test_hostile_tool_text_cannot_break_markdown_or_table() -> None:
    evil = "![x](https://evil.example/p.png) | <img src=x> `code`\nnew line"
    report = Report(source="connectors.yaml", declared=1, live=1, findings=[
        Finding("tools", "docs", "c1", "docs", "t|x", "pinned sha256:1", "added", (f"description: '{evil}'",),
                "error", "block", "added")])
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
    assert render(report).startswith("No drift: the declared connectors match the workspace (2 declared, 3 live, "
                                      "1 ignored).")
    assert json.loads(render(report, "json"))["exit_code"] == 0
    assert json.loads(render(report, "sarif"))["runs"][0]["results"] == []
    assert render(report, "markdown").startswith("### Connector drift: 0 findings")
    assert Report(source="s", errors=["x"], findings=[Finding("deleted", "a")]).exit_code == 1
