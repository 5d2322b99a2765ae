"""ConnectorsClient: one method per Connectors API endpoint, over the HTTP layer in ``_http``."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from pulumi_mistral.client import models
from pulumi_mistral.client._http import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_TIMEOUT,
    HTTPSession,
    QueryValue,
    RetryPolicy,
    mapping_secrets,
)
from pulumi_mistral.client.models import (
    UNSET,
    AuthData,
    AuthURLResponse,
    Connector,
    ConnectorCallToolRequest,
    ConnectorTool,
    CreateConnectorRequest,
    MessageResponse,
    PaginatedConnectors,
    ResourceVisibility,
    UnsetType,
    UpdateConnectorRequest,
)
from pulumi_mistral.core.json_values import json_problem
from pulumi_mistral.errors import APIError, ConfigurationError, PaginationError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    # built on first use (models.<name>): a client that never lists or calls tools does not build them
    from pulumi_mistral.client.models import ConnectorToolCallResponse, MCPTool

CONNECTORS_PATH = "/v1/connectors"
DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_PAGES = 100_000
# The API's largest page (connectors and tools alike): a refresh, a drift report or a tool listing of any
# sane workspace or MCP server is one or two requests at this size.
MAX_PAGE_SIZE = 1000
# Tool pages are numbered, not cursored: a server that always answers a full page would never end.
DEFAULT_MAX_TOOL_PAGES = 20

ModelT = TypeVar("ModelT", bound=BaseModel)


def _seg(value: str) -> str:
    """One path segment, fully percent-encoded (``/``, ``?``, ``#`` and spaces cannot change the URL)."""
    return quote(str(value), safe="")


def _refused(operation: str, loc: tuple[str | int, ...], msg: str, type_: str) -> ValidationError:
    where = ".".join(str(p) for p in loc)
    return ValidationError(
        f"invalid {operation} argument {where}: {msg}; nothing was sent",
        detail=[{"loc": list(loc), "msg": msg, "type": type_}],
    )


def _path_arg(value: Any, param: str, operation: str) -> str:
    """A path parameter: a non-empty string. An empty one would address another route (the list)."""
    if not isinstance(value, str):
        raise _refused(operation, (param,), f"must be a string (got {type(value).__name__})", "string_type")
    if not value.strip():
        raise _refused(operation, (param,), "must not be empty", "string_too_short")
    return value


def _connector(id_or_name: Any, param: str, operation: str) -> tuple[str, str]:
    """A connector's path (the argument checked first) and how messages name it."""
    _path_arg(id_or_name, param, operation)
    return f"{CONNECTORS_PATH}/{_seg(id_or_name)}", f"connector {id_or_name!r}"


def _body(model: type[BaseModel], fields: dict[str, Any], operation: str) -> dict[str, Any]:
    """The JSON body of a request model, or ValidationError naming the field; no value is ever quoted."""
    for key, value in fields.items():
        problem = json_problem(value)
        if problem:
            path, reason = problem
            raise _refused(operation, (key, *path), reason, "value_error")
    try:
        built = model(**fields)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False, include_input=False, include_context=False)
    else:
        return built.model_dump(mode="json", by_alias=True, exclude_unset=True)
    # raised outside the except block: pydantic's own text quotes the input value (it may be a secret)
    items = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in first]
    where = "; ".join(f"{'.'.join(str(p) for p in i['loc']) or 'body'}: {i['msg']}" for i in items[:3])
    raise ValidationError(f"invalid {operation} arguments: {where}; nothing was sent", detail=items)


def _set(**fields: Any) -> dict[str, Any]:
    """Only the fields that are not UNSET (None stays: it is sent as JSON null)."""
    return {k: v for k, v in fields.items() if v is not UNSET}


def _auth_data(value: AuthData | Mapping[str, Any] | UnsetType | None) -> Mapping[str, Any] | UnsetType | None:
    if isinstance(value, AuthData):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def _auth_secret(value: AuthData | Mapping[str, Any] | UnsetType | None) -> list[str]:
    if isinstance(value, AuthData):
        return [value.client_secret] if value.client_secret else []
    if isinstance(value, Mapping) and isinstance(value.get("client_secret"), str):
        return [value["client_secret"]]
    return []


def _parse(model: type[ModelT], data: object, operation: str, subject: str, *, landed: bool) -> ModelT:
    """Validate a success body; a mismatch names field locations only (never echoes values: they may be secret)."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:3])
    # raised outside the except block: pydantic's error text quotes input values, so it must not be chained
    raise APIError(
        f"unexpected response to {operation} of {subject}: the body does not match the Connectors API ({where})",
        may_have_landed=landed,
    )


class ConnectorsClient:
    """Synchronous client for the Mistral Connectors API (beta): one method per endpoint.

    The key comes from ``api_key`` or ``MISTRAL_API_KEY``; the server from ``server_url`` or
    ``MISTRAL_SERVER_URL`` (default https://api.mistral.ai). Retries 429/5xx/transport errors with backoff;
    create and call_tool are only re-sent when they certainly did not reach the server.

    Example::

        from pulumi_mistral.client import ConnectorsClient, UNSET

        with ConnectorsClient(server_url="http://127.0.0.1:8000") as client:
            docs = client.create(name="docs", description="Docs search", server="https://mcp.example.com/mcp")
            client.update(docs.id, system_prompt=None)   # clears it; fields left UNSET are not sent
            for connector in client.iter_connectors():
                print(connector.name)
    """

    def __init__(
        self,
        api_key: str | None = None,
        server_url: str | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
        transport: httpx.BaseTransport | None = None,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be >= 1, got {max_attempts}")
        self._http = HTTPSession(
            api_key=api_key,
            server_url=server_url,
            timeout=timeout,
            policy=RetryPolicy(max_attempts=max_attempts, max_retry_time=max_retry_time),
            transport=transport,
            on_request=on_request,
        )

    # -- plumbing ------------------------------------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        """The base URL requests go to (no trailing '/')."""
        return self._http.server_url

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry settings; assign a new :class:`RetryPolicy` to change backoff, jitter or sleep."""
        return self._http.policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self._http.policy = policy

    def __repr__(self) -> str:
        return f"ConnectorsClient(server_url={self.server_url!r})"

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def __enter__(self) -> ConnectorsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(
        self,
        cast_to: type[ModelT],
        method: str,
        path: str,
        *,
        operation: str,
        subject: str,
        expected_status: int = 200,
        params: Iterable[tuple[str, QueryValue]] = (),
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
        secrets: Iterable[str] = (),
    ) -> ModelT:
        """One request, its success body parsed as ``cast_to``; a non-idempotent one has landed if it mismatches."""
        data = self._http.request(
            method,
            path,
            operation=operation,
            subject=subject,
            expected_status=expected_status,
            params=params,
            body=body,
            idempotent=idempotent,
            secrets=secrets,
        )
        return _parse(cast_to, data, operation, subject, landed=not idempotent)

    # -- endpoints -----------------------------------------------------------------------------------------------

    def create(
        self,
        *,
        name: str,
        description: str,
        server: str,
        icon_url: str | UnsetType | None = UNSET,
        visibility: ResourceVisibility | str | UnsetType | None = UNSET,
        headers: dict[str, Any] | UnsetType | None = UNSET,
        auth_data: AuthData | Mapping[str, Any] | UnsetType | None = UNSET,
        system_prompt: str | UnsetType | None = UNSET,
    ) -> Connector:
        """POST /v1/connectors (201). Not re-sent on 5xx/timeouts: those raise with ``may_have_landed=True``."""
        fields = _set(
            name=name,
            description=description,
            server=server,
            icon_url=icon_url,
            visibility=visibility if visibility is not None else UNSET,  # never sent as null
            headers=headers,
            auth_data=_auth_data(auth_data),
            system_prompt=system_prompt,
        )
        body = _body(CreateConnectorRequest, fields, "create")
        subject = f"connector {name!r}"
        return self._send(
            Connector,
            "POST",
            CONNECTORS_PATH,
            operation="create",
            subject=subject,
            expected_status=201,
            body=body,
            idempotent=False,
            secrets=[*mapping_secrets(headers), *_auth_secret(auth_data)],
        )

    def list(
        self,
        *,
        page_size: int | None = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        active: bool | None = None,
        fetch_connection_secrets: bool | None = None,
    ) -> PaginatedConnectors:
        """GET /v1/connectors (one page). Query order as the official SDK: active, fetch_connection_secrets,
        cursor, page_size."""
        params = [
            ("active", active),
            ("fetch_connection_secrets", fetch_connection_secrets),
            ("cursor", cursor),
            ("page_size", page_size),
        ]
        return self._send(
            PaginatedConnectors, "GET", CONNECTORS_PATH, operation="list", subject="connectors", params=params
        )

    def iter_connectors(
        self,
        *,
        page_size: int | None = DEFAULT_PAGE_SIZE,
        active: bool | None = None,
        fetch_connection_secrets: bool | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> Iterator[Connector]:
        """Every connector, following ``next_cursor`` to the end (lazily, one page at a time).

        Raises PaginationError if the server repeats a cursor or there are more than ``max_pages`` pages.
        """
        cursor: str | None = None
        seen: set[str] = set()
        pages = 0
        while True:
            page = self.list(
                page_size=page_size, cursor=cursor, active=active, fetch_connection_secrets=fetch_connection_secrets
            )
            pages += 1
            yield from page.items
            next_cursor = page.pagination.next_cursor
            if not next_cursor:
                return
            if next_cursor in seen or next_cursor == cursor:
                raise PaginationError(
                    f"the server repeated pagination cursor {next_cursor[:64]!r} after {pages} pages; stopping "
                    "to avoid an endless loop (server-side pagination bug)"
                )
            if pages >= max_pages:
                raise PaginationError(
                    f"more than max_pages={max_pages} pages of connectors; raise max_pages or use a larger page_size"
                )
            seen.add(next_cursor)
            cursor = next_cursor

    def get(
        self, id_or_name: str, *, fetch_customer_data: bool = False, fetch_connection_secrets: bool = False
    ) -> Connector:
        """GET /v1/connectors/{id_or_name}."""
        path, subject = _connector(id_or_name, "id_or_name", "get")
        params = [("fetch_customer_data", fetch_customer_data), ("fetch_connection_secrets", fetch_connection_secrets)]
        return self._send(Connector, "GET", path, operation="get", subject=subject, params=params)

    def update(
        self,
        connector_id: str,
        *,
        name: str | UnsetType | None = UNSET,
        description: str | UnsetType | None = UNSET,
        icon_url: str | UnsetType | None = UNSET,
        system_prompt: str | UnsetType | None = UNSET,
        connection_config: dict[str, Any] | UnsetType | None = UNSET,
        connection_secrets: dict[str, Any] | UnsetType | None = UNSET,
        server: str | UnsetType | None = UNSET,
        headers: dict[str, Any] | UnsetType | None = UNSET,
        auth_data: AuthData | Mapping[str, Any] | UnsetType | None = UNSET,
    ) -> Connector:
        """PATCH /v1/connectors/{connector_id}: fields left UNSET are omitted, None is sent as null (clears)."""
        path, subject = _connector(connector_id, "connector_id", "update")
        fields = _set(
            name=name,
            description=description,
            icon_url=icon_url,
            system_prompt=system_prompt,
            connection_config=connection_config,
            connection_secrets=connection_secrets,
            server=server,
            headers=headers,
            auth_data=_auth_data(auth_data),
        )
        body = _body(UpdateConnectorRequest, fields, "update")
        secrets = [*mapping_secrets(headers, connection_secrets), *_auth_secret(auth_data)]
        return self._send(Connector, "PATCH", path, operation="update", subject=subject, body=body, secrets=secrets)

    def delete(self, connector_id: str) -> MessageResponse:
        """DELETE /v1/connectors/{connector_id}."""
        path, subject = _connector(connector_id, "connector_id", "delete")
        return self._send(MessageResponse, "DELETE", path, operation="delete", subject=subject)

    # The return annotation says builtins.list: inside this class, ``list`` is the list() method above.
    def list_tools(
        self,
        id_or_name: str,
        *,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        refresh: bool = False,
        pretty: bool = False,
    ) -> builtins.list[MCPTool | ConnectorTool | dict[str, Any]]:
        """GET /v1/connectors/{id_or_name}/tools: a bare array of ConnectorTool, MCPTool or plain dicts."""
        path, subject = _connector(id_or_name, "id_or_name", "list_tools")
        params = [("page", page), ("page_size", page_size), ("refresh", refresh), ("pretty", pretty)]
        data = self._http.request(
            "GET", f"{path}/tools", operation="list_tools", subject=subject, expected_status=200, params=params
        )
        try:
            return models.parse_list_tools(data)
        except PydanticValidationError:
            pass
        raise APIError(f"unexpected response to list_tools of {subject}: expected a JSON array of tools")

    def iter_tools(
        self,
        id_or_name: str,
        *,
        refresh: bool = True,
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_TOOL_PAGES,
    ) -> Iterator[MCPTool | ConnectorTool | dict[str, Any]]:
        """Every tool of a connector, page after page until a short one (lazily, one page at a time).

        ``refresh`` asks the API to list the tools fresh from the MCP server; only the first page asks, so the
        later pages slice that same list. Raises PaginationError after ``max_pages`` full pages.
        """
        for page in range(1, max_pages + 1):
            chunk = self.list_tools(id_or_name, page=page, page_size=page_size, refresh=refresh and page == 1)
            yield from chunk
            if len(chunk) < page_size:
                return
        raise PaginationError(
            f"more than {max_pages * page_size} tools listed for connector {id_or_name!r} "
            f"(max_pages={max_pages} pages of {page_size}); refusing to page further"
        )

    def call_tool(
        self,
        id_or_name: str,
        tool_name: str,
        *,
        arguments: dict[str, Any] | None = None,
        credentials_name: str | None = None,
    ) -> ConnectorToolCallResponse:
        """POST /v1/connectors/{id_or_name}/tools/{tool_name}/call. Not re-sent on 5xx/timeouts (see create)."""
        path, _ = _connector(id_or_name, "id_or_name", "call_tool")
        _path_arg(tool_name, "tool_name", "call_tool")
        body = _body(ConnectorCallToolRequest, {} if arguments is None else {"arguments": arguments}, "call_tool")
        return self._send(
            models.ConnectorToolCallResponse,
            "POST",
            f"{path}/tools/{_seg(tool_name)}/call",
            operation="call_tool",
            subject=f"tool {tool_name!r} of connector {id_or_name!r}",
            params=[("credentials_name", credentials_name)],
            body=body,
            idempotent=False,
        )

    def get_auth_url(self, id_or_name: str, *, app_return_url: str | None = None) -> AuthURLResponse:
        """GET /v1/connectors/{id_or_name}/auth_url."""
        path, subject = _connector(id_or_name, "id_or_name", "get_auth_url")
        params = [("app_return_url", app_return_url)]
        return self._send(
            AuthURLResponse, "GET", f"{path}/auth_url", operation="get_auth_url", subject=subject, params=params
        )
