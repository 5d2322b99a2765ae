"""The app factory of the local Connectors API: wires settings, store, backend, MCP forwarder and routes.

    app = create_app(LocalSettings(db_path="connectors.db", api_keys=["dev-key"]))

Nothing is built at import time: the SQLite store and the MCP forwarder are opened in the lifespan and
closed on shutdown, so one process can host several apps (tests run one per server).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from pulumi_mistral._version import __version__
from pulumi_mistral.local.backend import Backend
from pulumi_mistral.local.bodies import BodyGuard, SafeJSONResponse, validation_errors
from pulumi_mistral.local.controls import ControlsMiddleware, TestControls, build_router
from pulumi_mistral.local.exceptions import BackendError, Invalid, Unauthorized
from pulumi_mistral.local.routes import oauth_router, router
from pulumi_mistral.local.settings import LocalSettings
from pulumi_mistral.local.store import Store
from pulumi_mistral.local.workspaces import Workspace

__all__ = ["LocalSettings", "create_app"]

log = logging.getLogger("pulumi_mistral.local")


def _make_forwarder(settings: LocalSettings) -> Any:
    """One MCPForwarder per app; None when the MCP module is not installed."""
    try:
        from pulumi_mistral.local.mcp_forward import MCPForwarder
    except ImportError as exc:
        log.warning("MCP forwarding disabled: %s", exc)
        return None
    return MCPForwarder(call_timeout=settings.mcp_call_timeout, connect_timeout=settings.mcp_connect_timeout)


class _LocalApp(FastAPI):
    """FastAPI with ControlsMiddleware and BodyGuard outside Starlette's own error middleware.

    Outermost, ControlsMiddleware receives the server's own ``send`` (needed to drop a connection for real) and
    stamps ``x-request-id`` on every answer, including Starlette's 500s, injected faults and 413s. BodyGuard,
    next, limits body sizes and keeps errors from closing the connection (``bodies.py``).
    """

    def build_middleware_stack(self) -> ASGIApp:
        guarded = BodyGuard(super().build_middleware_stack(), self.state.settings.max_body_bytes)
        return ControlsMiddleware(guarded, self.state.controls)


def create_app(settings: LocalSettings) -> FastAPI:
    """Build the local Connectors API app for ``settings`` (opens nothing until the app starts)."""
    if not settings.api_keys and not settings.api_key_fingerprints:
        raise ValueError("LocalSettings.api_keys (or api_key_fingerprints) must hold at least one API key")
    app = _LocalApp(
        title="Mistral Connectors API (local)",
        version=__version__,
        lifespan=_lifespan(settings),
        docs_url="/docs",
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )
    app.state.settings = settings
    app.state.controls = TestControls(log_size=settings.request_log_size)
    _add_error_handlers(app)
    app.include_router(router)
    app.include_router(oauth_router)
    if settings.enable_test_controls:
        app.include_router(build_router(app.state.controls))
    return app


def _lifespan(settings: LocalSettings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the store and the MCP forwarder when the app starts; close them when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.db_path)
        forwarder = _make_forwarder(settings)
        backend = Backend(
            store,
            settings.api_keys,
            forwarder=forwarder,
            public_url=settings.base_url,
            http_timeout=settings.oauth_http_timeout,
            key_fingerprints=settings.api_key_fingerprints,
        )
        app.state.backend = backend
        log.info(
            "local server ready: %d workspace(s) [%s]",
            len(backend.keys.fingerprints),
            ", ".join(Workspace(fp).tag for fp in backend.keys.fingerprints),
        )
        try:
            yield
        finally:
            if backend.forwarder is not None:
                await backend.forwarder.aclose()
            store.close()

    return lifespan


def _add_error_handlers(app: FastAPI) -> None:
    """Every error answers in the contract's shapes: 422 as FastAPI's list, the others as one line."""

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError) -> SafeJSONResponse:
        if isinstance(exc, Invalid):
            return SafeJSONResponse({"detail": validation_errors(exc.errors)}, status_code=422)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> SafeJSONResponse:
        return SafeJSONResponse({"detail": validation_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> SafeJSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "HTTP error"
        return SafeJSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> SafeJSONResponse:
        log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return SafeJSONResponse({"detail": "Internal server error"}, status_code=500)
