"""Wire models: lenient parsing, aliases, open enums, the UNSET sentinel."""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import ValidationError as PydanticValidationError

from pulumi_mistral.client import UNSET, UnsetType
from pulumi_mistral.client.models import (
    AuthData,
    Connector,
    ConnectorToolCallResponse,
    CreateConnectorRequest,
    HTTPValidationError,
    MCPTool,
    PaginatedConnectors,
    ResourceVisibility,
    ToolAnnotations,
    UpdateConnectorRequest,
    ValidationErrorItem,
    parse_list_tools,
)


def test_unset_sentinel():
    assert repr(UNSET) == "UNSET"
    assert not UNSET
    assert UNSET is not None
    assert isinstance(UNSET, UnsetType)
    assert pickle.loads(pickle.dumps(UNSET)) is UNSET  # the provider is pickled into state
    assert copy.deepcopy(UNSET) is UNSET


def test_resource_visibility_is_open():
    assert ResourceVisibility("private") is ResourceVisibility.PRIVATE
    odd = ResourceVisibility("shared_galaxy")
    assert odd == "shared_galaxy" and odd.value == "shared_galaxy" and str(odd) == "shared_galaxy"
    assert isinstance(odd, ResourceVisibility)
    with pytest.raises(ValueError):
        ResourceVisibility(3)


def test_connector_minimal_and_lenient(cj):
    minimal = Connector.model_validate(
        {
            "id": "i",
            "name": "n",
            "description": "d",
            "created_at": "2025-01-01T00:00:00Z",
            "modified_at": "2025-01-01T00:00:00Z",
        }
    )
    assert minimal.visibility is None and minimal.header_names is None
    full = Connector.model_validate(cj(future={"x": 1}, visibility="org_only"))
    assert full.model_extra == {"future": {"x": 1}}
    dumped = full.model_dump(mode="json", by_alias=True)
    assert dumped["future"] == {"x": 1} and dumped["visibility"] == "org_only"


def test_connector_requires_contract_fields():
    with pytest.raises(PydanticValidationError):
        Connector.model_validate({"id": "i", "name": "n"})


def test_paginated_connectors(cj):
    page = PaginatedConnectors.model_validate({"items": [cj()], "pagination": {"page_size": 1}, "total": 9})
    assert page.pagination.next_cursor is None
    assert page.model_extra == {"total": 9}


def test_mcp_tool_aliases_and_python_names():
    payload = {
        "name": "echo",
        "inputSchema": {"type": "object"},
        "outputSchema": {"type": "object"},
        "annotations": {"readOnlyHint": True, "title": "Echo", "futureHint": 1},
        "_meta": {"ai.mistral/turbine": {"tool_type": "rag", "timeout": 3}, "ui": {"resourceUri": "ui://x"}},
        "execution": {"taskSupport": "optional"},
        "icons": [{"src": "https://i/", "mimeType": "image/png"}],
        "brandNew": True,
    }
    tool = MCPTool.model_validate(payload)
    assert tool.input_schema == {"type": "object"}
    assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert tool.meta is not None and tool.meta.turbine is not None and tool.meta.turbine.tool_type == "rag"
    assert tool.execution is not None and tool.execution.task_support == "optional"
    assert tool.model_dump(by_alias=True, exclude_unset=True) == payload  # round-trips, unknown keys kept
    assert MCPTool(name="x", input_schema={}).input_schema == {}  # populate_by_name
    assert ToolAnnotations(destructive_hint=False).model_dump(by_alias=True, exclude_none=True) == {
        "destructiveHint": False
    }


def test_list_tools_union():
    assert parse_list_tools([]) == []
    assert isinstance(parse_list_tools([{"name": "a", "inputSchema": {}}])[0], MCPTool)
    assert parse_list_tools([{"name": "a"}]) == [{"name": "a"}]
    with pytest.raises(PydanticValidationError):
        parse_list_tools({"not": "a list"})


def test_tool_call_response_requires_type_on_content():
    with pytest.raises(PydanticValidationError):
        ConnectorToolCallResponse.model_validate({"content": [{"text": "no type"}]})


def test_request_models_are_strict_and_tristate():
    with pytest.raises(PydanticValidationError):
        CreateConnectorRequest(name="n", description="d", server="s", surprise=1)
    with pytest.raises(PydanticValidationError):
        CreateConnectorRequest(name="n", description="d")
    body = UpdateConnectorRequest(icon_url=None, name="x").model_dump(exclude_unset=True)
    assert body == {"name": "x", "icon_url": None}


def test_auth_data_secret_hidden_from_repr():
    data = AuthData(client_id="cid", client_secret="cs-SECRET")
    assert "cs-SECRET" not in repr(data)
    assert data.client_secret == "cs-SECRET"


def test_http_validation_error_model():
    body = {"detail": [{"loc": ["body", 0, "name"], "msg": "Field required", "type": "missing", "input": {}}]}
    parsed = HTTPValidationError.model_validate(body)
    assert parsed.detail == [
        ValidationErrorItem(loc=["body", 0, "name"], msg="Field required", type="missing", input={})
    ]
    assert HTTPValidationError.model_validate({}).detail is None
