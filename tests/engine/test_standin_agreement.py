"""The stand-in (`pulumi_mistral.testing.StackRunner`) measured against the real engine, scenario by scenario.

Each scenario runs twice against the same local API: once with the pinned Pulumi CLI, once with the stack
runner. Both must send the same API requests (method and path, ids normalised; as a multiset where the engine
runs steps in parallel, in order where the order is the point) and end with the same stack outputs (ids and
auto-name suffixes normalised). Known differences are documented in `pulumi_mistral.testing.stack_runner`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral.testing.stack_runner import StackRunner

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECTS = Path(__file__).resolve().parent / "projects"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_AUTO = re.compile(r"^([a-z0-9-]+)-[a-z0-9]{7}$")


def requests_of(api: Any) -> list[tuple[str, str]]:
    return [(r["method"], _UUID.sub("{id}", r["path"])) for r in api.controls().requests(api_only=True)]


def normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):
        value = _UUID.sub("{id}", value)
        match = _AUTO.match(value)
        return f"{match.group(1)}-{{auto}}" if match else value
    return value


class Side:
    """One way of running a scenario's steps: `up`, `preview`, `refresh`, `destroy`, `set_config`."""

    def __init__(self, kind: str, make_stack: Any, project: Path, config: dict[str, Any], api: Any, mcp: Any) -> None:
        self.kind = kind
        self.mcp = mcp  # the MCP server the scenario's tools come from
        if kind == "engine":
            self.cli = make_stack(project, config=config)
        else:
            self.runner = StackRunner(project, config={**api.config(), **config})

    def set_config(self, key: str, value: str) -> None:
        if self.kind == "engine":
            self.cli.set_config(key, value)
        else:
            self.runner.config[key] = value

    def run(self, op: str) -> None:
        if self.kind == "engine":
            {"up": self.cli.up, "preview": self.cli.preview, "refresh": self.cli.refresh, "destroy": self.cli.destroy}[
                op
            ]()
        elif op == "up":
            self.last_outputs = self.runner.up().outputs
        else:
            getattr(self.runner, op)()

    def outputs(self) -> dict[str, Any]:
        """The stack outputs of the last up."""
        return self.cli.outputs() if self.kind == "engine" else self.last_outputs

    def close(self) -> None:
        if self.kind != "engine":
            self.runner.close()


Scenario = Callable[[Side, Any], list[tuple[str, list[tuple[str, str]]]]]


def lifecycle(side: Side, api: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """up, preview, an out-of-band change and refresh, a declared change, destroy: requests per step."""
    seen = []
    for op in ("up", "preview", "refresh"):
        api.controls().clear_requests()
        side.run(op)
        seen.append((op, sorted(requests_of(api))))
    with api.client() as client:
        tools = next(c for c in client.iter_connectors() if c.name.startswith("quickstart-tools"))
        client.update(tools.id, description="edited in the console")
    for op in ("refresh", "up"):
        api.controls().clear_requests()
        side.run(op)
        seen.append((f"{op} after drift", sorted(requests_of(api))))
    side.set_config("quickstart:mcpUrl", "https://mcp.example.com/other")
    api.controls().clear_requests()
    side.run("up")
    seen.append(("up after a declared change", sorted(requests_of(api))))
    return seen


def replacement(side: Side, api: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """A named connector's visibility changes (delete first), then an auto-named one's (create first)."""
    side.run("up")
    seen = []
    for key in ("many:named_visibility", "many:auto_visibility"):
        side.set_config(key, "shared_workspace")
        api.controls().clear_requests()
        side.run("up")
        seen.append((f"up with {key}", requests_of(api)))  # in order: the order is the point
    return seen


def tool_tracking(side: Side, api: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Tool tracking under warn: the tools are listed by up, preview and refresh; then they change."""
    seen = []
    steps: list[tuple[str, Callable[[], None]]] = [
        ("up", lambda: side.run("up")),
        ("preview", lambda: side.run("preview")),
        ("refresh", lambda: side.run("refresh")),
        (
            "tools change",
            lambda: side.mcp.admin.apply({"op": "set_description", "tool": "echo", "description": "changed"}),
        ),
        ("preview after", lambda: side.run("preview")),
        ("up after", lambda: side.run("up")),
        ("refresh after", lambda: side.run("refresh")),
    ]
    for label, action in steps:
        api.controls().clear_requests()
        action()
        seen.append((label, requests_of(api)))  # one connector: in order
    return seen


SCENARIOS: dict[str, tuple[Path, dict[str, Any], Scenario]] = {
    "tool-tracking": (PROJECTS / "tools", {"tools:policy": "warn"}, tool_tracking),
    "quickstart-lifecycle": (EXAMPLES / "quickstart", {"quickstart:mcpUrl": "https://mcp.example.com/mcp"}, lifecycle),
    "replacement-order": (PROJECTS / "many", {}, replacement),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_stand_in_sends_what_the_engine_sends_and_ends_with_the_same_outputs(name, make_stack, api, demo) -> None:
    project, config, scenario = SCENARIOS[name]
    results = {}
    for kind in ("engine", "stand-in"):
        api.controls().clear()
        demo.admin.apply({"op": "reset"})
        side = Side(kind, make_stack, project, {"tools:mcpUrl": demo.url, **config}, api, demo)
        try:
            steps = scenario(side, api)
            api.controls().clear_requests()
            outputs = normalised(side.outputs())
            side.run("destroy")
            results[kind] = (steps, outputs, Counter(requests_of(api)))
        finally:
            side.close()
    engine, stand_in = results["engine"], results["stand-in"]
    for (op, sent), (_, sent_too) in zip(engine[0], stand_in[0], strict=True):
        assert sent == sent_too, f"{name}: {op}"
    assert engine[1] == stand_in[1]
    assert engine[2] == stand_in[2], f"{name}: destroy"
    assert api.connectors() == []
