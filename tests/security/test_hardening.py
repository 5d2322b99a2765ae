"""Server and provider hardening: constant-time key comparison, loopback binding by default, and workspace
isolation end to end through the provider (one key cannot see, change or delete another's connectors).

HTTP-level isolation (every route, by id and by name) is in ``tests/local/test_crud.py::test_workspace_isolation``;
OAuth state single use, expiry and the redirect to the registered URL only are in
``tests/local/test_oauth_routes.py``. They are not repeated here.
"""

from __future__ import annotations

import inspect
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_mistral.errors import MistralError
from pulumi_mistral.local import server as server_module
from pulumi_mistral.local import workspaces as workspaces_module
from pulumi_mistral.provider import ConnectorProvider, reset_process_state
from pulumi_mistral.testing.local_process import local_command
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.processes import spawn, stop_process

MCP = "https://mcp.example.com/mcp"


# ---- API keys are compared in constant time --------------------------------------------------------------


def test_key_check_uses_compare_digest_without_early_exit() -> None:
    source = inspect.getsource(workspaces_module.KeyRing.authenticate)
    assert "hmac.compare_digest(" in source
    loop = source[source.index("for ") :]
    assert "break" not in loop and "return" not in loop.split("if found is None")[0]  # every key is compared
    assert not re.search(r"candidate\s*[!=]=|[!=]=\s*candidate|candidate in\b", source)  # no plain comparison


@pytest.mark.parametrize("variant", ["prefix", "suffix", "case", "other", "empty-bearer", "no-scheme"])
def test_only_the_exact_key_is_accepted(variant: str) -> None:
    key = secrets.token_urlsafe(24)
    with LocalServer(api_keys=[key]) as server:
        presented = {
            "prefix": f"Bearer {key[:-1]}",
            "suffix": f"Bearer {key}x",
            "case": f"Bearer {key.swapcase()}",
            "other": f"Bearer {secrets.token_urlsafe(24)}",
            "empty-bearer": "Bearer",
            "no-scheme": key,
        }[variant]
        resp = httpx.get(server.url + "/v1/connectors", headers={"Authorization": presented}, timeout=10)
        assert resp.status_code == 401
        assert key not in resp.text
        assert httpx.get(server.url + "/v1/connectors", headers=server.headers(), timeout=10).status_code == 200


# ---- loopback by default ------------------------------------------------------------------------------------


def test_local_server_binds_loopback() -> None:
    with LocalServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server._sock is not None and server._sock.getsockname()[0] == "127.0.0.1"


def test_cli_default_host_is_loopback() -> None:
    assert server_module.DEFAULT_HOST == "127.0.0.1"
    out = subprocess.run(
        [sys.executable, "-m", "pulumi_mistral.cli", "local", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert re.search(r"--host HOST\s+interface to bind \(default 127\.0\.0\.1", out.stdout), out.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on ``port`` (Linux /proc/net/tcp*)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, hexport = fields[1].split(":")
            if int(hexport, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(addr)
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc/net/tcp")
def test_cli_listens_on_loopback_only(tmp_path: Path) -> None:
    port = _free_port()
    proc = spawn(
        local_command(port, tmp_path / "b.db"),
        env={**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": "bind-test-key"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        addresses: set[str] = set()
        while time.monotonic() < deadline and not addresses:
            addresses = _listening_addresses(port)
            time.sleep(0.1)
        assert addresses == {"0100007F"}, addresses  # 127.0.0.1, and nothing else (no 0.0.0.0, no ::)
    finally:
        stop_process(proc)  # SIGTERM, SIGKILL after 10 s


# ---- workspace isolation through the provider ---------------------------------------------------------------


@pytest.fixture
def two_workspaces() -> Iterator[LocalServer]:
    reset_process_state()
    with LocalServer(api_keys=[secrets.token_urlsafe(16), secrets.token_urlsafe(16)]) as server:
        yield server
    reset_process_state()


def _provider(server: LocalServer, key: str) -> ConnectorProvider:
    reset_process_state()
    p = ConnectorProvider()
    p.configure(ConfigureRequest(Config({"mistral:apiKey": key, "mistral:serverUrl": server.url}, "iso")))
    return p


def test_a_stack_with_another_key_cannot_see_change_or_delete(two_workspaces: LocalServer) -> None:
    server = two_workspaces
    key_a, key_b = server.api_keys
    a = _provider(server, key_a)
    created = a.create(
        a.check({}, {"name": "mine", "description": "A's", "server": MCP, "headers": {"X-K": "a-secret"}}).inputs
    )

    b = _provider(server, key_b)
    assert b.read(created.id, created.outs).id is None  # by id: gone, as far as B can tell
    with pytest.raises(MistralError, match=r"no longer exists|not found"):
        b.update(created.id, created.outs, {**created.outs, "description": "B was here"})
    b.delete(created.id, created.outs)  # a 404 for B: counts as done, but must not touch A's connector
    # adopt by name finds nothing in B's workspace: B gets its own connector with the same name
    mine_b = b.create(b.check({}, {"name": "mine", "description": "B's", "server": MCP, "adopt": True}).inputs)
    assert mine_b.id != created.id

    with httpx.Client(base_url=server.url, headers=server.headers(key_a), timeout=10) as http:
        live = http.get(f"/v1/connectors/{created.id}", params={"fetch_connection_secrets": "true"}).json()
        assert live["description"] == "A's" and live["headers"] == {"X-K": "a-secret"}
    assert [c["id"] for c in server.controls(key_a).connectors()] == [created.id]
    assert server.controls(key_a).reset() == 1  # a reset without all_workspaces is per workspace
    assert [c["id"] for c in server.controls(key_b).connectors()] == [mine_b.id]
