"""The MCP routes end to end: local Connectors API server -> MCPForwarder -> the demo MCP server on loopback."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mcp_servers.runner import DemoServer
from pulumi_mistral.testing.local_server import LocalServer

CALL_TIMEOUT = 1.5
HEADER_VALUE = "hdr-SECRET-canary-7"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalServer]:
    with LocalServer(mcp_call_timeout=CALL_TIMEOUT, mcp_connect_timeout=1.0) as server:
        yield server


@pytest.fixture
def http(local: LocalServer, demo: DemoServer) -> Iterator[httpx.Client]:
    demo.admin.reset()
    with httpx.Client(base_url=local.url, headers=local.headers(), timeout=15.0) as client:
        yield client
    demo.admin.reset()


def _connector(http: httpx.Client, server: str, **extra: Any) -> dict[str, Any]:
    body = {"name": f"mcp-{uuid.uuid4().hex[:10]}", "description": "demo MCP server", "server": server, **extra}
    resp = http.post("/v1/connectors", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_list_tools_through_the_api(http: httpx.Client, demo: DemoServer, check: Any) -> None:
    conn = _connector(http, demo.url)
    resp = http.get(f"/v1/connectors/{conn['name']}/tools")
    tools = check(resp, "connector_list_tools_v1")
    assert resp.status_code == 200
    assert [t["name"] for t in tools] == ["search_docs", "echo", "whoami", "always_fails", "slow"]
    assert tools[0]["annotations"]["readOnlyHint"] is True
    assert http.get(f"/v1/connectors/{conn['id']}/tools").json() == tools  # by id too


def test_list_tools_pages_and_pretty(http: httpx.Client, demo: DemoServer) -> None:
    conn = _connector(http, demo.url)
    path = f"/v1/connectors/{conn['name']}/tools"
    assert [t["name"] for t in http.get(path, params={"page": 2, "page_size": 2}).json()] == [
        "whoami",
        "always_fails",
    ]
    assert [t["name"] for t in http.get(path, params={"page": 3, "page_size": 2}).json()] == ["slow"]
    assert http.get(path, params={"page": 4, "page_size": 2}).json() == []
    pretty = http.get(path, params={"pretty": "true"}).json()
    search = next(t for t in pretty if t["name"] == "search_docs")
    assert set(search) == {"name", "description", "annotations", "inputSchema"}
    assert "outputSchema" not in search


def test_refresh_shows_tool_changes_made_while_the_server_runs(http: httpx.Client, demo: DemoServer) -> None:
    conn = _connector(http, demo.url)
    path = f"/v1/connectors/{conn['name']}/tools"
    before = http.get(path).json()
    demo.admin.apply({"op": "rug_pull"})
    cached = http.get(path).json()
    refreshed = http.get(path, params={"refresh": "true"}).json()
    assert cached == before
    assert "exfiltrate" in [t["name"] for t in refreshed]
    assert "echo" not in [t["name"] for t in refreshed]


def test_call_tool_returns_content_and_mcp_meta(http: httpx.Client, demo: DemoServer, check: Any) -> None:
    conn = _connector(http, demo.url)
    resp = http.post(
        f"/v1/connectors/{conn['name']}/tools/search_docs/call", json={"arguments": {"query": "drift", "limit": 1}}
    )
    body = check(resp, "connector_call_tool_v1")
    assert resp.status_code == 200
    assert body["content"][0]["type"] == "text"
    meta = body["metadata"]["mcp_meta"]
    assert meta["isError"] is False
    assert meta["structuredContent"]["results"][0]["title"] == "Tool drift"

    failed = http.post(f"/v1/connectors/{conn['name']}/tools/always_fails/call", json={})
    assert failed.status_code == 200
    assert failed.json()["metadata"]["mcp_meta"]["isError"] is True


def test_connector_headers_reach_the_mcp_server_and_updates_apply(http: httpx.Client, demo: DemoServer) -> None:
    conn = _connector(http, demo.url, headers={"X-Org": "acme", "X-Api-Key": HEADER_VALUE})
    assert HEADER_VALUE not in http.get(f"/v1/connectors/{conn['id']}").text
    call = f"/v1/connectors/{conn['name']}/tools/whoami/call"
    seen = http.post(call, json={}).json()["metadata"]["mcp_meta"]["structuredContent"]["headers"]
    assert seen["x-org"] == "acme" and seen["x-api-key"] == HEADER_VALUE

    resp = http.patch(f"/v1/connectors/{conn['id']}", json={"headers": {"X-Org": "globex"}})
    assert resp.status_code == 200, resp.text
    seen = http.post(call, json={}).json()["metadata"]["mcp_meta"]["structuredContent"]["headers"]
    assert seen["x-org"] == "globex" and "x-api-key" not in seen


def test_slow_tool_is_504_within_the_call_timeout(http: httpx.Client, demo: DemoServer, check: Any) -> None:
    conn = _connector(http, demo.url)
    started = time.monotonic()
    resp = http.post(f"/v1/connectors/{conn['name']}/tools/slow/call", json={"arguments": {"seconds": 10}})
    elapsed = time.monotonic() - started
    assert resp.status_code == 504
    assert CALL_TIMEOUT * 0.9 < elapsed < CALL_TIMEOUT + 3
    assert "127.0.0.1" in check(resp, "connector_call_tool_v1")["detail"]


def test_unreachable_mcp_server_is_502_fast(http: httpx.Client, check: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = _connector(http, f"http://127.0.0.1:{port}/mcp", headers={"X-Api-Key": HEADER_VALUE})
    for resp in (
        http.get(f"/v1/connectors/{conn['name']}/tools"),
        http.post(f"/v1/connectors/{conn['name']}/tools/echo/call", json={"arguments": {"text": "x"}}),
    ):
        assert resp.status_code == 502
        assert HEADER_VALUE not in resp.text
        assert resp.elapsed.total_seconds() < 3
    check(resp, "connector_call_tool_v1")


# What a PATCH of each field does to the cached tool list and to a stored OAuth token. The demo server's tools
# change (a rug pull) while a list is cached: a PATCH that changes the connection must drop the cache, so the
# next list (without refresh) shows the new tools; any other PATCH keeps it. A new server or new OAuth client
# data also drops the token (it was issued for the old ones); new headers keep it.
DROPS_TOKEN = {"server": True, "headers": False, "auth_data": True}


def _connection_patch(field: str, demo: DemoServer) -> dict[str, Any]:
    return {
        "server": {"server": demo.url.replace("127.0.0.1", "localhost")},  # the same server, another URL
        "headers": {"headers": {"X-Org": "globex"}},
        "auth_data": {"auth_data": {"client_id": "app", "client_secret": "s3cret-value"}},
    }[field]


def _with_cached_tools_and_token(http: httpx.Client, local: LocalServer, demo: DemoServer) -> dict[str, Any]:
    conn = _connector(http, demo.url, headers={"X-Org": "acme"})
    assert "echo" in [t["name"] for t in http.get(f"/v1/connectors/{conn['id']}/tools").json()]  # now cached
    assert http.get(f"/v1/connectors/{conn['id']}").json()["tools"] is not None
    assert local._server is not None
    backend = local._server.config.app.state.backend  # the running server's own store
    workspace = backend.keys.authenticate(f"Bearer {local.api_key}").fingerprint
    backend.store.save_oauth_token(
        {
            "connector_id": conn["id"],
            "workspace": workspace,
            "access_token": "tok-1",
            "updated_at": "2025-01-01T00:00:00.000000Z",
        }
    )
    demo.admin.apply({"op": "rug_pull"})  # the MCP server changes its tools; the cache still shows the old ones
    assert "echo" in [t["name"] for t in http.get(f"/v1/connectors/{conn['id']}/tools").json()]
    assert _has_token(local, conn["id"])
    return conn


def _has_token(local: LocalServer, connector_id: str) -> bool:
    return connector_id in local.controls().state()["oauth"]["connectors_with_token"]


@pytest.mark.parametrize("field", list(DROPS_TOKEN))
def test_changing_the_connection_drops_the_cached_tools(
    http: httpx.Client, local: LocalServer, demo: DemoServer, field: str
) -> None:
    conn = _with_cached_tools_and_token(http, local, demo)
    resp = http.patch(f"/v1/connectors/{conn['id']}", json=_connection_patch(field, demo))
    assert resp.status_code == 200, resp.text
    assert resp.json()["tools"] is None  # the cached list is gone
    names = [t["name"] for t in http.get(f"/v1/connectors/{conn['id']}/tools").json()]  # no refresh=true
    assert "exfiltrate" in names and "echo" not in names  # fetched again from the MCP server
    assert _has_token(local, conn["id"]) is not DROPS_TOKEN[field]


def test_other_changes_keep_the_cached_tools_and_the_token(
    http: httpx.Client, local: LocalServer, demo: DemoServer
) -> None:
    conn = _with_cached_tools_and_token(http, local, demo)
    resp = http.patch(f"/v1/connectors/{conn['id']}", json={"description": "new words", "system_prompt": "Hi"})
    assert resp.status_code == 200 and resp.json()["tools"] is not None
    assert "echo" in [t["name"] for t in http.get(f"/v1/connectors/{conn['id']}/tools").json()]  # still cached
    assert _has_token(local, conn["id"])
