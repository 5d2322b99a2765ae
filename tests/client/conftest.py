"""A scripted stand-in HTTP server on 127.0.0.1 that records raw requests, and client fixtures over it."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pulumi_mistral.client import ConnectorsClient, RetryPolicy

API_KEY = "sk-SECRET-canary-123"


def connector_json(**overrides: Any) -> dict[str, Any]:
    """A Connector as the local server returns it."""
    base: dict[str, Any] = {
        "id": "0b6f7a4e-6a55-4d0c-9a1e-2f5c8c1f9a10",
        "name": "docs",
        "description": "Docs search",
        "created_at": "2025-01-02T03:04:05.123456Z",
        "modified_at": "2025-01-02T03:04:05.123456Z",
        "server": "https://mcp.example.com/mcp",
        "auth_type": "none",
        "tools": None,
        "visibility": "private",
        "icon_url": None,
        "system_prompt": None,
        "connection_config": None,
        "header_names": [],
        "auth_data": None,
        "connection_secret_names": [],
    }
    base.update(overrides)
    return base


@dataclass
class Recorded:
    """One request exactly as it arrived on the socket."""

    method: str
    raw_path: str  # the request target: path + '?' + query, undecoded
    headers: dict[str, str]  # lower-cased names
    header_names: list[str]
    body: bytes

    @property
    def path(self) -> str:
        return self.raw_path.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.raw_path.split("?", 1)[1] if "?" in self.raw_path else ""


@dataclass
class Reply:
    """A scripted response: status and body, or ``drop`` (close without answering), after ``delay`` s."""

    status: int = 200
    body: Any = None  # JSON-able, or bytes sent raw
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


class StubServer:
    """ThreadingHTTPServer on an ephemeral 127.0.0.1 port; replies come from a script, else ``default``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.default: Callable[[Recorded], Reply] = lambda req: Reply(200, connector_json())
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # one buffered write per response and no Nagle: otherwise delayed ACKs add ~40 ms per keep-alive call
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(
                    method=self.command,
                    raw_path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    header_names=[k.lower() for k in self.headers],
                    body=body,
                )
                with stub._lock:
                    stub.requests.append(rec)
                    reply = stub.script.popleft() if stub.script else None
                if reply is None:
                    reply = stub.default(rec)
                if reply.delay:
                    stub.stopping.wait(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"content-type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = False  # server_close() joins handler threads
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def push(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def reply(self, status: int = 200, body: Any = None, **kwargs: Any) -> None:
        self.push(Reply(status, body, **kwargs))

    def start(self) -> StubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.delenv("MISTRAL_SERVER_URL", raising=False)


@pytest.fixture
def server() -> Iterator[StubServer]:
    stub = StubServer().start()
    try:
        yield stub
    finally:
        stub.stop()
        assert not stub.thread.is_alive()


def fast_policy(**overrides: Any) -> RetryPolicy:
    """Tiny, deterministic backoff (jitter factor fixed at 1.0) so retry tests stay fast."""
    settings: dict[str, Any] = {"backoff_base": 0.01, "backoff_cap": 0.05, "random": lambda: 1.0}
    settings.update(overrides)
    return RetryPolicy(**settings)


@pytest.fixture
def make_client(server: StubServer) -> Iterator[Callable[..., ConnectorsClient]]:
    made: list[ConnectorsClient] = []

    def make(**kwargs: Any) -> ConnectorsClient:
        kwargs.setdefault("api_key", API_KEY)
        kwargs.setdefault("server_url", server.url)
        kwargs.setdefault("timeout", 5.0)
        policy_overrides = kwargs.pop("policy", {})
        client = ConnectorsClient(**kwargs)
        client.retry_policy = fast_policy(
            max_attempts=client.retry_policy.max_attempts,
            max_retry_time=client.retry_policy.max_retry_time,
            **policy_overrides,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ConnectorsClient]) -> ConnectorsClient:
    return make_client()


# helpers as fixtures: test modules cannot import conftest under --import-mode=importlib
@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def cj() -> Callable[..., dict[str, Any]]:
    """``cj(**overrides)``: a Connector JSON object."""
    return connector_json


@pytest.fixture
def reply_cls() -> type[Reply]:
    return Reply


@pytest.fixture
def policy() -> Callable[..., RetryPolicy]:
    return fast_policy
