"""Outbound MCP for the local server: one MCP session and one HTTP client per connector, bounded in time.

    forwarder = MCPForwarder(call_timeout=30.0, connect_timeout=5.0)
    tools = await forwarder.list_tools("conn-id", "https://mcp.example.com/mcp", {"X-Org": "1"}, None)
    result = await forwarder.call_tool("conn-id", url, headers, bearer, "search", {"query": "x"})
    await forwarder.invalidate("conn-id")          # connector changed or deleted
    await forwarder.aclose()                       # app shutdown

Every failure to talk to the MCP server is an `UpstreamError` with an HTTP status for the route to send:
502 (unreachable, not an MCP endpoint, protocol error, credentials refused) or 504 (timed out). Its detail
names the server as scheme://host:port/path only (no userinfo, no query) and never carries a header value.
A tool that fails (`isError: true`) is a normal result, not an error.

Design: the SDK's `streamable_http_client` and `ClientSession` own anyio task groups, which must be entered
and exited by the same task. Each session therefore lives in a dedicated asyncio task that opens both
contexts, runs the legacy `initialize` handshake, publishes the ready `ClientSession`, then waits for a stop
event; request handlers on the same event loop call the session object from their own tasks. The SDK hides
HTTP statuses (a 401 becomes a generic JSON-RPC error), so each session's httpx2 client records them with a
response event hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import (
    CONNECTION_CLOSED,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    REQUEST_TIMEOUT,
    CallToolRequest,
    CallToolRequestParams,
    CallToolResult,
    Implementation,
    PaginatedRequestParams,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

logger = logging.getLogger(__name__)

DEFAULT_CALL_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 5.0
MAX_TOOL_PAGES = 50  # tools/list pages followed before giving up (a server repeating cursors would loop)
CLOSE_TIMEOUT = 2.0  # time given to a session to say goodbye (DELETE) before its task is cancelled
CLIENT_INFO = Implementation(name="pulumi-mistral-local", version="0.1.0")


class UpstreamError(Exception):
    """The MCP server could not be used; `status_code` is 502 or 504, `detail` is safe to show.

    `auth_refused` is the HTTP status (401/403) when the MCP server refused the credentials.
    """

    def __init__(self, status_code: int, detail: str, *, auth_refused: int | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.auth_refused = auth_refused


class _BrokenSession(Exception):
    """The session is unusable (server restarted, connection closed): drop it; `safe_to_retry` if unsent."""

    def __init__(self, reason: str, *, safe_to_retry: bool) -> None:
        super().__init__(reason)
        self.safe_to_retry = safe_to_retry


def redact_url(url: str) -> str:
    """scheme://host:port/path of `url`: without userinfo, query or fragment (they may carry secrets)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{netloc}{parts.path}"


def _fingerprint(server: str, headers: dict[str, str], bearer: str | None) -> str:
    """A digest of what defines a session, so secrets are never kept around just for comparison."""
    blob = json.dumps([server, sorted((k.lower(), v) for k, v in headers.items()), bearer])
    return hashlib.sha256(blob.encode()).hexdigest()


def _leaves(exc: BaseException) -> list[BaseException]:
    """The leaf exceptions of a (nested) exception group, or [exc]."""
    if isinstance(exc, BaseExceptionGroup):
        out: list[BaseException] = []
        for inner in exc.exceptions:
            out.extend(_leaves(inner))
        return out
    return [exc]


@dataclass
class _HttpLog:
    """Error statuses seen by one session's HTTP client (the SDK turns them into generic errors)."""

    statuses: deque[int] = field(default_factory=lambda: deque(maxlen=8))

    async def on_response(self, response: httpx2.Response) -> None:
        if response.status_code >= 400:
            self.statuses.append(response.status_code)

    def last(self) -> int | None:
        return self.statuses[-1] if self.statuses else None

    def auth_refused(self) -> int | None:
        return next((s for s in reversed(self.statuses) if s in (401, 403)), None)


class _Session:
    """One MCP session owned by a dedicated task (see the module docstring)."""

    def __init__(
        self,
        server: str,
        headers: dict[str, str],
        bearer: str | None,
        fingerprint: str,
        *,
        call_timeout: float,
        connect_timeout: float,
    ) -> None:
        self.server = server
        self.where = redact_url(server)
        self.fingerprint = fingerprint
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.log = _HttpLog()
        http_headers = dict(headers)
        if bearer:
            for name in [h for h in http_headers if h.lower() == "authorization"]:
                del http_headers[name]
            http_headers["Authorization"] = f"Bearer {bearer}"
        self.http = httpx2.AsyncClient(
            headers=http_headers,
            timeout=httpx2.Timeout(
                connect=connect_timeout, read=call_timeout + 5.0, write=call_timeout, pool=connect_timeout
            ),
            event_hooks={"response": [self.log.on_response]},
            follow_redirects=False,
            trust_env=False,  # no proxies from the environment: loopback test servers must stay direct
        )
        self.session: ClientSession | None = None
        self.loop = asyncio.get_running_loop()
        self._ready: asyncio.Future[None] = self.loop.create_future()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dead = False
        self.failure: BaseException | None = None

    def failed_to_connect(self) -> bool:
        """Whether the session died because the server could not be reached (so nothing was sent)."""
        return self.failure is not None and any(isinstance(leaf, httpx2.ConnectError) for leaf in _leaves(self.failure))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._own(), name=f"mcp-session {self.where}")
        try:
            # The owner bounds the handshake itself; this outer bound only guards against a stuck task.
            await asyncio.wait_for(asyncio.shield(self._ready), self.connect_timeout + self.call_timeout + 5.0)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._classify(exc, phase="connect") from None

    async def _own(self) -> None:
        try:
            async with (
                streamable_http_client(self.server, http_client=self.http) as (read, write),
                ClientSession(read, write, read_timeout_seconds=self.call_timeout, client_info=CLIENT_INFO) as s,
            ):
                # A timed out handshake raises TimeoutError here, inside this task's own scopes.
                await asyncio.wait_for(s.initialize(), self.connect_timeout + 1.0)
                self.session = s
                if not self._ready.done():
                    self._ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # reported to the starter, or the session is simply dead now
            self.failure = exc
            if not self._ready.done():
                self._ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            if not isinstance(exc, Exception):
                raise
        finally:
            self.dead = True
            self.session = None
            with contextlib.suppress(Exception):
                await self.http.aclose()

    async def close(self) -> None:
        self._stop.set()
        task = self._task
        if task is None:
            with contextlib.suppress(Exception):
                await self.http.aclose()
            return
        if task.get_loop() is not asyncio.get_running_loop():
            return  # its loop is gone or elsewhere: nothing can be awaited here
        try:
            await asyncio.wait_for(asyncio.shield(task), CLOSE_TIMEOUT)
        except BaseException:
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, CLOSE_TIMEOUT)
        if not self._ready.done():
            self._ready.cancel()
        with contextlib.suppress(BaseException):
            self._ready.exception()  # mark retrieved: no "exception never retrieved" warning

    def usable(self) -> bool:
        return not self.dead and self.session is not None and self.loop is asyncio.get_running_loop()

    async def request(self, make: Any) -> Any:
        """Run `make(session)` with a hard deadline; map failures to UpstreamError or _BrokenSession."""
        session = self.session
        if session is None or self.dead:
            raise _BrokenSession("session closed", safe_to_retry=True)
        try:
            return await asyncio.wait_for(make(session), self.call_timeout + 2.0)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            raise self._classify(exc, phase="call") from None

    def _classify(self, exc: BaseException, *, phase: str) -> Exception:
        """Turn whatever the SDK raised into UpstreamError (or _BrokenSession for a session gone stale)."""
        where = self.where
        auth = self.log.auth_refused()
        leaves = _leaves(exc)
        for leaf in leaves:
            if isinstance(leaf, (UpstreamError, _BrokenSession)):
                return leaf
        if auth is not None:
            return UpstreamError(502, f"MCP server {where} refused the credentials (HTTP {auth})", auth_refused=auth)
        for leaf in leaves:
            classified = self._classify_leaf(leaf, phase=phase)
            if classified is not None:
                return classified
        if phase == "call" and self.dead:
            return _BrokenSession("session ended", safe_to_retry=False)
        logger.debug("unexpected MCP failure for %s: %r", where, exc)
        return UpstreamError(502, f"MCP server {where}: protocol error ({type(leaves[0]).__name__})")

    def _classify_leaf(self, leaf: BaseException, *, phase: str) -> Exception | None:
        """A timeout, a connection or transport error, or an MCP error; None for anything else."""
        where = self.where
        if isinstance(leaf, httpx2.ConnectTimeout):
            return UpstreamError(504, f"MCP server {where}: connection timed out")
        if isinstance(leaf, httpx2.TimeoutException | TimeoutError):
            what = "did not complete the MCP handshake" if phase == "connect" else "did not answer"
            return UpstreamError(504, f"MCP server {where} {what} in time")
        if isinstance(leaf, httpx2.ConnectError):
            if phase == "call":
                return _BrokenSession("connect failed", safe_to_retry=True)
            return UpstreamError(502, f"MCP server {where} is unreachable (connection failed)")
        if isinstance(leaf, httpx2.TransportError):
            if phase == "call":
                return _BrokenSession("transport error", safe_to_retry=False)
            return UpstreamError(502, f"MCP server {where}: connection error ({type(leaf).__name__})")
        if isinstance(leaf, MCPError):
            return self._classify_mcp_error(leaf, phase=phase)
        return None

    def _classify_mcp_error(self, err: MCPError, *, phase: str) -> Exception:
        where = self.where
        status = self.log.last()
        if err.code == REQUEST_TIMEOUT:
            return UpstreamError(504, f"MCP server {where} did not answer within {self.call_timeout:g}s")
        if (
            phase == "call"
            and err.code == INVALID_REQUEST
            and (status == 404 or err.message in ("Session terminated", "Session not found"))
        ):
            # The server no longer knows this session (it restarted): the request was not processed.
            return _BrokenSession("session unknown to the server", safe_to_retry=True)
        if phase == "call" and err.code == CONNECTION_CLOSED:
            return _BrokenSession("connection closed", safe_to_retry=False)
        if err.code == METHOD_NOT_FOUND and phase == "connect":
            return UpstreamError(502, f"MCP server {where} is not an MCP endpoint (HTTP {status or 404})")
        if status is not None and err.message == "Server returned an error response":
            return UpstreamError(502, f"MCP server {where} answered HTTP {status}")
        if err.message.startswith("Unexpected content type"):
            return UpstreamError(502, f"MCP server {where} is not an MCP endpoint (unexpected content type)")
        message = err.message if len(err.message) <= 200 else err.message[:200] + "..."
        return UpstreamError(502, f"MCP server {where} returned error {err.code}: {message}")


class MCPForwarder:
    """Forwards tools/list and tools/call to connectors' MCP servers, keeping one session per connector key.

    Use it from one event loop (the web server's). Sessions are created lazily, reused across requests,
    replaced when the server URL, headers or bearer token change, and retried once when found stale.
    """

    def __init__(
        self, *, call_timeout: float = DEFAULT_CALL_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self._sessions: dict[str, _Session] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.sessions_created = 0  # for tests and benchmarks: how many handshakes were made

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _session(self, key: str, server: str, headers: dict[str, str], bearer: str | None) -> _Session:
        fp = _fingerprint(server, headers, bearer)
        current = self._sessions.get(key)
        if current is not None and current.fingerprint == fp and current.usable():
            return current
        async with self._lock(key):
            current = self._sessions.get(key)
            if current is not None and current.fingerprint == fp and current.usable():
                return current
            if current is not None:
                self._sessions.pop(key, None)
                await current.close()
            _check_url(server)
            fresh = _Session(
                server,
                headers,
                bearer,
                fp,
                call_timeout=self.call_timeout,
                connect_timeout=self.connect_timeout,
            )
            await fresh.start()
            self.sessions_created += 1
            self._sessions[key] = fresh
            return fresh

    async def _drop(self, key: str, session: _Session) -> None:
        async with self._lock(key):
            if self._sessions.get(key) is session:
                del self._sessions[key]
        await session.close()

    async def _run(
        self, key: str, server: str, headers: dict[str, str], bearer: str | None, make: Any, *, idempotent: bool
    ) -> Any:
        for attempt in range(2):
            session = await self._session(key, server, headers, bearer)
            try:
                return await session.request(make)
            except _BrokenSession as broken:
                await self._drop(key, session)  # also waits (bounded) for its task, so `failure` is known
                if attempt == 0 and (idempotent or broken.safe_to_retry or session.failed_to_connect()):
                    logger.info("MCP session for %s was stale (%s); retrying once", session.where, broken)
                    continue
                raise UpstreamError(
                    502, f"MCP server {session.where}: connection lost during the request ({broken})"
                ) from None
            except UpstreamError as exc:
                if session.log.auth_refused() is not None or exc.status_code == 504:
                    # A session that saw a refusal or a timeout is not trusted for the next request.
                    await self._drop(key, session)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def list_tools(self, key: str, server: str, headers: dict[str, str], bearer: str | None) -> list[dict]:
        """All tools of the server (every page), as camelCase MCP Tool dicts without null fields."""

        async def make(session: ClientSession) -> list[dict]:
            tools: list[dict] = []
            cursor: str | None = None
            seen: set[str] = set()
            for _ in range(MAX_TOOL_PAGES):
                params = PaginatedRequestParams(cursor=cursor) if cursor else None
                page = await session.list_tools(params=params)
                tools.extend(t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools)
                cursor = page.next_cursor
                if not cursor:
                    return tools
                if cursor in seen:
                    raise UpstreamError(502, f"MCP server {redact_url(server)} repeated a tools/list cursor")
                seen.add(cursor)
            raise UpstreamError(502, f"MCP server {redact_url(server)} has more than {MAX_TOOL_PAGES} tool pages")

        return await self._run(key, server, headers, bearer, make, idempotent=True)

    async def call_tool(
        self,
        key: str,
        server: str,
        headers: dict[str, str],
        bearer: str | None,
        tool_name: str,
        arguments: dict,
    ) -> dict:
        """Call a tool: {"content": [...], "metadata": {"mcp_meta": {"isError", "structuredContent", "_meta"}}}."""

        async def make(session: ClientSession) -> CallToolResult:
            # send_request directly: ClientSession.call_tool would first run an implicit tools/list and
            # validate structured output against the schema; a forwarder passes the result through as is.
            request = CallToolRequest(params=CallToolRequestParams(name=tool_name, arguments=arguments or {}))
            return await session.send_request(request, CallToolResult)

        result: CallToolResult = await self._run(key, server, headers, bearer, make, idempotent=False)
        dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        return {
            "content": dumped.get("content", []),
            "metadata": {
                "mcp_meta": {
                    "isError": bool(result.is_error),
                    "structuredContent": dumped.get("structuredContent"),
                    "_meta": dumped.get("_meta"),
                }
            },
        }

    async def invalidate(self, key: str) -> None:
        """Close and forget the session of `key` (the connector changed or was deleted)."""
        async with self._lock(key):
            session = self._sessions.pop(key, None)
        if session is not None:
            await session.close()

    async def aclose(self) -> None:
        """Close every session (app shutdown)."""
        sessions = list(self._sessions.values())
        self._sessions.clear()
        self._locks.clear()
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


def _check_url(server: str) -> None:
    try:
        parts = urlsplit(server)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise UpstreamError(502, f"MCP server URL {redact_url(server)} is not an http(s) URL")
