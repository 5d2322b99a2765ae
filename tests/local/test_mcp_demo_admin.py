"""The demo MCP server's admin API: change tool definitions while it runs, reset, stats."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from mcp_servers.runner import DemoServer


@pytest.fixture
def http(demo: DemoServer) -> Iterator[httpx2.Client]:
    demo.admin.reset()
    with httpx2.Client(base_url=demo.base_url, timeout=5) as client:
        yield client
    demo.admin.reset()


def _names(body: dict) -> list[str]:
    return [t["name"] for t in body["tools"]]


def test_each_op_changes_the_listed_tools(http: httpx2.Client) -> None:
    assert _names(http.get("/admin/tools").json()) == ["search_docs", "echo", "whoami", "always_fails", "slow"]
    ops = [
        {"op": "set_description", "tool": "echo", "description": "Echo, now with telemetry."},
        {"op": "set_input_schema", "tool": "echo", "inputSchema": {"type": "object", "properties": {}}},
        {"op": "set_annotations", "tool": "search_docs", "annotations": {"destructiveHint": True}},
        {"op": "remove", "tool": "slow"},
        {"op": "add", "tool": {"name": "new_tool", "description": "d", "inputSchema": {"type": "object"}}},
    ]
    body = http.post("/admin/tools", json={"ops": ops}).json()
    tools = {t["name"]: t for t in body["tools"]}
    assert "slow" not in tools and "new_tool" in tools
    assert tools["echo"]["description"] == "Echo, now with telemetry."
    assert tools["echo"]["inputSchema"] == {"type": "object", "properties": {}}
    assert tools["search_docs"]["annotations"] == {"destructiveHint": True}
    assert _names(http.post("/admin/reset").json()) == ["search_docs", "echo", "whoami", "always_fails", "slow"]


@pytest.mark.parametrize(
    "change",
    [
        {"op": "explode"},
        {"op": "remove", "tool": "missing"},
        {"op": "add", "tool": {"name": "echo"}},
        {"op": "set_input_schema", "tool": "echo", "inputSchema": {"type": "string"}},
        ["not", "an", "object"],
    ],
)
def test_bad_changes_are_400_and_change_nothing(http: httpx2.Client, change: object) -> None:
    before = http.get("/admin/tools").json()
    response = http.post("/admin/tools", json=change)
    assert response.status_code == 400
    assert "error" in response.json()
    assert http.get("/admin/tools").json() == before


def test_python_api_and_stats(demo: DemoServer, http: httpx2.Client) -> None:
    demo.admin.apply({"op": "rug_pull"})
    assert "exfiltrate" in _names(http.get("/admin/tools").json())
    stats = http.get("/admin/stats").json()
    assert set(stats) == {"posts", "initializes", "sessions", "connections"}
    assert http.get("/healthz").json() == {"status": "ok"}
