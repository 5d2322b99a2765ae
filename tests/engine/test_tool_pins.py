"""Tool pins through the real engine: block stops `up`, a down MCP server fails preview closed, warn is a warning.

Block and warn run through both doors (``engine_doors``); the listing counts and the fail-closed preview, which
the shared lifecycle decides alike for both, run on the dynamic door only (they are the tier's slowest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from engine_doors import DOORS, DYNAMIC, Door

from mcp_servers.runner import DemoServer, start_demo_server
from pulumi_mistral import pins_for


@pytest.fixture
def mcp() -> Iterator[DemoServer]:
    """A demo MCP server of this test's own (tests change its tools and stop it)."""
    with start_demo_server() as server:
        yield server


def tools_stack(
    make_stack: Any, mcp: DemoServer, policy: str | None, pins: dict[str, str] | None = None, door: Door = DYNAMIC
) -> Any:
    config: dict[str, Any] = {"tools:mcpUrl": mcp.url}
    if policy:
        config["tools:policy"] = policy
    if pins is not None:
        config["tools:pins"] = json.dumps(pins)
    return make_stack(door.project("tools"), config=config)


def pinned_stack(make_stack: Any, api: Any, mcp: DemoServer, policy: str, door: Door = DYNAMIC) -> Any:
    """Deployed with tracking on, then pinned to the live tools (docs/tool-drift.md's workflow)."""
    stack = tools_stack(make_stack, mcp, policy, door=door)
    stack.up()
    with api.client() as client:
        pins = pins_for(stack.outputs()["connector_id"], client=client)
    assert sorted(stack.outputs()["tool_names"]) == sorted(pins)  # filled by the create's own listing
    stack.set_config("tools:pins", json.dumps(pins))
    stack.up()
    assert stack.preview("--expect-no-changes").returncode == 0
    return stack


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_block_fails_up_naming_the_changed_tool_and_changes_nothing(make_stack, api, mcp, door) -> None:
    stack = pinned_stack(make_stack, api, mcp, "block", door)
    connector_id = stack.outputs()["connector_id"]
    mcp.admin.apply({"op": "set_description", "tool": "echo", "description": "Also sends your files away."})
    stack.set_config("tools:description", "a declared change that must not be applied")
    api.controls().clear_requests()

    up = stack.up(check=False)
    assert up.returncode != 0
    assert "tool_drift=block" in up.output and "echo: changed (description)" in up.output, up.output
    assert re.search(r"^\s+- echo: changed \(description\)$", up.output, re.MULTILINE), up.output  # a line per tool
    assert "Also sends your files away." in up.output  # the message says what changed
    assert "Traceback" not in up.output  # our error alone, not under the servicer's traceback
    # only the tool listing: no write was sent
    assert [r["method"] for r in api.controls().requests(api_only=True)] == ["GET"]
    with api.client() as client:
        assert client.get(connector_id).description == "The demo MCP server, its tools pinned"


def test_block_preview_fails_closed_when_the_mcp_server_is_down(make_stack, api, mcp) -> None:
    stack = pinned_stack(make_stack, api, mcp, "block")
    mcp.stop()
    stack.set_config("mistral:maxAttempts", "2")  # the listing's 502s are retried; the waits are not the point
    preview = stack.preview(check=False)
    assert preview.returncode != 0
    assert "could not be listed" in preview.output and "fails closed" in preview.output, preview.output


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_warn_shows_a_warning_and_deploys(make_stack, api, mcp, door) -> None:
    stack = pinned_stack(make_stack, api, mcp, "warn", door)
    mcp.admin.apply({"op": "remove", "tool": "whoami"})
    preview = stack.preview(check=False)
    assert preview.returncode == 0
    assert "warning: connector 'engine-tools': 1 tool change against the pins: whoami: removed" in preview.output
    up = stack.up()
    assert "warning: connector 'engine-tools'" in up.output


def test_refresh_calls_diff_after_read_and_lists_the_tools_once(make_stack, api, mcp) -> None:
    stack = pinned_stack(make_stack, api, mcp, "warn")
    mcp.admin.apply({"op": "set_description", "tool": "echo", "description": "changed"})
    api.controls().clear_requests()
    # The engine's own log (verbosity 7) names each provider call: Read, then the refresh's Diff.
    refresh = stack.refresh("--preview-only", "--logtostderr", "-v=7", check=False)
    calls = [line for line in refresh.stderr.splitlines() if "Provider[" in line and "executing" in line]
    kinds = [name for line in calls for name in ("Read", "Diff") if f"].{name}(" in line]
    assert kinds == ["Read", "Diff"], calls
    # Diff reused Read's tool list: one listing per connector, and the drift against the pins is reported.
    paths = [r["path"] for r in api.controls().requests(api_only=True)]
    assert sum(p.endswith("/tools") for p in paths) == 1, paths
    assert "1 to update" in refresh.stdout, refresh.stdout
    # Read warned; the refresh's own Diff does not repeat the warning.
    diagnostics = refresh.stdout.split("Diagnostics:", 1)[1]
    assert diagnostics.count("1 tool change against the pins: echo: changed") == 1, diagnostics


def test_preview_refresh_lists_the_tools_once_and_warns_once(make_stack, api, mcp) -> None:
    stack = pinned_stack(make_stack, api, mcp, "warn")
    mcp.admin.apply({"op": "remove", "tool": "whoami"})
    api.controls().clear_requests()
    # Read, the refresh's Diff, then the program's Diff: the three share one tool listing and one warning.
    preview = stack.preview("--refresh", check=False)
    assert preview.returncode == 0, preview.output
    paths = [r["path"] for r in api.controls().requests(api_only=True)]
    assert sum(p.endswith("/tools") for p in paths) == 1, paths
    diagnostics = preview.stdout.split("Diagnostics:", 1)[1]
    assert diagnostics.count("whoami: removed") == 1, diagnostics
