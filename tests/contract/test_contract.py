"""Client-level contract tests, run against the local server and, opt-in, against the real Mistral API.

The same assertions run on both targets, so the local server's fidelity can be re-checked against Mistral
itself: ``PULUMI_MISTRAL_REAL_API=1 MISTRAL_API_KEY=... make test`` (``MISTRAL_SERVER_URL`` picks another
API). Without the opt-in, or when the API cannot be reached, the real-API variants are skipped with the reason.
They create connectors named ``pmc-contract-<random>`` and delete them again.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from pulumi_mistral.client import ConnectorsClient
from pulumi_mistral.errors import (
    APIError,
    ConflictError,
    NotFoundError,
    TransportError,
    ValidationError,
)
from pulumi_mistral.testing.local_server import LocalServer

OPT_IN = "PULUMI_MISTRAL_REAL_API"


def _real_client() -> ConnectorsClient:
    if os.environ.get(OPT_IN) != "1":
        pytest.skip(f"real-API contract tests are opt-in: set {OPT_IN}=1 and MISTRAL_API_KEY to run them")
    if not os.environ.get("MISTRAL_API_KEY"):
        pytest.skip(f"{OPT_IN}=1 but MISTRAL_API_KEY is not set")
    client = ConnectorsClient(timeout=15.0, max_attempts=2, max_retry_time=20.0)
    try:
        client.list(page_size=1)
    except TransportError as exc:
        client.close()
        pytest.skip(f"the Mistral API at {client.server_url} is not reachable: {exc.message}")
    return client


@pytest.fixture(scope="module", params=["local", pytest.param("real", marks=pytest.mark.realapi)])
def api(request: pytest.FixtureRequest) -> Iterator[ConnectorsClient]:
    if request.param == "real":
        client = _real_client()
        try:
            yield client
        finally:
            client.close()
        return
    with LocalServer() as server:
        client = server.client()
        try:
            yield client
        finally:
            client.close()


@pytest.fixture()
def name(api: ConnectorsClient) -> Iterator[str]:
    """A fresh connector name; whatever carries it is deleted afterwards."""
    value = f"pmc-contract-{secrets.token_hex(4)}"
    yield value
    try:
        found = api.get(value)
    except NotFoundError:
        return
    api.delete(found.id)


def test_lifecycle(api: ConnectorsClient, name: str) -> None:
    created = api.create(
        name=name,
        description="contract test",
        server="https://mcp.example.com/mcp",
        icon_url="https://mcp.example.com/icon.png",
        system_prompt="Be brief.",
    )
    assert (created.name, created.description, created.server) == (name, "contract test", "https://mcp.example.com/mcp")
    assert created.id and created.created_at and created.modified_at
    assert api.get(created.id).name == name
    assert api.get(name).id == created.id  # get takes an id or a name

    updated = api.update(created.id, description="changed", icon_url=None)  # tri-state: null clears
    assert updated.description == "changed"
    assert updated.icon_url is None
    again = api.get(created.id)
    assert (again.description, again.icon_url, again.system_prompt) == ("changed", None, "Be brief.")

    assert any(c.id == created.id for c in api.iter_connectors(page_size=100))
    assert api.delete(created.id).message
    with pytest.raises(NotFoundError):
        api.get(created.id)
    with pytest.raises(NotFoundError):
        api.delete(created.id)


def test_names_are_unique(api: ConnectorsClient, name: str) -> None:
    api.create(name=name, description="first", server="https://mcp.example.com/mcp")
    with pytest.raises(ConflictError):
        api.create(name=name, description="second", server="https://mcp.example.com/mcp")


def test_bad_input_is_a_422_with_field_details(api: ConnectorsClient) -> None:
    with pytest.raises(ValidationError) as caught:
        api.create(name="not a valid name!", description="d", server="https://mcp.example.com/mcp")
    assert caught.value.status_code == 422
    assert any("name" in [str(part) for part in item.get("loc", [])] for item in caught.value.detail)


def test_pages_are_bounded_and_linked(api: ConnectorsClient, name: str) -> None:
    made = [api.create(name=f"{name}-{i}", description="page", server="https://mcp.example.com/mcp") for i in range(3)]
    try:
        first = api.list(page_size=1)
        assert len(first.items) == 1
        assert first.pagination.next_cursor
        seen = [c.id for c in api.iter_connectors(page_size=2)]
        assert len(seen) == len(set(seen))
        assert {c.id for c in made} <= set(seen)
    finally:
        for c in made:
            api.delete(c.id)


def test_auth_url_needs_oauth_client_data(api: ConnectorsClient, name: str) -> None:
    api.create(name=name, description="no oauth", server="https://mcp.example.com/mcp")
    with pytest.raises(APIError) as caught:
        api.get_auth_url(name)
    assert caught.value.status_code is not None and 400 <= caught.value.status_code < 500
