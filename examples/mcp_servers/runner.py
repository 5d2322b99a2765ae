"""Run the example MCP servers in-process (uvicorn in a thread on a loopback port) for tests, demos and benchmarks.

Import it with the `examples` directory on `sys.path`:

    sys.path.insert(0, str(repo_root / "examples"))
    from mcp_servers.runner import start_demo_server

    with start_demo_server() as demo:            # port 0: a free port is picked
        print(demo.url)                          # http://127.0.0.1:PORT/mcp
        demo.admin.apply({"op": "remove", "tool": "echo"})
        demo.stats.snapshot()                    # {"posts": ..., "initializes": ..., ...}
        demo.restart()                           # same port, same tools, new MCP sessions (old ones are gone)
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from .demo_server import RequestStats, ToolAdmin, build_app, build_server
from .oauth_servers import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    AuthorizationServerState,
    build_authorization_server,
    build_protected_server,
)

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class ThreadedServer:
    """One uvicorn server for an ASGI app, in a daemon thread, bound to 127.0.0.1."""

    def __init__(self, app_factory: Callable[[], Any], *, port: int = 0) -> None:
        self._app_factory = app_factory
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ThreadedServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        try:
            app = self._app_factory()  # after the bind: an app may need its own URL
        except BaseException:
            sock.close()
            raise
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=5,
        )
        server = uvicorn.Server(config)
        # Signal handlers can only be installed in the main thread.
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            finally:
                sock.close()

        thread = threading.Thread(target=run, name=f"mcp-example-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(STOP_TIMEOUT)
                raise RuntimeError(f"server on {self.base_url} did not start within {START_TIMEOUT}s")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)

    def restart(self) -> None:
        """Stop and start again on the same port (clients' sessions are lost, like a real restart)."""
        self.stop()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.start()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def __enter__(self) -> ThreadedServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class DemoServer(ThreadedServer):
    """The demo MCP server in a thread; `.url` is its MCP endpoint, `.admin` changes its tools live."""

    def __init__(self, *, port: int = 0, json_response: bool = False, **server_kwargs: Any) -> None:
        self.stats = RequestStats()
        self.mcp, self.admin = build_server(stats=self.stats, **server_kwargs)
        self.admin: ToolAdmin
        # A fresh app (and session manager) per start: a session manager can only run once.
        super().__init__(lambda: build_app(self.mcp, json_response=json_response), port=port)

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"

    def __enter__(self) -> DemoServer:
        return self


def start_demo_server(*, port: int = 0, json_response: bool = False) -> DemoServer:
    """Start the demo MCP server on 127.0.0.1 (port 0: any free port); stop it with `.stop()` or `with`."""
    demo = DemoServer(port=port, json_response=json_response)
    demo.start()
    return demo


def start_app(app_factory: Callable[[], Any], *, port: int = 0) -> ThreadedServer:
    """Serve any ASGI app on 127.0.0.1 in a thread (e.g. a broken, non-MCP server for error tests)."""
    return ThreadedServer(app_factory, port=port).start()


class OAuthServers:
    """The OAuth-protected demo MCP server plus its local authorization server, each in a thread.

    with start_oauth_servers() as oauth:
        oauth.url, oauth.issuer, oauth.client_id, oauth.client_secret
        oauth.state.tokens          # issued access tokens (AccessToken by token string)
    """

    def __init__(self, *, auth_methods: list[str] | None = None, redirect_uris: list[str] | None = None) -> None:
        self.client_id = DEMO_CLIENT_ID
        self.client_secret = DEMO_CLIENT_SECRET
        self.state = AuthorizationServerState(redirect_uris=redirect_uris)
        if auth_methods is not None:
            self.state.auth_methods = list(auth_methods)
        self.stats = RequestStats()
        self.admin: ToolAdmin | None = None
        self._mcp: Any = None
        self.auth_server = ThreadedServer(lambda: build_authorization_server(self.state))
        self.mcp_server = ThreadedServer(self._mcp_app)

    def _mcp_app(self) -> Any:
        # Built once the port is known: the resource URL is part of the server's auth settings.
        if self._mcp is None:
            self._mcp, self.admin = build_protected_server(self.state, self.url, stats=self.stats)
        return build_app(self._mcp)

    @property
    def url(self) -> str:
        return f"{self.mcp_server.base_url}/mcp"

    @property
    def issuer(self) -> str:
        return self.auth_server.base_url

    def start(self) -> OAuthServers:
        self.auth_server.start()
        self.state.issuer = self.auth_server.base_url
        try:
            self.mcp_server.start()
        except BaseException:
            self.auth_server.stop()
            raise
        return self

    def stop(self) -> None:
        self.mcp_server.stop()
        self.auth_server.stop()

    def __enter__(self) -> OAuthServers:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_oauth_servers(
    *, auth_methods: list[str] | None = None, redirect_uris: list[str] | None = None
) -> OAuthServers:
    """Start the local authorization server and the protected demo MCP server (both on 127.0.0.1)."""
    return OAuthServers(auth_methods=auth_methods, redirect_uris=redirect_uris).start()
