"""The one loopback rule: the client (plain http only to loopback) and the local server (bind warning) share it."""

from __future__ import annotations

import pytest

from pulumi_mistral.core.hosts import is_loopback


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "localhost.",
        "api.localhost",
        "a.b.localhost",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "0:0:0:0:0:0:0:1",
        " 127.0.0.1 ",
    ],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "",
        "example.com",
        "localhost.example.com",
        "notlocalhost",
        "10.0.0.1",
        "192.168.1.2",
        "0.0.0.0",
        "::",
        "[2001:db8::1]",
        "127.0.0.1.nip.io",
        "::ffff:10.0.0.1",
    ],
)
def test_other_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_client_and_local_server_use_the_same_rule() -> None:
    from pulumi_mistral.client import _http
    from pulumi_mistral.local import server

    assert _http.is_loopback is is_loopback
    assert server.is_loopback is is_loopback
