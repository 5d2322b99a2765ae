"""Wire models of MCP tools and tool-call results (lenient, like every response model in ``models``).

Imported on first use (through ``pulumi_mistral.client.models``, which re-exports every name here): a client that
never lists tools or calls one does not pay for building these classes at import.

    from pulumi_mistral.client.models import MCPTool      # resolved from this module on first access
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, TypeAdapter

from pulumi_mistral.client.models import Annotations, ConnectorTool, MCPServerIcon, _Wire

__all__ = [
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
]

# ---- MCP tools ---------------------------------------------------------------------------------------------------


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
