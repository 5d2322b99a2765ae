"""Diff rules, plus property tests: no false drift, idempotent normalisation, exact update payloads."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from pulumi_mistral.core import diff, spec
from pulumi_mistral.testing.strategies import connectors

BASE = {"name": "docs", "description": "Docs", "server": "https://mcp.example.com/mcp"}


def test_no_change_for_equivalent_forms() -> None:
    old = {**BASE, "server": "HTTPS://MCP.example.com:443/mcp", "headers": {}, "connection_config": {"n": 1.0}}
    new = {**BASE, "connection_config": {"n": 1}}
    assert diff.changed_fields(old, new) == []


def test_visibility_unmanaged_when_unset_and_replaces_when_set() -> None:
    old = {**BASE, "visibility": "shared_workspace"}
    assert diff.plan(old, BASE, name_is_auto=False).changes == []
    p = diff.plan(old, {**BASE, "visibility": "private"}, name_is_auto=False)
    assert p.replaces == ["visibility"] and p.delete_before_replace
    assert not diff.plan(old, {**BASE, "visibility": "private"}, name_is_auto=True).delete_before_replace


def test_unknown_inputs_count_as_changes_and_unknown_visibility_as_a_replacement() -> None:
    old = {**BASE, "visibility": "private"}
    p = diff.plan(
        old,
        {**BASE, "description": "?", "visibility": "?"},
        name_is_auto=False,
        unknown=["description", "visibility", "adopt"],
    )
    assert p.changes == ["description", "visibility"]  # control fields are not the API's
    assert p.replaces == ["visibility"] and p.delete_before_replace
    assert diff.plan(old, BASE, name_is_auto=False, unknown=["server"]).changes == ["server"]


def test_update_payload_clears_with_null_and_never_sends_visibility() -> None:
    old = {**BASE, "icon_url": "https://i.example/x.png", "visibility": "private"}
    new = {**BASE, "description": "New", "visibility": "shared_org", "tool_drift": "block"}
    assert diff.update_payload(old, new) == {"description": "New", "icon_url": None}
    assert diff.changed_fields(old, new) == ["description", "icon_url", "tool_drift", "visibility"]


def test_live_state_keeps_write_only_secrets() -> None:
    prev = {
        **BASE,
        "headers": {"X-Key": "s1"},
        "auth_data": {"client_id": "c", "client_secret": "s2"},
        "connection_secrets": {"tok": "s3"},
    }
    live = {**BASE, "header_names": ["X-Key"], "auth_data": {"client_id": "c"}, "connection_secret_names": ["tok"]}
    state = diff.live_state(live, prev)
    assert state["headers"] == {"X-Key": "s1"}
    assert state["auth_data"] == {"client_id": "c", "client_secret": "s2"}
    assert state["connection_secrets"] == {"tok": "s3"}
    # a header added out of band is seen by name; one removed out of band disappears
    state = diff.live_state({**live, "header_names": ["X-Other"]}, prev)
    assert diff.changed_fields(state, prev) == ["headers"]
    # a field the API did not return at all is unknown, not cleared
    assert diff.live_state({"name": "docs"}, prev)["description"] == "Docs"


# ---- property tests -------------------------------------------------------------------------------------


def as_engine_sees(value: Any) -> Any:
    """The engine's wire format: every number is a double."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: as_engine_sees(v) for k, v in value.items()}
    return value


def server_echo(c: dict[str, Any]) -> dict[str, Any]:
    """What an API that stores the inputs returns for them (secrets only as names)."""
    out = {k: v for k, v in c.items() if k not in spec.SECRET_FIELDS}
    out["header_names"] = sorted(c.get("headers") or {})
    out["connection_secret_names"] = sorted(c.get("connection_secrets") or {})
    out["auth_data"] = {"client_id": c["auth_data"]["client_id"]} if c.get("auth_data") else None
    out.setdefault("visibility", "shared_workspace")
    return out


@settings(max_examples=200, deadline=None)
@given(connectors())
def test_no_false_drift_after_create_and_read(c: dict[str, Any]) -> None:
    assert spec.validate_inputs(c) == []
    inputs = spec.normalize_inputs(as_engine_sees(c))
    state = diff.live_state(server_echo(c), previous=inputs)
    assert diff.changed_fields(state, inputs) == []


@settings(max_examples=200, deadline=None)
@given(connectors())
def test_normalisation_idempotent(c: dict[str, Any]) -> None:
    once = spec.normalize_inputs(c)
    assert spec.normalize_inputs(once) == once
    for name in spec.INPUT_FIELDS:
        v = diff.normalize_value(name, c.get(name))
        assert diff.normalize_value(name, v) == v


# (old state, new inputs, the exact PATCH body), written out
PAYLOADS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "nothing changed",
        {**BASE, "icon_url": "https://i.example/x.png"},
        {**BASE, "icon_url": "https://i.example/x.png"},
        {},
    ),
    ("one field", BASE, {**BASE, "description": "Docs v2"}, {"description": "Docs v2"}),
    ("cleared field is null", {**BASE, "system_prompt": "Be brief."}, BASE, {"system_prompt": None}),
    ("empty map is a clear", {**BASE, "headers": {"X-K": "v"}}, {**BASE, "headers": {}}, {"headers": None}),
    (
        "equivalent URL is no change",
        {**BASE, "server": "https://mcp.example.com/mcp"},
        {**BASE, "server": "HTTPS://MCP.EXAMPLE.COM:443/mcp"},
        {},
    ),
    (
        "changed URL is sent as written",
        BASE,
        {**BASE, "server": "https://Other.example.com/mcp"},
        {"server": "https://Other.example.com/mcp"},
    ),
    (
        "1.0 and 1 are one number",
        {**BASE, "connection_config": {"n": 1}},
        {**BASE, "connection_config": {"n": 1.0}},
        {},
    ),
    (
        "map sent whole, floats made ints, keys sorted",
        {**BASE, "connection_config": {"a": 1}},
        {**BASE, "connection_config": {"z": 2.0, "a": 1}},
        {"connection_config": {"a": 1, "z": 2}},
    ),
    (
        "secret maps sent whole",
        {**BASE, "headers": {"X-A": "1"}, "auth_data": {"client_id": "c", "client_secret": "s"}},
        {**BASE, "headers": {"X-A": "1", "X-B": "2"}, "auth_data": {"client_id": "c", "client_secret": "t"}},
        {"headers": {"X-A": "1", "X-B": "2"}, "auth_data": {"client_id": "c", "client_secret": "t"}},
    ),
    (
        "visibility and control fields never sent",
        {**BASE, "visibility": "private"},
        {
            **BASE,
            "visibility": "shared_org",
            "tool_drift": "block",
            "tool_pins": {"t": "sha256:" + "0" * 64},
            "adopt": True,
        },
        {},
    ),
    (
        "rename and several fields",
        {**BASE, "icon_url": "https://i.example/x.png"},
        {**BASE, "name": "docs-2", "icon_url": None, "system_prompt": "Hi", "connection_secrets": {"tok": "x"}},
        {"connection_secrets": {"tok": "x"}, "icon_url": None, "name": "docs-2", "system_prompt": "Hi"},
    ),
]


@pytest.mark.parametrize(("case", "old", "new", "expected"), PAYLOADS, ids=[c[0] for c in PAYLOADS])
def test_update_payload_is_exactly(
    case: str, old: dict[str, Any], new: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert diff.update_payload(old, new) == expected


@settings(max_examples=200, deadline=None)
@given(connectors(), connectors())
def test_applying_the_update_payload_converges(old: dict[str, Any], new: dict[str, Any]) -> None:
    payload = diff.update_payload(old, new)
    assert not {"visibility", "tool_pins", "tool_drift", "adopt", "name_prefix"} & set(payload)
    applied = {**old, **payload}  # what the server holds after the PATCH: nothing left to update
    assert diff.update_payload(applied, new) == {}


def test_create_differences_is_the_create_recovery_rule() -> None:
    """The one rule the provider's create recovery (``lifecycle.outputs.matches``) and ``recover`` share."""
    sent = {"name": "docs", "description": "Docs", "server": "https://mcp.example.com/mcp", "headers": {"X-K": "v"}}
    live = {
        **sent,
        "server": "https://MCP.example.com:443/mcp",
        "visibility": "private",
        "connection_config": {"set": "by a PATCH after the create"},
    }
    # equal under the diff's comparison; a PATCH's fields and an unset visibility do not decide
    assert diff.create_differences(live, sent) == []
    theirs = {**live, "description": "theirs", "headers": {"X-K": "w"}}
    assert diff.create_differences(theirs, sent) == ["description", "headers"]
    assert set(spec.INPUT_FIELDS) - set(diff.CREATE_FIELDS) == {"connection_config", "connection_secrets"}
