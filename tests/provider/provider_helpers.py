"""Helpers shared by the provider tests: the repository's root and default inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SERVER_URL = "https://mcp.example.com/mcp"


def connector_inputs(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"description": "Docs search", "server": SERVER_URL}
    base.update(overrides)
    return base
