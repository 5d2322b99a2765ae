"""OAuth for connectors' MCP servers: discovery (RFC 9728, RFC 8414), authorization URL (PKCE S256), code exchange.

    pending = await start_authorization(server=url, client_id="cid", redirect_uri=callback, headers={})
    # keep `pending` server-side keyed by pending.state; send the user to pending.auth_url
    token = await exchange_code(pending=pending, code=code, client_secret=secret, redirect_uri=callback)
    token["access_token"]        # use as the connector's bearer token

Discovery follows the MCP authorization spec the way the SDK's OAuthClientProvider does, but in pieces so the
browser round trip can span separate HTTP requests: an unauthenticated request to the MCP server yields
`WWW-Authenticate: Bearer resource_metadata=... scope=...`; protected resource metadata is read from that URL,
then `/.well-known/oauth-protected-resource<path>`, then the root; the authorization server metadata from
`/.well-known/oauth-authorization-server<path>` then `openid-configuration`. Failures raise
`mcp_forward.UpstreamError` (502, or 504 on timeout) whose detail names URLs without userinfo or query and
never a secret.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx2
from mcp.client.auth import PKCEParameters
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
    get_client_metadata_scopes,
    issuers_match,
)
from mcp.shared.auth import OAuthMetadata, OAuthToken, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed
from pydantic import ValidationError

from .mcp_forward import UpstreamError, redact_url

DEFAULT_HTTP_TIMEOUT = 10.0
MCP_PROTOCOL_VERSION = "2025-11-25"
_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": MCP_PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "pulumi-mistral-local", "version": "0.1.0"},
    },
}


@dataclass
class PendingAuthorization:
    """What must stay server-side between the authorization URL and the callback (keyed by `state`).

    `code_verifier` is a secret. `token_auth_method` is how the client secret is sent to the token
    endpoint ("client_secret_post" unless the authorization server supports only "client_secret_basic").
    """

    auth_url: str
    state: str
    code_verifier: str
    token_endpoint: str
    issuer: str
    resource: str
    client_id: str
    token_auth_method: str = "client_secret_post"


def _canonical_resource(server: str) -> str:
    """The MCP server URL as an RFC 8707 resource: no fragment (and no trailing slash on the root path)."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


def _client(headers: dict[str, str], timeout: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(timeout), follow_redirects=False, trust_env=False)


def _transport_error(exc: Exception, url: str, what: str) -> UpstreamError:
    if isinstance(exc, httpx2.TimeoutException):
        return UpstreamError(504, f"{what} {redact_url(url)} timed out")
    return UpstreamError(502, f"{what} {redact_url(url)} is unreachable ({type(exc).__name__})")


async def _probe(client: httpx2.AsyncClient, server: str) -> httpx2.Response:
    """An unauthenticated MCP request: a protected server answers 401 with WWW-Authenticate."""
    try:
        response = await client.post(
            server,
            json=_INITIALIZE,
            headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MCP_PROTOCOL_VERSION},
        )
    except httpx2.HTTPError as exc:
        raise _transport_error(exc, server, "MCP server") from None
    session_id = response.headers.get("mcp-session-id")
    await response.aclose()
    if session_id and response.is_success:
        # The server let us in without a token; end the session we opened by accident.
        with contextlib.suppress(httpx2.HTTPError):
            await client.delete(server, headers={"mcp-session-id": session_id})
    return response


async def _get_json(client: httpx2.AsyncClient, url: str, what: str) -> tuple[int, Any]:
    try:
        response = await client.get(url, headers={"MCP-Protocol-Version": MCP_PROTOCOL_VERSION})
    except httpx2.HTTPError as exc:
        raise _transport_error(exc, url, what) from None
    if response.status_code != 200:
        return response.status_code, None
    try:
        return 200, response.json()
    except ValueError:
        return 200, None


async def _discover_resource(
    client: httpx2.AsyncClient, server: str, www_auth_url: str | None
) -> ProtectedResourceMetadata | None:
    for url in build_protected_resource_metadata_discovery_urls(www_auth_url, server):
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        _, body = await _get_json(client, url, "protected resource metadata at")
        if body is None:
            continue
        try:
            prm = ProtectedResourceMetadata.model_validate(body)
        except ValidationError:
            continue
        if not check_resource_allowed(_canonical_resource(server), str(prm.resource)):
            raise UpstreamError(
                502,
                f"protected resource metadata at {redact_url(url)} is for {redact_url(str(prm.resource))}, "
                f"not for MCP server {redact_url(server)}",
            )
        return prm
    return None


async def _discover_authorization_server(
    client: httpx2.AsyncClient, server: str, issuer: str | None
) -> OAuthMetadata | None:
    for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, server):
        status, body = await _get_json(client, url, "authorization server metadata at")
        if status >= 500:
            raise UpstreamError(502, f"authorization server metadata at {redact_url(url)} answered HTTP {status}")
        if body is None:
            continue
        try:
            metadata = OAuthMetadata.model_validate(body)
        except ValidationError:
            raise UpstreamError(502, f"authorization server metadata at {redact_url(url)} is invalid") from None
        if issuer is not None and not issuers_match(str(metadata.issuer), issuer):
            raise UpstreamError(
                502,
                f"authorization server metadata issuer {redact_url(str(metadata.issuer))} does not match "
                f"{redact_url(issuer)}",
            )
        return metadata
    return None


def _token_auth_method(metadata: OAuthMetadata | None) -> str:
    methods = metadata.token_endpoint_auth_methods_supported if metadata else None
    if methods and "client_secret_post" not in methods and "client_secret_basic" in methods:
        return "client_secret_basic"
    return "client_secret_post"


def _endpoints(server: str, issuer: str | None, metadata: OAuthMetadata | None) -> tuple[str, str, str]:
    """(authorization endpoint, token endpoint, issuer): from the metadata, else the conventional ones."""
    if metadata is not None:
        if metadata.code_challenge_methods_supported is not None and (
            "S256" not in metadata.code_challenge_methods_supported
        ):
            raise UpstreamError(502, f"authorization server {redact_url(str(metadata.issuer))} does not support S256")
        return str(metadata.authorization_endpoint), str(metadata.token_endpoint), str(metadata.issuer)
    # The SDK's fallback when the AS publishes no metadata: conventional endpoints on the issuer.
    parts = urlsplit((issuer or server).rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    return f"{base}/authorize", f"{base}/token", issuer or base


async def start_authorization(
    *,
    server: str,
    client_id: str,
    redirect_uri: str,
    headers: dict[str, str],
    scope: str | None = None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
) -> PendingAuthorization:
    """Discover the MCP server's authorization server and build the authorization URL (PKCE S256).

    `headers` are the connector's headers, sent on the probe to the MCP server only. `scope` overrides the
    discovered one (WWW-Authenticate scope, else PRM scopes_supported, else AS scopes_supported, else none).
    """
    async with _client(headers, http_timeout) as mcp_client:
        probe = await _probe(mcp_client, server)
    www_auth_url = extract_resource_metadata_from_www_auth(probe)
    www_scope = extract_scope_from_www_auth(probe) if probe.status_code in (401, 403) else None

    async with _client({}, http_timeout) as client:
        prm = await _discover_resource(client, server, www_auth_url)
        issuer = str(prm.authorization_servers[0]) if prm is not None else None
        metadata = await _discover_authorization_server(client, server, issuer)
    if prm is None and metadata is None:
        raise UpstreamError(
            502,
            f"OAuth discovery failed for MCP server {redact_url(server)}: no protected resource metadata "
            f"and no authorization server metadata (probe answered HTTP {probe.status_code})",
        )
    authorization_endpoint, token_endpoint, issuer = _endpoints(server, issuer, metadata)

    selected_scope = scope or get_client_metadata_scopes(www_scope, prm, metadata)
    resource = str(prm.resource) if prm is not None else _canonical_resource(server)
    pkce = PKCEParameters.generate()
    state = secrets.token_urlsafe(32)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": pkce.code_challenge,
        "code_challenge_method": "S256",
        "resource": resource,
    }
    if selected_scope:
        params["scope"] = selected_scope
    sep = "&" if urlsplit(authorization_endpoint).query else "?"
    return PendingAuthorization(
        auth_url=f"{authorization_endpoint}{sep}{urlencode(params)}",
        state=state,
        code_verifier=pkce.code_verifier,
        token_endpoint=token_endpoint,
        issuer=issuer,
        resource=resource,
        client_id=client_id,
        token_auth_method=_token_auth_method(metadata),
    )


def _basic(client_id: str, client_secret: str) -> str:
    # RFC 6749 §2.3.1: form-urlencode both parts before joining them.
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


async def exchange_code(
    *,
    pending: PendingAuthorization,
    code: str,
    client_secret: str,
    redirect_uri: str,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
) -> dict:
    """Trade an authorization code for tokens: {"access_token", "token_type", "refresh_token"?, "expires_in"?}."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": pending.client_id,
        "code_verifier": pending.code_verifier,
        "resource": pending.resource,
    }
    where = redact_url(pending.token_endpoint)
    method = getattr(pending, "token_auth_method", "client_secret_post")
    async with _client({}, http_timeout) as client:
        for attempt in range(2):
            headers = {"Accept": "application/json"}
            body = dict(form)
            if method == "client_secret_basic":
                headers["Authorization"] = _basic(pending.client_id, client_secret)
            elif client_secret:
                body["client_secret"] = client_secret
            try:
                response = await client.post(pending.token_endpoint, data=body, headers=headers)
            except httpx2.HTTPError as exc:
                raise _transport_error(exc, pending.token_endpoint, "token endpoint") from None
            error = _oauth_error_code(response)
            if response.status_code == 401 and error == "invalid_client" and attempt == 0 and client_secret:
                # Some servers accept only the other client authentication method.
                method = "client_secret_basic" if method == "client_secret_post" else "client_secret_post"
                continue
            break
    if response.status_code != 200:
        reason = f"error={error}" if error else "no OAuth error code"
        raise UpstreamError(502, f"token endpoint {where} refused the code (HTTP {response.status_code}, {reason})")
    try:
        token = OAuthToken.model_validate(response.json())
    except (ValueError, ValidationError):
        raise UpstreamError(502, f"token endpoint {where} returned an invalid token response") from None
    return token.model_dump(exclude_none=True)


def _oauth_error_code(response: httpx2.Response) -> str | None:
    """The short OAuth `error` code of an error response (never the description, which may echo input)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, str):
        return None
    return "".join(c for c in error[:64] if c.isalnum() or c in "_-.") or None
