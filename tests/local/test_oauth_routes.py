"""OAuth through the local Connectors API: auth_url, the browser round trip to /oauth/callback, then calls."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mcp_servers.runner import OAuthServers
from pulumi_mistral.local import backend as backend_module
from pulumi_mistral.testing.local_server import LocalServer

RETURN_URL = "https://app.example.com/connected?tab=1"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalServer]:
    with LocalServer(mcp_call_timeout=5.0, mcp_connect_timeout=2.0) as server:
        yield server


@pytest.fixture
def http(local: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local.url, headers=local.headers(), timeout=15.0) as client:
        yield client


def _connector(http: httpx.Client, oauth: OAuthServers, **extra: Any) -> dict[str, Any]:
    body = {
        "name": f"oauth-{uuid.uuid4().hex[:10]}",
        "description": "protected demo MCP server",
        "server": oauth.url,
        "auth_data": {"client_id": oauth.client_id, "client_secret": oauth.client_secret},
        **extra,
    }
    resp = http.post("/v1/connectors", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _authorize(auth_url: str) -> str:
    """The browser at the authorization server: it auto-approves and redirects to the local callback."""
    resp = httpx.get(auth_url, follow_redirects=False, timeout=5)
    assert resp.status_code == 302
    return resp.headers["location"]


def test_full_oauth_flow_then_authenticated_calls(
    http: httpx.Client, local: LocalServer, oauth: OAuthServers, check: Any
) -> None:
    conn = _connector(http, oauth)
    call = f"/v1/connectors/{conn['name']}/tools/whoami/call"
    before = http.post(call, json={})
    assert before.status_code == 502 and "refused the credentials" in before.json()["detail"]

    resp = http.get(f"/v1/connectors/{conn['name']}/auth_url", params={"app_return_url": RETURN_URL})
    body = check(resp, "connector_get_auth_url_v1")
    assert body["ttl"] == 600  # seconds, as docs/local-server.md says
    q = {k: v[0] for k, v in parse_qs(urlsplit(body["auth_url"]).query).items()}
    assert q["redirect_uri"] == f"{local.url}/oauth/callback"
    assert q["client_id"] == oauth.client_id and q["code_challenge_method"] == "S256"
    assert q["resource"] == oauth.url and q["scope"] == "docs:read"
    assert oauth.client_secret not in body["auth_url"]

    callback = _authorize(body["auth_url"])
    assert callback.startswith(f"{local.url}/oauth/callback?")
    done = httpx.get(callback, follow_redirects=False, timeout=10)  # no API key: the state is the credential
    assert done.status_code in (302, 303)
    assert done.headers["location"] == RETURN_URL

    replay = httpx.get(callback, follow_redirects=False, timeout=10)
    assert replay.status_code == 400  # the state is single-use

    after = http.post(call, json={})
    assert after.status_code == 200, after.text
    token = after.json()["metadata"]["mcp_meta"]["structuredContent"]["token"]
    assert token == {"client_id": oauth.client_id, "scopes": ["docs:read"], "resource": oauth.url}
    listed = http.get(f"/v1/connectors/{conn['name']}/tools", params={"refresh": "true"})
    assert listed.status_code == 200 and "whoami" in [t["name"] for t in listed.json()]


def test_callback_without_return_url_answers_json(http: httpx.Client, oauth: OAuthServers) -> None:
    conn = _connector(http, oauth)
    auth_url = http.get(f"/v1/connectors/{conn['id']}/auth_url").json()["auth_url"]
    done = httpx.get(_authorize(auth_url), follow_redirects=False, timeout=10)
    assert done.status_code == 200
    assert done.json()["connector_id"] == conn["id"]


def test_unknown_and_expired_states_are_refused(
    http: httpx.Client, oauth: OAuthServers, local: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = httpx.get(f"{local.url}/oauth/callback", params={"code": "c", "state": "forged"}, timeout=10)
    assert forged.status_code == 400

    conn = _connector(http, oauth)
    monkeypatch.setattr(backend_module, "AUTH_URL_TTL_SECONDS", 1)  # the server runs in this process
    auth_url = http.get(f"/v1/connectors/{conn['id']}/auth_url").json()["auth_url"]
    callback = _authorize(auth_url)
    time.sleep(1.2)
    expired = httpx.get(callback, follow_redirects=False, timeout=10)
    assert expired.status_code == 400
    assert http.post(f"/v1/connectors/{conn['id']}/tools/whoami/call", json={}).status_code == 502


def test_connector_without_auth_data_cannot_get_an_auth_url(http: httpx.Client, oauth: OAuthServers) -> None:
    resp = http.post(
        "/v1/connectors", json={"name": f"plain-{uuid.uuid4().hex[:8]}", "description": "d", "server": oauth.url}
    )
    assert resp.status_code == 201
    got = http.get(f"/v1/connectors/{resp.json()['id']}/auth_url")
    assert 400 <= got.status_code < 500
