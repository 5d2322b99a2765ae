"""`drift --write-pins` when an MCP server is down: the others are pinned, the unreachable one is named on stderr.

The exit status says whether the user must act: 0 when the unreachable connector tracks no tools (no pins
are lost: it had none), 1 when it tracks its tools or was named with --connector (its pins were not
refreshed; its declared pins are written again, so the overlay never drops them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import yaml

from mcp_servers.runner import DemoServer, start_demo_server

if TYPE_CHECKING:
    from conftest import Env  # type: ignore[import-not-found]

OLD_PIN = "sha256:" + "d" * 64


@pytest.fixture
def down() -> Iterator[DemoServer]:
    """A real demo MCP server that is stopped once its connector exists: the API answers 502 for its tools."""
    server = start_demo_server()
    try:
        yield server
    finally:
        server.stop()


def declare(env: Env, down: DemoServer, tickets_extra: str = "") -> str:
    env.connector("docs")
    env.connector("tickets", server=down.url)
    down.stop()
    return str(
        env.yaml(f"""connectors:
  docs:
    description: docs connector
    server: {env.demo.url}
  tickets:
    description: tickets connector
    server: {down.url}
{tickets_extra}""")
    )


def test_an_untracked_unreachable_connector_is_named_and_the_rest_is_pinned(env: Env, down: DemoServer) -> None:
    path = declare(env, down)
    result = env.drift("--declared", path, "--write-pins", "--timeout", "2")
    assert result.code == 0, result.err
    assert yaml.safe_load(result.out)["connectors"] == {"docs": {"tool_pins": env.pins("docs")}}
    (line,) = result.err.splitlines()
    assert line.startswith("pulumi-mistral drift: warning: connector 'tickets': cannot list its tools (")
    assert line.endswith("): no pins written for it (it tracks no tools, so nothing is lost)")


def test_a_tracked_unreachable_connector_keeps_its_pins_and_exits_1(env: Env, down: DemoServer) -> None:
    path = declare(env, down, f"    tool_drift: block\n    tool_pins:\n      search: {OLD_PIN}\n")
    lock = env.tmp / "tools.lock.json"
    lock.write_text(
        json.dumps(
            {
                "version": 1,
                "connectors": {"tickets": [{"name": "search", "description": "kept"}], "gone": [{"name": "x"}]},
            }
        )
    )
    result = env.drift("--declared", path, "--write-pins", "--tools-lock", str(lock), "--timeout", "2")
    assert result.code == 1
    assert yaml.safe_load(result.out)["connectors"] == {
        "docs": {"tool_pins": env.pins("docs")},
        "tickets": {"tool_pins": {"search": OLD_PIN}},
    }
    assert "pulumi-mistral drift: error: connector 'tickets': cannot list its tools (" in result.err
    assert result.err.rstrip().endswith(
        "its declared tool_pins are written again, unchanged; check its MCP server and run again"
    )
    written = json.loads(lock.read_text())["connectors"]
    assert sorted(written) == ["docs", "tickets"] and written["tickets"] == [{"name": "search", "description": "kept"}]


def test_a_connector_named_with_connector_must_be_listed(env: Env, down: DemoServer) -> None:
    declare(env, down)
    result = env.drift("--connector", "tickets", "--connector", "docs", "--write-pins", "--timeout", "2")
    assert result.code == 1
    assert yaml.safe_load(result.out)["connectors"] == {"docs": {"tool_pins": env.pins("docs")}}
    assert "error: connector 'tickets': cannot list its tools (" in result.err
    assert "no pins written for it; check its MCP server and run again" in result.err
