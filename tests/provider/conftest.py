"""Fixtures for the provider tests: the real local server, a configured provider, request-log helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.dynamic import Config, ConfigureRequest

# The helpers module sits next to this file; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from provider_helpers import Controls

from pulumi_mistral.provider import ConnectorProvider, reset_process_state
from pulumi_mistral.testing.fixtures import local_server, mistral_client  # noqa: F401 - fixtures
from pulumi_mistral.testing.local_server import LocalServer


@pytest.fixture
def controls(local_server: LocalServer) -> Iterator[Controls]:  # noqa: F811
    c = Controls(local_server)
    try:
        yield c
    finally:
        c.http.close()


@pytest.fixture
def provider(local_server: LocalServer) -> Iterator[ConnectorProvider]:  # noqa: F811
    """A provider configured for this test's local server (the per-process key cache reset around it)."""
    reset_process_state()
    p = ConnectorProvider()
    p.configure(ConfigureRequest(Config(
        {"mistral:apiKey": local_server.api_key, "mistral:serverUrl": local_server.url}, "tests")))
    try:
        yield p
    finally:
        reset_process_state()


@pytest.fixture
def stack_config(local_server: LocalServer) -> dict[str, str]:  # noqa: F811
    return {"mistral:apiKey": local_server.api_key, "mistral:serverUrl": local_server.url}
