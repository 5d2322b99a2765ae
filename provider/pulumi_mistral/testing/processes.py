"""Child processes of tests: each in a process group of its own, stopped SIGTERM then SIGKILL, grandchildren too.

    proc = spawn([sys.executable, "-m", "pulumi_mistral.cli", "local", ...], stdout=subprocess.PIPE)
    try:
        ...
    finally:
        stop_process(proc)                   # SIGTERM; after 10 s SIGKILL; then whatever is left in its group
    code = stop_process(proc, signal.SIGINT)  # the first signal goes to the process alone, as Ctrl+C would

A child in a session of its own does not get the terminal's Ctrl+C (the test's teardown stops it instead), and
its whole group can be ended at once, grandchildren included. Every wait is bounded. For a guard at the end of a
test session: ``adopt_orphans()`` makes grandchildren whose parent died children of this process again, and
``leftover_processes()`` lists what still runs below it, command lines redacted (API keys never appear);
``session_processes(sid)`` lists what still runs in a session (a command started with ``start_new_session``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Leftover",
    "adopt_orphans",
    "end_group",
    "end_processes",
    "has_exited",
    "leftover_processes",
    "redact_command",
    "session_processes",
    "spawn",
    "stop_process",
]

STOP_TIMEOUT_S = 10.0  # the first signal to the process, before SIGKILL
GROUP_GRACE_S = 2.0  # SIGTERM to what is left in the group, before SIGKILL
REAP_TIMEOUT_S = 5.0  # after SIGKILL
_POLL_S = 0.02
_PROC = Path("/proc")
# Environment variables whose values are secrets a command line might repeat (comma-separated lists too).
SECRET_ENV = ("PULUMI_MISTRAL_LOCAL_API_KEYS", "MISTRAL_API_KEY", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN")
_SECRET_FLAG = re.compile(r"^--?[\w-]*(key|token|secret|passw|passphrase)[\w-]*$", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"(?i)(bearer\s+)\S+")
_HIDDEN = "***"
_MAX_COMMAND_CHARS = 400


def spawn(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(args, **kwargs)`` in a new session (so a new process group, led by the child)."""
    kwargs["start_new_session"] = True
    return subprocess.Popen(args, **kwargs)


def stop_process(proc: subprocess.Popen[Any], signum: int = signal.SIGTERM, *, timeout: float = STOP_TIMEOUT_S) -> int:
    """Stop ``proc`` and everything left in its process group; its exit status (negative: killed by a signal).

    ``signum`` goes to the process alone; after ``timeout`` s it gets SIGKILL. Then what is left in its group
    (grandchildren) gets SIGTERM, and after GROUP_GRACE_S SIGKILL. The process is reaped last, so its id (the
    group's id) cannot be given to another process while the group is signalled; if it was reaped already
    (``communicate()``, ``wait()``), a group with live members keeps that id reserved, and an empty one is left
    alone.
    """
    try:
        if not has_exited(proc):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signum)
            if not _wait_exited(proc, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
    finally:
        end_group(proc.pid)
        try:
            proc.wait(REAP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(REAP_TIMEOUT_S)
    return proc.returncode


def end_group(pgid: int, grace: float = GROUP_GRACE_S) -> None:
    """SIGTERM to the live members of process group ``pgid``; SIGKILL to those still there after ``grace`` s."""
    if _group_members(pgid) == []:
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)
        if _group_gone(pgid, grace):
            return


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        members = _group_members(pgid)
        if members is None:  # pragma: no cover - no /proc: cannot tell
            return False
        if not members:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)


def has_exited(proc: subprocess.Popen[Any]) -> bool:
    """Whether ``proc`` has exited, without reaping it where the platform allows (``stop_process`` then still
    ends its group: an unreaped process keeps its id, which is its group's)."""
    if proc.returncode is not None:
        return True
    if not hasattr(os, "waitid"):  # pragma: no cover - not Linux
        return proc.poll() is not None
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped elsewhere
        return True


def _wait_exited(proc: subprocess.Popen[Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not has_exited(proc):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


# ---- /proc: what runs below this process ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Stat:
    pid: int
    state: str
    ppid: int
    pgrp: int
    session: int


def _stats() -> list[_Stat] | None:
    """Every process in /proc (None where there is no /proc)."""
    if not (_PROC / "self" / "stat").exists():  # pragma: no cover - not Linux
        return None
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses, so split after the last ")"
        fields = text[text.rindex(")") + 2 :].split()
        found.append(_Stat(int(entry.name), fields[0], int(fields[1]), int(fields[2]), int(fields[3])))
    return found


def _alive(stat: _Stat) -> bool:
    return stat.state not in ("Z", "X", "x")  # a zombie only waits to be reaped


def _group_members(pgid: int) -> list[int] | None:
    stats = _stats()
    return None if stats is None else [s.pid for s in stats if s.pgrp == pgid and _alive(s)]


def adopt_orphans() -> bool:
    """Make this process the "subreaper" of its descendants (Linux): a grandchild whose parent exits becomes its
    child instead of init's, so ``leftover_processes()`` still finds it. False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_child_subreaper = 36
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):  # pragma: no cover
        return False


@dataclass(frozen=True)
class Leftover:
    """A live process below this one: its id and its command line, redacted."""

    pid: int
    command: str


def leftover_processes(root: int | None = None, *, ignore: Iterable[str] = ()) -> list[Leftover]:
    """The live descendants of ``root`` (default: this process), but those whose command line contains one of
    ``ignore``. Zombies are not listed (they have exited)."""
    stats = _stats()
    if stats is None:  # pragma: no cover - not Linux
        return []
    children: dict[int, list[_Stat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    found: list[Leftover] = []
    todo = [os.getpid() if root is None else root]
    while todo:
        for stat in children.get(todo.pop(), []):
            todo.append(stat.pid)
            if not _alive(stat):
                continue
            argv = _command_line(stat.pid)
            if argv is None or any(marker in " ".join(argv) for marker in ignore):
                continue
            found.append(Leftover(stat.pid, redact_command(argv)))
    return found


def session_processes(sid: int) -> list[Leftover]:
    """The live processes of session ``sid`` (zombies are not listed: they have exited), command lines redacted."""
    found = []
    for stat in _stats() or []:
        argv = _command_line(stat.pid) if stat.session == sid and _alive(stat) else None
        if argv is not None:  # None: not in the session, or gone meanwhile
            found.append(Leftover(stat.pid, redact_command(argv)))
    return found


def _command_line(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part] or [f"[pid {pid}]"]


def end_processes(pids: Iterable[int], grace: float = GROUP_GRACE_S) -> None:
    """SIGTERM to each of ``pids``, SIGKILL to those still alive after ``grace`` s (children among them reaped)."""
    left = set(pids)
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
        deadline = time.monotonic() + grace
        while left and time.monotonic() < deadline:
            _reap(left)
            stats = {s.pid: s for s in _stats() or []}
            left = {pid for pid in left if pid in stats and _alive(stats[pid])}
            if left:
                time.sleep(_POLL_S)
        if not left:
            return


def _reap(pids: Iterable[int]) -> None:
    for pid in pids:  # only our own children can be reaped; the others are reaped by their parent
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def redact_command(argv: Sequence[str]) -> str:
    """``argv`` as one line with secret values replaced by ``***``: the value of an option named like a key, token,
    secret or password (``--api-key=K`` and ``--api-key K``), a bearer token, and any value of SECRET_ENV."""
    known = {part.strip() for name in SECRET_ENV for part in os.environ.get(name, "").split(",")}
    known = {value for value in known if len(value) >= 4}
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(_HIDDEN)
            hide_next = False
            continue
        flag, eq, _value = arg.partition("=")
        if _SECRET_FLAG.match(flag):
            if eq:
                arg = f"{flag}={_HIDDEN}"
            else:
                hide_next = True
        arg = _SECRET_VALUE.sub(rf"\g<1>{_HIDDEN}", arg)
        for value in known:
            arg = arg.replace(value, _HIDDEN)
        out.append(arg)
    line = " ".join(out)
    return line if len(line) <= _MAX_COMMAND_CHARS else line[:_MAX_COMMAND_CHARS] + "..."
