"""The local server's refusals: the BackendError tree, each class with the HTTP status the app answers it with.

These are server-side (moto's ``exceptions.py``). A rule of the local server raises one; the app's exception
handler (``app.py``) turns it into the HTTP answer: ``{"detail": ...}`` with ``status_code``, or FastAPI's 422
shape for ``Invalid``. They are not the client's error tree (``pulumi_mistral.errors``: ``MistralError`` and its
subclasses): a client raises one of those when it reads such an answer over HTTP, never one of these.
"""

from __future__ import annotations

from collections.abc import Sequence


class BackendError(Exception):
    """A rule said no; ``status_code`` and ``detail`` are what the client sees."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(BackendError):
    status_code = 400


class Unauthorized(BackendError):
    status_code = 401


class NotFound(BackendError):
    status_code = 404


class Conflict(BackendError):
    status_code = 409


class Upstream(BackendError):
    """The MCP server or its authorization server failed (502) or timed out (504)."""

    def __init__(self, detail: str, status_code: int = 502) -> None:
        super().__init__(detail)
        self.status_code = status_code


class Unavailable(BackendError):
    status_code = 501


class Invalid(BackendError):
    """A 422 in FastAPI's shape: ``{"detail": [{"loc", "msg", "type"}]}``."""

    status_code = 422

    def __init__(self, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> None:
        super().__init__(msg)
        self.errors = [{"loc": list(loc), "msg": msg, "type": type_}]
