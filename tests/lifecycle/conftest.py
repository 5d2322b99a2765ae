"""Fixtures for the lifecycle tests: one ProcessState and ConnectorLifecycle over this test's local server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_mistral.lifecycle import ConnectorLifecycle, ProcessState
from pulumi_mistral.testing.local_server import LocalServer


class Warnings(list[str]):
    """A warning sink that keeps what it is given."""

    def __call__(self, text: str) -> None:
        self.append(text)


@pytest.fixture
def warnings() -> Warnings:
    return Warnings()


@pytest.fixture
def life(local_server: LocalServer, warnings: Warnings) -> Iterator[ConnectorLifecycle]:
    """A lifecycle configured (from stack config) for this test's local server, warnings kept."""
    state = ProcessState(warn=warnings)
    lifecycle = ConnectorLifecycle(state)
    lifecycle.configure(local_server.config(), {})
    try:
        yield lifecycle
    finally:
        state.reset()
