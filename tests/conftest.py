"""Fixtures shared by every test folder: the example MCP servers on the import path, and running instances."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# examples/mcp_servers is a package of real MCP servers used by tests, the demo and the benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from mcp_servers.runner import DemoServer, OAuthServers, start_demo_server, start_oauth_servers


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    """The demo MCP server on 127.0.0.1 (tools can be changed while it runs through ``demo.admin``)."""
    with start_demo_server() as server:
        yield server


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthServers]:
    """The OAuth-protected demo MCP server and its local authorization server on 127.0.0.1."""
    with start_oauth_servers() as servers:
        yield servers
