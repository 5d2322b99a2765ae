"""A connector whose MCP server has more tools than one page of the tools listing (1000): every one is recorded.

Real parts only: the demo MCP server (with 1000 tools added to its 5 defaults), the local Connectors API server,
and the provider's own methods.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mcp_servers.runner import DemoServer, start_demo_server
from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.provider import ConnectorProvider
from pulumi_mistral.testing.controls import Controls

EXTRA_TOOLS = 1000


@pytest.fixture(scope="module")
def crowded() -> Iterator[DemoServer]:
    """The demo MCP server with 1000 tools added to its defaults: more than one page of the listing."""
    with start_demo_server() as demo:
        for i in range(EXTRA_TOOLS):
            demo.admin.apply({"op": "add", "tool": {"name": f"tool_{i:04d}", "description": f"Extra tool {i}."}})
        yield demo


def test_create_records_every_tool_past_one_page(
    provider: ConnectorProvider, controls: Controls, crowded: DemoServer
) -> None:
    expected = sorted(t["name"] for t in crowded.admin.tools())
    assert len(expected) > MAX_PAGE_SIZE  # 1005: the listing needs a second page
    checked = provider.check(
        {}, {"name": "crowded", "description": "Many tools", "server": crowded.url, "tool_drift": "audit"}
    )
    assert checked.failures == []
    controls.clear_requests()
    created = provider.create(checked.inputs)
    recorded = created.outs["tools"]
    assert sorted(row["name"] for row in recorded) == expected
    assert len(recorded) == len(expected) and len(created.outs["tool_definitions"]) == len(expected)
    listings = [c for c in controls.calls() if c == f"GET /v1/connectors/{created.id}/tools"]
    assert len(listings) == 2  # one full page of 1000, then the short page with the rest
