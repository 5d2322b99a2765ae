"""Fixtures of the reliability suite: the harness module on sys.path, a fresh provider process state per test.

The local server and its test controls are the package plugin's fixtures (``local_server``, ``controls``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest's importlib mode does not put this folder on sys.path; the harness is shared with the benchmark.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_mistral.provider import reset_process_state


@pytest.fixture(autouse=True)
def _fresh_provider_process_state() -> Iterator[None]:
    """The in-process provider keeps its client per process: forget it between tests."""
    reset_process_state()
    yield
    reset_process_state()
