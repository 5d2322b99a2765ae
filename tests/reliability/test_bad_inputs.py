"""Bad input is rejected early: every case of the table fails the provider's Check through the real gRPC servicer,
names the property and says how to fix it, and the server sees no API request at all.

The pure-level table (``tests/core/test_spec.py``) checks the words of ``spec.validate_inputs``; this one goes
through the engine's path (wire encoding: numbers as doubles, secrets stripped, ``__provider`` unpickled) and
also through whole programs in the stack runner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from harness import make_program
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_mistral.provider import ConnectorProvider
from pulumi_mistral.testing.controls import Controls
from pulumi_mistral.testing.engine import EngineClient
from pulumi_mistral.testing.fixtures import configured_engine
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunError, StackRunner

URN = "urn:pulumi:dev::bad::pulumi-python:dynamic/connector:Connector::c"
GOOD: dict[str, Any] = {"name": "good", "description": "Docs", "server": "https://mcp.example.com/mcp"}
# What counts as telling the user how to fix it, concretely: an explicit "fix: <what to do>", a suggested value
# ("did you mean 'x'"), or the complete list of allowed values. Saying only what is wrong ("must be a map",
# "is required") is not a fix.
FIX_RE = re.compile(r"fix: \w|did you mean '[^']+'|must be one of \w+(, \w+)+|must be true or false")

# (case id, property named in the failure, overrides of GOOD; None as a value removes the key)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    # names
    ("name-empty", "name", {"name": ""}),
    ("name-65-chars", "name", {"name": "a" * 65}),
    ("name-spaces", "name", {"name": "my connector"}),
    ("name-unicode", "name", {"name": "connecteur-été"}),
    ("name-emoji", "name", {"name": "docs-\U0001f600"}),
    ("name-slash", "name", {"name": "team/docs"}),
    ("name-dot-dot-slash", "name", {"name": "../etc"}),
    ("name-dot", "name", {"name": "docs.v2"}),
    ("name-tab", "name", {"name": "docs\tv2"}),
    ("name-number", "name", {"name": 123}),
    ("name-bool", "name", {"name": True}),
    ("name-list", "name", {"name": ["docs"]}),
    # description
    ("description-missing", "description", {"description": None}),
    ("description-empty", "description", {"description": ""}),
    ("description-blank", "description", {"description": "   "}),
    ("description-number", "description", {"description": 5}),
    ("description-map", "description", {"description": {"en": "Docs"}}),
    # server
    ("server-missing", "server", {"server": None}),
    ("server-not-a-url", "server", {"server": "not a url"}),
    ("server-ftp", "server", {"server": "ftp://mcp.example.com/mcp"}),
    ("server-no-host", "server", {"server": "https://"}),
    ("server-no-host-path", "server", {"server": "http:///mcp"}),
    ("server-no-scheme", "server", {"server": "mcp.example.com/mcp"}),
    ("server-space-in-host", "server", {"server": "https://mcp example.com"}),
    ("server-bad-port", "server", {"server": "https://mcp.example.com:99999/"}),
    ("server-number", "server", {"server": 42}),
    ("server-list", "server", {"server": ["https://mcp.example.com"]}),
    # icon_url
    ("icon-file-url", "icon_url", {"icon_url": "file:///etc/passwd"}),
    ("icon-number", "icon_url", {"icon_url": 7}),
    # visibility
    ("visibility-unknown", "visibility", {"visibility": "public"}),
    ("visibility-case", "visibility", {"visibility": "Private"}),
    ("visibility-dash", "visibility", {"visibility": "shared-workspace"}),
    ("visibility-number", "visibility", {"visibility": 1}),
    # headers
    ("header-value-number", "headers.X-Key", {"headers": {"X-Key": 1}}),
    ("header-value-bool", "headers.X-Key", {"headers": {"X-Key": True}}),
    ("header-value-map", "headers.X-Key", {"headers": {"X-Key": {"v": "x"}}}),
    ("header-value-list", "headers.X-Key", {"headers": {"X-Key": ["a", "b"]}}),
    ("header-value-crlf", "headers.X-Key", {"headers": {"X-Key": "a\r\nInjected: 1"}}),
    ("header-name-space", "headers.bad header", {"headers": {"bad header": "v"}}),
    ("header-name-colon", "headers.X-Key:", {"headers": {"X-Key:": "v"}}),
    ("headers-list", "headers", {"headers": ["X-Key"]}),
    ("headers-string", "headers", {"headers": "X-Key: v"}),
    # auth_data
    ("auth-missing-secret", "auth_data.client_secret", {"auth_data": {"client_id": "app"}}),
    ("auth-missing-id", "auth_data.client_id", {"auth_data": {"client_secret": "s"}}),
    ("auth-empty-map", "auth_data.client_id", {"auth_data": {}}),
    ("auth-unknown-field", "auth_data.scope", {"auth_data": {"client_id": "a", "client_secret": "s", "scope": "x"}}),
    ("auth-typo-field", "auth_data.clientsecret", {"auth_data": {"client_id": "a", "clientsecret": "s"}}),
    ("auth-id-number", "auth_data.client_id", {"auth_data": {"client_id": 1, "client_secret": "s"}}),
    ("auth-empty-secret", "auth_data.client_secret", {"auth_data": {"client_id": "a", "client_secret": ""}}),
    ("auth-string", "auth_data", {"auth_data": "app:secret"}),
    # system prompt, maps, control fields
    ("system-prompt-number", "system_prompt", {"system_prompt": 12}),
    ("system-prompt-list", "system_prompt", {"system_prompt": ["be", "brief"]}),
    ("connection-config-string", "connection_config", {"connection_config": "region=eu"}),
    ("connection-config-list", "connection_config", {"connection_config": [1, 2]}),
    ("connection-config-empty-key", "connection_config", {"connection_config": {"": 1}}),
    ("connection-secrets-string", "connection_secrets", {"connection_secrets": "token"}),
    ("connection-secrets-number", "connection_secrets", {"connection_secrets": 5}),
    ("adopt-string", "adopt", {"adopt": "yes"}),
    ("adopt-number", "adopt", {"adopt": 1}),
    ("tool-drift-unknown", "tool_drift", {"tool_drift": "strict"}),
    ("tool-pins-md5", "tool_pins.search", {"tool_pins": {"search": "md5:abc"}}),
    ("name-prefix-number", "name_prefix", {"name_prefix": 5, "name": None}),
    # unknown properties
    ("unknown-typo-server", "servr", {"servr": "https://x.example"}),
    ("unknown-typo-description", "descripton", {"descripton": "x"}),
    ("unknown-key", "color", {"color": "blue"}),
]


def _inputs(overrides: dict[str, Any]) -> dict[str, Any]:
    props = {**GOOD, **overrides}
    return {k: v for k, v in props.items() if v is not None}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture(scope="module")
def engine(server: LocalServer) -> Iterator[EngineClient]:
    """The SDK's servicer on real gRPC, configured like the engine does it."""
    with configured_engine(server) as client:
        yield client


@pytest.fixture(scope="module")
def controls(server: LocalServer) -> Controls:
    return server.controls()


PICKLE = serialize_provider(ConnectorProvider())


def test_table_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


def test_good_input_passes(engine: EngineClient) -> None:
    _, failures = engine.check(URN, {}, {**GOOD, "__provider": PICKLE})
    assert failures == []


@pytest.mark.parametrize(("case", "prop", "overrides"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_check_before_any_request(
    engine: EngineClient, controls: Controls, case: str, prop: str, overrides: dict[str, Any]
) -> None:
    controls.clear_requests()
    _, failures = engine.check(URN, {}, {**_inputs(overrides), "__provider": PICKLE})
    assert failures, f"{case}: accepted"
    named = {p: reason for p, reason in failures}
    assert prop in named, f"{case}: failures name {sorted(named)}, not {prop}"
    assert FIX_RE.search(named[prop]), f"{case}: no fix in {named[prop]!r}"
    assert controls.requests(api_only=True) == []


STACK_CASES = [
    "name-65-chars",
    "server-ftp",
    "header-value-number",
    "auth-missing-secret",
    "visibility-unknown",
    "name-unicode",
]


@pytest.mark.parametrize("case", STACK_CASES)
def test_bad_input_stops_the_whole_program_before_any_request(
    server: LocalServer, controls: Controls, case: str
) -> None:
    """A whole program: preview and up both stop at Check, with the engine's diagnostic, and send nothing."""
    _, prop, overrides = next(c for c in CASES if c[0] == case)
    declared = {"bad": _inputs(overrides)}
    controls.clear_requests()
    with StackRunner(make_program(declared), project="bad", config=server.config(), in_process=True) as stack:
        for operation in (stack.preview, stack.up):
            with pytest.raises(StackRunError) as caught:
                operation()
            message = str(caught.value)
            assert "resource 'bad' has check errors" in message
            assert f"property {prop} has a problem" in message
        assert stack.state() == {}
    assert controls.requests(api_only=True) == []
    assert controls.connectors() == []
