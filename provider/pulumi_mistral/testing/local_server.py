"""LocalServer: the local Connectors API served by uvicorn in a background thread, for tests and demos.

    with LocalServer() as server:                 # 127.0.0.1, a free port, a temporary SQLite file
        httpx.get(server.url + "/v1/connectors", headers={"Authorization": f"Bearer {server.api_key}"})
        server.restart()                          # same port, same database: data survives
        client = server.client()                  # a pulumi_mistral.client.ConnectorsClient
        server.controls().calls()                 # the test controls (pulumi_mistral.testing.controls)

It is a real HTTP server on loopback with a real database file, not a mock. Startup and shutdown waits are
bounded, so a broken server fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypedDict

from pulumi_mistral.testing.controls import ServerHandle

if TYPE_CHECKING:
    import uvicorn

    from pulumi_mistral.local.settings import LocalSettings

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
LOOPBACK = "127.0.0.1"


class _SettingsOptions(TypedDict):
    """The LocalSettings fields a LocalServer passes through unchanged on every (re)start."""

    enable_test_controls: bool
    mcp_call_timeout: float
    mcp_connect_timeout: float
    max_body_bytes: int


class LocalServer(ServerHandle):
    """The local Connectors API in a thread: ``.url``, ``.api_key``, ``.api_keys``, ``.settings``; ``client()``,
    ``controls()``, ``config()`` and ``headers()`` for any of its keys."""

    def __init__(
        self,
        *,
        port: int = 0,
        db_path: str | Path | None = None,
        api_keys: list[str] | None = None,
        enable_test_controls: bool = True,
        mcp_call_timeout: float = 30.0,
        mcp_connect_timeout: float = 5.0,
        max_body_bytes: int | None = None,
    ) -> None:
        from pulumi_mistral.local.settings import DEFAULT_MAX_BODY_BYTES

        self._tmpdir: str | None = None
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="pulumi-mistral-local-")
            db_path = Path(self._tmpdir) / "connectors.db"
        self.db_path = str(db_path)
        self.api_keys: list[str] = list(api_keys) if api_keys else [secrets.token_urlsafe(24)]
        self._requested_port = port
        self._options: _SettingsOptions = {
            "enable_test_controls": enable_test_controls,
            "mcp_call_timeout": mcp_call_timeout,
            "mcp_connect_timeout": mcp_connect_timeout,
            "max_body_bytes": DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes,
        }
        self.port: int | None = None
        self.settings: LocalSettings | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("LocalServer is not started")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this. Without it, small responses written in two parts meet the
        # client's delayed ACK and every request costs ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        port = self.port if self.port is not None else self._requested_port
        sock.bind((LOOPBACK, port))  # loopback only, by design
        sock.listen(128)
        sock.set_inheritable(True)
        return sock

    def start(self) -> LocalServer:
        import uvicorn

        from pulumi_mistral.local.app import create_app
        from pulumi_mistral.local.settings import LocalSettings

        if self.running:
            return self
        sock = self._bind()
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self.settings = LocalSettings(
            db_path=self.db_path,
            api_keys=list(self.api_keys),
            host=LOOPBACK,
            port=self.port,
            public_url=self.url,
            **self._options,
        )
        app = create_app(self.settings)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        self._server = server
        self._error = None

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # surfaced by start() instead of dying silently in the thread
                self._error = exc

        self._thread = threading.Thread(target=serve, name=f"local-server-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if self._error is not None or not self._thread.is_alive():
                self._cleanup_socket()
                raise RuntimeError(f"local server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"local server did not start within {STARTUP_TIMEOUT:.0f}s")
            time.sleep(0.01)
        return self

    def _cleanup_socket(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def stop(self) -> None:
        """Stop serving (bounded wait). The database file is kept until ``close()``/context exit."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(SHUTDOWN_TIMEOUT)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(SHUTDOWN_TIMEOUT)
        self._cleanup_socket()
        self._server = None
        self._thread = None

    def restart(self) -> LocalServer:
        """Stop and start again on the same port with the same database file."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop, close its test controls and delete the temporary database directory (if this server created it)."""
        self._close_controls()
        self.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> LocalServer:
        try:
            return self.start()
        except BaseException:  # no __exit__ follows: release the socket and the temporary database now
            self.close()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:  # never shows the API keys
        state = self.url if self.port is not None else "not started"
        return f"LocalServer({state}, workspaces={len(self.api_keys)})"
