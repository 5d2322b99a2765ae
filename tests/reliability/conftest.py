"""Fixtures of the reliability suite: a fresh local server per test, the harness module on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest's importlib mode does not put this folder on sys.path; the harness is shared with the benchmark.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Controls

from pulumi_mistral.provider import reset_process_state
from pulumi_mistral.testing.fixtures import local_server  # noqa: F401 - fixture
from pulumi_mistral.testing.local_server import LocalServer


@pytest.fixture(autouse=True)
def _fresh_provider_process_state() -> Iterator[None]:
    """The in-process provider keeps its client per process: forget it between tests."""
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture
def controls(local_server: LocalServer) -> Iterator[Controls]:  # noqa: F811
    c = Controls(local_server)
    try:
        yield c
    finally:
        c.close()
