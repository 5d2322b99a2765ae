"""The wire models, kept at this import path for users: they live in :mod:`pulumi_mistral.client.models`.

Names resolve on first access, so the MCP tool models still load only when first used.
"""

from __future__ import annotations

from typing import Any

from pulumi_mistral.client import models as _models

__all__ = list(_models.__all__)


def __getattr__(name: str) -> Any:
    return getattr(_models, name)


def __dir__() -> list[str]:
    return dir(_models)
