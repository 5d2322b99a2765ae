"""OAuth discovery, authorization URL and code exchange against a local AS and a protected MCP server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import time
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from mcp_servers.runner import DemoServer, OAuthServers, start_demo_server, start_oauth_servers
from pulumi_mistral.local.mcp_forward import MCPForwarder, UpstreamError
from pulumi_mistral.local.oauth import PendingAuthorization, exchange_code, start_authorization

CALLBACK = "http://127.0.0.1:8999/oauth/callback"


def _start(oauth: OAuthServers, **kwargs: object) -> PendingAuthorization:
    args: dict = {"server": oauth.url, "client_id": oauth.client_id, "redirect_uri": CALLBACK, "headers": {}}
    args.update(kwargs)
    return asyncio.run(start_authorization(**args))


def _browser(auth_url: str) -> dict[str, str]:
    """What a browser would do: open the URL; the AS auto-approves and redirects (not followed) to the callback."""
    with httpx2.Client(follow_redirects=False, timeout=5) as client:
        response = client.get(auth_url)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _exchange(pending: PendingAuthorization, code: str, secret: str) -> dict:
    return asyncio.run(
        exchange_code(pending=pending, code=code, client_secret=secret, redirect_uri=CALLBACK, http_timeout=5)
    )


def test_authorization_url_has_every_parameter(oauth: OAuthServers) -> None:
    pending = _start(oauth)
    url = urlsplit(pending.auth_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{oauth.issuer}/authorize"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert set(q) == {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "scope",
        "resource",
    }
    assert q["response_type"] == "code"
    assert q["client_id"] == oauth.client_id
    assert q["redirect_uri"] == CALLBACK
    assert q["state"] == pending.state and len(pending.state) >= 40
    assert q["code_challenge_method"] == "S256"
    digest = hashlib.sha256(pending.code_verifier.encode()).digest()
    assert q["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert q["scope"] == "docs:read"
    assert q["resource"] == oauth.url == pending.resource
    assert pending.issuer.rstrip("/") == oauth.issuer
    assert pending.token_endpoint == f"{oauth.issuer}/token"
    assert pending.client_id == oauth.client_id
    assert pending.token_auth_method == "client_secret_post"
    assert _start(oauth).state != pending.state  # fresh state and verifier every time


def test_explicit_scope_overrides_discovery(oauth: OAuthServers) -> None:
    pending = _start(oauth, scope="docs:read extra")
    assert parse_qs(urlsplit(pending.auth_url).query)["scope"] == ["docs:read extra"]


def test_full_flow_token_is_accepted_by_the_protected_mcp_server(oauth: OAuthServers) -> None:
    pending = _start(oauth)
    callback = _browser(pending.auth_url)
    assert callback["state"] == pending.state
    assert callback["iss"] == oauth.issuer
    token = _exchange(pending, callback["code"], oauth.client_secret)
    assert token["token_type"] == "Bearer"
    assert token["access_token"] and token["refresh_token"] and token["expires_in"] > 0
    assert oauth.state.last_auth_method == "client_secret_post"

    async def scenario() -> tuple[UpstreamError, UpstreamError, dict]:
        forwarder = MCPForwarder(call_timeout=5, connect_timeout=2)
        try:
            errors = []
            for bearer in (None, "not-a-real-token-SECRET"):
                with pytest.raises(UpstreamError) as info:
                    await forwarder.list_tools("c1", oauth.url, {}, bearer)
                errors.append(info.value)
            out = await forwarder.call_tool("c1", oauth.url, {}, token["access_token"], "whoami", {})
            return errors[0], errors[1], out
        finally:
            await forwarder.aclose()

    no_token, bad_token, out = asyncio.run(scenario())
    for err in (no_token, bad_token):
        assert err.status_code == 502
        assert "refused the credentials" in err.detail and "401" in err.detail
        assert "SECRET" not in err.detail
    verified = out["metadata"]["mcp_meta"]["structuredContent"]["token"]
    assert verified == {"client_id": oauth.client_id, "scopes": ["docs:read"], "resource": oauth.url}


def test_code_is_single_use_and_errors_never_show_secrets(oauth: OAuthServers) -> None:
    pending = _start(oauth)
    code = _browser(pending.auth_url)["code"]
    _exchange(pending, code, oauth.client_secret)
    with pytest.raises(UpstreamError) as info:
        _exchange(pending, code, oauth.client_secret)
    assert info.value.status_code == 502
    assert "invalid_grant" in info.value.detail
    for secret in (oauth.client_secret, pending.code_verifier, code):
        assert secret not in info.value.detail


def test_wrong_client_secret_or_verifier_is_refused(oauth: OAuthServers) -> None:
    pending = _start(oauth)
    code = _browser(pending.auth_url)["code"]
    with pytest.raises(UpstreamError) as info:
        _exchange(pending, code, "wrong-SECRET")
    assert "invalid_client" in info.value.detail and "SECRET" not in info.value.detail

    pending = _start(oauth)
    code = _browser(pending.auth_url)["code"]
    tampered = PendingAuthorization(**{**pending.__dict__, "code_verifier": "x" * 64})
    with pytest.raises(UpstreamError) as info:
        _exchange(tampered, code, oauth.client_secret)
    assert "invalid_grant" in info.value.detail


def test_basic_auth_is_used_when_the_server_supports_only_basic() -> None:
    with start_oauth_servers(auth_methods=["client_secret_basic"]) as servers:
        pending = _start(servers)
        assert pending.token_auth_method == "client_secret_basic"
        token = _exchange(pending, _browser(pending.auth_url)["code"], servers.client_secret)
        assert token["access_token"]
        assert servers.state.last_auth_method == "client_secret_basic"


def test_discovery_fails_cleanly_for_a_server_without_oauth() -> None:
    demo: DemoServer = start_demo_server()
    try:
        with pytest.raises(UpstreamError) as info:
            asyncio.run(start_authorization(server=demo.url, client_id="c", redirect_uri=CALLBACK, headers={}))
    finally:
        demo.stop()
    assert info.value.status_code == 502
    assert "OAuth discovery failed" in info.value.detail and demo.url in info.value.detail


def test_discovery_of_an_unreachable_server_is_502_fast() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        asyncio.run(
            start_authorization(
                server=f"http://u:SECRET@127.0.0.1:{port}/mcp?k=SECRET",
                client_id="c",
                redirect_uri=CALLBACK,
                headers={"X-Key": "SECRET"},
                http_timeout=2,
            )
        )
    assert info.value.status_code == 502
    assert time.monotonic() - started < 3
    assert "SECRET" not in info.value.detail
