"""Every error class from a real HTTP exchange; messages are one line, actionable and free of secrets."""

from __future__ import annotations

import traceback

import pytest

from pulumi_mistral import errors
from pulumi_mistral.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    MistralError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TimeoutError,
    TransportError,
    ValidationError,
    error_from_response,
)


def _assert_clean(exc: BaseException, api_key: str, *extra_secrets: str) -> None:
    """No secret in the message, repr, or the text of any chained exception."""
    texts: list[str] = []
    current: BaseException | None = exc
    while current is not None:  # the exception and every chained one (what a traceback would print)
        texts += [str(current), repr(current), *traceback.format_exception_only(type(current), current)]
        current = current.__cause__ or current.__context__
    for text in texts:
        for secret in (api_key, *extra_secrets):
            assert secret not in text
    assert "\n" not in str(exc)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (405, BadRequestError),
        (409, ConflictError),
        (418, BadRequestError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_status_maps_to_class(server, make_client, api_key, status, cls):
    client = make_client(max_attempts=1)
    server.reply(status, {"detail": "nope"}, headers={"x-request-id": "req-123"})
    with pytest.raises(cls) as info:
        client.get("docs")
    exc = info.value
    assert type(exc) is cls
    assert exc.status_code == status
    assert exc.request_id == "req-123"
    assert "req-123" in str(exc)
    assert exc.may_have_landed is False  # get is idempotent
    _assert_clean(exc, api_key)


def test_404_message_is_actionable(server, client):
    server.reply(404, {"detail": "Connector not found"})
    with pytest.raises(NotFoundError) as info:
        client.get("x")
    assert str(info.value) == (
        "connector 'x' not found (404): check the id or name, or whether it was deleted "
        "(server said: Connector not found)"
    )
    assert info.value.request_id is None


def test_401_names_the_env_var(server, client):
    server.reply(401, {"detail": "Invalid API key"})
    with pytest.raises(AuthenticationError, match="MISTRAL_API_KEY"):
        client.list()


def test_409_says_name_taken(server, client):
    server.reply(409, {"detail": "A connector named 'docs' already exists"})
    with pytest.raises(ConflictError) as info:
        client.create(name="docs", description="d", server="https://s/")
    assert "already taken" in str(info.value) and "already exists" in str(info.value)
    assert info.value.may_have_landed is False


def test_422_keeps_detail_and_summarises_locations(server, client):
    detail = [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "server"], "msg": "Invalid URL", "type": "url_parsing", "input": "nope"},
    ]
    server.reply(422, {"detail": detail})
    with pytest.raises(ValidationError) as info:
        client.create(name="x", description="d", server="nope")
    exc = info.value
    assert exc.detail == detail
    assert str(exc) == "invalid create request (422): body.name: Field required; body.server: Invalid URL"


def test_422_non_json_body(server, client):
    server.reply(422, b"<html>unprocessable</html>", headers={"content-type": "text/html"})
    with pytest.raises(ValidationError) as info:
        client.get("x")
    assert info.value.detail == []
    assert "unprocessable" in str(info.value)


def test_non_json_error_body(server, make_client):
    client = make_client(max_attempts=1)
    server.reply(502, b"<html>\n<body>Bad gateway\n</body></html>", headers={"content-type": "text/html"})
    with pytest.raises(ServerError) as info:
        client.get("x")
    assert "\n" not in str(info.value)
    assert "Bad gateway" in str(info.value)


def test_429_carries_retry_after(server, make_client):
    client = make_client(max_attempts=1)
    server.reply(429, {"detail": "slow down"}, headers={"retry-after": "7"})
    with pytest.raises(RateLimitError) as info:
        client.list()
    assert info.value.retry_after == 7.0
    assert "retry after 7s" in str(info.value)


def test_unexpected_success_code_is_an_error(server, client, cj):
    server.reply(200, cj())  # create must answer 201
    with pytest.raises(APIError) as info:
        client.create(name="docs", description="d", server="https://s/")
    exc = info.value
    assert type(exc) is APIError
    assert exc.status_code == 200
    assert "expected 201" in str(exc)
    assert exc.may_have_landed is True
    assert len(server.requests) == 1


def test_204_on_delete_is_an_error(server, client):
    server.reply(204, b"")
    with pytest.raises(APIError, match="expected 200"):
        client.delete("x")


def test_success_body_not_json(server, client):
    server.reply(200, b"not json", headers={"content-type": "text/plain"})
    with pytest.raises(APIError, match="not JSON"):
        client.get("x")


def test_success_body_wrong_shape_does_not_echo_values(server, client, api_key):
    server.reply(200, {"id": "x", "headers": {"X-Secret": "hunter2-value"}})
    with pytest.raises(APIError) as info:
        client.get("x")
    assert "does not match" in str(info.value)
    assert "name: Field required" in str(info.value)
    _assert_clean(info.value, api_key, "hunter2-value")
    assert info.value.__cause__ is None


def test_dropped_connection_is_transport_error(server, make_client, reply_cls, api_key):
    client = make_client(max_attempts=1)
    server.push(reply_cls(drop=True))
    with pytest.raises(TransportError) as info:
        client.get("x")
    exc = info.value
    assert type(exc) is TransportError
    assert exc.status_code is None
    assert exc.may_have_landed is False
    assert exc.__cause__ is not None  # chained httpx error
    _assert_clean(exc, api_key)


def test_dropped_connection_on_create_may_have_landed(server, client, reply_cls, api_key):
    server.push(reply_cls(drop=True), reply_cls(drop=True))
    with pytest.raises(TransportError) as info:
        client.create(name="docs", description="d", server="https://s/", headers={"Authorization": "tok-SECRET"})
    assert info.value.may_have_landed is True
    assert "may have been applied" in str(info.value)
    assert len(server.requests) == 1
    _assert_clean(info.value, api_key, "tok-SECRET")


def test_read_timeout_is_timeout_error(server, make_client, reply_cls, api_key):
    client = make_client(timeout=0.2, max_attempts=1)
    server.push(reply_cls(200, {}, delay=1.0))
    with pytest.raises(TimeoutError) as info:
        client.get("x")
    assert isinstance(info.value, TransportError)
    assert "timed out" in str(info.value)
    _assert_clean(info.value, api_key)


def test_read_timeout_on_call_tool_not_resent(server, make_client, reply_cls):
    client = make_client(timeout=0.2)
    server.push(reply_cls(200, {"content": []}, delay=1.0))
    with pytest.raises(TimeoutError) as info:
        client.call_tool("c", "t")
    assert info.value.may_have_landed is True
    assert len(server.requests) == 1


def test_connection_refused_is_transport_error(make_client, api_key):
    import socket

    with socket.socket() as sock:  # grab a free port, then close it: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(server_url=f"http://127.0.0.1:{port}", max_attempts=2)
    with pytest.raises(TransportError) as info:
        client.create(name="n", description="d", server="https://s/")
    assert info.value.may_have_landed is False  # never reached a server
    assert "after 2 attempts" in str(info.value)  # connect errors are safe to retry even for create
    _assert_clean(info.value, api_key)


def test_server_echoing_the_key_is_redacted(server, make_client, api_key):
    client = make_client(max_attempts=1)
    server.reply(400, {"detail": f"bad header Authorization: Bearer {api_key}"})
    with pytest.raises(BadRequestError) as info:
        client.get("x")
    assert "[redacted]" in str(info.value)
    _assert_clean(info.value, api_key)


def test_request_secrets_echoed_in_error_are_redacted(server, client, api_key):
    server.reply(
        422,
        {
            "detail": [
                {"loc": ["body", "headers"], "msg": "bad value top-SECRET-hdr", "type": "x", "input": "top-SECRET-hdr"}
            ]
        },
    )
    with pytest.raises(ValidationError) as info:
        client.update(
            "id", headers={"X-Key": "top-SECRET-hdr"}, auth_data={"client_id": "a", "client_secret": "cs-SECRET"}
        )
    _assert_clean(info.value, api_key, "top-SECRET-hdr", "cs-SECRET")


def test_odd_request_id_is_not_echoed(server, client):
    server.reply(404, {}, headers={"x-request-id": "<script>alert(1)</script> spaced out"})
    with pytest.raises(NotFoundError) as info:
        client.get("x")
    assert info.value.request_id is None
    assert "script" not in str(info.value)


def test_error_from_response_is_the_single_mapping():
    exc = error_from_response(409, b'{"detail":"dup"}', operation="create", subject="connector 'a'", request_id="r1")
    assert isinstance(exc, ConflictError) and exc.request_id == "r1"
    weird = error_from_response(302, b"", operation="get", expected_status=200)
    assert type(weird) is APIError and "expected 200" in str(weird)
    assert isinstance(error_from_response(599, None, operation="get"), ServerError)
    assert isinstance(error_from_response(451, None, operation="get"), BadRequestError)


def test_every_class_is_a_mistral_error():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, MistralError)
