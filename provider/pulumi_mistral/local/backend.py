"""The rules of the local Connectors API: input checks and Backend (CRUD, pagination, MCP forwarding, OAuth).

Routes only parse and serialise; this module decides. docs/local-server.md lists every rule, with the module
that keeps it: change a rule there and here together. The rules about a connector's inputs are ``core.spec``'s
and ``core.headers``', called here and answered as 422s naming the field.
"""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import anyio.to_thread

from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.core import json_values, spec
from pulumi_mistral.core.headers import header_names_problems, header_value_problem
from pulumi_mistral.local.clock import Clock
from pulumi_mistral.local.cursors import CursorCodec
from pulumi_mistral.local.exceptions import BadRequest, Conflict, Invalid, NotFound, Unavailable, Upstream
from pulumi_mistral.local.presenters import present, pretty_tool
from pulumi_mistral.local.store import NameTaken, Store
from pulumi_mistral.local.workspaces import KeyRing, Workspace

DEFAULT_VISIBILITY = "shared_workspace"
AUTH_URL_TTL_SECONDS = 600
MAX_URL_LENGTH = 2048


def _show(value: str) -> str:
    """A user-supplied value made safe for a one-line message."""
    value = value if len(value) <= 80 else value[:77] + "..."
    return repr(value)


# -- validation helpers: spec's rules (the provider's check applies the same) as 422s naming the field ----------
def check_name(name: str, loc: Sequence[str] = ("body", "name")) -> str:
    problem = spec.name_problem(name, can_omit=False)
    if problem:
        raise Invalid(loc, f"name {problem}", "string_pattern_mismatch")
    return name


def check_url(url: str, loc: Sequence[str]) -> str:
    """spec's URL rule, within the API's length limit; the message names the field (the last part of ``loc``)."""
    too_long = len(url) > MAX_URL_LENGTH
    problem = f"is longer than {MAX_URL_LENGTH} characters" if too_long else spec.url_problem(url)
    if problem:
        kind = "url_scheme" if "http:// or https://" in problem else "url_parsing"
        raise Invalid(loc, f"{loc[-1]} {problem}", kind)
    return url


def check_visibility(visibility: str) -> str:
    problem = spec.choice_problem(visibility, spec.VISIBILITIES)
    if problem:
        raise Invalid(("body", "visibility"), f"visibility {problem}", "enum")
    return visibility


def check_headers(headers: dict[str, Any], loc: Sequence[str] = ("body", "headers")) -> dict[str, str]:
    """spec's header rules (the provider's check applies the same), as a 422 naming the header."""
    for name, reason in header_names_problems(headers):
        raise Invalid([*loc, name] if name else list(loc), reason)
    for name, value in headers.items():
        problem = header_value_problem(value)  # never echoes the value: header values are secrets
        if problem:
            raise Invalid([*loc, name], problem, "string_type")
    return dict(headers)


def check_json_map(value: dict[str, Any], loc: Sequence[str]) -> dict[str, Any]:
    """connection_config / connection_secrets: bounded nesting and key counts (spec's limits)."""
    problem = json_values.json_problem(value, max_depth=spec.MAX_NESTING, max_keys=spec.MAX_MAP_KEYS)
    if problem:
        path, reason = problem
        raise Invalid([*loc, *path], reason)
    return value


def check_page_size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(("query", "page_size"), f"page_size must be between 1 and {MAX_PAGE_SIZE}", "value_error")
    return page_size


def check_changes(changes: dict[str, Any]) -> None:
    """A PATCH body: absent is unchanged, null clears, except for the required fields; set values follow the
    create rules."""
    for required in ("name", "description", "server"):
        if required in changes and changes[required] is None:
            raise Invalid(
                ("body", required),
                f"{required} is required and cannot be null; omit it to leave it unchanged",
                "value_error",
            )
    if changes.get("name") is not None:
        check_name(changes["name"])
    if changes.get("server") is not None:
        check_url(changes["server"], ("body", "server"))
    if changes.get("headers") is not None:
        check_headers(changes["headers"])
    for field in ("connection_config", "connection_secrets"):
        if changes.get(field) is not None:
            check_json_map(changes[field], ("body", field))


# -- the backend -----------------------------------------------------------------------------------------
class Backend:
    """The local Connectors API: one instance per app, sharing one Store.

    backend = Backend(Store("db.sqlite"), api_keys=["dev-key"])
    ws = backend.keys.authenticate("Bearer dev-key")
    backend.create(ws, {"name": "docs", "description": "Docs", "server": "https://mcp.example.com/mcp"})
    """

    def __init__(
        self,
        store: Store,
        api_keys: Sequence[str],
        *,
        forwarder: Any = None,
        public_url: str = "http://127.0.0.1:8787",
        http_timeout: float = 10.0,
        key_fingerprints: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.keys = KeyRing(api_keys, key_fingerprints)
        self.cursors = CursorCodec(store.cursor_secret)
        self.clock = Clock()
        self.forwarder = forwarder
        self.public_url = public_url.rstrip("/")
        self.http_timeout = http_timeout
        store.ensure_workspaces(self.keys.fingerprints, self.clock.now())

    @property
    def redirect_uri(self) -> str:
        return self.public_url + "/oauth/callback"

    # -- lookups -------------------------------------------------------------------------------------------
    def _by_id_or_name(self, ws: Workspace, id_or_name: str) -> dict[str, Any]:
        row = self.store.get_connector_by_id(ws.fingerprint, id_or_name)
        if row is None:
            row = self.store.get_connector_by_name(ws.fingerprint, id_or_name)
        if row is None:
            raise NotFound(f"Connector {_show(id_or_name)} not found")
        return row

    def _by_id(self, ws: Workspace, connector_id: str) -> dict[str, Any]:
        row = self.store.get_connector_by_id(ws.fingerprint, connector_id)
        if row is None:
            hint = ""
            if self.store.get_connector_by_name(ws.fingerprint, connector_id) is not None:
                hint = " (update and delete take the connector id, not its name)"
            raise NotFound(f"Connector with id {_show(connector_id)} not found{hint}")
        return row

    # -- CRUD (sync: run in a worker thread) ---------------------------------------------------------------
    def new_row(self, ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
        """Validate a create body and build the row to store (no I/O)."""
        visibility = check_visibility(body.get("visibility") or DEFAULT_VISIBILITY)
        headers = body.get("headers")
        now = self.clock.now()
        return {
            "id": str(uuid.uuid4()),
            "workspace": ws.fingerprint,
            "name": check_name(body["name"]),
            "description": body["description"],
            "server": check_url(body["server"], ("body", "server")),
            "icon_url": body.get("icon_url"),
            "visibility": visibility,
            "system_prompt": body.get("system_prompt"),
            "headers": check_headers(headers) if headers is not None else None,
            "auth_data": body.get("auth_data"),
            "connection_config": None,
            "connection_secrets": None,
            "tools": None,
            "tools_fetched_at": None,
            "created_at": now,
            "modified_at": now,
        }

    def create(self, ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
        row = self.new_row(ws, body)
        try:
            self.store.insert_connector(row)
        except NameTaken:
            raise Conflict(f"A connector named {_show(row['name'])} already exists in this workspace") from None
        return present(row, secrets=False)

    def get(self, ws: Workspace, id_or_name: str, *, secrets: bool = False) -> dict[str, Any]:
        return present(self._by_id_or_name(ws, id_or_name), secrets=secrets)

    def list(
        self,
        ws: Workspace,
        *,
        page_size: int = 100,
        cursor: str | None = None,
        active: bool | None = None,
        secrets: bool = False,
    ) -> dict[str, Any]:
        check_page_size(page_size)
        after = self.cursors.decode(ws, cursor) if cursor else None
        if active is False:  # every connector is active
            return {"items": [], "pagination": {"page_size": page_size, "next_cursor": None}}
        rows = self.store.page_connectors(ws.fingerprint, after, page_size + 1)
        next_cursor = None
        if len(rows) > page_size:
            rows = rows[:page_size]
            next_cursor = self.cursors.encode(ws, rows[-1]["created_at"], rows[-1]["id"])
        return {
            "items": [present(r, secrets=secrets) for r in rows],
            "pagination": {"page_size": page_size, "next_cursor": next_cursor},
        }

    def update(self, ws: Workspace, connector_id: str, changes: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Apply a PATCH (absent = unchanged, None = cleared). Returns (connector, upstream_changed)."""
        check_changes(changes)
        row = self._by_id(ws, connector_id)
        diff = {k: v for k, v in changes.items() if row.get(k) != v}
        if not diff:
            return present(row, secrets=False), False
        upstream_changed = bool({"server", "headers", "auth_data"} & set(diff))
        if upstream_changed:
            diff["tools"] = None
            diff["tools_fetched_at"] = None
        diff["modified_at"] = self.clock.now()
        try:
            new = self.store.update_connector(ws.fingerprint, connector_id, diff)
        except NameTaken:
            raise Conflict(f"A connector named {_show(changes['name'])} already exists in this workspace") from None
        if new is None:  # deleted concurrently
            raise NotFound(f"Connector with id {_show(connector_id)} not found")
        if {"server", "auth_data"} & set(diff):
            self.store.delete_oauth_token(connector_id)  # the token was issued for the old server/client
        return present(new, secrets=False), upstream_changed

    def delete(self, ws: Workspace, connector_id: str) -> dict[str, Any]:
        self._by_id(ws, connector_id)
        if not self.store.delete_connector(ws.fingerprint, connector_id):
            raise NotFound(f"Connector with id {_show(connector_id)} not found")
        return {"message": "Connector deleted"}

    # -- async front doors (routes await these; SQLite work runs in worker threads) ------------------------
    async def acreate(self, ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(self.create, ws, body)

    async def aget(self, ws: Workspace, id_or_name: str, *, secrets: bool = False) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(lambda: self.get(ws, id_or_name, secrets=secrets))

    async def alist(self, ws: Workspace, **kwargs: Any) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(lambda: self.list(ws, **kwargs))

    async def aupdate(self, ws: Workspace, connector_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        out, upstream_changed = await anyio.to_thread.run_sync(self.update, ws, connector_id, changes)
        if upstream_changed:
            await self.forget_sessions([out["id"]])
        return out

    async def adelete(self, ws: Workspace, connector_id: str) -> dict[str, Any]:
        out = await anyio.to_thread.run_sync(self.delete, ws, connector_id)
        await self.forget_sessions([connector_id])
        return out

    # -- MCP -----------------------------------------------------------------------------------------------
    async def forget_sessions(self, connector_ids: Iterable[str]) -> None:
        """Close the upstream MCP sessions of connectors that changed or are gone (a no-op without MCP)."""
        if self.forwarder is not None:
            for connector_id in connector_ids:
                await self.forwarder.invalidate(connector_id)

    def _bearer(self, connector_id: str) -> str | None:
        token = self.store.get_oauth_token(connector_id)
        if token is None:
            return None
        if token.get("expires_at") is not None and token["expires_at"] <= time.time():
            return None  # expired: the MCP server would refuse it; the user re-runs the auth flow
        return str(token["access_token"])

    def _upstream_target(self, ws: Workspace, id_or_name: str) -> tuple[dict[str, Any], str | None]:
        row = self._by_id_or_name(ws, id_or_name)
        return row, self._bearer(row["id"])

    def _need_forwarder(self) -> Any:
        if self.forwarder is None:
            raise Unavailable("MCP forwarding is not available in this installation")
        return self.forwarder

    @staticmethod
    def _translate_upstream(exc: Exception, row: dict[str, Any] | None = None, bearer: str | None = None) -> Upstream:
        status = getattr(exc, "status_code", 502)
        detail = str(getattr(exc, "detail", None) or "The MCP server failed").splitlines()[0]
        if row is not None and row.get("auth_data") and bearer is None and getattr(exc, "auth_refused", None):
            detail += (
                f"; connector {_show(row['name'])} has OAuth client data but no token yet: run the "
                "authorization flow first (get_auth_url, open the URL, sign in), then try again"
            )
        return Upstream(detail or "The MCP server failed", 504 if status == 504 else 502)

    @contextmanager
    def _upstream_errors(self, row: dict[str, Any] | None = None, bearer: str | None = None) -> Iterator[None]:
        """Answer an UpstreamError of the MCP forwarder or of OAuth as Upstream (502, or 504 on a timeout)."""
        from pulumi_mistral.local.mcp_forward import UpstreamError  # optional dependency: imported on use

        try:
            yield
        except UpstreamError as exc:
            raise self._translate_upstream(exc, row, bearer) from exc

    # The return annotation says builtins.list: inside this class, ``list`` is the list() method above.
    async def list_tools(
        self,
        ws: Workspace,
        id_or_name: str,
        *,
        page: int = 1,
        page_size: int = 100,
        refresh: bool = False,
        pretty: bool = False,
    ) -> builtins.list[dict[str, Any]]:
        if page < 1:
            raise Invalid(("query", "page"), "page must be 1 or more", "value_error")
        check_page_size(page_size)
        row, bearer = await anyio.to_thread.run_sync(self._upstream_target, ws, id_or_name)
        tools: list[dict[str, Any]] | None = row.get("tools")
        if tools is None or refresh:
            forwarder = self._need_forwarder()
            with self._upstream_errors(row, bearer):
                tools = await forwarder.list_tools(row["id"], row["server"], row.get("headers") or {}, bearer)
            fetched = self.clock.now()
            await anyio.to_thread.run_sync(
                lambda: self.store.update_connector(
                    ws.fingerprint, row["id"], {"tools": tools, "tools_fetched_at": fetched}
                )
            )
        start = (page - 1) * page_size
        chunk = tools[start : start + page_size]
        return [pretty_tool(t) for t in chunk] if pretty else chunk

    async def call_tool(
        self, ws: Workspace, id_or_name: str, tool_name: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        row, bearer = await anyio.to_thread.run_sync(self._upstream_target, ws, id_or_name)
        forwarder = self._need_forwarder()
        with self._upstream_errors(row, bearer):
            result: dict[str, Any] = await forwarder.call_tool(
                row["id"], row["server"], row.get("headers") or {}, bearer, tool_name, arguments
            )
        return result

    # -- OAuth ---------------------------------------------------------------------------------------------
    async def get_auth_url(self, ws: Workspace, id_or_name: str, app_return_url: str | None) -> dict[str, Any]:
        if app_return_url is not None:
            check_url(app_return_url, ("query", "app_return_url"))
        row = await anyio.to_thread.run_sync(self._by_id_or_name, ws, id_or_name)
        if not row.get("auth_data"):
            raise BadRequest(
                f"Connector {_show(row['name'])} has no auth_data (OAuth2 client credentials); "
                "set auth_data before asking for an authorization URL"
            )
        try:
            from pulumi_mistral.local import oauth
        except ImportError:
            raise Unavailable("OAuth is not available in this installation") from None
        with self._upstream_errors():
            pending = await oauth.start_authorization(
                server=row["server"],
                client_id=row["auth_data"]["client_id"],
                redirect_uri=self.redirect_uri,
                headers=row.get("headers") or {},
                http_timeout=self.http_timeout,
            )
        record = {
            "state": pending.state,
            "workspace": ws.fingerprint,
            "connector_id": row["id"],
            "auth_url": pending.auth_url,
            "code_verifier": pending.code_verifier,
            "token_endpoint": pending.token_endpoint,
            "issuer": pending.issuer,
            "resource": pending.resource,
            "client_id": pending.client_id,
            "app_return_url": app_return_url,
            "expires_at": time.time() + AUTH_URL_TTL_SECONDS,
        }
        await anyio.to_thread.run_sync(self.store.insert_oauth_state, record)
        return {"auth_url": pending.auth_url, "ttl": AUTH_URL_TTL_SECONDS}

    async def oauth_callback(
        self, *, code: str | None, state: str | None, iss: str | None, error: str | None
    ) -> dict[str, Any]:
        """Finish the flow; returns {"connector_id", "app_return_url"} (the only allowed redirect target)."""
        if not state:
            raise BadRequest("Missing 'state' parameter")
        pending_row = await anyio.to_thread.run_sync(self.store.consume_oauth_state, state, time.time())
        if pending_row is None:
            raise BadRequest("Unknown, expired or already used authorization state; request a new auth URL")
        if error:
            raise BadRequest(f"The authorization server refused the request: {error[:80]}")
        if not code:
            raise BadRequest("Missing 'code' parameter")
        if iss is not None and pending_row["issuer"] and iss != pending_row["issuer"]:
            raise BadRequest("The 'iss' parameter does not match the issuer this flow was started with")
        ws = Workspace(pending_row["workspace"])
        try:
            row = await anyio.to_thread.run_sync(self._by_id, ws, pending_row["connector_id"])
        except NotFound:
            raise BadRequest("The connector of this authorization flow no longer exists") from None
        if not row.get("auth_data"):
            raise BadRequest("The connector of this authorization flow no longer has auth_data")
        from pulumi_mistral.local import oauth

        pending = oauth.PendingAuthorization(
            auth_url=pending_row["auth_url"],
            state=state,
            code_verifier=pending_row["code_verifier"],
            token_endpoint=pending_row["token_endpoint"],
            issuer=pending_row["issuer"],
            resource=pending_row["resource"],
            client_id=pending_row["client_id"],
        )
        with self._upstream_errors():
            token = await oauth.exchange_code(
                pending=pending,
                code=code,
                client_secret=row["auth_data"]["client_secret"],
                redirect_uri=self.redirect_uri,
                http_timeout=self.http_timeout,
            )
        if not isinstance(token, dict) or not token.get("access_token"):
            raise Upstream("The token endpoint answered without an access_token")
        expires_in = token.get("expires_in")
        record = {
            "connector_id": row["id"],
            "workspace": ws.fingerprint,
            "access_token": str(token["access_token"]),
            "refresh_token": token.get("refresh_token"),
            "token_type": token.get("token_type"),
            "scope": token.get("scope"),
            "expires_at": time.time() + float(expires_in) if isinstance(expires_in, (int, float)) else None,
            "updated_at": self.clock.now(),
        }
        await anyio.to_thread.run_sync(self.store.save_oauth_token, record)
        await self.forget_sessions([row["id"]])  # the session was opened without (or with an old) bearer
        return {"connector_id": row["id"], "app_return_url": pending_row["app_return_url"]}
