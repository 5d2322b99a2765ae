"""Fixtures of the fuzz suite: one local server per session, a configured provider, and case counters.

When ``PULUMI_MISTRAL_FUZZ_COUNTS`` names a file, the number of generated cases per test is appended to it as
JSON lines at the end of the session (``bench/reliability.py`` reports them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest's importlib mode does not put this folder on sys.path; the counters module sits next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_counts import write_counts

from pulumi_mistral.provider import ConnectorProvider
from pulumi_mistral.testing.fixtures import configured_provider
from pulumi_mistral.testing.local_server import LocalServer


@pytest.fixture(scope="session", autouse=True)
def _write_counts() -> Iterator[None]:
    yield
    write_counts()


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_provider(fuzz_server: LocalServer) -> Iterator[ConnectorProvider]:
    """The plugin's configured provider, for a whole module (hypothesis runs many cases per test)."""
    with configured_provider(fuzz_server) as provider:
        yield provider
