"""Durability: the local server killed with SIGKILL in the middle of a concurrent write load keeps every
acknowledged write (with its acknowledged content) and an intact database.

Complements ``tests/local/test_sdk_and_durability.py`` (sequential creates, then a kill): here the kill lands
while creates and updates are in flight, and a write whose answer never came may or may not be there.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_mistral.testing.local_process import local_command
from pulumi_mistral.testing.processes import spawn, stop_process

KEY = "durability-test-key"
START_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``pulumi-mistral local`` as a child process on a fixed port and database file."""

    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port = db, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = spawn(
            local_command(self.port, self.db),
            env={**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": KEY},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(
                        self.url + "/v1/connectors", headers={"Authorization": f"Bearer {KEY}"}, timeout=2
                    ).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("the local server exited during startup")
            time.sleep(0.05)
        self.stop()
        raise TimeoutError("the local server did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        stop_process(self.proc, signal.SIGKILL)  # no shutdown handler, no checkpoint

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM)  # SIGKILL after 10 s; its process group too


@dataclass
class Ledger:
    """Per connector name: the last acknowledged version and the one in flight (unknown outcome)."""

    acked: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged_writes: int = 0
    errors: list[BaseException] = field(default_factory=list)  # raised in a writer thread: fail the run


def _writer(url: str, worker: int, ledger: Ledger, stop: threading.Event) -> None:
    """A writer thread: an exception (an unexpected answer is an AssertionError) is kept for the main thread,
    which raises it: a thread's exception alone would only be printed, and the test would pass."""
    try:
        _write_versions(url, worker, ledger, stop)
    except BaseException as exc:
        with ledger.lock:
            ledger.errors.append(exc)


def _write_versions(url: str, worker: int, ledger: Ledger, stop: threading.Event) -> None:
    """Create a connector, then update it again and again; each write carries its version number."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5) as http:
        n = 0
        while not stop.is_set() and n < 10_000:
            name = f"w{worker}-{n}"
            connector_id: str | None = None
            for version in range(1, 6):
                with ledger.lock:
                    ledger.pending[name] = version
                try:
                    if version == 1:
                        resp = http.post(
                            "/v1/connectors",
                            json={"name": name, "description": "v1", "server": "https://mcp.example.com/mcp"},
                        )
                    else:
                        resp = http.patch(
                            f"/v1/connectors/{connector_id}",
                            json={"description": f"v{version}", "connection_config": {"v": version}},
                        )
                except httpx.HTTPError:
                    return  # the server is gone: this write's outcome is unknown (it stays pending)
                if resp.status_code not in (200, 201):
                    raise AssertionError(f"unexpected {resp.status_code} for {name} v{version}")
                connector_id = resp.json()["id"]
                with ledger.lock:
                    ledger.acked[name] = version
                    ledger.pending.pop(name, None)
                    ledger.acknowledged_writes += 1
            n += 1


def _load_then_kill(server: ServerProcess, ledger: Ledger, cycle: int, *, seconds: float, workers: int) -> str:
    """Start the server and the writers, SIGKILL the server mid-load; the database's integrity check after it."""
    server.start()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(server.url, cycle * 100 + w, ledger, stop), daemon=True)
        for w in range(workers)
    ]
    for t in threads:
        t.start()
    time.sleep(seconds)
    server.kill()  # while the writers are mid-request
    stop.set()
    for t in threads:
        t.join(15)
    assert not any(t.is_alive() for t in threads)
    if ledger.errors:
        raise ledger.errors[0]
    with sqlite3.connect(server.db) as db:  # before any restart: what the kill left on disk
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _list_live(url: str) -> dict[str, dict[str, Any]]:
    """Every connector the restarted server lists, by name (bounded: at most 1,000 pages)."""
    live: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as http:
        cursor = None
        for _ in range(1000):
            params: dict[str, Any] = {"page_size": 1000, **({"cursor": cursor} if cursor else {})}
            page = http.get("/v1/connectors", params=params).json()
            live.update({c["name"]: c for c in page["items"]})
            cursor = page["pagination"]["next_cursor"]
            if not cursor:
                break
    return live


def _reconcile(ledger: Ledger, live: dict[str, dict[str, Any]]) -> int:
    """The acknowledged writes missing from ``live`` (counted); the writes in flight at the kill become known."""
    lost = 0
    for name, version in ledger.acked.items():
        c = live.get(name)
        allowed = {version, ledger.pending.get(name, version)}
        if c is None or int(c["description"][1:]) not in allowed:
            lost += 1
    for name, version in ledger.pending.items():  # in flight at the kill: absent, or that version
        if name not in ledger.acked and name in live:
            assert live[name]["description"] == f"v{version}", name
    for name in ledger.pending:  # an unanswered write that did land is now the known state
        if name in live:
            ledger.acked[name] = int(live[name]["description"][1:])
    ledger.pending.clear()
    return lost


def kill_during_load(tmp: Path, *, seconds: float, workers: int = 4, cycles: int = 1) -> dict[str, Any]:
    """Run the write load, SIGKILL the server mid-load, restart, check; ``cycles`` times on one database."""
    server = ServerProcess(tmp / "durable.db", _free_port())
    ledger = Ledger()
    report: dict[str, Any] = {"cycles": cycles, "acknowledged_writes": 0, "lost_writes": 0, "integrity": []}
    try:
        for cycle in range(cycles):
            report["integrity"].append(_load_then_kill(server, ledger, cycle, seconds=seconds, workers=workers))
            server.start()
            report["lost_writes"] += _reconcile(ledger, _list_live(server.url))
            server.stop()
        report["acknowledged_writes"] = ledger.acknowledged_writes
    finally:
        server.stop()
    return report


def test_sigkill_mid_write_load_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    report = kill_during_load(tmp_path, seconds=1.5)
    assert report["acknowledged_writes"] > 20
    assert report["lost_writes"] == 0
    assert report["integrity"] == ["ok"]


@pytest.mark.slow
def test_sigkill_mid_write_load_repeatedly(tmp_path: Path) -> None:
    report = kill_during_load(tmp_path, seconds=4.0, workers=8, cycles=4)
    assert report["lost_writes"] == 0
    assert report["integrity"] == ["ok"] * 4


def test_a_failure_inside_a_writer_thread_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: an unexpected answer seen by a writer thread is raised by the main thread."""

    def unexpected(url: str, worker: int, ledger: Ledger, stop: threading.Event) -> None:
        raise AssertionError(f"unexpected 500 for w{worker}-0 v1")

    monkeypatch.setattr(sys.modules[__name__], "_write_versions", unexpected)
    with pytest.raises(AssertionError, match="unexpected 500"):
        kill_during_load(tmp_path, seconds=0.2, workers=2)
