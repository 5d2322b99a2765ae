"""The app factory of the local Connectors API: wires settings, store, backend, MCP forwarder and routes.

    app = create_app(LocalSettings(db_path="connectors.db", api_keys=["dev-key"]))

Nothing is built at import time: the SQLite store and the MCP forwarder are opened in the lifespan and
closed on shutdown, so one process can host several apps (tests run one per server).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from pulumi_mistral._version import __version__
from pulumi_mistral.local.backend import Backend, BackendError, Invalid, Unauthorized
from pulumi_mistral.local.faults import LocalMiddleware, TestControls, build_router
from pulumi_mistral.local.routes import oauth_router, router
from pulumi_mistral.local.schemas import LocalSettings
from pulumi_mistral.local.store import Store

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
    """FastAPI with LocalMiddleware outside Starlette's own error middleware.

    Outermost, the middleware receives the server's own ``send`` (needed to drop a connection for real) and
    stamps ``x-request-id`` on every answer, including Starlette's 500s and injected faults.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return LocalMiddleware(super().build_middleware_stack(), self.state.controls)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Keep loc/msg/type only: pydantic's "input" would echo request values, which may be secrets.
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()]


def create_app(settings: LocalSettings) -> FastAPI:
    """Build the local Connectors API app for ``settings`` (opens nothing until the app starts)."""
    if not settings.api_keys:
        raise ValueError("LocalSettings.api_keys must hold at least one API key")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.db_path)
        forwarder = _make_forwarder(settings)
        backend = Backend(store, settings.api_keys, forwarder=forwarder, public_url=settings.base_url,
                          http_timeout=settings.oauth_http_timeout)
        app.state.backend = backend
        log.info("local server ready: %d workspace(s) [%s]", len(settings.api_keys),
                 ", ".join(fp[:12] for fp in backend.keys.fingerprints))
        try:
            yield
        finally:
            if backend.forwarder is not None:
                await backend.forwarder.aclose()
            store.close()

    app = _LocalApp(title="Mistral Connectors API (local)", version=__version__, lifespan=lifespan,
                    docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.controls = TestControls(log_size=settings.request_log_size)

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError) -> JSONResponse:
        if isinstance(exc, Invalid):
            return JSONResponse({"detail": exc.errors}, status_code=422)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_errors(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "HTTP error"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse({"detail": "Internal server error"}, status_code=500)

    app.include_router(router)
    app.include_router(oauth_router)
    if settings.enable_test_controls:
        app.include_router(build_router(app.state.controls))
    return app
