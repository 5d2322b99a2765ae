"""The process helpers the tests stop their servers with, and the session guard that fails a suite leaving any behind.

Real processes: a child that ignores SIGTERM, a grandchild orphaned by its parent, and a whole pytest session run
in a subprocess with the guard of tests/conftest.py, whose test leaks two processes on purpose.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulumi_mistral.testing.processes import redact_command, session_processes, spawn, stop_process

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")

TESTS = Path(__file__).resolve().parents[1]
# a child that ignores SIGTERM and starts a grandchild that ignores it too, prints the grandchild's id, and sleeps
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
print(grandchild.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _running_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _alive(int(entry.name)):
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_stop_process_escalates_to_sigkill_and_ends_the_group() -> None:
    proc = spawn([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        grandchild = int(proc.stdout.readline())
        assert _alive(grandchild)
    finally:
        started = time.monotonic()
        code = stop_process(proc, timeout=0.5)
    assert code == -signal.SIGKILL  # SIGTERM was ignored
    assert not _alive(grandchild)  # its group went with it (SIGTERM ignored there too: SIGKILL)
    assert time.monotonic() - started < 0.5 + 2 + 2  # every wait bounded


def test_stop_process_sends_the_given_signal_first() -> None:
    proc = spawn(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    finally:
        code = stop_process(proc, signal.SIGINT)
    assert code == -signal.SIGINT  # Python's KeyboardInterrupt (it exits by SIGINT), not SIGKILL
    assert stop_process(proc) == -signal.SIGINT  # again: nothing left to do, the same status


def test_command_lines_are_redacted() -> None:
    key = secrets.token_urlsafe(16)
    assert (
        redact_command(["pulumi-mistral", "local", f"--api-key={key}", "--api-key", key, "--db", "x.db"])
        == "pulumi-mistral local --api-key=*** --api-key *** --db x.db"
    )
    assert redact_command(["curl", "-H", f"Authorization: Bearer {key}"]) == "curl -H Authorization: Bearer ***"
    os.environ["PULUMI_MISTRAL_LOCAL_API_KEYS"], previous = (
        f"a-{key},b-{key}",
        os.environ.get("PULUMI_MISTRAL_LOCAL_API_KEYS"),
    )
    try:
        assert key not in redact_command(["tool", f"a-{key}", f"--x=b-{key}"])
    finally:
        if previous is None:
            del os.environ["PULUMI_MISTRAL_LOCAL_API_KEYS"]
        else:
            os.environ["PULUMI_MISTRAL_LOCAL_API_KEYS"] = previous


LEAKY_TEST = """
import subprocess, sys

def test_leaks():
    # a child left running, with a key on its command line
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "--api-key=KEY", "MARKER-child"])
    # a grandchild whose parent exits at once: an orphan
    subprocess.run([sys.executable, "-c", "import subprocess, sys; subprocess.Popen([sys.executable, '-c', "
                    "'import time; time.sleep(120)', 'MARKER-orphan'])"], check=True)
"""


def test_the_session_guard_names_kills_and_fails(tmp_path: Path) -> None:
    key, marker = secrets.token_urlsafe(16), f"leak-{secrets.token_hex(4)}"
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST.replace("KEY", key).replace("MARKER", marker))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    # the guard of tests/conftest.py, loaded as a plugin into a session of its own
    proc = spawn(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_leaky.py"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = proc.communicate(timeout=120)[0]
    finally:
        stop_process(proc)
    try:
        assert proc.returncode == 1, out  # the test passed; the session failed
        assert "1 passed" in out and "processes left behind" in out, out
        assert f"{marker}-child" in out and f"{marker}-orphan" in out, out
        assert "--api-key=***" in out and key not in out, out
        assert _running_with(marker) == []  # killed by the guard
    finally:
        for pid in _running_with(marker):  # a failing guard must not leave them to this session
            os.kill(pid, signal.SIGKILL)


def test_session_processes_lists_a_whole_session_with_command_lines_redacted() -> None:
    key = secrets.token_urlsafe(12)
    proc = spawn([sys.executable, "-c", STUBBORN, f"--api-key={key}"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        grandchild = int(proc.stdout.readline())
        found = {p.pid: p.command for p in session_processes(proc.pid)}  # spawn starts a session of its own
        assert set(found) == {proc.pid, grandchild}
        assert key not in found[proc.pid] and "--api-key=***" in found[proc.pid]
    finally:
        stop_process(proc)
    assert session_processes(proc.pid) == []
