"""The one exception tree of pulumi-mistral, and the single status-to-class mapping.

::

    MistralError                      .status_code: int | None, .message: str (one line, no secrets)
    ├── ConfigurationError            bad settings (no key, key over plain http to a non-loopback host, bad URL)
    │   └── DeclarationError          every problem of a connectors.yaml at once; .issues (file:line:column each)
    ├── APIError                      the server answered with an error status; .status_code, .request_id
    │   ├── BadRequestError           400 and other unmapped 4xx
    │   ├── AuthenticationError       401, 403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── ValidationError           422, or an argument the client refused before sending (status_code None);
    │   │                             .detail: list[dict] (loc, msg, type), never the values
    │   ├── RateLimitError            429; .retry_after: float | None
    │   └── ServerError               5xx (and 502/504 from MCP forwarding)
    ├── TransportError                no usable HTTP response (connect refused, dropped connection)
    │   └── TimeoutError              the request timed out
    ├── PaginationError               a server repeated a cursor (would loop forever) or exceeded max pages
    ├── InputError                    a file given to a command is unreadable or not what it must be (drift)
    └── ToolDriftError                live MCP tools differ from the pins under tool_drift=block; the message
                                      names each tool on its own line (the one multi-line message)

``APIError`` and ``TransportError`` carry ``.may_have_landed``: True when a non-idempotent request (create,
call_tool) may have been applied by the server even though it failed (5xx, read timeout, dropped connection).
``APIError.auth_required`` is True for a 502 of list_tools/call_tool whose MCP server refused the credentials
(an OAuth connector without a token yet): retrying cannot help, running the authorization flow can.

:func:`error_from_response` is the only place that turns a status code and a body into an exception.
Messages never contain the API key or any header value: the caller passes every secret it knows in
``secrets`` and they are redacted from anything the server echoed back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.declarations.positions import Issue

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DeclarationError",
    "InputError",
    "MistralError",
    "NotFoundError",
    "PaginationError",
    "RateLimitError",
    "ServerError",
    "TimeoutError",
    "ToolDriftError",
    "TransportError",
    "ValidationError",
    "error_from_response",
]

_MAX_SNIPPET = 200
# What an API says when the MCP server behind a connector refused its credentials (the local server's words
# include "refused the credentials"; an OAuth connector without a token yet is the usual cause).
_AUTH_REFUSED_RE = re.compile(r"refused the credentials|get_auth_url|unauthori[sz]ed|authori[sz]ation", re.IGNORECASE)
_MCP_OPERATIONS = frozenset({"list_tools", "call_tool"})
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_MIN_SECRET_LEN = 4


def _one_line(text: str, limit: int = _MAX_SNIPPET) -> str:
    """Collapse whitespace (no newlines in messages) and cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret (long enough to be meaningful) in ``text`` with ``[redacted]``."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


class MistralError(Exception):
    """Root of every error raised by pulumi-mistral.

    Example::

        try:
            client.get("docs")
        except MistralError as exc:
            print(exc.message)
    """

    status_code: int | None = None

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.message = _one_line(message, limit=1000)
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(MistralError):
    """Bad settings: no API key, a key over plain http to a non-loopback host, or a bad server URL.

    Example::

        try:
            ConnectorsClient(api_key=None)
        except ConfigurationError as exc:
            print(exc)  # names MISTRAL_API_KEY
    """


class APIError(MistralError):
    """The server answered with an error (or unexpected) status.

    Example::

        except APIError as exc:
            print(exc.status_code, exc.request_id, exc.may_have_landed)
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        may_have_landed: bool = False,
        auth_required: bool = False,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.request_id = request_id
        self.may_have_landed = may_have_landed
        self.auth_required = auth_required


class BadRequestError(APIError):
    """400 and any other 4xx without its own class.

    Example::

        except BadRequestError as exc:
            print(exc.status_code)
    """


class AuthenticationError(APIError):
    """401 (key missing or wrong) and 403 (key not allowed).

    Example::

        except AuthenticationError:
            print("check MISTRAL_API_KEY")
    """


class NotFoundError(APIError):
    """404: the connector (or tool) does not exist.

    Example::

        except NotFoundError:
            pass  # treat as deleted
    """


class ConflictError(APIError):
    """409: e.g. the connector name is already taken in this workspace.

    Example::

        except ConflictError:
            existing = client.get(name)
    """


class ValidationError(APIError):
    """422: the server rejected the request; ``.detail`` is the server's list of ``{loc, msg, type}``.

    Also raised before any request when an argument is of the wrong type or holds what JSON cannot carry
    (``status_code`` is then None): ``.detail`` has the same shape, and no message ever holds the value.

    Example::

        except ValidationError as exc:
            for item in exc.detail:
                print(item["loc"], item["msg"])
    """

    def __init__(self, message: str, *, detail: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.detail: list[dict[str, Any]] = detail or []


class RateLimitError(APIError):
    """429: too many requests; ``.retry_after`` is the server's hint in seconds, if any.

    Example::

        except RateLimitError as exc:
            time.sleep(exc.retry_after or 1.0)
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server (or the MCP server behind it) failed.

    Example::

        except ServerError as exc:
            if exc.may_have_landed:
                ...  # look the connector up by name before creating it again
    """


class TransportError(MistralError):
    """No usable HTTP response: connection refused, dropped connection, protocol error.

    Example::

        except TransportError as exc:
            print(exc.may_have_landed)
    """

    def __init__(self, message: str, *, may_have_landed: bool = False) -> None:
        super().__init__(message)
        self.may_have_landed = may_have_landed


class TimeoutError(TransportError):  # shadows the builtin on purpose: part of the public contract
    """The request timed out (connect, read, write or pool).

    Example::

        except TimeoutError:
            client = ConnectorsClient(timeout=120.0)
    """


class PaginationError(MistralError):
    """The server repeated a cursor (iteration would never end) or there were more pages than allowed.

    Example::

        except PaginationError as exc:
            print(exc)
    """


class DeclarationError(ConfigurationError):
    """Every problem found in a declaration file, raised together; ``str()`` lists one per line.

    Example::

        try:
            load_declarations("connectors.yaml", "prod")
        except DeclarationError as exc:
            for issue in exc.issues:
                print(issue.location.line, issue.path, issue.reason)
    """

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.location.file, i.location.line, i.location.column))
        files = sorted({i.location.file for i in self.issues})
        count = len(self.issues)
        super().__init__(
            f"{', '.join(files)}: {count} problem{'s' if count != 1 else ''} in the connector "
            f"declarations: {self.issues[0] if self.issues else ''}"
        )
        self.text = f"{', '.join(files)} has {count} problem{'s' if count != 1 else ''}:\n" + "\n".join(
            f"  {issue}" for issue in self.issues
        )

    def __str__(self) -> str:
        return self.text


class InputError(MistralError):
    """A file given to a command cannot be read or is not what it must be (one line, no secrets).

    Example::

        pulumi-mistral drift --stack-export notes.txt   # -> "notes.txt is not JSON (line 1): expected ..."
    """


class ToolDriftError(MistralError):
    """Tool drift under ``tool_drift=block``: the message names each tool on its own line, so it is kept
    multi-line (every other message is one line)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message.strip()[:20_000]
        self.args = (self.message,)


def _server_detail(body: Any, secrets: Iterable[str]) -> str:
    """A short one-line summary of what the server said (JSON ``detail``/``message`` or raw text)."""
    if isinstance(body, dict):
        for key in ("detail", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _one_line(redact(value, secrets))
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return _one_line(redact(value["message"], secrets))
        return ""
    if isinstance(body, str):
        return _one_line(redact(body, secrets))
    return ""


def _loc_summary(detail: list[dict[str, Any]], secrets: Iterable[str]) -> str:
    parts = []
    for item in detail[:5]:
        loc = item.get("loc")
        where = ".".join(str(p) for p in loc) if isinstance(loc, list) and loc else "request"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    if len(detail) > 5:
        parts.append(f"and {len(detail) - 5} more")
    return _one_line(redact("; ".join(parts), secrets), limit=500)


def _decode_body(body: bytes | str | None) -> Any:
    if body is None:
        return None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        return json.loads(text)
    except ValueError:
        return text


def clean_request_id(value: str | None) -> str | None:
    """The ``x-request-id`` header if it looks like an id (never arbitrary header text)."""
    if value and _REQUEST_ID_RE.match(value.strip()):
        return value.strip()
    return None


# status -> (class, message); a status without an entry takes "4xx" or "5xx", else _UNEXPECTED. The messages name
# the words error_from_response fills in (says: the server's words; rid: the request id; summary, hint: 422, 429).
_ERRORS: dict[int | str, tuple[type[APIError], str]] = {
    401: (
        AuthenticationError,
        "authentication failed on {op} (401): check that MISTRAL_API_KEY is a valid key for this server{says}{rid}",
    ),
    403: (
        AuthenticationError,
        "permission denied on {op} of {about} (403): the API key is not allowed to do this{says}{rid}",
    ),
    # The server's words stay: e.g. "update and delete take the connector id, not its name".
    404: (NotFoundError, "{about} not found (404): check the id or name, or whether it was deleted{says}{rid}"),
    409: (
        ConflictError,
        "conflict on {op} of {about} (409): it clashes with existing state, e.g. the name is "
        "already taken in this workspace{says}{rid}",
    ),
    422: (ValidationError, "invalid {op} request (422): {summary}{rid}"),
    429: (RateLimitError, "rate limited on {op} (429): {hint} or lower the request rate{rid}"),
    "4xx": (BadRequestError, "bad request on {op} of {about} ({status}): check the arguments{says}{rid}"),
    "5xx": (ServerError, "server error on {op} of {about} ({status}): try again later{landed}{says}{rid}"),
}
_UNEXPECTED = (
    APIError,
    "unexpected response to {op} of {about} ({status}{expected}): the server may not be a Mistral Connectors API{rid}",
)
_CREDENTIALS_REFUSED = (
    ServerError,
    "{op} of {about} failed (502): the MCP server refused the connector's credentials. For an OAuth connector, "
    "run the authorization flow first: get_auth_url() gives the URL to open and sign in; otherwise check the "
    "connector's headers{says}{rid}",
)


def _validation_detail(decoded: Any, said: str, secrets: Iterable[str]) -> tuple[str, list[dict[str, Any]]]:
    """422: the summary (by location) of the server's ``detail`` items, and the items."""
    detail = decoded.get("detail") if isinstance(decoded, dict) else None
    items = [d for d in detail if isinstance(d, dict)] if isinstance(detail, list) else []
    return (_loc_summary(items, secrets) if items else (said or "no details")), items


def _retry_hint(retry_after: float | None) -> str:
    """429: when to try again, as the server's ``Retry-After`` says."""
    return f"retry after {retry_after:g}s" if retry_after is not None else "retry later"


def _credentials_refused(operation: str, said: str) -> bool:
    """A 502 of list_tools/call_tool whose MCP server refused the credentials: a retry cannot help, signing in can."""
    return operation in _MCP_OPERATIONS and _AUTH_REFUSED_RE.search(said) is not None


def error_from_response(
    status_code: int,
    body: bytes | str | None,
    *,
    operation: str,
    subject: str | None = None,
    expected_status: int | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
    may_have_landed: bool = False,
    secrets: Iterable[str] = (),
) -> APIError:
    """Map an HTTP status and body to the right :class:`APIError` subclass with an actionable message.

    ``operation`` is the client verb (``"create"``), ``subject`` what it was about (``"connector 'docs'"``).
    Any status that is not an error (e.g. 200 where 201 was expected) gives a plain :class:`APIError`.
    """
    known = list(secrets)
    decoded = _decode_body(body)
    said = _server_detail(decoded, known)
    rid = clean_request_id(request_id)
    words = {
        "op": operation,
        "about": subject or "the request",
        "status": str(status_code),
        "expected": f", expected {expected_status}" if expected_status is not None else "",
        "landed": " (it may have been applied: check before repeating it)" if may_have_landed else "",
        "says": f" (server said: {said})" if said else "",
        "rid": f" [request id: {rid}]" if rid else "",
    }
    fields: dict[str, Any] = {"status_code": status_code, "request_id": rid, "may_have_landed": may_have_landed}
    cls, message = _ERRORS.get(status_code) or _ERRORS.get(f"{status_code // 100}xx") or _UNEXPECTED
    if status_code == 422:
        words["summary"], fields["detail"] = _validation_detail(decoded, said, known)
    elif status_code == 429:
        words["hint"], fields["retry_after"] = _retry_hint(retry_after), retry_after
    elif status_code == 502 and _credentials_refused(operation, said):
        cls, message = _CREDENTIALS_REFUSED
        fields["auth_required"] = True
    return cls(message.format(**words), **fields)
