"""Wire models of the Mistral Connectors API (lenient: unknown keys kept, open enums) and the UNSET sentinel.

Response models accept unknown keys (``extra="allow"``) because the API is in beta; request models forbid them.
Python names work everywhere (``populate_by_name``); JSON names are aliases (``inputSchema``, ``_meta``, ...).

    from pulumi_mistral.client.models import Connector
    connector = Connector.model_validate(payload)
    connector.model_dump(mode="json", by_alias=True, exclude_unset=True)

The MCP tool and tool-call result models live in ``_models_mcp`` and are built on first access of one of
their names here (``MCPTool``, ``ConnectorToolCallResponse``, ``parse_list_tools``...): a process that only
creates, reads or lists connectors does not pay for them.
"""

from __future__ import annotations

import enum
import importlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client._models_mcp import (
        AudioContent,
        BlobResourceContents,
        ConnectorToolCallMetadata,
        ConnectorToolCallResponse,
        ConnectorToolResultMetadata,
        Content,
        EmbeddedResource,
        ImageContent,
        ListToolsResponse,
        MCPTool,
        MCPToolMeta,
        MCPUIToolMeta,
        ResourceLink,
        TextContent,
        TextResourceContents,
        ToolAnnotations,
        ToolExecution,
        TurbineToolLocale,
        TurbineToolMeta,
        UnknownContent,
        parse_list_tools,
    )

__all__ = [
    "UNSET",
    "Annotations",
    "AudioContent",
    "AuthData",
    "AuthURLResponse",
    "BlobResourceContents",
    "Connector",
    "ConnectorCallToolRequest",
    "ConnectorTool",
    "ConnectorToolCallMetadata",
    "ConnectorToolCallResponse",
    "ConnectorToolLocale",
    "ConnectorToolResultMetadata",
    "Content",
    "CreateConnectorRequest",
    "EmbeddedResource",
    "ExecutionConfig",
    "HTTPValidationError",
    "ImageContent",
    "ListToolsResponse",
    "MCPServerIcon",
    "MCPTool",
    "MCPToolMeta",
    "MCPUIToolMeta",
    "MessageResponse",
    "PaginatedConnectors",
    "PaginationResponse",
    "ResourceLink",
    "ResourceVisibility",
    "TextContent",
    "TextResourceContents",
    "ToolAnnotations",
    "ToolExecution",
    "TurbineToolLocale",
    "TurbineToolMeta",
    "UnknownContent",
    "UnsetType",
    "UpdateConnectorRequest",
    "ValidationErrorItem",
    "parse_list_tools",
]


class UnsetType(enum.Enum):
    """Type of :data:`UNSET`: "not given" (the key is omitted), as opposed to ``None`` (sent as JSON null).

    Example::

        client.update(cid, description="new", system_prompt=None)  # icon_url stays UNSET: not sent
    """

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = UnsetType.UNSET


class ResourceVisibility(str, enum.Enum):
    """Visibility of a connector: an OPEN enum (unknown strings from the server are accepted and kept).

    Example::

        ResourceVisibility("private") is ResourceVisibility.PRIVATE
        ResourceVisibility("shared_galaxy").value == "shared_galaxy"  # unknown, still accepted
    """

    SHARED_GLOBAL = "shared_global"
    SHARED_ORG = "shared_org"
    SHARED_WORKSPACE = "shared_workspace"
    PRIVATE = "private"

    @classmethod
    def _missing_(cls, value: object) -> ResourceVisibility | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)


class _Wire(BaseModel):
    """Lenient base for response shapes: unknown keys are kept, Python names and aliases both accepted."""

    # defer_build: schemas are built on first use, which keeps ``import pulumi_mistral.client`` cheap
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class _Request(BaseModel):
    """Strict base for request bodies: unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


# ---- shared pieces -------------------------------------------------------------------------------------------


class AuthData(_Wire):
    """OAuth2 client credentials of a connector (``client_secret`` only comes back when secrets are fetched).

    Example::

        AuthData(client_id="cid", client_secret="s3cret")
    """

    client_id: str
    client_secret: str | None = Field(default=None, repr=False)


class MCPServerIcon(_Wire):
    """An icon for display in user interfaces.

    Example::

        MCPServerIcon(src="https://example.com/icon.png", mime_type="image/png")
    """

    src: str
    mime_type: str | None = Field(default=None, alias="mimeType")
    sizes: list[str] | None = None


class Annotations(_Wire):
    """MCP content annotations.

    Example::

        Annotations(audience=["user"], priority=0.5)
    """

    audience: list[str] | None = None
    priority: float | None = None


# ---- connector tools -------------------------------------------------------------------------------------------


class ExecutionConfig(_Wire):
    """Untyped MCP execution config: ``type`` plus any other keys.

    Example::

        ExecutionConfig(type="mcp")
    """

    type: str


class ConnectorToolLocale(_Wire):
    """Localised strings of a connector tool.

    Example::

        ConnectorToolLocale(name={"en": "Echo"}, description={"en": "Echo"}, usage_sentence={"en": "Echoing"})
    """

    name: dict[str, str] = Field(default_factory=dict)
    description: dict[str, str] = Field(default_factory=dict)
    usage_sentence: dict[str, str] = Field(default_factory=dict)


class ConnectorTool(_Wire):
    """A tool as the Connectors API stores it (inside ``Connector.tools`` or from list_tools).

    Example::

        [tool.name for tool in (connector.tools or [])]
    """

    id: str
    name: str
    description: str | None = None
    execution_config: ExecutionConfig | None = None
    visibility: ResourceVisibility | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    system_prompt: str | None = None
    locale: ConnectorToolLocale | None = None
    jsonschema: dict[str, Any] | None = None
    active: bool | None = None


# ---- connectors --------------------------------------------------------------------------------------------------


class Connector(_Wire):
    """A connector as returned by create, get, update and list (secret-bearing fields hidden from repr).

    Fields beyond the contract's (visibility, icon_url, ...) are optional: a missing field means "unknown",
    never "cleared".

    Example::

        connector = client.get("docs")
        print(connector.id, connector.server, connector.header_names)
    """

    id: str
    name: str
    description: str
    created_at: datetime
    modified_at: datetime
    server: str | None = None
    auth_type: str | None = None
    tools: list[ConnectorTool] | None = None
    visibility: ResourceVisibility | None = None
    icon_url: str | None = None
    system_prompt: str | None = None
    connection_config: dict[str, Any] | None = None
    header_names: list[str] | None = None
    headers: dict[str, Any] | None = Field(default=None, repr=False)
    auth_data: AuthData | None = Field(default=None, repr=False)
    connection_secrets: dict[str, Any] | None = Field(default=None, repr=False)
    connection_secret_names: list[str] | None = None


class PaginationResponse(_Wire):
    """Keyset pagination info: pass ``next_cursor`` back as ``cursor``; None means the last page.

    Example::

        page.pagination.next_cursor
    """

    page_size: int
    next_cursor: str | None = None


class PaginatedConnectors(_Wire):
    """One page of connectors.

    Example::

        page = client.list(page_size=10)
        names = [c.name for c in page.items]
    """

    items: list[Connector]
    pagination: PaginationResponse


class AuthURLResponse(_Wire):
    """An OAuth authorization URL and its time to live (probably seconds).

    Example::

        print(client.get_auth_url("docs").auth_url)
    """

    auth_url: str
    ttl: int


class MessageResponse(_Wire):
    """A plain message (delete).

    Example::

        client.delete(cid).message
    """

    message: str


# ---- requests and errors ------------------------------------------------------------------------------------------


class CreateConnectorRequest(_Request):
    """Body of POST /v1/connectors. Dump with ``exclude_unset=True``: unset keys are omitted, None is null.

    Example::

        CreateConnectorRequest(name="docs", description="Docs", server="https://mcp.example.com/mcp")
    """

    name: str
    description: str
    server: str
    icon_url: str | None = None
    visibility: ResourceVisibility | None = None
    headers: dict[str, Any] | None = Field(default=None, repr=False)
    auth_data: AuthData | None = Field(default=None, repr=False)
    system_prompt: str | None = None


class UpdateConnectorRequest(_Request):
    """Body of PATCH /v1/connectors/{id}: only the fields that were set are sent; None is sent as null.

    Example::

        UpdateConnectorRequest(description="new", system_prompt=None).model_dump(exclude_unset=True)
    """

    name: str | None = None
    description: str | None = None
    icon_url: str | None = None
    system_prompt: str | None = None
    connection_config: dict[str, Any] | None = None
    connection_secrets: dict[str, Any] | None = Field(default=None, repr=False)
    server: str | None = None
    headers: dict[str, Any] | None = Field(default=None, repr=False)
    auth_data: AuthData | None = Field(default=None, repr=False)


class ConnectorCallToolRequest(_Request):
    """Body of a tool call; without arguments it is ``{}``.

    Example::

        ConnectorCallToolRequest(arguments={"q": "x"})
    """

    arguments: dict[str, Any] | None = None


class ValidationErrorItem(_Wire):
    """One entry of a 422 ``detail`` list.

    Example::

        ValidationErrorItem(loc=["body", "name"], msg="Field required", type="missing")
    """

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class HTTPValidationError(_Wire):
    """A 422 body: ``{"detail": [...]}``.

    Example::

        HTTPValidationError.model_validate(body).detail
    """

    detail: list[ValidationErrorItem] | None = None


_LAZY_MODULE = "pulumi_mistral.client._models_mcp"
_LAZY_NAMES = frozenset(
    {
        "AudioContent",
        "BlobResourceContents",
        "ConnectorToolCallMetadata",
        "ConnectorToolCallResponse",
        "ConnectorToolResultMetadata",
        "Content",
        "EmbeddedResource",
        "ImageContent",
        "ListToolsResponse",
        "MCPTool",
        "MCPToolMeta",
        "MCPUIToolMeta",
        "ResourceLink",
        "TextContent",
        "TextResourceContents",
        "ToolAnnotations",
        "ToolExecution",
        "TurbineToolLocale",
        "TurbineToolMeta",
        "UnknownContent",
        "parse_list_tools",
    }
)


def __getattr__(name: str) -> Any:
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY_MODULE), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_NAMES)
