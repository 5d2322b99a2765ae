"""MCPForwarder against real MCP servers on loopback: results, headers, session reuse, bounded failures."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from mcp_servers.runner import DemoServer, ThreadedServer, start_app, start_demo_server
from pulumi_mistral.local.mcp_forward import MCPForwarder, UpstreamError, redact_url

T = TypeVar("T")
HEADERS = {"X-Org": "acme", "X-Api-Key": "hdr-SECRET-canary-1"}


def run(make: Callable[[MCPForwarder], Awaitable[T]], **kwargs: Any) -> T:
    """Run a scenario on a fresh event loop with a fresh forwarder that is always closed."""

    async def main() -> T:
        forwarder = MCPForwarder(**kwargs)
        try:
            return await make(forwarder)
        finally:
            await forwarder.aclose()

    return asyncio.run(main())


@pytest.fixture(autouse=True)
def _fresh_demo_state(request: pytest.FixtureRequest) -> Iterator[None]:
    if "demo" in request.fixturenames:
        server: DemoServer = request.getfixturevalue("demo")
        server.admin.reset()
        server.stats.reset()
        yield
        server.admin.reset()
    else:
        yield


def _broken_app() -> Starlette:
    def html(status: int) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            return HTMLResponse(f"<html><body>status {status}</body></html>", status_code=status)

        return handler

    async def unauthorized(request: Request) -> Response:
        return HTMLResponse("no", status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    async def hang(request: Request) -> Response:
        await asyncio.sleep(3)
        return HTMLResponse("late")

    methods = ["GET", "POST", "DELETE"]
    return Starlette(
        routes=[
            Route("/404", html(404), methods=methods),
            Route("/500", html(500), methods=methods),
            Route("/html", html(200), methods=methods),
            Route("/401", unauthorized, methods=methods),
            Route("/hang", hang, methods=methods),
        ]
    )


@pytest.fixture(scope="module")
def broken() -> Iterator[ThreadedServer]:
    server = start_app(_broken_app)
    try:
        yield server
    finally:
        server.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_none(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return all(_no_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_none(v) for v in value)
    return True


# --- results -------------------------------------------------------------------------------------


def test_list_tools_returns_camelcase_tool_dicts(demo: DemoServer) -> None:
    tools = run(lambda f: f.list_tools("c1", demo.url, HEADERS, None))
    by_name = {t["name"]: t for t in tools}
    assert set(by_name) == {"search_docs", "echo", "whoami", "always_fails", "slow"}
    search = by_name["search_docs"]
    assert search["inputSchema"]["type"] == "object"
    assert search["inputSchema"]["required"] == ["query"]
    assert "outputSchema" in search
    assert search["annotations"] == {"title": "Search docs", "readOnlyHint": True, "openWorldHint": False}
    assert _no_none(tools)  # exclude_none: null fields are dropped, not sent as null


def test_call_tool_structured_result(demo: DemoServer) -> None:
    out = run(lambda f: f.call_tool("c1", demo.url, HEADERS, None, "search_docs", {"query": "oauth", "limit": 1}))
    assert out["content"][0]["type"] == "text"
    meta = out["metadata"]["mcp_meta"]
    assert meta["isError"] is False
    assert meta["structuredContent"]["total"] == 1
    assert meta["structuredContent"]["results"][0]["title"] == "OAuth connectors"
    assert "_meta" in meta


def test_tool_error_is_a_result_not_an_exception(demo: DemoServer) -> None:
    out = run(lambda f: f.call_tool("c1", demo.url, {}, None, "always_fails", {"reason": "rate limited"}))
    assert out["metadata"]["mcp_meta"]["isError"] is True
    assert out["metadata"]["mcp_meta"]["structuredContent"] is None
    assert "rate limited" in out["content"][0]["text"]


def test_unknown_tool_and_bad_arguments_are_error_results(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> tuple[dict, dict]:
        unknown = await f.call_tool("c1", demo.url, {}, None, "nope", {})
        invalid = await f.call_tool("c1", demo.url, {}, None, "search_docs", {})
        return unknown, invalid

    unknown, invalid = run(scenario)
    assert unknown["metadata"]["mcp_meta"]["isError"] is True
    assert invalid["metadata"]["mcp_meta"]["isError"] is True


def test_headers_and_bearer_reach_the_server(demo: DemoServer) -> None:
    headers = {**HEADERS, "Authorization": "Bearer replaced-by-bearer"}
    out = run(lambda f: f.call_tool("c1", demo.url, headers, "tok-123", "whoami", {}))
    seen = out["metadata"]["mcp_meta"]["structuredContent"]["headers"]
    assert seen["x-org"] == "acme"
    assert seen["x-api-key"] == HEADERS["X-Api-Key"]
    assert seen["authorization"] == "Bearer tok-123"


# --- sessions ------------------------------------------------------------------------------------


def test_one_session_is_reused_across_calls(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> int:
        await f.list_tools("c1", demo.url, HEADERS, None)
        for i in range(5):
            await f.call_tool("c1", demo.url, HEADERS, None, "echo", {"text": str(i)})
        return f.sessions_created

    assert run(scenario) == 1
    stats = demo.stats.snapshot()
    assert stats["initializes"] == 1
    assert stats["sessions"] == 1


def test_concurrent_first_calls_share_one_session(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> tuple[int, list[dict]]:
        calls = [f.call_tool("c1", demo.url, {}, None, "echo", {"text": str(i)}) for i in range(8)]
        results = await asyncio.gather(*calls)
        return f.sessions_created, results

    created, results = run(scenario)
    assert created == 1
    assert demo.stats.snapshot()["initializes"] == 1
    assert sorted(r["metadata"]["mcp_meta"]["structuredContent"]["result"] for r in results) == [
        str(i) for i in range(8)
    ]


def test_changed_headers_or_bearer_replace_the_session(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> list[str | None]:
        seen = []
        for headers, bearer in [({"X-Org": "a"}, None), ({"X-Org": "b"}, None), ({"X-Org": "b"}, "t2")]:
            out = await f.call_tool("c1", demo.url, headers, bearer, "whoami", {})
            h = out["metadata"]["mcp_meta"]["structuredContent"]["headers"]
            seen.append(f"{h['x-org']}/{h.get('authorization')}")
        assert f.sessions_created == 3
        return seen

    assert run(scenario) == ["a/None", "b/None", "b/Bearer t2"]
    assert demo.stats.snapshot()["sessions"] == 3


def test_sessions_are_per_connector_key_and_invalidate_drops_one(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> int:
        await f.call_tool("a", demo.url, {}, None, "echo", {"text": "x"})
        await f.call_tool("b", demo.url, {}, None, "echo", {"text": "x"})
        await f.call_tool("a", demo.url, {}, None, "echo", {"text": "x"})
        assert f.sessions_created == 2
        await f.invalidate("a")
        await f.invalidate("never-seen")
        await f.call_tool("a", demo.url, {}, None, "echo", {"text": "x"})
        await f.call_tool("b", demo.url, {}, None, "echo", {"text": "x"})
        return f.sessions_created

    assert run(scenario) == 3


def test_server_restart_is_retried_once_with_a_new_session(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> int:
        await f.call_tool("c1", demo.url, {}, None, "echo", {"text": "before"})
        await asyncio.to_thread(demo.restart)  # the server forgets every session
        out = await f.call_tool("c1", demo.url, {}, None, "echo", {"text": "after"})
        assert out["metadata"]["mcp_meta"]["structuredContent"] == {"result": "after"}
        return f.sessions_created

    assert run(scenario) == 2


def test_tool_changes_via_admin_api_show_on_the_next_list(demo: DemoServer) -> None:
    def admin(change: dict) -> dict:
        req = urllib.request.Request(f"{demo.base_url}/admin/tools", data=json.dumps(change).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    async def scenario(f: MCPForwarder) -> tuple[list[dict], list[dict]]:
        before = await f.list_tools("c1", demo.url, {}, None)
        await asyncio.to_thread(admin, {"op": "rug_pull"})
        after = await f.list_tools("c1", demo.url, {}, None)  # same session, fresh tools/list
        assert f.sessions_created == 1
        return before, after

    before, after = run(scenario)
    old, new = {t["name"]: t for t in before}, {t["name"]: t for t in after}
    assert "echo" in old and "echo" not in new
    assert "exfiltrate" not in old and new["exfiltrate"]["annotations"]["destructiveHint"] is True
    assert new["search_docs"]["description"] != old["search_docs"]["description"]
    assert new["search_docs"]["annotations"]["readOnlyHint"] is False
    assert new["search_docs"]["annotations"]["destructiveHint"] is True
    assert new["slow"]["inputSchema"]["required"] == ["callback_url"]


# --- failures are bounded and safe ---------------------------------------------------------------


def _upstream_error(make: Callable[[MCPForwarder], Awaitable[Any]], **kwargs: Any) -> tuple[UpstreamError, float]:
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        run(make, **kwargs)
    return info.value, time.monotonic() - started


def test_unreachable_server_is_502_fast_and_detail_has_no_secrets() -> None:
    url = f"http://user:pw-SECRET@127.0.0.1:{_closed_port()}/mcp?token=q-SECRET"
    err, elapsed = _upstream_error(lambda f: f.list_tools("c1", url, HEADERS, "bearer-SECRET"), connect_timeout=1.0)
    assert err.status_code == 502
    assert elapsed < 3.0
    assert "127.0.0.1" in err.detail and "/mcp" in err.detail
    assert "SECRET" not in err.detail and "user" not in err.detail


def test_slow_tool_is_504_within_call_timeout_and_session_survives(demo: DemoServer) -> None:
    async def scenario(f: MCPForwarder) -> tuple[UpstreamError, float, dict]:
        await f.list_tools("c1", demo.url, {}, None)
        started = time.monotonic()
        with pytest.raises(UpstreamError) as info:
            await f.call_tool("c1", demo.url, {}, None, "slow", {"seconds": 10})
        elapsed = time.monotonic() - started
        after = await f.call_tool("c1", demo.url, {}, None, "echo", {"text": "still here"})
        return info.value, elapsed, after

    err, elapsed, after = run(scenario, call_timeout=1.0)
    assert err.status_code == 504
    assert 0.9 < elapsed < 3.0
    assert demo.url in err.detail
    assert after["metadata"]["mcp_meta"]["structuredContent"] == {"result": "still here"}


@pytest.mark.parametrize("path", ["/404", "/500", "/html"])
def test_non_mcp_http_server_is_502(broken: ThreadedServer, path: str) -> None:
    url = broken.base_url + path
    err, elapsed = _upstream_error(lambda f: f.list_tools("c1", url, HEADERS, None))
    assert err.status_code == 502
    assert url in err.detail
    assert elapsed < 3.0


def test_http_401_is_502_saying_credentials_were_refused(broken: ThreadedServer) -> None:
    url = broken.base_url + "/401"
    err, _ = _upstream_error(lambda f: f.call_tool("c1", url, HEADERS, "bearer-SECRET", "echo", {}))
    assert err.status_code == 502
    assert "refused the credentials" in err.detail
    assert "SECRET" not in err.detail and "canary" not in err.detail


def test_hanging_handshake_is_504_within_bound(broken: ThreadedServer) -> None:
    url = broken.base_url + "/hang"
    err, elapsed = _upstream_error(lambda f: f.list_tools("c1", url, {}, None), connect_timeout=0.5)
    assert err.status_code == 504
    assert elapsed < 2.5


def test_server_down_after_session_created_is_502() -> None:
    extra = start_demo_server()

    async def scenario(f: MCPForwarder) -> None:
        await f.call_tool("c1", extra.url, {}, None, "echo", {"text": "x"})
        await asyncio.to_thread(extra.stop)
        await f.call_tool("c1", extra.url, {}, None, "echo", {"text": "x"})

    try:
        err, elapsed = _upstream_error(scenario, connect_timeout=1.0)
    finally:
        extra.stop()
    assert err.status_code == 502
    assert elapsed < 5.0


def test_invalid_server_url_is_502() -> None:
    err, _ = _upstream_error(lambda f: f.list_tools("c1", "ftp://127.0.0.1/x", {}, None))
    assert err.status_code == 502


def test_redact_url_keeps_scheme_host_port_path_only() -> None:
    assert redact_url("https://u:p@Example.com:8443/a/b?k=v#f") == "https://example.com:8443/a/b"
    assert redact_url("http://127.0.0.1/mcp") == "http://127.0.0.1/mcp"


# --- pagination ----------------------------------------------------------------------------------


def _paged_app(repeat_cursor: bool) -> Any:
    from mcp.server.lowlevel import Server
    from mcp.types import ListToolsResult, Tool

    async def list_tools(ctx: Any, params: Any) -> ListToolsResult:
        page = int(params.cursor) if params is not None and params.cursor else 0
        tools = [Tool(name=f"t{page}_{i}", input_schema={"type": "object"}) for i in range(2)]
        nxt = None if page == 2 else ("1" if repeat_cursor else str(page + 1))
        return ListToolsResult(tools=tools, next_cursor=nxt)

    return Server("paged", on_list_tools=list_tools).streamable_http_app()


@pytest.mark.parametrize("repeat_cursor", [False, True])
def test_list_tools_follows_next_cursor_and_stops_on_a_repeated_one(repeat_cursor: bool) -> None:
    server = start_app(lambda: _paged_app(repeat_cursor))
    url = server.base_url + "/mcp"
    try:
        if repeat_cursor:
            err, elapsed = _upstream_error(lambda f: f.list_tools("c1", url, {}, None))
            assert err.status_code == 502 and "cursor" in err.detail
            assert elapsed < 3
        else:
            tools = run(lambda f: f.list_tools("c1", url, {}, None))
            assert [t["name"] for t in tools] == ["t0_0", "t0_1", "t1_0", "t1_1", "t2_0", "t2_1"]
    finally:
        server.stop()
