"""The real-engine tier: the pinned Pulumi CLI against `pulumi-mistral local` (a subprocess) and real MCP servers.

Every test here runs real `pulumi` commands. The tier is skipped only where it cannot run at all (no Go and no
CLI); where Go exists but the CLI was not built, every test errors, so the tier never silently disappears.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# engine_doors.py sits next to this file; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_mistral.testing.local_process import LocalServerProcess
from pulumi_mistral.testing.pulumi_cli import CliStack, find_pulumi

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    cli = find_pulumi()
    if cli is None:
        if shutil.which("go"):
            pytest.fail("Go is installed but the Pulumi CLI was not built: run `make install`")
        pytest.skip("no Pulumi CLI and no Go to build it: the real-engine tier cannot run on this machine")
    version = subprocess.run([str(cli), "version"], capture_output=True, text=True, timeout=30, check=True)
    assert version.stdout.strip().startswith("v3."), version.stdout
    return cli


@pytest.fixture(scope="session")
def local_api_session(pulumi_bin: Path) -> Iterator[LocalServerProcess]:
    with LocalServerProcess(api_keys=2) as api:  # two workspaces: multi-env deploys dev and prod into each
        yield api


@pytest.fixture
def api(local_api_session: LocalServerProcess) -> LocalServerProcess:
    """The local API with an empty workspace, no fault rules and an empty request log."""
    local_api_session.controls().clear()
    return local_api_session


@pytest.fixture
def make_stack(pulumi_bin: Path, api: LocalServerProcess) -> Iterator[Any]:
    """``make_stack(project, **config)``: a CliStack on the local API; destroyed and removed afterwards."""
    made: list[CliStack] = []

    def make(
        project: str | Path,
        *,
        stack: str = "dev",
        config: dict[str, Any] | None = None,
        secret_keys: tuple[str, ...] = ("mistral:apiKey",),
        api_key: str | None = None,
        **kwargs: Any,
    ) -> CliStack:
        path = project if isinstance(project, Path) else EXAMPLES / project
        cli = CliStack(
            path,
            stack=stack,
            config={**api.config(api_key), **(config or {})},
            secret_keys=secret_keys,
            pulumi=pulumi_bin,
            **kwargs,
        )
        made.append(cli)
        return cli

    yield make
    try:
        for cli in reversed(made):  # stacks may share a workspace: destroy them all before removing any
            cli.destroy(check=False)
    finally:
        for cli in made:
            cli.close()
