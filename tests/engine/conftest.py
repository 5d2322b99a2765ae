"""The real-engine tier: the pinned Pulumi CLI against `pulumi-mistral local` (a subprocess) and real MCP servers.

Every test here runs real `pulumi` commands. The tier is skipped only where it cannot run at all (no Go and no
CLI); where Go exists but the CLI was not built, every test errors, so the tier never silently disappears.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_mistral.client import ConnectorsClient
from pulumi_mistral.testing.pulumi_cli import CliStack, find_pulumi

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
START_TIMEOUT_S = 20.0


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


class LocalApi:
    """`pulumi-mistral local` in a subprocess on a free loopback port, with a temporary database."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="engine-tier-api-")
        self.api_key = secrets.token_urlsafe(24)
        self.other_key = secrets.token_urlsafe(24)  # a second workspace (multi-env's prod stack)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(self._tmp.name) / "server.log"
        env = {**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": f"{self.api_key},{self.other_key}"}
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.prefix) / "bin" / "pulumi-mistral"), "local", "--port", str(self.port),
                 "--db", str(Path(self._tmp.name) / "connectors.db"), "--log-level", "warning",
                 "--mcp-timeout", "5"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.api_key}"},
                                 timeout=10.0)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if self.http.get("/v1/connectors").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"pulumi-mistral local did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def client(self, api_key: str | None = None) -> ConnectorsClient:
        return ConnectorsClient(api_key=api_key or self.api_key, server_url=self.url)

    def config(self, api_key: str | None = None) -> dict[str, str]:
        return {"mistral:apiKey": api_key or self.api_key, "mistral:serverUrl": self.url}

    def reset(self) -> None:
        self.http.post("/_local/reset", params={"all": "true"}).raise_for_status()
        self.http.delete("/_local/faults").raise_for_status()
        self.http.delete("/_local/requests").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """The API requests (`/v1/...`) received since the last reset: method, path, query, status."""
        entries = self.http.get("/_local/requests").json()["requests"]
        return [e for e in entries if str(e.get("path", "")).startswith("/v1/")]

    def clear_requests(self) -> None:
        self.http.delete("/_local/requests").raise_for_status()

    def connectors(self) -> list[Any]:
        with self.client() as c:
            return list(c.iter_connectors(page_size=1000, fetch_connection_secrets=True))

    def close(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._tmp.cleanup()


@pytest.fixture(scope="session")
def local_api_session(pulumi_bin: Path) -> Iterator[LocalApi]:
    api = LocalApi()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def api(local_api_session: LocalApi) -> LocalApi:
    """The local API with an empty workspace, no fault rules and an empty request log."""
    local_api_session.reset()
    return local_api_session


@pytest.fixture
def make_stack(pulumi_bin: Path, api: LocalApi) -> Iterator[Any]:
    """``make_stack(project, **config)``: a CliStack on the local API; destroyed and removed afterwards."""
    made: list[CliStack] = []

    def make(project: str | Path, *, stack: str = "dev", config: dict[str, Any] | None = None,
             secret_keys: tuple[str, ...] = ("mistral:apiKey",), api_key: str | None = None,
             **kwargs: Any) -> CliStack:
        path = project if isinstance(project, Path) else EXAMPLES / project
        cli = CliStack(path, stack=stack, config={**api.config(api_key), **(config or {})},
                       secret_keys=secret_keys, pulumi=pulumi_bin, **kwargs)
        made.append(cli)
        return cli

    yield make
    try:
        for cli in reversed(made):  # stacks may share a workspace: destroy them all before removing any
            cli.destroy(check=False)
    finally:
        for cli in made:
            cli.close()
