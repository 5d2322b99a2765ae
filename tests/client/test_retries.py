"""Retry policy: the small pure functions, then retry counts and timing against a real server."""

from __future__ import annotations

import email.utils
import time

import pytest

from pulumi_mistral.client._http import backoff_delay, parse_retry_after, should_retry
from pulumi_mistral.errors import RateLimitError, ServerError, TransportError

# ---- pure functions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "idempotent", "reached", "expected"),
    [
        (429, True, True, True),
        (429, False, True, True),
        (500, True, True, True),
        (502, True, True, True),
        (503, True, True, True),
        (504, True, True, True),
        (500, False, True, False),
        (503, False, True, False),
        (400, True, True, False),
        (404, True, True, False),
        (409, True, True, False),
        (501, True, True, False),
        (None, True, True, True),
        (None, False, True, False),
        (None, False, False, True),
    ],
)
def test_should_retry(status, idempotent, reached, expected):
    assert should_retry(status, idempotent=idempotent, reached_server=reached) is expected


def test_backoff_delay_full_jitter_is_deterministic_with_injected_random():
    assert [backoff_delay(n, base=1.0, cap=5.0, rand=lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert backoff_delay(3, base=1.0, cap=100.0, rand=lambda: 0.25) == 1.0
    assert backoff_delay(1, base=1.0, cap=5.0, rand=lambda: 0.0) == 0.0


def test_parse_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.2 ") == 0.2
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 5, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(5.0)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0


# ---- against the stand-in server -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_idempotent_calls_retry_retryable_statuses(server, client, cj, status):
    server.reply(status, {"detail": "busy"})
    server.reply(200, cj())
    assert client.get("docs").name == "docs"
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_not_retried(server, client, status):
    server.reply(status, {"detail": "no"})
    with pytest.raises(Exception):
        client.get("docs")
    assert len(server.requests) == 1


def test_attempts_are_bounded_and_backoff_sleeps_recorded(server, make_client):
    slept: list[float] = []
    client = make_client(policy={"sleep": slept.append})
    for _ in range(4):
        server.reply(503, {"detail": "down"})
    with pytest.raises(ServerError) as info:
        client.delete("x")
    assert len(server.requests) == 4
    assert slept == [0.01, 0.02, 0.04]  # base 0.01 doubling, jitter factor 1.0
    assert "after 4 attempts" in str(info.value)


def test_max_attempts_one_means_no_retry(server, make_client):
    client = make_client(max_attempts=1)
    server.reply(503, {})
    with pytest.raises(ServerError):
        client.get("x")
    assert len(server.requests) == 1


def test_retry_after_seconds_is_honoured(server, client, cj):
    server.reply(503, {}, headers={"retry-after": "0.2"})
    server.reply(200, cj())
    start = time.monotonic()
    client.get("docs")
    elapsed = time.monotonic() - start
    assert len(server.requests) == 2
    assert 0.2 <= elapsed < 1.5


def test_retry_after_http_date_is_honoured(server, client, cj):
    # HTTP-dates have 1 s resolution (formatdate drops the fraction): a date 2 s ahead is between 1 and 2 s
    # away. The client's own backoff here is 0.01 s, so a wait of at least ~1 s can only be the header's.
    server.reply(429, {}, headers={"retry-after": email.utils.formatdate(time.time() + 2, usegmt=True)})
    server.reply(200, cj())
    start = time.monotonic()
    client.get("docs")
    elapsed = time.monotonic() - start
    assert len(server.requests) == 2
    assert 0.95 <= elapsed < 3.0, elapsed


def test_retry_after_is_capped_by_max_retry_time(server, make_client):
    client = make_client(max_retry_time=0.3)
    for _ in range(4):
        server.reply(503, {}, headers={"retry-after": "30"})
    start = time.monotonic()
    with pytest.raises(ServerError):
        client.get("docs")
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 1.5  # slept the remaining budget, not 30 s
    assert len(server.requests) == 2


def test_rate_limit_exhausted_raises_rate_limit_error(server, make_client):
    client = make_client(max_attempts=2)
    server.reply(429, {}, headers={"retry-after": "0.05"})
    server.reply(429, {}, headers={"retry-after": "0.05"})
    with pytest.raises(RateLimitError) as info:
        client.list()
    assert info.value.retry_after == 0.05
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_create_not_resent_on_5xx(server, client, status):
    server.reply(status, {"detail": "oops"})
    server.reply(201, {})
    with pytest.raises(ServerError) as info:
        client.create(name="docs", description="d", server="https://s/")
    assert len(server.requests) == 1
    assert info.value.may_have_landed is True
    assert "may have been applied" in str(info.value)


def test_create_retried_on_429(server, client, cj):
    server.reply(429, {}, headers={"retry-after": "0.05"})
    server.reply(201, cj())
    assert client.create(name="docs", description="d", server="https://s/").name == "docs"
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


def test_call_tool_not_resent_on_502(server, client):
    server.reply(502, {"detail": "upstream MCP failed"})
    with pytest.raises(ServerError) as info:
        client.call_tool("c", "t", arguments={"x": 1})
    assert len(server.requests) == 1
    assert info.value.may_have_landed is True


def test_call_tool_retried_on_429(server, client):
    server.reply(429, {})
    server.reply(200, {"content": [{"type": "text", "text": "ok"}]})
    assert client.call_tool("c", "t").content[0].text == "ok"
    assert len(server.requests) == 2


def test_idempotent_call_retried_after_dropped_connection(server, client, reply_cls, cj):
    server.push(reply_cls(drop=True), reply_cls(200, cj()))
    assert client.get("docs").name == "docs"
    assert len(server.requests) == 2


def test_dropped_connection_exhausts_attempts(server, make_client, reply_cls):
    client = make_client(max_attempts=3)
    server.push(*(reply_cls(drop=True) for _ in range(3)))
    with pytest.raises(TransportError) as info:
        client.list()
    assert len(server.requests) == 3
    assert info.value.may_have_landed is False


def test_read_timeout_retried_for_idempotent_calls(server, make_client, reply_cls, cj):
    client = make_client(timeout=0.2)
    server.push(reply_cls(200, cj(), delay=1.0), reply_cls(200, cj()))
    start = time.monotonic()
    assert client.get("docs").name == "docs"
    assert time.monotonic() - start < 1.5
    assert len(server.requests) == 2
