"""SQLite persistence for the local server: the only module that speaks SQL.

The database runs in WAL mode with ``synchronous=FULL``: in WAL mode ``NORMAL`` may lose the last
transactions on power loss, and we promise that an acknowledged write survives a killed server process.
Each thread gets its own connection (WAL lets readers run beside the single writer); every write runs in
``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade, and ``busy_timeout`` bounds the wait.

Rows are plain dicts; JSON columns (headers, auth_data, connection_config, connection_secrets, tools) are
decoded on read. Rules (names, workspaces) live in ``backend.py``, secrets masking in ``presenters.py``; not here.

Reading never fails on one damaged row (a file written by hand, by another tool, or before today's rules):
a JSON column that does not decode is read as null, and text that is not valid UTF-8 is read with U+FFFD in
place of the bad bytes; each is logged with the row's id, never its content. Its neighbours read as usual.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("pulumi_mistral.local")

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

JSON_COLUMNS = ("headers", "auth_data", "connection_config", "connection_secrets", "tools")
CONNECTOR_COLUMNS = (
    "id",
    "workspace",
    "name",
    "description",
    "server",
    "icon_url",
    "visibility",
    "system_prompt",
    "headers",
    "auth_data",
    "connection_config",
    "connection_secrets",
    "tools",
    "tools_fetched_at",
    "created_at",
    "modified_at",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    fingerprint TEXT PRIMARY KEY,          -- SHA-256 of the API key; the key itself is never stored
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS connectors (
    id                 TEXT PRIMARY KEY,
    workspace          TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    server             TEXT NOT NULL,
    icon_url           TEXT,
    visibility         TEXT NOT NULL,
    system_prompt      TEXT,
    headers            TEXT,
    auth_data          TEXT,
    connection_config  TEXT,
    connection_secrets TEXT,
    tools              TEXT,
    tools_fetched_at   TEXT,
    created_at         TEXT NOT NULL,
    modified_at        TEXT NOT NULL,
    UNIQUE (workspace, name)
);
-- keyset pagination walks this index, so a deep page costs the same as the first one
CREATE INDEX IF NOT EXISTS connectors_page ON connectors (workspace, created_at, id);
CREATE TABLE IF NOT EXISTS oauth_states (
    state          TEXT PRIMARY KEY,
    workspace      TEXT NOT NULL,
    connector_id   TEXT NOT NULL,
    auth_url       TEXT NOT NULL,
    code_verifier  TEXT NOT NULL,
    token_endpoint TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    resource       TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    app_return_url TEXT,
    expires_at     REAL NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS oauth_states_connector ON oauth_states (connector_id);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    connector_id  TEXT PRIMARY KEY,
    workspace     TEXT NOT NULL,
    access_token  TEXT NOT NULL,
    refresh_token TEXT,
    token_type    TEXT,
    scope         TEXT,
    expires_at    REAL,
    updated_at    TEXT NOT NULL
);
"""


class NameTaken(Exception):
    """The (workspace, name) unique constraint rejected a write."""


@contextmanager
def _name_taken() -> Iterator[None]:
    """Turn a violation of the (workspace, name) unique constraint into NameTaken."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc) and "name" in str(exc):
            raise NameTaken(str(exc)) from exc
        raise


class Store:
    """SQLite-backed storage, safe to share between the server's worker threads.

    store = Store("connectors.db")
    store.insert_connector({...})
    store.close()
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        conn = self._conn()
        conn.executescript(_SCHEMA)  # outside a transaction: executescript commits on its own
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            # the cursor-signing secret is per database, so cursors stay valid across restarts
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('cursor_secret', ?)", (secrets.token_hex(32),)
            )
        row = conn.execute("SELECT value FROM meta WHERE key = 'cursor_secret'").fetchone()
        self.cursor_secret: bytes = bytes.fromhex(row[0])

    # -- connections -------------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise RuntimeError("store is closed")
        # check_same_thread=False only so close() can close every thread's connection at shutdown;
        # each connection is otherwise used by the thread that opened it.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._connections = self._connections, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):  # closing is best effort at shutdown
                conn.close()

    # -- helpers -------------------------------------------------------------------------------------------
    def _select(self, sql: str, params: Sequence[Any], conn: sqlite3.Connection | None = None) -> list[sqlite3.Row]:
        """Run a SELECT; a row whose text is not valid UTF-8 is read with U+FFFD instead of failing the query."""
        conn = conn or self._conn()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
        log.warning("the database holds text that is not valid UTF-8; read with U+FFFD in its place")
        conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.text_factory = str

    def _select_one(
        self, sql: str, params: Sequence[Any], conn: sqlite3.Connection | None = None
    ) -> sqlite3.Row | None:
        rows = self._select(sql, params, conn)
        return rows[0] if rows else None

    @staticmethod
    def _decode(row: sqlite3.Row | None) -> dict[str, Any] | None:
        if row is None:
            return None
        out = dict(row)
        for col in JSON_COLUMNS:
            if col in out and out[col] is not None:
                try:
                    out[col] = json.loads(out[col])
                except (ValueError, RecursionError):
                    log.warning("connector %s: the stored %s is not readable JSON; read as null", out.get("id"), col)
                    out[col] = None
        return out

    @staticmethod
    def _encode(values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for col in JSON_COLUMNS:
            if col in out and out[col] is not None:
                out[col] = json.dumps(out[col], separators=(",", ":"))
        return out

    # -- workspaces ----------------------------------------------------------------------------------------
    def ensure_workspaces(self, fingerprints: Sequence[str], now: str) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO workspaces (fingerprint, created_at) VALUES (?, ?)",
                [(fp, now) for fp in fingerprints],
            )

    # -- connectors ----------------------------------------------------------------------------------------
    def insert_connector(self, row: dict[str, Any]) -> None:
        self.insert_connectors([row])

    def insert_connectors(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows in one transaction (also the fast path for benchmarks and seeding)."""
        cols = ", ".join(CONNECTOR_COLUMNS)
        marks = ", ".join(f":{c}" for c in CONNECTOR_COLUMNS)
        encoded = [{c: enc.get(c) for c in CONNECTOR_COLUMNS} for enc in map(self._encode, rows)]
        with _name_taken(), self.transaction() as conn:
            conn.executemany(f"INSERT INTO connectors ({cols}) VALUES ({marks})", encoded)  # noqa: S608

    def get_connector_by_id(self, workspace: str, connector_id: str) -> dict[str, Any] | None:
        return self._decode(
            self._select_one("SELECT * FROM connectors WHERE id = ? AND workspace = ?", (connector_id, workspace))
        )

    def get_connector_by_name(self, workspace: str, name: str) -> dict[str, Any] | None:
        return self._decode(
            self._select_one("SELECT * FROM connectors WHERE workspace = ? AND name = ?", (workspace, name))
        )

    def update_connector(self, workspace: str, connector_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply ``changes`` (column -> new value) and return the new row, or None when it is gone."""
        unknown = set(changes) - set(CONNECTOR_COLUMNS)
        if unknown or {"id", "workspace", "created_at"} & set(changes):
            raise ValueError(f"not updatable: {sorted(unknown or changes)}")
        encoded = self._encode(changes)
        sets = ", ".join(f"{c} = :{c}" for c in encoded)
        with _name_taken(), self.transaction() as conn:
            if sets:
                cur = conn.execute(
                    f"UPDATE connectors SET {sets} WHERE id = :_id AND workspace = :_ws",  # noqa: S608
                    {**encoded, "_id": connector_id, "_ws": workspace},
                )
                if cur.rowcount == 0:
                    return None
            row = self._select_one(
                "SELECT * FROM connectors WHERE id = ? AND workspace = ?", (connector_id, workspace), conn
            )
        return self._decode(row)

    def delete_connector(self, workspace: str, connector_id: str) -> bool:
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM connectors WHERE id = ? AND workspace = ?", (connector_id, workspace))
            conn.execute("DELETE FROM oauth_tokens WHERE connector_id = ?", (connector_id,))
            conn.execute("DELETE FROM oauth_states WHERE connector_id = ?", (connector_id,))
            return cur.rowcount > 0

    def page_connectors(self, workspace: str, after: tuple[str, str] | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` connectors ordered by (created_at, id), strictly after the ``after`` key."""
        if after is None:
            rows = self._select(
                "SELECT * FROM connectors WHERE workspace = ? ORDER BY created_at, id LIMIT ?", (workspace, limit)
            )
        else:
            rows = self._select(
                "SELECT * FROM connectors WHERE workspace = ? AND (created_at, id) > (?, ?) "
                "ORDER BY created_at, id LIMIT ?",
                (workspace, after[0], after[1], limit),
            )
        return [self._decode(r) for r in rows]  # type: ignore[misc]

    def all_connectors(self, workspace: str) -> list[dict[str, Any]]:
        rows = self._select("SELECT * FROM connectors WHERE workspace = ? ORDER BY created_at, id", (workspace,))
        return [self._decode(r) for r in rows]  # type: ignore[misc]

    def count_connectors(self, workspace: str | None = None) -> int:
        if workspace is None:
            return int(self._conn().execute("SELECT COUNT(*) FROM connectors").fetchone()[0])
        return int(
            self._conn().execute("SELECT COUNT(*) FROM connectors WHERE workspace = ?", (workspace,)).fetchone()[0]
        )

    def wipe(self, workspace: str | None) -> list[str]:
        """Delete every connector (and OAuth row) of one workspace, or of all when ``workspace`` is None.

        Returns the deleted connector ids.
        """
        with self.transaction() as conn:
            if workspace is None:
                ids = [r[0] for r in conn.execute("SELECT id FROM connectors")]
                conn.execute("DELETE FROM connectors")
                conn.execute("DELETE FROM oauth_states")
                conn.execute("DELETE FROM oauth_tokens")
            else:
                ids = [r[0] for r in conn.execute("SELECT id FROM connectors WHERE workspace = ?", (workspace,))]
                conn.execute("DELETE FROM connectors WHERE workspace = ?", (workspace,))
                conn.execute("DELETE FROM oauth_states WHERE workspace = ?", (workspace,))
                conn.execute("DELETE FROM oauth_tokens WHERE workspace = ?", (workspace,))
        return ids

    # -- OAuth ---------------------------------------------------------------------------------------------
    def insert_oauth_state(self, row: dict[str, Any]) -> None:
        cols = (
            "state",
            "workspace",
            "connector_id",
            "auth_url",
            "code_verifier",
            "token_endpoint",
            "issuer",
            "resource",
            "client_id",
            "app_return_url",
            "expires_at",
        )
        with self.transaction() as conn:
            _insert(conn, "INSERT", "oauth_states", cols, row)
            # expired states are useless; prune them here so the table stays small
            conn.execute("DELETE FROM oauth_states WHERE expires_at < ?", (row["expires_at"] - 86_400,))

    def consume_oauth_state(self, state: str, now: float) -> dict[str, Any] | None:
        """Mark a pending state used and return it; None if unknown, expired or already used (single use)."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE oauth_states SET used = 1 WHERE state = ? AND used = 0 AND expires_at > ?", (state, now)
            )
            if cur.rowcount != 1:
                return None
            row = conn.execute("SELECT * FROM oauth_states WHERE state = ?", (state,)).fetchone()
        return dict(row) if row is not None else None

    def save_oauth_token(self, row: dict[str, Any]) -> None:
        cols = (
            "connector_id",
            "workspace",
            "access_token",
            "refresh_token",
            "token_type",
            "scope",
            "expires_at",
            "updated_at",
        )
        with self.transaction() as conn:
            _insert(conn, "INSERT OR REPLACE", "oauth_tokens", cols, row)

    def delete_oauth_token(self, connector_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM oauth_tokens WHERE connector_id = ?", (connector_id,))

    def get_oauth_token(self, connector_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT * FROM oauth_tokens WHERE connector_id = ?", (connector_id,)).fetchone()
        return dict(row) if row is not None else None

    def oauth_states_for(self, workspace: str) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT state, connector_id, app_return_url, expires_at, used FROM oauth_states WHERE workspace = ?",
                (workspace,),
            )
            .fetchall()
        )
        return [dict(r) for r in rows]


def _insert(conn: sqlite3.Connection, verb: str, table: str, cols: tuple[str, ...], row: dict[str, Any]) -> None:
    """``verb`` (INSERT, INSERT OR REPLACE) of ``row``'s ``cols`` into ``table``: names are ours, values bound."""
    names, marks = ", ".join(cols), ", ".join(":" + c for c in cols)
    conn.execute(f"{verb} INTO {table} ({names}) VALUES ({marks})", {c: row.get(c) for c in cols})
