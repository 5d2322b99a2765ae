"""The client stays inside its exception tree: bad arguments, empty ids, server explanations, OAuth 502s.

Wrongly typed arguments and values JSON cannot carry raise ``ValidationError`` (a ``MistralError``) naming the
field and the expected type, before any request, and no message or chained exception holds the value.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_mistral.client import ConnectorsClient
from pulumi_mistral.errors import MistralError, NotFoundError, ServerError, ValidationError
from pulumi_mistral.testing.local_server import LocalServer

SECRET = "sk-argument-secret-4242"
MCP = "https://mcp.example.com/mcp"


def _texts(exc: BaseException) -> str:
    """Everything a traceback of ``exc`` would print: the exception and every chained one."""
    out, current = [], exc
    while current is not None:
        out += [str(current), repr(current), *traceback.format_exception(type(current), current, None)]
        current = current.__cause__ or current.__context__  # type: ignore[assignment]
    return "\n".join(out)


CALLS: list[tuple[str, Callable[[ConnectorsClient], Any], tuple[Any, ...], str]] = [
    (
        "create-description-int",
        lambda c: c.create(name="a", description=5, server=MCP),
        ("description",),
        "valid string",
    ),
    (
        "create-auth-secret-int",
        lambda c: c.create(name="a", description="d", server=MCP, auth_data={"client_id": SECRET, "client_secret": 42}),
        ("auth_data", "client_secret"),
        "valid string",
    ),
    (
        "create-auth-data-string",
        lambda c: c.create(name="a", description="d", server=MCP, auth_data=SECRET),
        ("auth_data",),
        "valid dictionary",
    ),
    (
        "create-headers-list",
        lambda c: c.create(name="a", description="d", server=MCP, headers=[SECRET]),
        ("headers",),
        "valid dictionary",
    ),
    (
        "create-header-object",
        lambda c: c.create(name="a", description="d", server=MCP, headers={"X": object()}),
        ("headers", "X"),
        "JSON data",
    ),
    (
        "update-config-nan",
        lambda c: c.update("id", connection_config={"rate": float("nan")}),
        ("connection_config", "rate"),
        "finite",
    ),
    (
        "update-secret-surrogate",
        lambda c: c.update("id", connection_secrets={"t": SECRET + "\ud800"}),
        ("connection_secrets", "t"),
        "Unicode",
    ),
    ("update-headers-inf", lambda c: c.update("id", headers={"X-Key": float("inf")}), ("headers", "X-Key"), "finite"),
    ("update-name-list", lambda c: c.update("id", name=[SECRET]), ("name",), "valid string"),
    (
        "call-tool-nan",
        lambda c: c.call_tool("docs", "echo", arguments={"n": float("-inf")}),
        ("arguments", "n"),
        "finite",
    ),
    (
        "call-tool-arguments-list",
        lambda c: c.call_tool("docs", "echo", arguments=[SECRET]),
        ("arguments",),
        "valid dictionary",
    ),
    ("get-empty", lambda c: c.get(""), ("id_or_name",), "must not be empty"),
    ("get-blank", lambda c: c.get("   "), ("id_or_name",), "must not be empty"),
    ("get-none", lambda c: c.get(None), ("id_or_name",), "must be a string"),
    ("update-empty", lambda c: c.update("", description="d"), ("connector_id",), "must not be empty"),
    ("delete-empty", lambda c: c.delete(""), ("connector_id",), "must not be empty"),
    ("list-tools-empty", lambda c: c.list_tools(""), ("id_or_name",), "must not be empty"),
    ("call-tool-empty-tool", lambda c: c.call_tool("docs", ""), ("tool_name",), "must not be empty"),
    ("call-tool-empty-id", lambda c: c.call_tool("", "echo"), ("id_or_name",), "must not be empty"),
    ("auth-url-empty", lambda c: c.get_auth_url(""), ("id_or_name",), "must not be empty"),
]


@pytest.mark.parametrize(("call", "loc", "words"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_bad_arguments_raise_validation_error_before_any_request(
    server: Any, client: ConnectorsClient, call: Any, loc: tuple[Any, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as info:
        call(client)
    exc = info.value
    assert isinstance(exc, MistralError) and exc.status_code is None
    assert tuple(exc.detail[0]["loc"]) == loc and set(exc.detail[0]) == {"loc", "msg", "type"}
    assert words in str(exc) and ".".join(map(str, loc)) in str(exc) and "nothing was sent" in str(exc)
    assert SECRET not in _texts(exc) and "input_value" not in _texts(exc)
    assert server.requests == []  # refused before any request


def test_404_of_update_and_delete_by_name_keeps_the_servers_explanation() -> None:
    with LocalServer() as local, local.client() as client:
        client.create(name="docs", description="d", server=MCP)
        for call in (lambda: client.update("docs", description="x"), lambda: client.delete("docs")):
            with pytest.raises(NotFoundError) as info:
                call()
            assert "take the connector id, not its name" in str(info.value)


def test_oauth_connector_without_a_token_is_not_retried_and_says_run_get_auth_url(oauth: Any) -> None:
    with LocalServer() as local, local.client(max_attempts=4) as client:
        connector = client.create(
            name="oauth-docs",
            description="d",
            server=oauth.url,
            auth_data={"client_id": oauth.client_id, "client_secret": oauth.client_secret},
        )
        controls = local.controls()
        controls.clear_requests()
        for call in (
            lambda: client.list_tools(connector.id, refresh=True),
            lambda: client.call_tool(connector.id, "echo", arguments={"text": "x"}),
        ):
            started = time.monotonic()
            with pytest.raises(ServerError) as info:
                call()
            assert time.monotonic() - started < 5
            exc = info.value
            assert exc.status_code == 502 and exc.auth_required
            assert "get_auth_url" in str(exc) and "attempts" not in str(exc)
            assert oauth.client_secret not in _texts(exc)
        sent = [r for r in controls.requests() if "/tools" in r["path"]]
        assert len(sent) == 2  # one list_tools, one call_tool: neither was retried


def test_a_retry_never_outlives_max_retry_time(server: Any, make_client: Any, reply_cls: Any) -> None:
    # Each 503 takes 0.9 s, within the 1 s timeout: only the retry deadline (1 s) can end the loop. The second
    # attempt gets what is left of it as its timeout, instead of another whole second.
    client = make_client(timeout=1.0, max_retry_time=1.0, max_attempts=10)
    server.default = lambda req: reply_cls(503, {"detail": "busy"}, delay=0.9)
    started = time.monotonic()
    with pytest.raises(MistralError):
        client.get("docs")
    elapsed = time.monotonic() - started
    assert elapsed < 1.4, elapsed
    assert len(server.requests) == 2
