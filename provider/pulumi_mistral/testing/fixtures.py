"""Pytest plugin with local-server fixtures: ``local_server``, ``controls``, ``mistral_client``, ``mistral_provider``...

Activate it in a conftest.py:

    pytest_plugins = ["pulumi_mistral.testing.fixtures"]

    def test_create(mistral_client):
        assert mistral_client.create(name="docs", description="Docs", server="https://mcp.example.com").id

Fixtures, each for one test unless named ``_session``: ``local_server`` (a fresh server and database),
``local_server_session`` (one server shared by the session), ``controls`` (the test's server's ``/_local/``
controls), ``mistral_client`` (a client for it), ``mistral_provider`` (the dynamic provider configured for it)
and ``mistral_engine`` (the SDK's gRPC servicer configured for it, called as the engine calls it). For another
scope, the last two are context managers too: ``configured_provider(server)``, ``configured_engine(server)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pulumi_mistral.testing.controls import Controls, ServerHandle
from pulumi_mistral.testing.local_server import LocalServer

if TYPE_CHECKING:
    from pulumi_mistral.client import ConnectorsClient
    from pulumi_mistral.provider import ConnectorProvider
    from pulumi_mistral.testing.engine import EngineClient
    from pulumi_mistral.testing.provider_hosts import InProcessProviderHost, SubprocessProviderHost


@contextlib.contextmanager
def configured_provider(server: ServerHandle, api_key: str | None = None) -> Iterator[ConnectorProvider]:
    """A ``ConnectorProvider`` configured for ``server`` as a stack would configure it; the provider's process
    state (key, client, caches) is forgotten before and after, so no test sees another's."""
    from pulumi.dynamic import Config, ConfigureRequest

    from pulumi_mistral.provider import ConnectorProvider, reset_process_state

    reset_process_state()
    provider = ConnectorProvider()
    provider.configure(ConfigureRequest(Config(server.config(api_key), "tests")))
    try:
        yield provider
    finally:
        reset_process_state()


@contextlib.contextmanager
def configured_engine(
    server: ServerHandle, host: InProcessProviderHost | SubprocessProviderHost | None = None
) -> Iterator[EngineClient]:
    """An ``EngineClient`` configured for ``server`` (the key sent as a secret, as the engine sends it), on
    ``host``'s servicer, or on a new in-process one."""
    from pulumi_mistral.testing.engine import EngineClient
    from pulumi_mistral.testing.provider_hosts import InProcessProviderHost

    with contextlib.ExitStack() as stack:
        target = (host or stack.enter_context(InProcessProviderHost())).target
        engine = EngineClient(target)
        stack.callback(engine.close)
        engine.configure(server.config(), secret_keys={"mistral:apiKey"})
        yield engine


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
def controls(local_server: LocalServer) -> Controls:
    """The test controls (``/_local/``) of this test's ``local_server``."""
    return local_server.controls()


@pytest.fixture
def mistral_client(local_server: LocalServer) -> Iterator[ConnectorsClient]:
    """A ``ConnectorsClient`` pointed at this test's ``local_server``."""
    client = local_server.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def mistral_provider(local_server: LocalServer) -> Iterator[ConnectorProvider]:
    """A dynamic ``ConnectorProvider`` configured for this test's ``local_server``."""
    with configured_provider(local_server) as provider:
        yield provider


@pytest.fixture
def mistral_engine(local_server: LocalServer) -> Iterator[EngineClient]:
    """The SDK's dynamic-provider servicer in this process, configured for this test's ``local_server``."""
    with configured_engine(local_server) as engine:
        yield engine
