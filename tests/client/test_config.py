"""Settings: key and URL resolution, the plain-http guard, repr, the transport seam."""

from __future__ import annotations

import ssl

import httpx
import pytest

from pulumi_mistral.client import ConnectorsClient
from pulumi_mistral.errors import ConfigurationError


def test_missing_key_fails_at_construction():
    with pytest.raises(ConfigurationError, match="MISTRAL_API_KEY"):
        ConnectorsClient(server_url="http://127.0.0.1:1")


def test_env_key_and_url_are_used(server, monkeypatch, api_key, cj):
    monkeypatch.setenv("MISTRAL_API_KEY", api_key)
    monkeypatch.setenv("MISTRAL_SERVER_URL", server.url + "/")
    with ConnectorsClient() as client:
        assert client.server_url == server.url
        client.get("docs")
    assert server.requests[0].headers["authorization"] == f"Bearer {api_key}"


def test_arguments_win_over_env(server, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-from-env")
    monkeypatch.setenv("MISTRAL_SERVER_URL", "https://elsewhere.example.com")
    with ConnectorsClient(api_key="sk-from-arg", server_url=server.url) as client:
        client.get("docs")
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-arg"


def test_default_server_url_and_timeout(api_key):
    with ConnectorsClient(api_key=api_key) as client:
        assert client.server_url == "https://api.mistral.ai"
        assert client._http._client.timeout == httpx.Timeout(30.0)
        assert client.retry_policy.max_attempts == 4
        assert client.retry_policy.max_retry_time == 60.0


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://10.0.0.1:8000",
        "http://192.168.1.2/prefix",
        "http://[2001:db8::1]",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_key_over_plain_http_to_non_loopback_is_refused(url, api_key):
    with pytest.raises(ConfigurationError, match="plain http") as info:
        ConnectorsClient(api_key=api_key, server_url=url)
    assert api_key not in str(info.value) and api_key not in repr(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.1.2.3",
        "http://[::1]:8000/prefix",
        "http://localhost:9",
        "https://api.example.com/v",
        "https://api.mistral.ai/",
    ],
)
def test_allowed_urls(url, api_key):
    with ConnectorsClient(api_key=api_key, server_url=url) as client:
        assert client.server_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["ftp://x.example.com", "not a url", "https://", "https://h/?q=1", "https://u:p@h"])
def test_bad_urls_are_configuration_errors(url, api_key):
    with pytest.raises(ConfigurationError, match="server URL"):
        ConnectorsClient(api_key=api_key, server_url=url)


@pytest.mark.parametrize("key", ["sk bad", "sk-\nx", "ké", "Bearer sk x"])
def test_malformed_key_is_refused_without_echo(key):
    with pytest.raises(ConfigurationError) as info:
        ConnectorsClient(api_key=key, server_url="http://127.0.0.1:1")
    assert key not in str(info.value) and key not in repr(info.value)


def test_repr_hides_key(api_key, server):
    with ConnectorsClient(api_key=api_key, server_url=server.url) as client:
        assert api_key not in repr(client)
        assert api_key not in repr(client._http)
        assert repr(client) == f"ConnectorsClient(server_url={server.url!r})"


def test_max_attempts_must_be_positive(api_key):
    with pytest.raises(ConfigurationError, match="max_attempts"):
        ConnectorsClient(api_key=api_key, max_attempts=0)


def test_transport_seam(api_key, cj):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=cj(name="via-transport"))

    with ConnectorsClient(
        api_key=api_key, server_url="https://api.example.com", transport=httpx.MockTransport(handler)
    ) as client:
        assert client.get("x").name == "via-transport"
    assert str(seen[0].url) == (
        "https://api.example.com/v1/connectors/x?fetch_customer_data=false&fetch_connection_secrets=false"
    )


def test_context_manager_closes(api_key, server):
    with ConnectorsClient(api_key=api_key, server_url=server.url) as client:
        pass
    assert client._http.closed


def _ssl_context(client: ConnectorsClient) -> ssl.SSLContext:
    """The TLS context httpx's default transport will use for this client's connections."""
    context = client._http._client._transport._pool._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def test_https_verifies_against_the_ca_bundle(api_key):
    with ConnectorsClient(api_key=api_key, server_url="https://api.mistral.ai") as client:
        context = _ssl_context(client)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded


def test_plain_http_skips_the_ca_bundle_and_trusts_no_certificate(api_key, server):
    """An http (loopback) server URL never makes a TLS connection; its context is cheap and fails closed."""
    with ConnectorsClient(api_key=api_key, server_url=server.url) as client:
        context = _ssl_context(client)
        client.get("docs")  # plain http works
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0  # nothing trusted: a TLS handshake would fail
