"""LocalServerProcess: `pulumi-mistral local` as a real subprocess on a free loopback port (engine tests, benchmarks).

`LocalServer` runs the app in a thread of the test process; this runs the command users run, in its own
process, so a `pulumi up` talks to it exactly as it would to a server started by hand:

    with LocalServerProcess(api_keys=2) as api:      # two workspaces
        api.url, api.api_key, api.api_keys[1]
        api.config()                                 # stack config: mistral:apiKey, mistral:serverUrl
        api.controls().requests(api_only=True)       # the test controls (pulumi_mistral.testing.controls)
        api.controls().set_latency(50)               # every API request answers 50 ms later
        api.controls().clear()                       # empty every workspace; clear faults and the log

Keys reach the process through its environment, never its command line. Start-up waits are bounded. The process
runs in a process group of its own; ``close()`` (and a failed start) stops it with SIGTERM, then SIGKILL, and
ends whatever is left in its group (see ``pulumi_mistral.testing.processes``).
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

from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.testing.controls import ServerHandle
from pulumi_mistral.testing.processes import has_exited, spawn, stop_process

__all__ = ["LocalServerProcess"]

START_TIMEOUT_S = 20.0
START_ATTEMPTS = 3
STOP_TIMEOUT_S = 10.0


class LocalServerProcess(ServerHandle):
    """`pulumi-mistral local` in a subprocess with a temporary database; ``api_keys`` workspaces. ``client()``,
    ``controls()``, ``config()`` and ``headers()`` for any of its keys."""

    proc: subprocess.Popen[bytes]

    def __init__(self, *, api_keys: int = 1, mcp_timeout: float = 5.0, log_level: str = "warning") -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="pulumi-mistral-local-process-")
        self.api_keys = [secrets.token_urlsafe(24) for _ in range(api_keys)]
        self.log_path = Path(self._tmp.name) / "server.log"
        self._command = [
            "--db",
            str(Path(self._tmp.name) / "connectors.db"),
            "--log-level",
            log_level,
            "--mcp-timeout",
            str(mcp_timeout),
        ]
        try:
            # A port found free can be taken by another socket before the server binds it: try a few.
            for attempt in range(START_ATTEMPTS):
                if self._start():
                    return
                output = self.log_path.read_text()
                if "address already in use" not in output.lower() or attempt == START_ATTEMPTS - 1:
                    raise RuntimeError(f"pulumi-mistral local did not start:\n{output}")
        except BaseException:
            self.close()
            raise

    def _start(self) -> bool:
        """One start on a free port: True once the API answers; False (the process stopped) otherwise."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": ",".join(self.api_keys)}
        command = [str(Path(sys.prefix) / "bin" / "pulumi-mistral"), "local", "--port", str(self.port), *self._command]
        self._stop_process()  # the previous attempt's, if any
        with open(self.log_path, "w") as log:
            self.proc = spawn(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(base_url=self.url, headers=self.headers(), timeout=10.0) as http:
            while True:
                try:
                    if http.get("/v1/connectors").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                if has_exited(self.proc) or time.monotonic() > deadline:
                    self._stop_process()
                    return False
                time.sleep(0.1)

    def _stop_process(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None:
            stop_process(proc, timeout=STOP_TIMEOUT_S)

    @property
    def url(self) -> str:
        return self._url

    def connectors(self, api_key: str | None = None) -> list[Any]:
        with self.client(api_key) as c:
            return list(c.iter_connectors(page_size=MAX_PAGE_SIZE, fetch_connection_secrets=True))

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL; its process group too) and remove its directory."""
        try:
            self._close_controls()
        finally:
            try:
                self._stop_process()
            finally:
                self._tmp.cleanup()

    def __enter__(self) -> LocalServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:  # never shows the keys
        return f"LocalServerProcess(url={self.url!r}, workspaces={len(self.api_keys)})"


def local_command(port: int | str, db: str | os.PathLike[str], *extra: str, log_level: str = "warning") -> list[str]:
    """The command line tests start ``pulumi-mistral local`` with, through this interpreter: on ``port`` (0: any),
    with its database at ``db``, then ``extra`` options."""
    return [
        sys.executable,
        "-m",
        "pulumi_mistral.cli",
        "local",
        "--port",
        str(port),
        "--db",
        str(db),
        "--log-level",
        log_level,
        *extra,
    ]
