"""Request bodies in, JSON answers out: the local server's one normalisation point for what clients send.

Three parts, each applied to every route, so no route checks any of this itself:

``BodyGuard``        pure ASGI, just inside the test controls' middleware. Refuses a body larger than
                     ``max_body_bytes`` with a 413 that states the limit (before reading it when
                     ``Content-Length`` says so; uvicorn discards the unread rest and keeps the connection).
                     It also keeps a refused or failed request from dropping its keep-alive connection:
                     Starlette re-raises an unhandled error after its 500 is sent, and uvicorn answers an
                     exception by closing the transport; the guard ends the request there instead.
``StrictJSONRoute``  the route class of every router. A JSON body is decoded here, once, strictly: valid
                     UTF-8, no duplicate keys, no nesting beyond ``json_values.MAX_JSON_DEPTH``, and nothing a JSON
                     answer could not carry back (``NaN``/``Infinity``, which Python's parser accepts, numbers
                     that overflow to infinity, lone UTF-16 surrogates from ``\\ud800`` escapes). A refusal is
                     FastAPI's 422 shape, naming the field and never echoing the value.
``SafeJSONResponse`` every answer. A value stored before these rules (or written into the database by hand)
                     is served as far as possible: a non-finite number as null, a lone surrogate as U+FFFD,
                     a subtree nested beyond reason as null. A warning names where, never the value, and the
                     neighbours of a damaged row are listed as usual.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulumi_mistral.core import json_values
from pulumi_mistral.local.settings import DEFAULT_MAX_BODY_BYTES

log = logging.getLogger("pulumi_mistral.local")

MAX_LOC_CHARS = 64  # a key echoed in an error location is cut here (keys are names, but may be hostile)
_REPAIR_DEPTH = 200  # an answer nested deeper than this is cut (only ever a row stored before the limits)
_SURROGATES = json_values.SURROGATE_RE


# -- errors in FastAPI's 422 shape -----------------------------------------------------------------------------
def _loc_part(part: Any) -> str | int:
    if isinstance(part, int):
        return part
    text = _SURROGATES.sub("\ufffd", str(part))
    return text if len(text) <= MAX_LOC_CHARS else text[: MAX_LOC_CHARS - 3] + "..."


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """loc/msg/type only: pydantic's ``input`` and ``ctx`` would echo request values, which may be secrets."""
    return [
        {"loc": [_loc_part(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]


def _invalid(loc: tuple[str | int, ...], msg: str, type_: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": msg, "type": type_}])


# -- strict decoding -----------------------------------------------------------------------------------------
class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def strict_json(body: bytes) -> Any:
    """Decode a request body, or raise RequestValidationError naming where it is not acceptable JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid((), "the body is not valid UTF-8 text", "json_invalid") from None
    try:
        value = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise _invalid((exc.pos,), f"JSON decode error: {exc.msg}", "json_invalid") from None
    except _DuplicateKey as exc:
        raise _invalid(
            (_loc_part(exc.key),),
            "this key appears more than once in one JSON object; send each key once",
            "json_invalid",
        ) from None
    except RecursionError:
        raise _invalid(
            (), f"the body is nested more than {json_values.MAX_JSON_DEPTH} levels deep", "json_invalid"
        ) from None
    except ValueError:  # e.g. an integer with more digits than Python converts
        raise _invalid((), "the body holds a number that cannot be read (too many digits)", "json_invalid") from None
    problem = json_values.json_problem(value, max_depth=json_values.MAX_JSON_DEPTH)
    if problem is not None:
        path, reason = problem
        raise _invalid(tuple(_loc_part(p) for p in path), reason)
    return value


def _is_json_content(request: Request) -> bool:
    # The condition FastAPI uses to parse a body as JSON (any other content type reaches pydantic as bytes).
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("application/") and (mime == "application/json" or mime.endswith("+json"))


class StrictJSONRoute(APIRoute):
    """An APIRoute whose JSON body is decoded by :func:`strict_json` before FastAPI sees it.

    router = APIRouter(route_class=StrictJSONRoute)
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def strict_handler(request: Request) -> Response:
            if _is_json_content(request):
                body = await request.body()
                if body:
                    # Starlette caches the decoded body: FastAPI's own request.json() returns this value.
                    request._json = strict_json(body)
            return await handler(request)

        return strict_handler


# -- safe answers --------------------------------------------------------------------------------------------
def _repair(value: Any, path: list[str | int], found: list[str], depth: int = 0) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        found.append(".".join(map(str, path)) + " (non-finite number, served as null)")
        return None
    if isinstance(value, str):
        fixed = _SURROGATES.sub("\ufffd", value)
        if fixed != value:
            found.append(".".join(map(str, path)) + " (invalid text, served with U+FFFD)")
        return fixed
    if isinstance(value, (dict, list)) and depth >= _REPAIR_DEPTH:
        found.append(".".join(map(str, path)) + f" (nested deeper than {_REPAIR_DEPTH}, served as null)")
        return None
    if isinstance(value, dict):
        return {
            _SURROGATES.sub("\ufffd", str(k)): _repair(v, [*path, _loc_part(k)], found, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_repair(v, [*path, i], found, depth + 1) for i, v in enumerate(value)]
    return value


def _dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class SafeJSONResponse(JSONResponse):
    """A JSONResponse that never fails to render: values JSON cannot carry are repaired, and logged by path."""

    def render(self, content: Any) -> bytes:
        try:
            return _dumps(content)
        except (ValueError, UnicodeEncodeError, RecursionError):
            found: list[str] = []
            body = _dumps(_repair(content, [], found))
            log.warning(
                "an answer held stored values JSON cannot carry; served as far as possible: %s%s",
                "; ".join(found[:5]),
                f" and {len(found) - 5} more" if len(found) > 5 else "",
            )
            return body


# -- the guard -----------------------------------------------------------------------------------------------
def _json_answer(status: int, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body}


async def _send_all(send: Send, messages: tuple[Message, ...]) -> None:
    """Send an answer's messages in order."""
    for message in messages:
        await send(message)


class BodyGuard:
    """Body size limit (413) and no dropped connection after an error (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> tuple[Message, Message]:
        return _json_answer(
            413,
            f"Request body is larger than the limit of {self.max_body_bytes} bytes "
            "(the server's --max-body-bytes); send a smaller body",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        buffered = None if self._declared_too_large(scope) else await self._read_body(receive)
        if buffered is None:
            await _send_all(send, self._too_large())
            return
        await self._run_app(scope, buffered, receive, send)

    def _declared_too_large(self, scope: Scope) -> bool:
        """Whether ``Content-Length`` already says the body is over the limit (then nothing is read)."""
        declared = dict(scope.get("headers") or []).get(b"content-length")
        return declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes

    async def _read_body(self, receive: Receive) -> list[Message] | None:
        """The body's messages, read up front (a chunked body has no length to check); None past the limit."""
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                buffered.append(message)  # a disconnect: let the app see it
                return buffered
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            buffered.append(message)
            if not message.get("more_body", False):
                return buffered

    async def _run_app(self, scope: Scope, buffered: list[Message], receive: Receive, send: Send) -> None:
        """The app, with the body replayed; an error it raises ends the request instead of the connection."""

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracking_send)
        except Exception as exc:
            # The app's own handler has logged it and, in Starlette's error middleware, already answered 500.
            # Re-raising would make uvicorn close the connection; ending the request here keeps it open.
            log.debug("request ended after an unhandled %s", type(exc).__name__)
            if not started:
                await _send_all(send, _json_answer(500, "Internal server error"))
