"""Keyset pagination of list: completeness over thousands of rows, bounds, cursors that must be refused."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

import httpx
import pytest

from pulumi_mistral.local.backend import Backend
from pulumi_mistral.local.store import Store
from pulumi_mistral.testing.local_server import LocalServer


def seed(server: LocalServer, n: int, *, key: str | None = None, prefix: str = "seed") -> set[str]:
    """Insert n connectors straight into the server's database file (fast), as the given workspace."""
    store = Store(server.db_path)
    try:
        backend = Backend(store, [key or server.api_key])
        ws = backend.keys.authenticate(f"Bearer {key or server.api_key}")
        rows = [
            backend.new_row(ws, {"name": f"{prefix}-{i}", "description": "d", "server": "https://mcp.example.com/mcp"})
            for i in range(n)
        ]
        store.insert_connectors(rows)
    finally:
        store.close()
    return {r["id"] for r in rows}


def walk(http: httpx.Client, page_size: int, max_pages: int = 10_000) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(max_pages):
        params: dict[str, Any] = {"page_size": page_size}
        if cursor:
            params["cursor"] = cursor
        resp = http.get("/v1/connectors", params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["pagination"]["page_size"] == page_size
        assert len(body["items"]) <= page_size
        seen += [c["id"] for c in body["items"]]
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


@pytest.fixture
def http(local_server: LocalServer) -> httpx.Client:
    with httpx.Client(base_url=local_server.url, headers=local_server.headers(), timeout=30) as client:
        yield client


def _check_complete(server: LocalServer, http: httpx.Client, n: int, page_sizes: tuple[int, ...]) -> None:
    ids = seed(server, n)
    ids |= {
        http.post(
            "/v1/connectors", json={"name": f"live-{i}", "description": "d", "server": "https://x.example"}
        ).json()["id"]
        for i in range(3)
    }
    for page_size in page_sizes:
        seen = walk(http, page_size)
        assert len(seen) == len(set(seen)), "a connector was listed twice"
        assert set(seen) == ids, "a connector was missed"


def test_every_connector_exactly_once(local_server: LocalServer, http: httpx.Client, check: Any) -> None:
    _check_complete(local_server, http, 2500, (1000, 999, 61))
    first = http.get("/v1/connectors", params={"page_size": 3})
    check(first, "connector_list_v1")


def test_every_connector_exactly_once_large(local_server: LocalServer, http: httpx.Client) -> None:
    _check_complete(local_server, http, 30_000, (1000, 97))


def test_order_is_creation_order_and_last_page_has_null_cursor(http: httpx.Client) -> None:
    ids = [
        http.post("/v1/connectors", json={"name": f"o{i}", "description": "d", "server": "https://x.example"}).json()[
            "id"
        ]
        for i in range(5)
    ]
    assert walk(http, 2) == ids
    last = http.get("/v1/connectors", params={"page_size": 5}).json()
    assert last["pagination"]["next_cursor"] is None


def test_empty_list(http: httpx.Client, check: Any) -> None:
    resp = http.get("/v1/connectors")
    assert check(resp, "connector_list_v1") == {"items": [], "pagination": {"page_size": 100, "next_cursor": None}}


def test_created_during_iteration_appear_later(http: httpx.Client) -> None:
    for i in range(4):
        http.post("/v1/connectors", json={"name": f"b{i}", "description": "d", "server": "https://x.example"})
    page = http.get("/v1/connectors", params={"page_size": 2}).json()
    late = http.post("/v1/connectors", json={"name": "late", "description": "d", "server": "https://x.example"})
    rest = http.get("/v1/connectors", params={"page_size": 100, "cursor": page["pagination"]["next_cursor"]})
    assert late.json()["id"] in {c["id"] for c in rest.json()["items"]}


@pytest.mark.parametrize("page_size", ["0", "-1", "1001", "abc", "1.5"])
def test_page_size_bounds(http: httpx.Client, page_size: str, check: Any) -> None:
    resp = http.get("/v1/connectors", params={"page_size": page_size})
    assert resp.status_code == 422
    assert check(resp, "connector_list_v1")["detail"][0]["loc"] == ["query", "page_size"]


@pytest.mark.parametrize("page_size", [1, 1000])
def test_page_size_limits_accepted(http: httpx.Client, page_size: int) -> None:
    assert http.get("/v1/connectors", params={"page_size": page_size}).status_code == 200


def _tamper(cursor: str) -> str:
    body, _, sig = cursor.partition(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["c"] = "1970-01-01T00:00:00.000000Z"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{forged}.{sig}"


def test_bad_cursors_are_422(local_server: LocalServer, http: httpx.Client, check: Any) -> None:
    for i in range(3):
        http.post("/v1/connectors", json={"name": f"c{i}", "description": "d", "server": "https://x.example"})
    cursor = http.get("/v1/connectors", params={"page_size": 1}).json()["pagination"]["next_cursor"]
    assert cursor
    bad = [
        "garbage",
        "",
        "a.b",
        "...",
        "%%%",
        cursor[:-2],
        _tamper(cursor),
        cursor + "x",
        "e30.AAAA",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "x" * 5000,
    ]
    for value in bad:
        resp = http.get("/v1/connectors", params={"cursor": value})
        if value == "":  # an empty cursor means "from the start"
            assert resp.status_code == 200
            continue
        assert resp.status_code == 422, value
        assert check(resp, "connector_list_v1")["detail"][0]["loc"] == ["query", "cursor"]


def test_foreign_cursor_is_422(check: Any) -> None:
    with LocalServer(api_keys=["key-a-123456", "key-b-123456"]) as server:
        a = httpx.Client(base_url=server.url, headers=server.headers("key-a-123456"))
        b = httpx.Client(base_url=server.url, headers=server.headers("key-b-123456"))
        for i in range(3):
            a.post("/v1/connectors", json={"name": f"c{i}", "description": "d", "server": "https://x.example"})
        cursor = a.get("/v1/connectors", params={"page_size": 1}).json()["pagination"]["next_cursor"]
        resp = b.get("/v1/connectors", params={"cursor": cursor})  # another workspace
        assert resp.status_code == 422
        check(resp, "connector_list_v1")
        assert a.get("/v1/connectors", params={"cursor": cursor}).status_code == 200
        a.close()
        b.close()
        with LocalServer(api_keys=["key-a-123456"]) as other_db:  # same key, another database
            resp = httpx.get(other_db.url + "/v1/connectors", params={"cursor": cursor}, headers=other_db.headers())
            assert resp.status_code == 422


def test_cursor_survives_restart(local_server: LocalServer, http: httpx.Client) -> None:
    for i in range(3):
        http.post("/v1/connectors", json={"name": f"r{i}", "description": "d", "server": "https://x.example"})
    cursor = http.get("/v1/connectors", params={"page_size": 1}).json()["pagination"]["next_cursor"]
    local_server.restart()
    with httpx.Client(base_url=local_server.url, headers=local_server.headers()) as again:
        resp = again.get("/v1/connectors", params={"cursor": cursor})
        assert resp.status_code == 200 and len(resp.json()["items"]) == 2


def test_active_filter(http: httpx.Client) -> None:
    http.post("/v1/connectors", json={"name": "a1", "description": "d", "server": "https://x.example"})
    assert len(http.get("/v1/connectors", params={"active": "true"}).json()["items"]) == 1
    none = http.get("/v1/connectors", params={"active": "false"}).json()
    assert none == {"items": [], "pagination": {"page_size": 100, "next_cursor": None}}


def test_list_is_workspace_scoped(local_server: LocalServer) -> None:
    seed(local_server, 50, key="another-workspace-key", prefix="other")
    with httpx.Client(base_url=local_server.url, headers=local_server.headers()) as http:
        assert walk(http, 10) == []


def _live_store(server: LocalServer) -> Store:
    """The Store the running server uses (its app's backend), not a second one opened on the same file."""
    assert server._server is not None
    store = server._server.config.app.state.backend.store
    assert isinstance(store, Store)
    return store


def test_deep_page_uses_index(local_server: LocalServer, http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """EXPLAIN QUERY PLAN of the SQL the live server runs for a deep page (captured, not a copy of it)."""
    seed(local_server, 50)
    cursor = http.get("/v1/connectors", params={"page_size": 40}).json()["pagination"]["next_cursor"]
    store = _live_store(local_server)
    statements: list[str] = []
    real_conn = store._conn

    def traced() -> sqlite3.Connection:
        conn = real_conn()
        conn.set_trace_callback(statements.append)  # the statement as run, parameters filled in
        return conn

    monkeypatch.setattr(store, "_conn", traced)
    resp = http.get("/v1/connectors", params={"page_size": 5, "cursor": cursor})
    assert resp.status_code == 200 and len(resp.json()["items"]) == 5
    monkeypatch.undo()
    pages = [sql for sql in statements if sql.startswith("SELECT") and "FROM connectors" in sql and "LIMIT" in sql]
    assert len(pages) == 1 and "(created_at, id) >" in pages[0], statements
    with sqlite3.connect(local_server.db_path) as db:
        plan = db.execute(f"EXPLAIN QUERY PLAN {pages[0]}").fetchall()
    text = " ".join(str(tuple(r)) for r in plan)
    assert "connectors_page" in text and "TEMP B-TREE" not in text, text


def test_live_connections_are_wal_with_synchronous_full(local_server: LocalServer, http: httpx.Client) -> None:
    """An acknowledged write survives SIGKILL only with synchronous=FULL, a per-connection setting: check it on
    the connections the running server uses, not on a new one."""
    assert (
        http.post(
            "/v1/connectors", json={"name": "durable", "description": "d", "server": "https://x.example"}
        ).status_code
        == 201
    )
    store = _live_store(local_server)
    conns = list(store._connections)
    assert conns, "the server opened no connection"
    for conn in conns:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # 2 = FULL (NORMAL is 1)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
