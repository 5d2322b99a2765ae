"""The local Connectors API as a separate process for the benchmarks, and its test controls.

A benchmark that runs the server in its own process measures only the code under test: the server's
request handling does not share a GIL with the measured client or the engine stand-in.

    with LocalAPIProcess() as api:
        api.set_latency(50)                      # every /v1/ request answers 50 ms later
        api.clear_requests(); ...; api.request_total()
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalAPIProcess:
    """``pulumi-mistral local`` on a free loopback port with a temporary database, in a child process."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-local-api-")
        self.api_key = secrets.token_urlsafe(24)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = Path(self._tmp.name) / "connectors.db"
        self.proc: subprocess.Popen[bytes] | None = None
        self.controls: httpx.Client | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def __enter__(self) -> LocalAPIProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pulumi_mistral.cli", "local", "--port", str(self.port), "--db", str(self.db),
             "--log-level", "warning"],
            env={**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": self.api_key},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.controls = httpx.Client(base_url=self.url, headers=self.headers(), timeout=60)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if self.controls.get("/v1/connectors").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("the local Connectors API server did not start")
            time.sleep(0.05)
        self.clear_requests()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.controls is not None:
            self.controls.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._tmp.cleanup()

    def _http(self) -> httpx.Client:
        if self.controls is None:
            raise RuntimeError("the server is not running")
        return self.controls

    def set_latency(self, ms: float) -> None:
        """Add ``ms`` to every API request (the server's latency fault rule); 0 removes it."""
        if ms:
            rules: list[dict[str, Any]] = [{"method": "*", "path": "^/v1/", "action": "latency", "latency_ms": ms}]
            self._http().post("/_local/faults", json={"rules": rules}).raise_for_status()
        else:
            self._http().delete("/_local/faults").raise_for_status()

    def clear_requests(self) -> None:
        self._http().delete("/_local/requests").raise_for_status()

    def request_total(self) -> int:
        """Requests since the last clear (a count that does not saturate, unlike the bounded log)."""
        return int(self._http().get("/_local/requests").raise_for_status().json()["total"])

    def requests(self) -> list[dict[str, Any]]:
        return list(self._http().get("/_local/requests").raise_for_status().json()["requests"])
