"""The demo (`make demo`) runs end to end as a subprocess, exits 0, prints its key lines, leaves no process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from provider_helpers import REPO


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


def test_demo_runs_and_cleans_up() -> None:
    marker = f"DEMO_TEST_MARKER={uuid.uuid4().hex}"
    key, value = marker.split("=")
    env = {**os.environ, key: value, "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(REPO / "examples" / "demo.py")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=180)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    if "pulumi CLI not found" in out:
        assert out.count("pulumi CLI not found") == 1
    for line in ("created connector quickstart-tools-", "echo -> hello from the demo",
                 "drift check passed: no changes", "drift check failed as expected: quickstart-tools: description",
                 "connectors left: 0", "demo finished"):
        assert line in out, out
    assert len(out.splitlines()) < 40
    assert _processes_with_marker(marker) == []
