"""The settings comparison (pure): the provider's diff rules, secrets by key name only, unreadable values."""

from __future__ import annotations

from pulumi_mistral.core.compare import UNKNOWN, compare_settings

LIVE = {
    "id": "c1",
    "name": "docs",
    "description": "Docs",
    "server": "https://mcp.example.com/mcp",
    "visibility": "shared_workspace",
    "icon_url": None,
    "system_prompt": None,
    "connection_config": {"n": 1},
    "header_names": ["X-Key"],
    "headers": {"X-Key": "live-secret"},
    "auth_data": None,
    "connection_secret_names": [],
    "connection_secrets": None,
}
DECLARED = {
    "name": "docs",
    "description": "Docs",
    "server": "HTTPS://MCP.example.com:443/mcp",
    "connection_config": {"n": 1.0},
    "headers": {"X-Key": "live-secret"},
    "tool_pins": {"a": "sha256:x"},
    "tool_drift": "block",
    "adopt": True,
}


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
