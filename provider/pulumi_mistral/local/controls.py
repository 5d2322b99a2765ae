"""Test controls of the local server (``/_local/``): reset, state export, request log and fault injection.

The routes, their state (``TestControls``) and ``ControlsMiddleware`` live here. The middleware is pure ASGI and
sits outside FastAPI's own stack, so it sees uvicorn's ``send`` and can drop a connection for real. For every
HTTP request it

* adds ``x-request-id`` (the caller's, when it is a short safe token, else a new one),
* applies fault rules (never to ``/_local/`` itself), and
* appends ``{method, path, query, status, time, duration_ms, fault}`` to a bounded in-memory log. Headers
  and bodies are never logged; OAuth ``code``/``state`` query values are redacted. Requests to
  ``/_local/`` are not logged, so the log shows only what the code under test did.

Fault rules (``POST /_local/faults``) are evaluated in order. A rule matches on method (``*`` = any) and a
regular expression searched in the path; each matching request draws from the rule's own
``random.Random(seed)`` and fires when the draw is below ``probability``, at most ``times`` times. So the
same requests against the same rules give the same faults. Actions:

``latency``            sleep ``latency_ms`` and go on evaluating the next rules;
``status``             answer ``status`` with a JSON ``detail`` (and ``Retry-After`` when ``retry_after``);
``drop``               close the connection before the request is processed (a transport error, no status);
``drop_after_commit``  process and commit the request, then close the connection instead of answering
                       (the ambiguous create: it happened, but the client cannot know).

Routes (all need a valid API key; the log and the rules are server-wide, reset and state are per workspace):
``POST /_local/reset[?all=true]`` (delete the caller's connectors, or every workspace's, with their OAuth state
and MCP sessions), ``GET /_local/state`` (the caller's connectors with secrets, and counts of OAuth state),
``GET|DELETE /_local/requests`` (the log, and ``total``: every request since the last clear, also those the
bounded log no longer holds), ``GET|POST|DELETE /_local/faults``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from fastapi import APIRouter, Query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulumi_mistral.local.backend import Backend
from pulumi_mistral.local.bodies import SafeJSONResponse, StrictJSONRoute
from pulumi_mistral.local.clock import format_timestamp
from pulumi_mistral.local.exceptions import Invalid
from pulumi_mistral.local.presenters import present
from pulumi_mistral.local.routes import BackendDep, WorkspaceDep
from pulumi_mistral.local.schemas import FaultRule, FaultRules
from pulumi_mistral.local.workspaces import Workspace

log = logging.getLogger("pulumi_mistral.local")

CONTROL_PREFIX = "/_local"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REDACTED_QUERY_KEYS = frozenset({"code", "state", "access_token", "refresh_token", "token"})
DISCONNECT_WAIT_SECONDS = 2.0


# -- state -----------------------------------------------------------------------------------------------
@dataclass
class _ActiveRule:
    rule: FaultRule
    pattern: re.Pattern[str]
    rng: random.Random
    remaining: int | None
    fired: int = 0

    def describe(self) -> dict[str, Any]:
        return {**self.rule.model_dump(), "fired": self.fired, "remaining": self.remaining}


@dataclass
class Decision:
    latency_ms: float = 0.0
    terminal: FaultRule | None = None
    fired: list[str] = field(default_factory=list)


class FaultInjector:
    """Ordered fault rules with per-rule seeded randomness."""

    def __init__(self) -> None:
        self._rules: list[_ActiveRule] = []
        self._lock = threading.Lock()

    def set_rules(self, rules: list[FaultRule]) -> None:
        active = [_ActiveRule(r, re.compile(r.path), random.Random(r.seed), r.times) for r in rules]
        with self._lock:
            self._rules = active

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def decide(self, method: str, path: str) -> Decision:
        decision = Decision()
        with self._lock:
            for active in self._rules:
                rule = active.rule
                if active.remaining == 0:
                    continue
                if rule.method != "*" and rule.method.upper() != method.upper():
                    continue
                if not active.pattern.search(path):
                    continue
                if active.rng.random() >= rule.probability:
                    continue
                active.fired += 1
                if active.remaining is not None:
                    active.remaining -= 1
                decision.fired.append(rule.action)
                if rule.action == "latency":
                    decision.latency_ms += rule.latency_ms
                    continue
                decision.terminal = rule
                break
        return decision


class RequestLog:
    """A bounded in-memory log of requests (no headers, no bodies), and a count that never saturates."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.total = 0  # requests logged since the last clear, including those the bounded log dropped

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.total = 0


class TestControls:
    """The middleware's shared state: fault rules and the request log."""

    __test__ = False  # not a pytest test class

    def __init__(self, *, log_size: int = 1000) -> None:
        self.faults = FaultInjector()
        self.requests = RequestLog(log_size)


# -- ASGI middleware -------------------------------------------------------------------------------------
def _redact_query(raw: bytes) -> str:
    if not raw:
        return ""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k in REDACTED_QUERY_KEYS else v) for k, v in pairs])


class ControlsMiddleware:
    """Request id, request log and fault injection, outermost in the ASGI stack."""

    def __init__(self, app: ASGIApp, controls: TestControls) -> None:
        self.app = app
        self.controls = controls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        is_control = path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
        started = time.perf_counter()
        status: list[int | None] = [None]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode("latin-1"))],
                }
            await send(message)

        decision = Decision() if is_control else self.controls.faults.decide(method, path)
        fault = "+".join(decision.fired) or None
        try:
            if decision.latency_ms:
                await asyncio.sleep(decision.latency_ms / 1000)
            rule = decision.terminal
            if rule is None:
                await self.app(scope, receive, send_with_id)
            elif rule.action == "status":
                await self._answer_status(rule, send_with_id)
            elif rule.action == "drop":
                await _drop_connection(send, receive)
            else:  # drop_after_commit: run the request to completion, swallow the answer, then drop

                async def swallow(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        status[0] = message["status"]

                await self.app(scope, receive, swallow)
                await _drop_connection(send, receive)
        finally:
            if not is_control:
                self.controls.requests.add(
                    {
                        "method": method,
                        "path": path,
                        "query": _redact_query(scope.get("query_string", b"")),
                        "status": status[0]
                        if decision.terminal is None or decision.terminal.action == "status"
                        else None,
                        "time": format_timestamp(datetime.now(timezone.utc)),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        "fault": fault,
                        "request_id": request_id,
                    }
                )

    @staticmethod
    async def _answer_status(rule: FaultRule, send: Send) -> None:
        body = json.dumps({"detail": f"Injected fault: HTTP {rule.status}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if rule.retry_after is not None:
            # whole seconds are what most clients parse; keep fractions when they were asked for
            ra = rule.retry_after
            headers.append((b"retry-after", (str(int(ra)) if ra == int(ra) else str(ra)).encode()))
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class DroppedConnection(Exception):
    """Raised to make a server without a reachable transport abort the connection."""


async def _drop_connection(send: Send, receive: Receive) -> None:
    """Close the TCP connection without an HTTP answer, so the client sees a transport error."""
    # uvicorn's send is a bound method of its request/response cycle, which holds the transport. Closing
    # it makes the client read EOF before any status line (httpx: RemoteProtocolError).
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        # Other servers: start a response whose body never comes, then abort; the client still sees a
        # broken message rather than a usable status.
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1000")]})
        raise DroppedConnection("connection dropped by fault injection")
    transport.abort()
    # Wait (bounded) for the server to notice the disconnect, so it does not try to answer with a 500.
    deadline = time.monotonic() + DISCONNECT_WAIT_SECONDS
    for _ in range(100):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            message = await asyncio.wait_for(receive(), timeout=remaining)
        except asyncio.TimeoutError:
            break
        if message["type"] == "http.disconnect":
            break


# -- reset and state --------------------------------------------------------------------------------------
async def wipe_workspace(backend: Backend, ws: Workspace, *, everything: bool = False) -> dict[str, Any]:
    """Delete the connectors of ``ws`` (of every workspace with ``everything``), their OAuth state and sessions."""
    ids = await anyio.to_thread.run_sync(backend.store.wipe, None if everything else ws.fingerprint)
    await backend.forget_sessions(ids)
    return {"deleted": len(ids)}


def export_state(backend: Backend, ws: Workspace) -> dict[str, Any]:
    """The workspace as stored: its connectors with their secrets, and what OAuth state it holds."""
    rows = backend.store.all_connectors(ws.fingerprint)
    return {
        "workspace": ws.tag,
        "connectors": [present(r, secrets=True) for r in rows],
        "oauth": {
            "pending_states": len(backend.store.oauth_states_for(ws.fingerprint)),
            "connectors_with_token": sorted(
                r["id"] for r in rows if backend.store.get_oauth_token(r["id"]) is not None
            ),
        },
    }


# -- routes ----------------------------------------------------------------------------------------------
def build_router(controls: TestControls) -> APIRouter:
    """The /_local/ routes over one TestControls instance."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["test controls"], route_class=StrictJSONRoute)

    @router.post("/reset")
    async def reset(
        ws: WorkspaceDep, backend: BackendDep, all_: Annotated[bool, Query(alias="all")] = False
    ) -> dict[str, Any]:
        out = await wipe_workspace(backend, ws, everything=all_)
        log.info("reset workspace=%s all=%s deleted=%s", ws.tag, all_, out["deleted"])
        return out

    @router.get("/state")
    async def state(ws: WorkspaceDep, backend: BackendDep) -> SafeJSONResponse:
        # An explicit SafeJSONResponse: a dict return would take pydantic's serializer, which fails on a
        # stored value JSON cannot carry instead of serving the rest.
        return SafeJSONResponse(await anyio.to_thread.run_sync(export_state, backend, ws))

    @router.get("/requests")
    async def requests(ws: WorkspaceDep) -> dict[str, Any]:
        return {"requests": controls.requests.entries(), "total": controls.requests.total}

    @router.delete("/requests")
    async def clear_requests(ws: WorkspaceDep) -> dict[str, Any]:
        controls.requests.clear()
        return {"message": "Request log cleared"}

    @router.get("/faults")
    async def faults(ws: WorkspaceDep) -> dict[str, Any]:
        return {"rules": controls.faults.describe()}

    @router.post("/faults")
    async def set_faults(body: FaultRules, ws: WorkspaceDep) -> dict[str, Any]:
        for i, rule in enumerate(body.rules):
            try:
                re.compile(rule.path)
            except re.error as exc:
                raise Invalid(("body", "rules", i, "path"), f"invalid regular expression: {exc}") from None
        controls.faults.set_rules(body.rules)
        log.info("fault rules set by workspace=%s: %d rule(s)", ws.tag, len(body.rules))
        return {"rules": controls.faults.describe()}

    @router.delete("/faults")
    async def clear_faults(ws: WorkspaceDep) -> dict[str, Any]:
        controls.faults.clear()
        return {"message": "Fault rules cleared"}

    return router
