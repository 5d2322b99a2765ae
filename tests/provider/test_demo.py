"""The demo (`make demo`) runs end to end as a subprocess, exits 0, prints its key lines, leaves no process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from provider_helpers import REPO

from pulumi_mistral.testing.pulumi_cli import find_pulumi


def _processes_with_marker(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def run_demo(**env: str) -> str:
    marker = f"DEMO_TEST_MARKER={uuid.uuid4().hex}"
    key, value = marker.split("=")
    environ = {**os.environ, key: value, "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin", **env}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for line in (
        "created connector quickstart-tools-",
        "echo -> hello from the demo",
        "drift check passed: no changes",
        "connectors left: 0",
        "demo finished",
    ):
        assert line in out, out
    assert len(out.splitlines()) < 40
    assert _processes_with_marker(marker) == []
    return out


def test_demo_deploys_with_the_real_cli_when_it_is_installed() -> None:
    if find_pulumi() is None:
        if shutil.which("go"):
            pytest.fail("Go is installed but the Pulumi CLI was not built: run `make install`")
        pytest.skip("no Pulumi CLI on this machine: the demo's CLI path cannot run")
    out = run_demo()
    assert "pulumi up (file backend in a temporary directory)" in out and "pulumi CLI not found" not in out
    assert "drift check: pulumi refresh --preview-only --expect-no-changes" in out
    assert "drift check failed as expected: exit 7, quickstart-tools: description changed" in out, out


def test_demo_runs_through_the_stack_runner_on_request() -> None:
    out = run_demo(PULUMI_MISTRAL_DEMO="stack-runner")
    assert "deploy examples/quickstart (stack runner)" in out and "pulumi CLI not found" not in out
    assert "drift check failed as expected: quickstart-tools: description changed" in out, out
