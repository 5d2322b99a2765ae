"""The demo (`make demo`): deploy the quickstart against the local server, use a tool, check drift, destroy.

Everything runs on 127.0.0.1 and stops before exit. With the `pulumi` CLI on PATH the quickstart is deployed
with `pulumi up` on a local file backend; without it, the same program runs through the repository's stack
runner (the real provider behind the real `python -m pulumi.dynamic` gRPC server).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the example MCP servers live next to this file

from mcp_servers.runner import start_demo_server  # noqa: E402
from pulumi_mistral.testing.local_server import LocalServer  # noqa: E402
from pulumi_mistral.testing.stack_runner import StackRunner  # noqa: E402

QUICKSTART = HERE / "quickstart"
CLI_TIMEOUT_S = 300


def step(title: str) -> None:
    print(f"\n== {title}")


class CliStack:
    """The quickstart deployed with the real `pulumi` CLI on a file backend in a temporary directory."""

    def __init__(self, workdir: Path, config: dict[str, str], secret: set[str]) -> None:
        self.project = workdir / "quickstart"
        shutil.copytree(QUICKSTART, self.project)
        # Point the project at this interpreter's virtualenv instead of a per-project one.
        text = (self.project / "Pulumi.yaml").read_text().replace("virtualenv: venv", f"virtualenv: {sys.prefix}")
        (self.project / "Pulumi.yaml").write_text(text)
        (workdir / "backend").mkdir()
        self.env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{workdir / 'backend'}",
                    "PULUMI_CONFIG_PASSPHRASE": "demo-only-passphrase", "PULUMI_SKIP_UPDATE_CHECK": "true"}
        self.run("stack", "init", "dev")
        for key, value in config.items():
            self.run("config", "set", *(["--secret"] if key in secret else []), key, value)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.project, env=self.env, text=True,
                              capture_output=True, timeout=CLI_TIMEOUT_S, check=check)

    def up(self) -> dict[str, Any]:
        self.run("up", "--yes", "--skip-preview")
        return json.loads(self.run("stack", "output", "--json").stdout)

    def drift(self) -> str | None:
        result = self.run("refresh", "--preview-only", "--expect-no-changes", "--diff", check=False)
        return None if result.returncode == 0 else result.stdout.strip().splitlines()[-1]

    def destroy(self) -> None:
        self.run("destroy", "--yes")


def run_demo() -> int:
    with LocalServer() as server, start_demo_server() as mcp:
        print(f"local Connectors API: {server.url}   example MCP server: {mcp.url}")
        config = {"mistral:apiKey": server.api_key, "mistral:serverUrl": server.url, "quickstart:mcpUrl": mcp.url}
        client = server.client()
        with tempfile.TemporaryDirectory(prefix="pulumi-mistral-demo-") as tmp:
            if shutil.which("pulumi"):
                step("deploy examples/quickstart with `pulumi up` (local file backend)")
                stack: Any = CliStack(Path(tmp), config, {"mistral:apiKey"})
                up: Callable[[], dict[str, Any]] = stack.up
                drift: Callable[[], str | None] = stack.drift
            else:
                print("pulumi CLI not found: running the quickstart through the stack runner instead")
                step("deploy examples/quickstart (stack runner)")
                stack = StackRunner(QUICKSTART, config=config, state_path=Path(tmp) / "state.json")
                up = lambda: stack.up().outputs  # noqa: E731

                def drift() -> str | None:
                    found = stack.refresh().drift
                    return "; ".join(f"{urn.rsplit('::', 1)[-1]}: {', '.join(props)} changed"
                                     for urn, props in found.items()) or None

            try:
                outputs = up()
                for key in ("tools_connector_name", "docs_connector_name"):
                    print(f"  created connector {outputs[key]}")

                step("use the MCP server through the connector")
                tools_id = outputs["tools_connector_id"]
                names = sorted(t.name if hasattr(t, "name") else t["name"] for t in client.list_tools(tools_id))
                print(f"  tools: {', '.join(names)}")
                answer = client.call_tool(tools_id, "echo", arguments={"text": "hello from the demo"})
                print(f"  echo -> {answer.content[0].text}")

                step("drift check (refresh)")
                found = drift()
                print("  drift check passed: no changes" if found is None else f"  unexpected drift: {found}")
                if found is not None:
                    return 1

                step("change the tools connector out of band, then check drift again")
                client.update(tools_id, description="edited in the console")
                found = drift()
                print(f"  drift check failed as expected: {found}" if found else "  drift NOT detected")
                if not found or "description" not in found:
                    return 1
            finally:
                step("destroy")
                stack.destroy()
                left = list(client.iter_connectors())
                print(f"  destroyed; connectors left: {len(left)}")
                if hasattr(stack, "close"):
                    stack.close()
                client.close()
    print("\ndemo finished: servers stopped")
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())
