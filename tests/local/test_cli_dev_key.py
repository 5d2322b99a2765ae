"""`pulumi-mistral local` without --api-key: the generated key survives a restart on the same database.

Real processes, real ports: the key printed at the first start is accepted after a restart, its connectors
are still there, only its SHA-256 is kept (owner-only, beside the database), and a deleted hash file gives a
new key whose workspace is empty (the old connectors belong to the old key).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx

from pulumi_mistral.local.server import dev_key_path
from pulumi_mistral.testing.local_process import local_command
from pulumi_mistral.testing.processes import spawn, stop_process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(db: Path, port: int, *extra: str, lines: int = 2) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "PULUMI_MISTRAL_LOCAL_API_KEYS"}
    proc = spawn(
        local_command(port, db, *extra),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        return proc, [proc.stdout.readline() for _ in range(lines)]
    except BaseException:  # a timeout of the test included: the process does not outlive it
        stop_process(proc)
        raise


def _stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl+C, then the rest of its output (SIGKILL after 10 s: the process never outlives the test)."""
    stop_process(proc, signal.SIGINT)
    return (proc.stdout.read() if proc.stdout else "") + (proc.stderr.read() if proc.stderr else "")


def _http(port: int, key: str) -> httpx.Client:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.get("/v1/connectors")
            return client
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_generated_key_survives_a_restart(tmp_path: Path) -> None:
    db, port = tmp_path / "dev.db", _free_port()
    proc, lines = _start(db, port, lines=3)
    try:
        assert "shown once" in lines[1]
        key = lines[1].rsplit(" ", 1)[-1].strip()
        assert str(dev_key_path(str(db))) in lines[2]
        with contextlib.closing(_http(port, key)) as http:
            assert (
                http.post(
                    "/v1/connectors", json={"name": "kept", "description": "d", "server": "https://mcp.example.com/mcp"}
                ).status_code
                == 201
            )
    finally:
        rest = _stop(proc)
    assert key not in rest
    kept = dev_key_path(str(db))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and key not in kept.read_text()

    proc, lines = _start(db, port)
    try:
        assert key not in "".join(lines) and "first served" in lines[1]  # says which key, never prints it
        with contextlib.closing(_http(port, key)) as http:
            listed = http.get("/v1/connectors").json()["items"]
            assert [c["name"] for c in listed] == ["kept"]
            assert http.get("/v1/connectors", headers={"Authorization": "Bearer other"}).status_code == 401
    finally:
        _stop(proc)

    kept.unlink()  # a lost key: delete the hash for a new one; the old connectors stay with the old key
    proc, lines = _start(db, port, lines=3)
    try:
        new_key = lines[1].rsplit(" ", 1)[-1].strip()
        assert "shown once" in lines[1] and new_key != key
        with contextlib.closing(_http(port, new_key)) as http:
            assert http.get("/v1/connectors").json()["items"] == []
    finally:
        _stop(proc)


def test_an_explicit_key_ignores_the_kept_hash(tmp_path: Path) -> None:
    db, port = tmp_path / "dev.db", _free_port()
    proc, lines = _start(db, port, lines=3)
    _stop(proc)  # at once: the server is still starting (importing, building the app) when Ctrl+C comes
    assert proc.returncode == 0
    dev_key = lines[1].rsplit(" ", 1)[-1].strip()
    proc, lines = _start(db, port, "--api-key", "explicit-key-123456")
    try:
        assert "fingerprints" in lines[1]
        with contextlib.closing(_http(port, "explicit-key-123456")) as http:
            assert http.get("/v1/connectors").status_code == 200
            assert http.get("/v1/connectors", headers={"Authorization": f"Bearer {dev_key}"}).status_code == 401
    finally:
        _stop(proc)


def test_cli_prints_generated_key_once(tmp_path: Path) -> None:
    """The generated key is on the second line and nowhere else of the output; SIGINT ends the server with 0."""
    port = _free_port()
    proc, lines = _start(tmp_path / "gen.db", port)
    try:
        key = lines[1].rsplit(" ", 1)[-1].strip()
        assert "shown once" in lines[1] and len(key) >= 32
        http = _http(port, key)
        try:
            assert http.get("/v1/connectors").status_code == 200
        finally:
            http.close()
    finally:
        stop_process(proc, signal.SIGINT)  # SIGKILL after 10 s: the process never outlives the test
    assert proc.stdout is not None
    rest = proc.stdout.read() + (proc.stderr.read() if proc.stderr else "")
    assert key not in rest and proc.returncode == 0
