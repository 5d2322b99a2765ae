"""The exact wire request of every operation (method, raw path, query order, body bytes, headers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pulumi_mistral import _version
from pulumi_mistral.client import UNSET
from pulumi_mistral.client.models import (
    AudioContent,
    AuthData,
    AuthURLResponse,
    Connector,
    ConnectorTool,
    ConnectorToolCallResponse,
    EmbeddedResource,
    ImageContent,
    MCPTool,
    MessageResponse,
    PaginatedConnectors,
    ResourceLink,
    ResourceVisibility,
    TextContent,
    TextResourceContents,
    UnknownContent,
)

CID = "0b6f7a4e-6a55-4d0c-9a1e-2f5c8c1f9a10"


def _common_headers(req: Any, api_key: str, *, has_body: bool) -> None:
    assert req.headers["authorization"] == f"Bearer {api_key}"
    assert req.headers["accept"] == "application/json"
    assert req.headers["user-agent"] == f"pulumi-mistral/{_version.__version__}"
    if has_body:
        assert req.headers["content-type"] == "application/json"
        assert int(req.headers["content-length"]) == len(req.body)
    else:
        assert "content-type" not in req.header_names
        assert req.body == b""


def test_create_required_only(server, client, cj, api_key):
    server.reply(201, cj())
    result = client.create(name="my_connector", description="demo", server="https://mcp.example.com/")
    assert isinstance(result, Connector)
    (req,) = server.requests
    assert (req.method, req.raw_path) == ("POST", "/v1/connectors")
    assert req.body == b'{"name":"my_connector","description":"demo","server":"https://mcp.example.com/"}'
    _common_headers(req, api_key, has_body=True)


def test_create_all_fields_in_sdk_order(server, client, cj):
    server.reply(201, cj())
    client.create(
        name="my_connector",
        description="demo",
        server="https://mcp.example.com/",
        icon_url=None,
        visibility="shared_workspace",
        headers={"X-Org": "1"},
        auth_data=AuthData(client_id="cid", client_secret="sec"),
        system_prompt="Be nice",
    )
    assert server.requests[0].body == (
        b'{"name":"my_connector","description":"demo","server":"https://mcp.example.com/","icon_url":null,'
        b'"visibility":"shared_workspace","headers":{"X-Org":"1"},'
        b'"auth_data":{"client_id":"cid","client_secret":"sec"},"system_prompt":"Be nice"}'
    )


def test_create_none_visibility_is_omitted_others_null(server, client, cj):
    server.reply(201, cj())
    client.create(name="n", description="d", server="https://s/", visibility=None, headers=None, auth_data=None)
    assert (
        server.requests[0].body
        == b'{"name":"n","description":"d","server":"https://s/","headers":null,"auth_data":null}'
    )


def test_create_accepts_auth_data_mapping_and_enum(server, client, cj):
    server.reply(201, cj())
    client.create(
        name="n",
        description="d",
        server="https://s/",
        visibility=ResourceVisibility.PRIVATE,
        auth_data={"client_id": "a", "client_secret": "b"},
    )
    body = json.loads(server.requests[0].body)
    assert body["visibility"] == "private"
    assert body["auth_data"] == {"client_id": "a", "client_secret": "b"}


def test_create_unicode_body_is_utf8(server, client, cj):
    server.reply(201, cj())
    client.create(name="n", description="Résumé ✓", server="https://s/")
    assert json.loads(server.requests[0].body.decode("utf-8"))["description"] == "Résumé ✓"


def test_list_defaults(server, client, cj, api_key):
    server.reply(200, {"items": [cj()], "pagination": {"page_size": 100, "next_cursor": None}})
    page = client.list()
    assert isinstance(page, PaginatedConnectors)
    assert page.items[0].name == "docs"
    (req,) = server.requests
    assert (req.method, req.raw_path) == ("GET", "/v1/connectors?page_size=100")
    _common_headers(req, api_key, has_body=False)


def test_list_all_params_in_sdk_order(server, client):
    server.reply(200, {"items": [], "pagination": {"page_size": 10}})
    client.list(page_size=10, cursor="abc", active=True, fetch_connection_secrets=True)
    assert server.requests[0].raw_path == (
        "/v1/connectors?active=true&fetch_connection_secrets=true&cursor=abc&page_size=10"
    )


def test_list_false_flags_are_sent_none_omitted(server, client):
    server.reply(200, {"items": [], "pagination": {"page_size": 100}})
    server.reply(200, {"items": [], "pagination": {"page_size": 100}})
    client.list(active=False, fetch_connection_secrets=False)
    client.list(page_size=None)
    assert server.requests[0].raw_path == "/v1/connectors?active=false&fetch_connection_secrets=false&page_size=100"
    assert server.requests[1].raw_path == "/v1/connectors"


def test_get_defaults_and_flags(server, client, api_key):
    client.get("my_connector")
    client.get(CID, fetch_customer_data=True, fetch_connection_secrets=True)
    first, second = server.requests
    assert (first.method, first.raw_path) == (
        "GET",
        "/v1/connectors/my_connector?fetch_customer_data=false&fetch_connection_secrets=false",
    )
    assert second.raw_path == f"/v1/connectors/{CID}?fetch_customer_data=true&fetch_connection_secrets=true"
    _common_headers(first, api_key, has_body=False)


def test_get_parses_local_server_superset(server, client, cj):
    server.reply(
        200,
        cj(
            header_names=["X-Api-Key"],
            headers={"X-Api-Key": "v"},
            auth_type="oauth2",
            auth_data={"client_id": "cid", "client_secret": "s3cr3t-value"},
            connection_secrets={"tok": "x"},
            connection_secret_names=["tok"],
            connection_config={"a": 1},
            brand_new_field={"k": 1},
            visibility="shared_galaxy",
        ),
    )
    c = client.get("docs", fetch_connection_secrets=True)
    assert c.header_names == ["X-Api-Key"]
    assert c.headers == {"X-Api-Key": "v"}
    assert c.auth_data is not None and c.auth_data.client_secret == "s3cr3t-value"
    assert c.connection_secrets == {"tok": "x"}
    assert c.model_extra == {"brand_new_field": {"k": 1}}
    assert c.visibility == "shared_galaxy"
    assert c.created_at.microsecond == 123456 and c.created_at.utcoffset() is not None
    # secret-bearing fields are hidden from repr
    assert "s3cr3t-value" not in repr(c) and "X-Api-Key': 'v'" not in repr(c)


def test_update_tristate_omitted_vs_null(server, client, api_key):
    client.update(CID, description="new", system_prompt=None, connection_config={"k": "v"})
    client.update(CID)
    client.update(
        CID,
        name=UNSET,
        icon_url=None,
        headers=None,
        auth_data=None,
        connection_secrets=None,
        server=None,
        description=None,
        connection_config=None,
        system_prompt=UNSET,
    )
    first, second, third = server.requests
    assert (first.method, first.raw_path) == ("PATCH", f"/v1/connectors/{CID}")
    assert first.body == b'{"description":"new","system_prompt":null,"connection_config":{"k":"v"}}'
    assert second.body == b"{}"
    assert third.body == (
        b'{"description":null,"icon_url":null,"connection_config":null,'
        b'"connection_secrets":null,"server":null,"headers":null,"auth_data":null}'
    )
    _common_headers(first, api_key, has_body=True)
    _common_headers(second, api_key, has_body=True)


def test_update_all_fields_order(server, client):
    client.update(
        CID,
        name="n",
        description="d",
        icon_url="https://i/",
        system_prompt="p",
        connection_config={"c": 1},
        connection_secrets={"s": "v"},
        server="https://s/",
        headers={"H": "v"},
        auth_data=AuthData(client_id="a", client_secret="b"),
    )
    assert list(json.loads(server.requests[0].body)) == [
        "name",
        "description",
        "icon_url",
        "system_prompt",
        "connection_config",
        "connection_secrets",
        "server",
        "headers",
        "auth_data",
    ]


def test_delete(server, client, api_key):
    server.reply(200, {"message": "Connector deleted"})
    result = client.delete(CID)
    assert result == MessageResponse(message="Connector deleted")
    (req,) = server.requests
    assert (req.method, req.raw_path) == ("DELETE", f"/v1/connectors/{CID}")
    _common_headers(req, api_key, has_body=False)


def test_list_tools_defaults_and_params(server, client, api_key):
    server.reply(200, [{"name": "echo", "inputSchema": {"type": "object"}, "description": "Echo"}])
    server.reply(200, [])
    tools = client.list_tools("my_connector")
    client.list_tools("my_connector", page=2, page_size=5, refresh=True, pretty=True)
    assert isinstance(tools[0], MCPTool) and tools[0].input_schema == {"type": "object"}
    first, second = server.requests
    assert first.raw_path == "/v1/connectors/my_connector/tools?page=1&page_size=100&refresh=false&pretty=false"
    assert second.raw_path == "/v1/connectors/my_connector/tools?page=2&page_size=5&refresh=true&pretty=true"
    _common_headers(first, api_key, has_body=False)


def test_list_tools_union_shapes(server, client):
    connector_tool = {
        "id": "t1",
        "name": "echo",
        "description": "Echo",
        "execution_config": {"type": "mcp", "x": 1},
        "visibility": "private",
        "created_at": "2025-01-01T00:00:00Z",
        "modified_at": "2025-01-01T00:00:00Z",
    }
    server.reply(200, [connector_tool])
    server.reply(200, [{"something": "else"}])
    ct = client.list_tools("c")
    assert isinstance(ct[0], ConnectorTool) and ct[0].execution_config is not None
    assert ct[0].execution_config.model_extra == {"x": 1}
    assert client.list_tools("c") == [{"something": "else"}]


def test_call_tool_with_and_without_arguments(server, client, api_key):
    server.reply(
        200,
        {
            "content": [{"type": "text", "text": "hello"}],
            "metadata": {"mcp_meta": {"isError": False, "structuredContent": {"a": 1}, "_meta": {"m": 1}}},
        },
    )
    server.reply(200, {"content": []})
    result = client.call_tool("my_connector", "echo", arguments={"text": "hi"}, credentials_name="work")
    client.call_tool("my_connector", "echo")
    first, second = server.requests
    assert (first.method, first.raw_path) == (
        "POST",
        "/v1/connectors/my_connector/tools/echo/call?credentials_name=work",
    )
    assert first.body == b'{"arguments":{"text":"hi"}}'
    assert (second.raw_path, second.body) == ("/v1/connectors/my_connector/tools/echo/call", b"{}")
    _common_headers(second, api_key, has_body=True)
    assert isinstance(result, ConnectorToolCallResponse)
    assert result.content == [TextContent(text="hello")]
    assert result.metadata is not None and result.metadata.mcp_meta is not None
    meta = result.metadata.mcp_meta
    assert (meta.is_error, meta.structured_content, meta.meta) == (False, {"a": 1}, {"m": 1})


def test_call_tool_content_variants(server, client):
    server.reply(
        200,
        {
            "content": [
                {"type": "text", "text": "t", "annotations": {"audience": ["user"], "priority": 0.5}},
                {"type": "image", "data": "aW1n", "mimeType": "image/png"},
                {"type": "audio", "data": "YXVk", "mimeType": "audio/wav"},
                {"type": "resource_link", "name": "r", "uri": "file:///r", "size": 3, "icons": [{"src": "https://i/"}]},
                {"type": "resource", "resource": {"uri": "file:///a", "text": "hi"}},
                {"type": "resource", "resource": {"uri": "file:///b", "blob": "AAE="}},
                {"type": "hologram", "beam": 7},
            ],
            "extra_top": True,
        },
    )
    result = client.call_tool("c", "t")
    kinds = [type(item) for item in result.content]
    assert kinds == [
        TextContent,
        ImageContent,
        AudioContent,
        ResourceLink,
        EmbeddedResource,
        EmbeddedResource,
        UnknownContent,
    ]
    assert result.content[1].mime_type == "image/png"
    assert isinstance(result.content[4].resource, TextResourceContents)
    assert result.content[6].model_dump() == {"type": "hologram", "beam": 7}
    assert result.model_extra == {"extra_top": True}


def test_get_auth_url(server, client, api_key):
    server.reply(200, {"auth_url": "https://auth.example.com/authorize?x=1", "ttl": 600})
    server.reply(200, {"auth_url": "u", "ttl": 1})
    result = client.get_auth_url("my_connector", app_return_url="https://app.example.com/back")
    client.get_auth_url("my_connector")
    assert result == AuthURLResponse(auth_url="https://auth.example.com/authorize?x=1", ttl=600)
    first, second = server.requests
    assert first.raw_path == "/v1/connectors/my_connector/auth_url?app_return_url=https%3A%2F%2Fapp.example.com%2Fback"
    assert second.raw_path == "/v1/connectors/my_connector/auth_url"
    _common_headers(first, api_key, has_body=False)


@pytest.mark.parametrize(
    ("call", "expected_path"),
    [
        (lambda c, v: c.get(v), "/v1/connectors/a%2Fb%3Fc%23d%20e"),
        (lambda c, v: c.update(v), "/v1/connectors/a%2Fb%3Fc%23d%20e"),
        (lambda c, v: c.delete(v), "/v1/connectors/a%2Fb%3Fc%23d%20e"),
        (lambda c, v: c.list_tools(v), "/v1/connectors/a%2Fb%3Fc%23d%20e/tools"),
        (lambda c, v: c.get_auth_url(v), "/v1/connectors/a%2Fb%3Fc%23d%20e/auth_url"),
        (lambda c, v: c.call_tool(v, v), "/v1/connectors/a%2Fb%3Fc%23d%20e/tools/a%2Fb%3Fc%23d%20e/call"),
    ],
)
def test_path_parameters_are_percent_encoded(server, client, cj, reply_cls, call, expected_path):
    def answer(req: Any) -> Any:
        if req.path.endswith("/tools"):
            return reply_cls(200, [])
        if req.path.endswith("/auth_url"):
            return reply_cls(200, {"auth_url": "u", "ttl": 1})
        if req.path.endswith("/call"):
            return reply_cls(200, {"content": []})
        if req.method == "DELETE":
            return reply_cls(200, {"message": "ok"})
        return reply_cls(200, cj())

    server.default = answer
    call(client, "a/b?c#d e")
    (req,) = server.requests
    assert req.path == expected_path


def test_bearer_prefix_not_doubled_and_server_prefix_kept(server, make_client):
    client = make_client(api_key="Bearer sk-abc", server_url=server.url + "/prefix/")
    server.reply(200, {"message": "ok"})
    client.delete("x")
    req = server.requests[0]
    assert req.headers["authorization"] == "Bearer sk-abc"
    assert req.path == "/prefix/v1/connectors/x"
