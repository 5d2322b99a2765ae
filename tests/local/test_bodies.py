"""The server's one normalisation point: strict bodies in, safe answers out, limits, and kept connections.

The generated matrix (every hostile kind on every write route) is ``tests/hostile``; these are the rules one
by one, each with the words a client sees, plus what only a database written by hand can hold.
"""

from __future__ import annotations

import http.client
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_mistral.core import spec
from pulumi_mistral.core.headers import MAX_HEADERS, header_name_problem
from pulumi_mistral.local.backend import Backend
from pulumi_mistral.local.workspaces import key_fingerprint
from pulumi_mistral.testing.local_server import LocalServer

SECRET = "body-test-secret-value"


class Conn:
    """One stdlib HTTP/1.1 connection: after a response, ``open`` says whether the server kept it."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        self.http.connect()
        self.sock = self.http.sock

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str | None = "application/json",
        chunked: bool = False,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.server.api_key}"}
        if content_type:
            headers["Content-Type"] = content_type
        if chunked and body is not None:
            self.http.request(
                method,
                path,
                body=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
                headers=headers,
                encode_chunked=True,
            )
        else:
            self.http.request(method, path, body=body, headers=headers)
        resp = self.http.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None

    @property
    def open(self) -> bool:
        return self.http.sock is not None and self.http.sock is self.sock

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def conn(shared_server: LocalServer) -> Iterator[Conn]:
    c = Conn(shared_server)
    yield c
    c.close()


def _create(name: str, **extra: Any) -> bytes:
    return json.dumps({"name": name, "description": "d", "server": "https://mcp.example.com/mcp", **extra}).encode()


def _loc(body: Any) -> list[Any]:
    (item,) = body["detail"]
    assert set(item) == {"loc", "msg", "type"}
    return list(item["loc"])


# ---- strict decoding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"name":"n","description":NaN,"server":"https://x.example/mcp"}', ["body", "description"]),
        (
            b'{"name":"n","description":"d","server":"https://x.example/mcp","headers":{"X-K":Infinity}}',
            ["body", "headers", "X-K"],
        ),
        (
            b'{"name":"n","description":"d","server":"https://x.example/mcp","visibility":-1e999}',
            ["body", "visibility"],
        ),
        (b'{"name":"n","description":"\\ud800","server":"https://x.example/mcp"}', ["body", "description"]),
        (
            b'{"name":"n","description":"d","server":"https://x.example/mcp","headers":{"X-\\udfff":"v"}}',
            ["body", "headers", "X-\ufffd"],
        ),
        (b'{"name":"n","name":"m","description":"d","server":"https://x.example/mcp"}', ["body", "name"]),
    ],
)
def test_values_json_cannot_carry_are_a_422_at_the_field(conn: Conn, raw: bytes, loc: list[Any]) -> None:
    status, body = conn.send("POST", "/v1/connectors", raw)
    assert status == 422 and _loc(body) == loc
    assert conn.open


def test_patch_refuses_nan_in_connection_config_and_keeps_the_row(conn: Conn, api: Any) -> None:
    created = api.create().json()
    status, body = conn.send(
        "PATCH",
        f"/v1/connectors/{created['id']}",
        b'{"connection_config":{"limits":{"rate":NaN}},"connection_secrets":{"t":"' + SECRET.encode() + b'"}}',
    )
    assert status == 422 and _loc(body) == ["body", "connection_config", "limits", "rate"]
    assert SECRET not in json.dumps(body)
    status, got = conn.send("GET", f"/v1/connectors/{created['id']}?fetch_connection_secrets=true")
    assert status == 200 and got["connection_config"] is None and got["connection_secrets"] is None


def test_bodies_that_are_not_utf8_json_are_422(conn: Conn) -> None:
    for raw, ctype in (
        (b'{"name":"\xff"}', "application/json"),
        (_create("n").decode().encode("utf-16"), "application/json; charset=utf-16"),
        (b"[" * 100_000, "application/json"),
        (_create("n"), "text/plain"),
        (_create("n"), None),
    ):
        status, body = conn.send("POST", "/v1/connectors", raw, content_type=ctype)
        assert status == 422, (raw[:20], ctype)
        assert all("input" not in d for d in body["detail"])
        assert conn.open


def test_a_valid_json_suffix_content_type_is_json(conn: Conn) -> None:
    status, body = conn.send(
        "POST", "/v1/connectors", _create(f"mp-{uuid.uuid4().hex[:8]}"), content_type="application/merge-patch+json"
    )
    assert status == 201 and body["name"].startswith("mp-")


# ---- limits -------------------------------------------------------------------------------------------------------


def test_body_size_limit_is_a_413_with_the_limit_and_keeps_the_connection() -> None:
    with LocalServer(max_body_bytes=2048) as server:
        c = Conn(server)
        try:
            big = _create("big", description="x" * 4096)
            for chunked in (False, True):
                status, body = c.send("POST", "/v1/connectors", big, chunked=chunked)
                assert status == 413 and "2048 bytes" in body["detail"] and "--max-body-bytes" in body["detail"]
                assert c.open
            status, _ = c.send("POST", "/v1/connectors", _create("small"))
            assert status == 201 and c.open  # the same connection, after two refusals
        finally:
            c.close()


def test_default_body_limit_is_one_mebibyte(shared_server: LocalServer) -> None:
    assert shared_server.settings is not None and shared_server.settings.max_body_bytes == 1_048_576


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "content-length",
        "Transfer-Encoding",
        "Connection",
        "Mcp-Session-Id",
        "MCP-Protocol-Version",
        "Upgrade",
        "Keep-Alive",
        "TE",
    ],
)
def test_headers_that_break_forwarding_are_refused_naming_them(conn: Conn, api: Any, name: str) -> None:
    status, body = conn.send("POST", "/v1/connectors", _create(api.unique(), headers={name: SECRET}))
    assert status == 422 and _loc(body) == ["body", "headers", name]
    assert body["detail"][0]["msg"] == header_name_problem(name)  # the check's words: one rule
    assert SECRET not in json.dumps(body)
    created = api.create().json()
    status, body = conn.send("PATCH", f"/v1/connectors/{created['id']}", json.dumps({"headers": {name: "v"}}).encode())
    assert status == 422 and _loc(body) == ["body", "headers", name]


def test_header_names_differing_by_case_and_too_many_headers(conn: Conn, api: Any) -> None:
    status, body = conn.send("POST", "/v1/connectors", _create(api.unique(), headers={"X-Key": "a", "x-key": "b"}))
    assert status == 422 and _loc(body) == ["body", "headers", "x-key"] and "'X-Key'" in body["detail"][0]["msg"]
    many = {f"X-H{i}": "v" for i in range(MAX_HEADERS + 1)}
    status, body = conn.send("POST", "/v1/connectors", _create(api.unique(), headers=many))
    assert status == 422 and _loc(body) == ["body", "headers"] and str(MAX_HEADERS) in body["detail"][0]["msg"]
    status, _ = conn.send(
        "POST", "/v1/connectors", _create(api.unique(), headers={f"X-H{i}": "v" for i in range(MAX_HEADERS)})
    )
    assert status == 201


def test_connection_config_nesting_and_key_counts_are_bounded(conn: Conn, api: Any) -> None:
    cid = api.create().json()["id"]
    deep: Any = 1
    for _ in range(spec.MAX_NESTING):  # the map itself is level 1: this is one level too deep
        deep = [deep]
    status, body = conn.send("PATCH", f"/v1/connectors/{cid}", json.dumps({"connection_config": {"a": deep}}).encode())
    assert status == 422 and _loc(body)[:3] == ["body", "connection_config", "a"]
    status, _ = conn.send("PATCH", f"/v1/connectors/{cid}", json.dumps({"connection_config": {"a": deep[0]}}).encode())
    assert status == 200
    keys = {f"k{i}": i for i in range(spec.MAX_MAP_KEYS + 1)}
    status, body = conn.send("PATCH", f"/v1/connectors/{cid}", json.dumps({"connection_secrets": keys}).encode())
    assert status == 422 and _loc(body) == ["body", "connection_secrets"]


# ---- a refused or failed request keeps its connection -----------------------------------------------------------


def test_an_internal_error_is_a_500_that_keeps_the_connection(conn: Conn, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Backend, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom " + SECRET)

    monkeypatch.setattr(Backend, "list", broken)
    status, body = conn.send("GET", "/v1/connectors")
    assert status == 500 and body == {"detail": "Internal server error"}
    assert conn.open  # Starlette re-raises after its 500 and uvicorn would close; the guard ends it there
    monkeypatch.undo()
    assert conn.send("GET", "/v1/connectors")[0] == 200 and conn.open


# ---- rows stored before these rules, or written by hand ----------------------------------------------------------


def test_damaged_rows_are_served_and_never_break_their_neighbours(caplog: pytest.LogCaptureFixture) -> None:
    with LocalServer() as server:
        client = server.client()
        good = client.create(
            name="good", description="fine", server="https://mcp.example.com/mcp", headers={"X-Key": SECRET}
        )
        db = sqlite3.connect(server.db_path)
        ws = key_fingerprint(server.api_key)

        def insert(name: str, sql_description: str = "?", **columns: Any) -> str:
            row = {
                "id": str(uuid.uuid4()),
                "workspace": ws,
                "name": name,
                "server": "https://mcp.example.com/mcp",
                "visibility": "private",
                "created_at": f"2020-01-01T00:00:00.{len(columns):06d}Z",
                "modified_at": "2020-01-01T00:00:00.000000Z",
                **columns,
            }
            cols = ", ".join([*row, "description"])
            db.execute(
                f"INSERT INTO connectors ({cols}) VALUES ({', '.join('?' * len(row))}, {sql_description})",
                [*row.values()] + ([] if sql_description != "?" else ["d"]),
            )
            db.commit()
            return str(row["id"])

        nan = insert("nan", connection_config='{"rate":NaN,"burst":[Infinity]}')
        surrogate = insert(
            "surrogate", headers='{"X-Key":"\\ud800' + SECRET + '"}', connection_secrets='{"k\\udc00":1}'
        )
        deep = insert("deep", connection_config='{"a":' + "[" * 5000 + "]" * 5000 + "}")
        corrupt = insert("corrupt", tools="{not json")
        bad_text = insert("bad-utf8", sql_description="CAST(X'6f6bff6f6b' AS TEXT)")
        db.close()
        caplog.set_level(logging.WARNING, logger="pulumi_mistral.local")

        listed = client.list(page_size=100, fetch_connection_secrets=True)
        by_name = {c.name: c for c in listed.items}
        assert set(by_name) == {"good", "nan", "surrogate", "deep", "corrupt", "bad-utf8"}
        assert by_name["good"].headers == {"X-Key": SECRET}  # the neighbours read as written
        assert by_name["nan"].connection_config == {"rate": None, "burst": [None]}
        assert by_name["surrogate"].headers == {"X-Key": "\ufffd" + SECRET}
        assert by_name["deep"].connection_config is None and by_name["corrupt"].tools is None
        assert by_name["bad-utf8"].description == "ok\ufffdok"
        for cid in (nan, surrogate, deep, corrupt, bad_text):
            assert client.get(cid, fetch_connection_secrets=True).id == cid
        state = client._http._client.get("/_local/state")
        assert state.status_code == 200 and len(state.json()["connectors"]) == 6
        # a PATCH repairs the row; a DELETE removes one
        assert client.update(nan, connection_config={"rate": 1}).connection_config == {"rate": 1}
        assert client.delete(surrogate).message
        assert client.get(good.id).name == "good"
        client.close()
    warnings = [r.getMessage() for r in caplog.records]
    assert any(deep in w and "connection_config" in w for w in warnings)
    assert any("non-finite number, served as null" in w for w in warnings)
    assert not any(SECRET in w for w in warnings)
