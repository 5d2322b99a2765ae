"""The input contract: every bad input is named by property with a fix, unknowns are tolerated."""

from __future__ import annotations

import random

import pytest

from pulumi_mistral.core import spec
from pulumi_mistral.core.headers import MAX_HEADERS

GOOD = {"description": "Docs search", "server": "https://mcp.example.com/mcp"}


class Unknown:
    """Stands for a value not known until deployment (a preview)."""


def failures(**props: object) -> dict[str, str]:
    found = spec.validate_inputs({**GOOD, **props}, is_unknown=lambda v: isinstance(v, Unknown))
    return {f.property: f.reason for f in found}


def test_good_inputs_pass() -> None:
    assert failures() == {}
    assert (
        failures(
            name="docs_search-1",
            visibility="private",
            headers={"X-Api-Key": "k"},
            auth_data={"client_id": "a", "client_secret": "b"},
            connection_config={"n": 1.0},
            tool_drift="block",
            adopt=True,
        )
        == {}
    )


def test_required_fields_named() -> None:
    got = {f.property for f in spec.validate_inputs({})}
    assert got == {"description", "server"}


@pytest.mark.parametrize(
    ("prop", "value", "words"),
    [
        ("name", "", "must not be empty"),
        ("name", "x" * 65, "65 characters"),
        ("name", "has space", "' '"),
        ("name", "caf\u00e9", "'\u00e9'"),
        ("name", "a/b", "'/'"),
        ("name", 12, "must be a string"),
        ("server", "not a url", "whitespace"),
        ("server", "ftp://x.example", "'ftp://'"),
        ("server", "https://", "no host"),
        ("server", "mcp.example.com", "http:// or https://"),
        ("server", "https://user:pw@mcp.example.com/mcp", "embeds credentials"),
        ("icon_url", "javascript:alert(1)", "http:// or https://"),
        ("visibility", "public", "must be one of"),
        ("visibility", 3, "must be one of"),
        ("description", "", "must not be empty"),
        ("description", 5, "must be a string"),
        ("system_prompt", ["x"], "must be a string"),
        ("headers", "X-Key: v", "must be a map"),
        ("headers.X-Key", None, "must be a string"),
        ("headers.bad header", None, "not a valid HTTP header name"),
        ("headers.X-Nul", None, "control characters"),
        ("auth_data.client_secret", None, "is required"),
        ("adopt", "yes", "true or false"),
        ("tool_drift", "blok", "did you mean 'block'"),
        ("tool_pins.search", None, "sha256"),
    ],
)
def test_bad_input_named_with_fix(prop: str, value: object, words: str) -> None:
    props: dict[str, object]
    if prop == "headers.X-Key":
        props = {"headers": {"X-Key": 5}}
    elif prop == "headers.X-Nul":
        props = {"headers": {"X-Nul": "a\x00b"}}
    elif prop == "headers.bad header":
        props = {"headers": {"bad header": "v"}}
    elif prop == "auth_data.client_secret":
        props = {"auth_data": {"client_id": "a"}}
    elif prop == "tool_pins.search":
        props = {"tool_pins": {"search": "abc"}}
    else:
        props = {prop: value}
    got = failures(**props)
    assert prop in got, got
    assert words in got[prop]


def test_unknown_key_suggests_nearest() -> None:
    got = failures(sever="https://x")
    assert "did you mean 'server'" in got["sever"]
    got = failures(auth_data={"client_id": "a", "client_secret": "b", "clientsecret": "c"})
    assert "did you mean 'client_secret'" in got["auth_data.clientsecret"]


def test_engine_keys_ignored() -> None:
    assert spec.validate_inputs({**GOOD, "__provider": "xyz"}) == []


def test_unknowns_tolerated() -> None:
    assert failures(name=Unknown(), server=Unknown(), headers={"X-Key": Unknown()}) == {}


def test_secret_values_never_in_reasons() -> None:
    canary = "sk-CANARY-\n-value"
    got = spec.validate_inputs(
        {
            **GOOD,
            "headers": {"X-Key": canary, "X-Two": 7},
            "auth_data": {"client_id": "", "client_secret": 5},
            "connection_secrets": {"k": object()},
        }
    )
    assert got
    assert not any("CANARY" in str(f) for f in got)


def test_auto_name_valid_and_recognised() -> None:
    rng = random.Random(1)
    for prefix in ["docs", "my connector/with#odd chars", "x" * 200, "", "---"]:
        name = spec.auto_name(prefix, rng)
        assert spec.name_problem(name) is None, name
        assert spec.is_auto_name(name, prefix)
    assert not spec.is_auto_name("docs", "docs")
    assert not spec.is_auto_name("other-abcdefg", "docs")


def test_normalize_inputs_ints_and_empties() -> None:
    got = spec.normalize_inputs({"a": 1.0, "b": {"c": [2.0, 2.5]}, "headers": {}, "icon_url": None, "d": True})
    assert got == {"a": 1, "b": {"c": [2, 2.5]}, "d": True}
    assert isinstance(got["a"], int)


# ---- values JSON cannot carry, header rules and limits: shared with the local server -----------------------------


@pytest.mark.parametrize(
    ("props", "prop", "words"),
    [
        ({"connection_config": {"rate": float("nan")}}, "connection_config.rate", "finite"),
        ({"connection_config": {"a": [1, float("inf")]}}, "connection_config.a.1", "finite"),
        ({"connection_secrets": {"t": float("-inf")}}, "connection_secrets.t", "finite"),
        ({"description": "x\ud800"}, "description", "Unicode"),
        ({"system_prompt": "\udfff"}, "system_prompt", "Unicode"),
        ({"headers": {"X-Key": "v\ud800"}}, "headers.X-Key", "Unicode"),
        ({"auth_data": {"client_id": "a\udc00", "client_secret": "s"}}, "auth_data.client_id", "Unicode"),
        ({"connection_config": {"k\ud800": 1}}, "connection_config.k\ufffd", "in its name"),
        ({"headers": {"Host": "x"}}, "headers.Host", "would break forwarding"),
        ({"headers": {"transfer-encoding": "x"}}, "headers.transfer-encoding", "hop-by-hop"),
        ({"headers": {"Mcp-Session-Id": "x"}}, "headers.Mcp-Session-Id", "MCP session"),
        ({"headers": {"X-Key": "a", "x-key": "b"}}, "headers.x-key", "only by case"),
    ],
)
def test_values_json_cannot_carry_and_header_rules(props: dict[str, object], prop: str, words: str) -> None:
    got = failures(**props)
    assert prop in got and words in got[prop], got
    assert len(got) == 1  # one failure per property


def test_limits_on_headers_and_nested_maps() -> None:
    assert "headers" in failures(headers={f"X-{i}": "v" for i in range(MAX_HEADERS + 1)})
    assert failures(headers={f"X-{i}": "v" for i in range(MAX_HEADERS)}) == {}
    deep: object = 1
    for _ in range(spec.MAX_NESTING - 1):
        deep = [deep]
    assert failures(connection_config={"a": deep}) == {}  # the map and MAX_NESTING - 1 lists: at the limit
    (prop,) = failures(connection_config={"a": [deep]})
    assert prop.startswith("connection_config.a") and "levels deep" in failures(connection_config={"a": [deep]})[prop]
    assert "connection_secrets" in failures(connection_secrets={f"k{i}": "v" for i in range(spec.MAX_MAP_KEYS + 1)})


def test_json_problem_is_iterative_and_never_quotes_values() -> None:
    deep: object = "leaf"
    for _ in range(50_000):  # far beyond the recursion limit
        deep = [deep]
    path, reason = spec.json_problem(deep, max_depth=10) or ((), "")
    assert len(path) == 10 and "levels deep" in reason
    assert spec.json_problem({"a": "sk-secret\ud800"}) == (("a",), spec.json_problem("\ud800")[1])  # type: ignore[index]
    assert "sk-secret" not in str(spec.json_problem({"a": "sk-secret\ud800"}))
    assert spec.json_problem({"ok": [1, 2.5, None, True, "text", {"n": {}}]}) is None


def test_unknown_values_are_not_looked_into() -> None:
    got = spec.validate_inputs(
        {**GOOD, "connection_config": {"a": Unknown()}, "headers": {"X": Unknown()}},
        is_unknown=lambda v: isinstance(v, Unknown),
    )
    assert got == []
