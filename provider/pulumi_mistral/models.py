"""Wire models of the Mistral Connectors API (lenient: unknown keys kept, open enums) and the UNSET sentinel.

Response models accept unknown keys (``extra="allow"``) because the API is in beta; request models forbid them.
Python names work everywhere (``populate_by_name``); JSON names are aliases (``inputSchema``, ``_meta``, ...).

    from pulumi_mistral.models import Connector
    connector = Connector.model_validate(payload)
    connector.model_dump(mode="json", by_alias=True, exclude_unset=True)
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime
from typing import Annotated, Any, Final, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

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


class ToolAnnotations(_Wire):
    """MCP tool hints.

    Example::

        ToolAnnotations(read_only_hint=True)
    """

    title: str | None = None
    read_only_hint: bool | None = Field(default=None, alias="readOnlyHint")
    destructive_hint: bool | None = Field(default=None, alias="destructiveHint")
    idempotent_hint: bool | None = Field(default=None, alias="idempotentHint")
    open_world_hint: bool | None = Field(default=None, alias="openWorldHint")


class ToolExecution(_Wire):
    """MCP tool execution settings (``taskSupport`` is an open string: forbidden, optional, required).

    Example::

        ToolExecution(task_support="optional")
    """

    task_support: str | None = Field(default=None, alias="taskSupport")


class MCPUIToolMeta(_Wire):
    """``_meta.ui`` of an MCP tool.

    Example::

        MCPUIToolMeta(resource_uri="ui://widget", visibility=["model"])
    """

    resource_uri: str | None = Field(default=None, alias="resourceUri")
    visibility: list[str] | None = None


class TurbineToolLocale(_Wire):
    """Localised strings in ``_meta["ai.mistral/turbine"].locale``.

    Example::

        TurbineToolLocale(name={"en": "Search"})
    """

    name: dict[str, str] | None = None
    description: dict[str, str] | None = None
    usage_sentence: dict[str, str] | None = None
    working_description: dict[str, str] | None = None
    done_description: dict[str, str] | None = None


class TurbineToolMeta(_Wire):
    """Mistral-specific tool metadata (``_meta["ai.mistral/turbine"]``); ``tool_type`` is an open string.

    Example::

        TurbineToolMeta(tool_type="rag", timeout=30.0)
    """

    locale: TurbineToolLocale | None = None
    tool_type: str | None = None
    timeout: float | None = None
    private_execution: bool | None = None


class MCPToolMeta(_Wire):
    """``_meta`` of an MCP tool.

    Example::

        MCPToolMeta.model_validate({"ai.mistral/turbine": {"tool_type": "rag"}})
    """

    ui: MCPUIToolMeta | None = None
    turbine: TurbineToolMeta | None = Field(default=None, alias="ai.mistral/turbine")


class MCPTool(_Wire):
    """A tool as an MCP server describes it (``tools/list``).

    Example::

        MCPTool(name="echo", input_schema={"type": "object"}).model_dump(by_alias=True, exclude_unset=True)
    """

    name: str
    input_schema: dict[str, Any] = Field(alias="inputSchema")
    title: str | None = None
    description: str | None = None
    output_schema: dict[str, Any] | None = Field(default=None, alias="outputSchema")
    icons: list[MCPServerIcon] | None = None
    annotations: ToolAnnotations | None = None
    meta: MCPToolMeta | None = Field(default=None, alias="_meta")
    execution: ToolExecution | None = None


ListToolsResponse = Annotated[
    Union[list[ConnectorTool], list[MCPTool], list[dict[str, Any]]],  # noqa: UP007 - runtime type for pydantic
    Field(union_mode="left_to_right"),
]


@functools.cache
def _list_tools_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(ListToolsResponse)


def parse_list_tools(payload: Any) -> list[ConnectorTool | MCPTool | dict[str, Any]]:
    """Parse list_tools' bare array: ConnectorTool items, else MCPTool items, else plain dicts.

    Example::

        parse_list_tools([{"name": "echo", "inputSchema": {}}])[0].name == "echo"
    """
    result: list[ConnectorTool | MCPTool | dict[str, Any]] = _list_tools_adapter().validate_python(payload)
    return result


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


# ---- tool calls --------------------------------------------------------------------------------------------------


class TextContent(_Wire):
    """Text content of a tool call result.

    Example::

        TextContent(text="hello").type == "text"
    """

    type: Literal["text"] = "text"
    text: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class ImageContent(_Wire):
    """Base64 image content.

    Example::

        ImageContent(data="iVBOR...", mime_type="image/png")
    """

    type: Literal["image"] = "image"
    data: str
    mime_type: str = Field(alias="mimeType")
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class AudioContent(_Wire):
    """Base64 audio content.

    Example::

        AudioContent(data="UklGR...", mime_type="audio/wav")
    """

    type: Literal["audio"] = "audio"
    data: str
    mime_type: str = Field(alias="mimeType")
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class ResourceLink(_Wire):
    """A link to a resource.

    Example::

        ResourceLink(name="readme", uri="file:///README.md")
    """

    type: Literal["resource_link"] = "resource_link"
    name: str
    uri: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = Field(default=None, alias="mimeType")
    size: int | None = None
    icons: list[MCPServerIcon] | None = None
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class TextResourceContents(_Wire):
    """Text contents of an embedded resource.

    Example::

        TextResourceContents(uri="file:///a.txt", text="hi")
    """

    uri: str
    text: str
    mime_type: str | None = Field(default=None, alias="mimeType")
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class BlobResourceContents(_Wire):
    """Binary (base64) contents of an embedded resource.

    Example::

        BlobResourceContents(uri="file:///a.bin", blob="AAEC")
    """

    uri: str
    blob: str
    mime_type: str | None = Field(default=None, alias="mimeType")
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class EmbeddedResource(_Wire):
    """A resource embedded in a tool call result.

    Example::

        EmbeddedResource(resource=TextResourceContents(uri="file:///a.txt", text="hi"))
    """

    type: Literal["resource"] = "resource"
    resource: Union[TextResourceContents, BlobResourceContents]  # noqa: UP007 - keep pydantic's smart union
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class UnknownContent(_Wire):
    """A content item of a ``type`` this client does not know: kept opaque (all keys preserved).

    Example::

        item.model_dump(by_alias=True)
    """

    type: str


_KNOWN_CONTENT = frozenset({"text", "image", "audio", "resource_link", "resource"})


def _content_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _KNOWN_CONTENT else "unknown"


Content = Annotated[
    Union[  # noqa: UP007 - runtime type for pydantic
        Annotated[TextContent, Tag("text")],
        Annotated[ImageContent, Tag("image")],
        Annotated[AudioContent, Tag("audio")],
        Annotated[ResourceLink, Tag("resource_link")],
        Annotated[EmbeddedResource, Tag("resource")],
        Annotated[UnknownContent, Tag("unknown")],
    ],
    Discriminator(_content_tag),
]


class ConnectorToolResultMetadata(_Wire):
    """MCP result metadata: ``isError``, ``structuredContent``, ``_meta``.

    Example::

        response.metadata.mcp_meta.is_error
    """

    is_error: bool = Field(default=False, alias="isError")
    structured_content: dict[str, Any] | None = Field(default=None, alias="structuredContent")
    meta: dict[str, Any] | None = Field(default=None, alias="_meta")


class ConnectorToolCallMetadata(_Wire):
    """Metadata wrapper of a tool call response.

    Example::

        response.metadata.mcp_meta
    """

    mcp_meta: ConnectorToolResultMetadata | None = None


class ConnectorToolCallResponse(_Wire):
    """The result of calling a tool through a connector.

    Example::

        result = client.call_tool("docs", "search", arguments={"q": "pulumi"})
        texts = [c.text for c in result.content if isinstance(c, TextContent)]
    """

    content: list[Content]
    metadata: ConnectorToolCallMetadata | None = None


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
