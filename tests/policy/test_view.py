"""One view of a connector from either spelling, from the live API, and with values not known yet."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from pulumi_mistral.core.spec import ALL_FIELDS
from pulumi_mistral.policy.view import (
    CAMEL_TO_SNAKE,
    DYNAMIC_TYPE,
    NATIVE_TYPE,
    UNKNOWN,
    declared_view,
    is_known,
    live_view,
)

ROOT = Path(__file__).resolve().parents[2]

SNAKE = {
    "name": "docs",
    "description": "Docs",
    "server": "https://x.example.com/mcp",
    "icon_url": "https://x.example.com/i.png",
    "visibility": "shared_workspace",
    "headers": {"X-Api-Key": "k", "x_custom_header": "v"},
    "auth_data": {"client_id": "c", "client_secret": "s"},
    "system_prompt": "Be brief.",
    "connection_config": {"region_name": "eu", "max_rps": 5},
    "connection_secrets": {"api_token": "t"},
    "adopt": True,
    "tool_pins": {"search_docs": "sha256:" + "0" * 64},
    "tool_drift": "block",
}
CAMEL = {
    "name": "docs",
    "description": "Docs",
    "server": "https://x.example.com/mcp",
    "iconUrl": "https://x.example.com/i.png",
    "visibility": "shared_workspace",
    "headers": {"X-Api-Key": "k", "x_custom_header": "v"},
    "authData": {"clientId": "c", "clientSecret": "s"},
    "systemPrompt": "Be brief.",
    "connectionConfig": {"region_name": "eu", "max_rps": 5.0},
    "connectionSecrets": {"api_token": "t"},
    "adopt": True,
    "toolPins": {"search_docs": "sha256:" + "0" * 64},
    "toolDrift": "block",
}


def test_both_spellings_give_the_same_view() -> None:
    dynamic = declared_view("docs", {**SNAKE, "__provider": "gASV..."}, type_=DYNAMIC_TYPE)
    native = declared_view("docs", CAMEL, type_=NATIVE_TYPE)
    assert dict(dynamic.props) == dict(native.props) == SNAKE  # user keys (headers, config) kept as written
    assert type(native.props["connection_config"]["max_rps"]) is int  # the engine's doubles are whole again


def test_the_camel_names_are_the_schema_names() -> None:
    schema = json.loads((ROOT / "schema.json").read_text())
    (resource,) = schema["resources"].values()
    inputs = set(resource["inputProperties"])
    auth = set(schema["types"]["mistral:index:AuthData"]["properties"])
    assert inputs | auth <= set(CAMEL_TO_SNAKE)
    assert {CAMEL_TO_SNAKE[k] for k in inputs} | {"name_prefix"} == set(ALL_FIELDS)


def test_outputs_and_internal_keys_are_left_out() -> None:
    view = declared_view(
        "docs", {"server": "https://x", "connector_id": "id", "toolNames": ["a"], "__provider": "p", "visibility": None}
    )
    assert dict(view.props) == {"server": "https://x"}
    assert view.get("visibility") is None


def test_unknown_values_stay_unknown() -> None:
    view = declared_view("docs", {"server": UNKNOWN, "toolPins": {"a": UNKNOWN}})
    assert view.get("server") is UNKNOWN
    assert not is_known(view.get("tool_pins")) and is_known({"a": "b"}) and not is_known([1, UNKNOWN])
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN and repr(UNKNOWN) == "UNKNOWN"


def test_names_explicit_drawn_and_not_drawn_yet() -> None:
    explicit = declared_view("docs", {"name": "docs-search"})
    assert not explicit.auto_named and explicit.base_name == "docs-search" and explicit.label == "docs-search"
    drawn = declared_view("docs", {"name": "docs-h2g3fiy", "name_prefix": "docs"})
    assert drawn.auto_named and drawn.base_name == "docs" and drawn.label == "docs-h2g3fiy"
    not_drawn = declared_view("docs", {"name_prefix": "docs"})
    assert not_drawn.auto_named and not_drawn.base_name == "docs" and not_drawn.label == "docs"
    native = declared_view("tickets", {}, type_=NATIVE_TYPE)
    assert native.auto_named and native.base_name == "tickets"
    named_like_a_draw = declared_view("docs", {"name": "docs-abcdefg"})  # no prefix: the user's own name
    assert not named_like_a_draw.auto_named


def test_live_view_keeps_what_the_api_shows_and_no_secret() -> None:
    view = live_view(
        {
            "id": "1",
            "name": "docs",
            "description": "Docs",
            "server": "https://x",
            "visibility": None,
            "headers": {"X-Api-Key": "k"},
            "auth_data": {"client_id": "c", "client_secret": "s"},
        }
    )
    assert view.type == "live" and view.resource == "docs" and not view.auto_named
    assert dict(view.props) == {
        "name": "docs",
        "description": "Docs",
        "server": "https://x",
        "visibility": UNKNOWN,
        "icon_url": UNKNOWN,
        "system_prompt": UNKNOWN,
    }  # not returned: unknown, not unset
