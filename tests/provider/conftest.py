"""Fixtures for the provider tests: the package plugin's configured provider under the name these tests use, and
stack config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module sits next to this file; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_mistral.provider import ConnectorProvider
from pulumi_mistral.testing.local_server import LocalServer


@pytest.fixture
def provider(mistral_provider: ConnectorProvider) -> ConnectorProvider:
    """The plugin's ``mistral_provider``: configured for this test's local server."""
    return mistral_provider


@pytest.fixture
def stack_config(local_server: LocalServer) -> dict[str, str]:
    """Stack config for a program using this test's local server."""
    return local_server.config()
