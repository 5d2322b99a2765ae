"""Fixtures for the local server's tests: real servers on loopback, and contract validation helpers."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from pulumi_mistral.testing.local_server import LocalServer

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "contract" / "connectors-openapi.json"
CONTRACT: dict[str, Any] = json.loads(CONTRACT_PATH.read_text())
_REGISTRY = Registry().with_resource("urn:contract", Resource(contents=CONTRACT, specification=DRAFT202012))
OPERATIONS: dict[str, dict[str, Any]] = {
    op["operationId"]: op for item in CONTRACT["paths"].values() for op in item.values() if isinstance(op, dict)
}
DETAIL_SCHEMA = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}


def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"urn:contract#/components/schemas/{name}"}, registry=_REGISTRY)


def assert_contract(resp: httpx.Response, operation_id: str) -> Any:
    """Check the status's body against the contract (success and 422 schemas; other errors: {"detail": str})."""
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    assert resp.headers.get("x-request-id")
    body = resp.json()
    responses = OPERATIONS[operation_id]["responses"]
    declared = responses.get(str(resp.status_code))
    if declared is not None:
        ref = declared["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        schema_validator(ref).validate(body)
    else:
        assert resp.status_code >= 400, f"undeclared success status {resp.status_code}"
        jsonschema.validate(body, DETAIL_SCHEMA)
        assert "\n" not in body["detail"]
    return body


def unique(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Api:
    """A tiny httpx wrapper for one server and key."""

    def __init__(self, server: LocalServer, key: str | None = None) -> None:
        self.server = server
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=server.url, headers=headers, timeout=15.0)

    def create(self, **body: Any) -> httpx.Response:
        body.setdefault("name", unique())
        body.setdefault("description", "test connector")
        body.setdefault("server", "https://mcp.example.com/mcp")
        return self.http.post("/v1/connectors", json=body)

    unique = staticmethod(lambda prefix="c": unique(prefix))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LocalServer]:
    """One server per test module, two workspaces; tests use unique names so they do not interfere."""
    with LocalServer(api_keys=[secrets.token_urlsafe(16), secrets.token_urlsafe(16)]) as server:
        yield server


@pytest.fixture
def api(shared_server: LocalServer) -> Iterator[Api]:
    client = Api(shared_server, shared_server.api_keys[0])
    yield client
    client.http.close()


@pytest.fixture
def other_api(shared_server: LocalServer) -> Iterator[Api]:
    client = Api(shared_server, shared_server.api_keys[1])
    yield client
    client.http.close()


@pytest.fixture
def check() -> Any:
    """``check(resp, operation_id)``: validate a response against the contract and return its JSON."""
    return assert_contract


@pytest.fixture
def validator() -> Any:
    """``validator(schema_name)``: a jsonschema validator for one contract schema."""
    return schema_validator
