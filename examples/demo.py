"""The demo (`make demo`): deploy the quickstart against the local server, use a tool, check drift, destroy.

Everything runs on 127.0.0.1 and stops before exit. With the Pulumi CLI (`make install` builds the pinned one
into .venv/bin) the quickstart is deployed with `pulumi up` on a file backend in a temporary directory, with
passphrase secrets and no Pulumi Cloud login; the drift check is the command CI runs,
`pulumi refresh --preview-only --expect-no-changes` (exit 0: no drift, 7: drift). Without the CLI, the same
program runs through the repository's stack runner (the real provider behind the real `python -m
pulumi.dynamic` gRPC server), and the demo says so in one line; `PULUMI_MISTRAL_DEMO=stack-runner` chooses that
path even where the CLI is installed.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the example MCP servers live next to this file

from mcp_servers.runner import start_demo_server  # noqa: E402
from pulumi_mistral.core.spec import ALL_FIELDS  # noqa: E402
from pulumi_mistral.testing.local_server import LocalServer  # noqa: E402
from pulumi_mistral.testing.pulumi_cli import EXIT_EXPECTED_NO_CHANGES, CliStack, find_pulumi  # noqa: E402
from pulumi_mistral.testing.stack_runner import StackRunner  # noqa: E402

QUICKSTART = HERE / "quickstart"
# A changed property in the CLI's diff: "  ~ description  : "old" => "new"". Only inputs can drift: the refresh
# shows outputs the API computes (modified_at, tool_names) changing too.
_CHANGED = re.compile(r"^\s*~ (\w+)\s*:", re.MULTILINE)


def step(title: str) -> None:
    print(f"\n== {title}")


class CliDemo:
    """The quickstart through the real CLI; the drift check is CI's command and its exit code."""

    def __init__(self, pulumi: Path, config: dict[str, str]) -> None:
        self.stack = CliStack(QUICKSTART, config=config, pulumi=pulumi)

    def up(self) -> dict[str, Any]:
        self.stack.up()
        return self.stack.outputs()

    def drift(self) -> str | None:
        result = self.stack.refresh("--preview-only", "--expect-no-changes", "--diff", check=False)
        if result.returncode == 0:
            return None
        if result.returncode != EXIT_EXPECTED_NO_CHANGES:
            raise RuntimeError(f"the drift check failed (exit {result.returncode}):\n{result.output[-2000:]}")
        found: dict[str, list[str]] = {}
        for block in result.stdout.split("[urn=")[1:]:
            name = block.split("]", 1)[0].rsplit("::", 1)[-1]
            props = [p for p in _CHANGED.findall(block) if p in ALL_FIELDS]
            if props:
                found[name] = props
        shown = "; ".join(f"{name}: {', '.join(props)} changed" for name, props in found.items())
        return f"exit {result.returncode}, {shown or 'changes planned'}"

    def destroy(self) -> None:
        self.stack.destroy()

    def close(self) -> None:
        self.stack.close()


class RunnerDemo:
    """The same program through the stack runner (no CLI on this machine)."""

    def __init__(self, config: dict[str, str], state_dir: Path) -> None:
        self.stack = StackRunner(QUICKSTART, config=config, state_path=state_dir / "state.json")

    def up(self) -> dict[str, Any]:
        return self.stack.up().outputs

    def drift(self) -> str | None:
        found = self.stack.refresh().drift
        return (
            "; ".join(f"{urn.rsplit('::', 1)[-1]}: {', '.join(props)} changed" for urn, props in found.items()) or None
        )

    def destroy(self) -> None:
        self.stack.destroy()

    def close(self) -> None:
        self.stack.close()


def run_demo() -> int:
    with LocalServer() as server, start_demo_server() as mcp, tempfile.TemporaryDirectory() as tmp:
        print(f"local Connectors API: {server.url}   example MCP server: {mcp.url}")
        config = {"mistral:apiKey": server.api_key, "mistral:serverUrl": server.url, "quickstart:mcpUrl": mcp.url}
        client = server.client()
        pulumi = None if os.environ.get("PULUMI_MISTRAL_DEMO") == "stack-runner" else find_pulumi()
        demo: CliDemo | RunnerDemo
        if pulumi is not None:
            step("deploy examples/quickstart: pulumi up (file backend in a temporary directory)")
            demo = CliDemo(pulumi, config)
        else:
            if os.environ.get("PULUMI_MISTRAL_DEMO") != "stack-runner":
                print(
                    "pulumi CLI not found (`make install` builds it when Go is installed): "
                    "running the quickstart through the stack runner instead"
                )
            step("deploy examples/quickstart (stack runner)")
            demo = RunnerDemo(config, Path(tmp))
        try:
            outputs = demo.up()
            for key in ("tools_connector_name", "docs_connector_name"):
                print(f"  created connector {outputs[key]}")

            step("use the MCP server through the connector")
            tools_id = outputs["tools_connector_id"]
            names = sorted(t.name for t in client.list_tools(tools_id))
            print(f"  tools: {', '.join(names)}")
            answer = client.call_tool(tools_id, "echo", arguments={"text": "hello from the demo"})
            print(f"  echo -> {answer.content[0].text}")

            step("drift check: pulumi refresh --preview-only --expect-no-changes" if pulumi else "drift check")
            found = demo.drift()
            print("  drift check passed: no changes" if found is None else f"  unexpected drift: {found}")
            if found is not None:
                return 1

            step("change the tools connector out of band, then check drift again")
            client.update(tools_id, description="edited in the console")
            found = demo.drift()
            print(f"  drift check failed as expected: {found}" if found else "  drift NOT detected")
            if not found or "description" not in found:
                return 1
        finally:
            step("destroy")
            demo.destroy()
            left = list(client.iter_connectors())
            print(f"  destroyed; connectors left: {len(left)}")
            demo.close()
            client.close()
    print("\ndemo finished: servers stopped")
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())
