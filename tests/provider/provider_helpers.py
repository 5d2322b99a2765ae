"""Helpers shared by the provider tests: the local server's test controls and default inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from pulumi_mistral.testing.local_server import LocalServer

REPO = Path(__file__).resolve().parents[2]
SERVER_URL = "https://mcp.example.com/mcp"


class Controls:
    """The local server's /_local/ test controls."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"},
                                 timeout=10)

    def requests(self) -> list[dict[str, Any]]:
        return self.http.get("/_local/requests").raise_for_status().json()["requests"]

    def calls(self) -> list[str]:
        """``METHOD path`` of every logged request (the log excludes /_local/ itself)."""
        return [f"{r['method']} {r['path']}" for r in self.requests()]

    def clear(self) -> None:
        self.http.delete("/_local/requests").raise_for_status()

    def faults(self, *rules: dict[str, Any]) -> None:
        self.http.post("/_local/faults", json={"rules": list(rules)}).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_local/faults").raise_for_status()


def connector_inputs(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"description": "Docs search", "server": SERVER_URL}
    base.update(overrides)
    return base
