"""``pulumi-mistral local`` as users start it: repeated --api-key, --no-test-controls, the defaults, and what is
stored of a key (only its SHA-256)."""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from pulumi_mistral.local import server as server_module
from pulumi_mistral.testing.processes import has_exited, spawn, stop_process

START_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(args: list[str], *, cwd: Path, key: str) -> Iterator[str]:
    """The CLI with ``args`` (plus a free --port) in ``cwd``; yields its URL once ``key`` is accepted."""
    env = {k: v for k, v in os.environ.items() if k != "PULUMI_MISTRAL_LOCAL_API_KEYS"}
    for attempt in range(3):  # a port found free can be taken by another socket before the server binds it
        port = _free_port()
        proc = spawn(
            [sys.executable, "-m", "pulumi_mistral.cli", "local", "--port", str(port), "--log-level", "warning", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        up = False
        try:
            up = _came_up(proc, url, key)
        finally:
            if not up:  # also when _came_up raised: nothing is left running
                stop_process(proc)
        if up:
            break
        errors = proc.communicate(timeout=10)[1]
        assert "address already in use" in errors.lower() and attempt < 2, f"the server did not start:\n{errors}"
    try:
        yield url
    finally:
        stop_process(proc, signal.SIGTERM)  # a clean stop: the store closes (and checkpoints its WAL)


def _came_up(proc: subprocess.Popen[str], url: str, key: str) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if (
                httpx.get(f"{url}/v1/connectors", headers={"Authorization": f"Bearer {key}"}, timeout=2).status_code
                == 200
            ):
                return True
        except httpx.TransportError:
            pass
        if has_exited(proc):
            return False
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.05)


def _create(url: str, key: str, name: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/connectors",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        json={"name": name, "description": "d", "server": "https://mcp.example.com/mcp"},
    )


def _names(url: str, key: str) -> list[str]:
    resp = httpx.get(f"{url}/v1/connectors", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return [c["name"] for c in resp.json()["items"]]


def test_repeated_api_key_gives_one_workspace_per_key(tmp_path: Path) -> None:
    a, b = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    with running([f"--api-key={a}", f"--api-key={b}", "--db", str(tmp_path / "k.db")], cwd=tmp_path, key=a) as url:
        assert _create(url, a, "docs").status_code == 201
        assert _names(url, a) == ["docs"]
        assert _names(url, b) == []  # the second key works, and is another workspace
        assert _create(url, b, "docs").status_code == 201  # names are unique per workspace only
        other = httpx.get(f"{url}/v1/connectors", headers={"Authorization": "Bearer not-a-configured-key"})
        assert other.status_code == 401


def test_no_test_controls_removes_the_local_routes(tmp_path: Path) -> None:
    key = secrets.token_urlsafe(16)
    auth = {"Authorization": f"Bearer {key}"}
    with running([f"--api-key={key}", "--db", str(tmp_path / "c.db")], cwd=tmp_path, key=key) as url:
        assert httpx.get(f"{url}/_local/state", headers=auth).status_code == 200
    with running(
        [f"--api-key={key}", "--db", str(tmp_path / "c.db"), "--no-test-controls"], cwd=tmp_path, key=key
    ) as url:
        for method, path in [
            ("GET", "/_local/state"),
            ("POST", "/_local/reset"),
            ("GET", "/_local/requests"),
            ("POST", "/_local/faults"),
        ]:
            assert httpx.request(method, f"{url}{path}", headers=auth, json={}).status_code == 404, path
        assert _names(url, key) == []  # the API itself still answers


def test_default_port_host_and_database(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    server_module.add_arguments(parser)
    defaults = parser.parse_args([])
    assert (defaults.host, defaults.port, defaults.db) == ("127.0.0.1", 8787, "pulumi-mistral-local.db")
    # without --db, the database is ./pulumi-mistral-local.db in the working directory, and data survives
    key = secrets.token_urlsafe(16)
    with running([f"--api-key={key}"], cwd=tmp_path, key=key) as url:
        assert _create(url, key, "kept").status_code == 201
    assert (tmp_path / "pulumi-mistral-local.db").is_file()
    with running([f"--api-key={key}"], cwd=tmp_path, key=key) as url:
        assert _names(url, key) == ["kept"]


def test_only_the_keys_sha256_is_stored(tmp_path: Path) -> None:
    key = "sk-local-" + secrets.token_urlsafe(24)
    with running([f"--api-key={key}", "--db", str(tmp_path / "s.db")], cwd=tmp_path, key=key) as url:
        assert _create(url, key, "stored").status_code == 201
        files = sorted(tmp_path.glob("s.db*"))  # the database, and its WAL while the server runs
        data = b"".join(f.read_bytes() for f in files)
        assert key.encode() not in data
        assert hashlib.sha256(key.encode()).hexdigest().encode() in data
    data = b"".join(f.read_bytes() for f in sorted(tmp_path.glob("s.db*")))
    assert key.encode() not in data and hashlib.sha256(key.encode()).hexdigest().encode() in data
