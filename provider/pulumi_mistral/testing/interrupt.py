"""Interrupting a Pulumi command as a terminal or a kill does: a signal to its process tree, at a chosen moment.

A deployment is interrupted in two ways that leave different things behind (docs/interrupted.md): Ctrl-C sends
SIGINT to the terminal's foreground process group, and the CLI cancels gracefully; a cancelled CI job, an OOM
kill or a closed laptop lid stops every process at once (SIGKILL). The language host runs programs in a process
group of their own, so a kill must reach the whole session, not only the CLI's group:

    from pulumi_mistral.testing.interrupt import Interruption

    with Interruption(stack, "up", "--yes", "--skip-preview") as run:
        run.wait_for(lambda: len(pending_operations(stack, "creating")) >= 4)
        run.kill()                       # SIGKILL to every process of the session
    assert run.leftovers() == []         # nothing of it still runs

``pending_operations`` reads the checkpoint of a :class:`~pulumi_mistral.testing.pulumi_cli.CliStack` straight
from its file backend: no CLI process and no lock, so it is safe while the command runs. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pulumi_mistral.testing.processes import session_processes

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.testing.pulumi_cli import CliStack

__all__ = ["Interruption", "checkpoint", "kill_session", "pending_operations", "session_pids"]

WAIT_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 120.0
KILL_ROUNDS = 50
POLL_S = 0.05


def session_pids(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``, read from /proc."""
    return [process.pid for process in session_processes(sid)]


def kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid`` until none is left (a bounded number of rounds)."""
    for _ in range(KILL_ROUNDS):
        pids = session_pids(sid)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(POLL_S * 2)
    raise RuntimeError(f"processes of session {sid} outlived {KILL_ROUNDS} rounds of SIGKILL: {session_pids(sid)}")


def checkpoint(stack: CliStack) -> dict[str, Any]:
    """The latest checkpoint of ``stack`` as its file backend holds it ({} before the first write, or mid-write)."""
    path = stack.workdir / "backend" / ".pulumi" / "stacks" / stack.project / f"{stack.stack}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    latest = (data.get("checkpoint") or {}).get("latest")
    return latest if isinstance(latest, dict) else {}


def pending_operations(stack: CliStack, kind: str | None = None) -> list[dict[str, Any]]:
    """The pending operations of the checkpoint (``kind``: only ``creating``, ``updating``, ``deleting``...)."""
    ops = checkpoint(stack).get("pending_operations") or []
    return [op for op in ops if kind is None or op.get("type") == kind]


class Interruption:
    """One Pulumi command in a session of its own, to be interrupted (see the module docstring)."""

    def __init__(self, stack: CliStack, *args: str) -> None:
        self.stack = stack
        self.args = ("--non-interactive", *args, "--stack", stack.stack)
        self.proc = subprocess.Popen(
            [str(stack.pulumi), *self.args],
            cwd=stack.project_dir,
            env=stack.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output = ""

    def wait_for(self, condition: Callable[[], bool], *, timeout: float = WAIT_TIMEOUT_S, what: str = "") -> None:
        """Poll ``condition`` until it holds; fail when the command ends first or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                self.output = self.proc.communicate()[0]
                raise AssertionError(
                    f"`pulumi {' '.join(self.args)}` ended before {what or 'the moment'}:\n{self.output[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{what or 'the moment'} did not come within {timeout:.0f} s")
            time.sleep(POLL_S)

    def kill(self) -> None:
        """SIGKILL: every process of the session at once, as a cancelled CI job or an OOM kill."""
        kill_session(self.proc.pid)
        self.output = self.proc.communicate(timeout=EXIT_TIMEOUT_S)[0]

    def ctrl_c(self, *, timeout: float = EXIT_TIMEOUT_S) -> int:
        """SIGINT to the CLI's process group, as a terminal's Ctrl-C; waits for the CLI to end; its exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.wait(timeout=timeout)

    def wait(self, *, timeout: float = EXIT_TIMEOUT_S) -> int:
        """Waits for the CLI to end (its output in ``output``); its exit code."""
        self.output = self.proc.communicate(timeout=timeout)[0]
        return self.proc.returncode

    def leftovers(self) -> list[int]:
        """Processes of the session still alive."""
        return session_pids(self.proc.pid)

    def __enter__(self) -> Interruption:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc.poll() is None or self.leftovers():
            kill_session(self.proc.pid)
            self.proc.communicate(timeout=EXIT_TIMEOUT_S)
