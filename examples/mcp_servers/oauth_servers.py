"""An OAuth-protected demo MCP server and a tiny local authorization server that auto-approves (tests, demos).

Run both:  python examples/mcp_servers/oauth_servers.py --port 8766 --as-port 8767
It prints the MCP URL, the issuer and the pre-registered client id (the client secret is DEMO_CLIENT_SECRET
in this file, never printed). Values are fake test values; loopback only.

The authorization server (OAuth 2.1 subset, RFC 8414 metadata, PKCE S256 required):
  GET  /.well-known/oauth-authorization-server   metadata; issuer without a trailing slash
  GET  /authorize    auto-approves a pre-registered client and redirects to redirect_uri?code&state&iss
                     (redirect_uri: a registered one, or any http loopback URL when none are registered)
  POST /token        authorization_code (client secret via client_secret_post or _basic, PKCE checked,
                     single-use codes) and refresh_token grants
The MCP server is the demo server (same tools) as a resource server: no or a bad token -> 401 with
WWW-Authenticate resource_metadata; tokens must carry the required scope and be bound to its URL (RFC 8707).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

try:  # imported as the `mcp_servers` package, or run as a script from this directory
    from .demo_server import RequestStats, ToolAdmin, build_app, build_server
except ImportError:  # pragma: no cover
    from demo_server import RequestStats, ToolAdmin, build_app, build_server  # type: ignore[no-redef]

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret-not-real"
DEMO_SCOPE = "docs:read"
CODE_TTL = 120.0
TOKEN_TTL = 3600


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    code_challenge: str
    resource: str | None
    scope: str
    expires_at: float


@dataclass
class AuthorizationServerState:
    """Clients, codes and tokens of the local authorization server; shared with the MCP server's verifier."""

    issuer: str = ""
    clients: dict[str, str] = field(default_factory=lambda: {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
    redirect_uris: list[str] | None = None  # None: any http loopback redirect URI is accepted
    scopes: list[str] = field(default_factory=lambda: [DEMO_SCOPE])
    auth_methods: list[str] = field(default_factory=lambda: ["client_secret_post", "client_secret_basic"])
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, AccessToken] = field(default_factory=dict)
    token_requests: int = 0
    last_auth_method: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris is not None:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")

    def issue_token(self, client_id: str, scope: str, resource: str | None) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        token = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scope.split(),
            expires_at=int(time.time()) + TOKEN_TTL,
            resource=resource,
            subject="demo-user",
        )
        with self.lock:
            self.tokens[access] = token
            self.refresh_tokens[refresh] = token
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "refresh_token": refresh,
            "scope": scope,
        }

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.refresh_tokens.clear()


class LocalTokenVerifier:
    """The MCP server's TokenVerifier: accepts tokens issued by the local authorization server."""

    def __init__(self, state: AuthorizationServerState) -> None:
        self.state = state

    async def verify_token(self, token: str) -> AccessToken | None:
        with self.state.lock:
            found = self.state.tokens.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found


def _oauth_error(error: str, status: int = 400, description: str | None = None) -> JSONResponse:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _client_auth(request: Request, form: dict[str, str]) -> tuple[str, str, str] | None:
    """The client's (id, secret, method) from HTTP Basic or the form; None when it sent neither (or bad Basic)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:]).decode()
            cid, _, secret = raw.partition(":")
            return unquote(cid), unquote(secret), "client_secret_basic"
        except ValueError:
            return None
    if "client_secret" in form:
        return form.get("client_id", ""), form["client_secret"], "client_secret_post"
    return None


class _AuthorizationServer:
    """The authorization server's routes over one state: metadata, authorize, token."""

    def __init__(self, state: AuthorizationServerState) -> None:
        self.state = state

    async def metadata(self, request: Request) -> Response:
        iss = self.state.issuer
        return JSONResponse(
            {
                "issuer": iss,
                "authorization_endpoint": f"{iss}/authorize",
                "token_endpoint": f"{iss}/token",
                "scopes_supported": self.state.scopes,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": self.state.auth_methods,
                "authorization_response_iss_parameter_supported": True,
            }
        )

    async def authorize(self, request: Request) -> Response:
        state = self.state
        q = request.query_params
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        # Errors before the redirect URI is trusted are shown here, never redirected (open redirector).
        if client_id not in state.clients:
            return _oauth_error("invalid_client", 400, "unknown client_id")
        if not state.redirect_allowed(redirect_uri):
            return _oauth_error("invalid_request", 400, "redirect_uri not allowed")
        if q.get("response_type") != "code":
            return _oauth_error("unsupported_response_type")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) < 43:
            return _oauth_error("invalid_request", 400, "PKCE S256 is required")
        scope = q.get("scope") or " ".join(state.scopes)
        code = secrets.token_urlsafe(24)
        with state.lock:
            state.codes[code] = _Code(
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=q["code_challenge"],
                resource=q.get("resource"),
                scope=scope,
                expires_at=time.monotonic() + CODE_TTL,
            )
        params = {"code": code, "iss": state.issuer}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if urlsplit(redirect_uri).query else "?"
        return RedirectResponse(f"{redirect_uri}{sep}{urlencode(params)}", status_code=302)

    async def token(self, request: Request) -> Response:
        state = self.state
        form = {k: str(v) for k, v in (await request.form()).items()}
        with state.lock:
            state.token_requests += 1
        auth = _client_auth(request, form)
        if auth is None:
            return _oauth_error("invalid_client", 401, "client authentication required")
        cid, secret, method = auth
        expected = state.clients.get(cid)
        if expected is None or not hmac.compare_digest(expected, secret) or method not in state.auth_methods:
            return _oauth_error("invalid_client", 401)
        state.last_auth_method = method
        grant = form.get("grant_type")
        if grant == "refresh_token":
            return self._refresh(cid, form)
        if grant != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        return self._exchange_code(cid, form)

    def _refresh(self, cid: str, form: dict[str, str]) -> Response:
        """The refresh_token grant: a refresh token is used once, by the client it was issued to."""
        with self.state.lock:
            old = self.state.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if old is None or old.client_id != cid:
            return _oauth_error("invalid_grant")
        return JSONResponse(self.state.issue_token(cid, " ".join(old.scopes), old.resource))

    def _exchange_code(self, cid: str, form: dict[str, str]) -> Response:
        """The authorization_code grant: a live, unused code of this client, its redirect URI and PKCE verifier."""
        with self.state.lock:
            entry = self.state.codes.pop(form.get("code", ""), None)  # single use
        if entry is None or entry.expires_at < time.monotonic() or entry.client_id != cid:
            return _oauth_error("invalid_grant", 400, "unknown, used or expired code")
        if form.get("redirect_uri") != entry.redirect_uri:
            return _oauth_error("invalid_grant", 400, "redirect_uri mismatch")
        if not hmac.compare_digest(_s256(form.get("code_verifier", "")), entry.code_challenge):
            return _oauth_error("invalid_grant", 400, "PKCE verification failed")
        resource = form.get("resource") or entry.resource
        if entry.resource and resource != entry.resource:
            return _oauth_error("invalid_target")
        return JSONResponse(self.state.issue_token(cid, entry.scope, resource), headers={"Cache-Control": "no-store"})


def build_authorization_server(state: AuthorizationServerState) -> Starlette:
    """The authorization server app; `state.issuer` must be set to its base URL (no trailing slash)."""
    server = _AuthorizationServer(state)
    return Starlette(
        routes=[
            Route("/.well-known/oauth-authorization-server", server.metadata, methods=["GET"]),
            Route("/authorize", server.authorize, methods=["GET"]),
            Route("/token", server.token, methods=["POST"]),
        ]
    )


def build_protected_server(
    state: AuthorizationServerState, mcp_url: str, *, stats: RequestStats | None = None
) -> tuple[Any, ToolAdmin]:
    """The demo MCP server as an OAuth resource server for `state`'s issuer; `mcp_url` is its endpoint."""
    return build_server(
        name="demo-connector-oauth",
        stats=stats,
        token_verifier=LocalTokenVerifier(state),
        auth=AuthSettings(
            issuer_url=state.issuer,
            resource_server_url=mcp_url,
            required_scopes=[DEMO_SCOPE],
            validate_token_resource=True,
        ),
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Run the OAuth-protected demo MCP server and its local AS.")
    parser.add_argument("--port", type=int, default=8766, help="MCP server port")
    parser.add_argument("--as-port", type=int, default=8767, help="authorization server port")
    args = parser.parse_args(argv)
    host = "127.0.0.1"
    state = AuthorizationServerState(issuer=f"http://{host}:{args.as_port}")
    mcp_url = f"http://{host}:{args.port}/mcp"
    server, _ = build_protected_server(state, mcp_url)
    servers = [
        uvicorn.Server(uvicorn.Config(build_app(server), host=host, port=args.port, log_level="warning")),
        uvicorn.Server(
            uvicorn.Config(build_authorization_server(state), host=host, port=args.as_port, log_level="warning")
        ),
    ]

    async def serve() -> None:
        tasks = [asyncio.create_task(s.serve()) for s in servers]
        for _ in range(200):
            if all(s.started for s in servers):
                print(f"MCP server ready: {mcp_url}", flush=True)
                print(f"authorization server: {state.issuer} (client id {DEMO_CLIENT_ID!r})", flush=True)
                break
            await asyncio.sleep(0.05)
        await asyncio.gather(*tasks)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
