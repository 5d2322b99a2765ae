"""Fixtures for the drift tests: the real local API server, the real demo MCP server (tools changed live), the CLI."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_mistral import cli
from pulumi_mistral.core import pinning
from pulumi_mistral.testing.local_server import LocalServer

REPO = Path(__file__).resolve().parents[2]
from mcp_servers.runner import DemoServer  # noqa: E402


@dataclass
class Result:
    code: int
    out: str
    err: str


class Env:
    """One test's world: the local server (cleared) and its test controls, the demo MCP server (default tools), a
    client, the CLI."""

    def __init__(self, server: LocalServer, demo: DemoServer, tmp: Path, capsys: Any, monkeypatch: Any) -> None:
        self.server, self.demo, self.tmp = server, demo, tmp
        self._capsys, self._monkeypatch = capsys, monkeypatch
        self.client = server.client()
        self.controls = server.controls()
        monkeypatch.setenv("MISTRAL_API_KEY", server.api_key)
        monkeypatch.delenv("MISTRAL_SERVER_URL", raising=False)

    def close(self) -> None:
        self.client.close()

    # -- connectors and declarations ----------------------------------------------------------------------------
    def connector(self, name: str, **props: Any) -> Any:
        props.setdefault("description", f"{name} connector")
        props.setdefault("server", self.demo.url)
        return self.client.create(name=name, **props)

    def pins(self, name: str) -> dict[str, str]:
        return pinning.pins_from_tools(self.client.list_tools(name, refresh=True))

    def yaml(self, text: str, name: str = "connectors.yaml") -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    # -- the command --------------------------------------------------------------------------------------------
    def drift(self, *args: str) -> Result:
        self._capsys.readouterr()
        code = cli.main(["drift", "--server-url", self.server.url, *args])
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture(scope="module")
def server(demo: DemoServer) -> Iterator[LocalServer]:
    # Depends on demo so it stops first: its MCP sessions to the demo server close before the demo goes.
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def env(server: LocalServer, demo: DemoServer, tmp_path: Path, capsys: Any, monkeypatch: Any) -> Iterator[Env]:
    demo.admin.reset()
    e = Env(server, demo, tmp_path, capsys, monkeypatch)
    e.controls.clear()
    try:
        yield e
    finally:
        with contextlib.suppress(httpx.HTTPError):
            e.controls.clear_faults()
        e.close()
        demo.admin.reset()
