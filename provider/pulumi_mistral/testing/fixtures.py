"""Pytest plugin with local-server fixtures: ``local_server``, ``local_server_session``, ``mistral_client``.

Activate it in a conftest.py:

    pytest_plugins = ["pulumi_mistral.testing.fixtures"]

    def test_create(mistral_client):
        assert mistral_client.create(name="docs", description="Docs", server="https://mcp.example.com").id
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pulumi_mistral.testing.local_server import LocalServer

if TYPE_CHECKING:
    from pulumi_mistral.client import ConnectorsClient


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A fresh local server with its own temporary database, for one test."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="session")
def local_server_session() -> Iterator[LocalServer]:
    """One local server shared by the whole session (cheaper; tests must not depend on an empty store)."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def mistral_client(local_server: LocalServer) -> Iterator[ConnectorsClient]:
    """A ``ConnectorsClient`` pointed at this test's ``local_server``."""
    client = local_server.client()
    try:
        yield client
    finally:
        client.close()
