"""Server-side request models of the local Connectors API and its test controls (not the client's models).

Request bodies are strict (unknown keys are a 422), matching ``additionalProperties: false`` in the
contract. Responses are plain dicts built by ``presenters.py``, so the wire shape is defined in one place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthData(_Strict):
    client_id: str
    client_secret: str


class CreateConnectorRequest(_Strict):
    name: str
    description: str
    server: str
    icon_url: str | None = None
    # The SDK never sends null here; a null is a 422 (pydantic: string_type).
    visibility: str = "shared_workspace"
    headers: dict[str, Any] | None = None
    auth_data: AuthData | None = None
    system_prompt: str | None = None


class UpdateConnectorRequest(_Strict):
    """PATCH body; read with ``model_dump(exclude_unset=True)``: absent = unchanged, null = cleared."""

    name: str | None = None
    description: str | None = None
    icon_url: str | None = None
    system_prompt: str | None = None
    connection_config: dict[str, Any] | None = None
    connection_secrets: dict[str, Any] | None = None
    server: str | None = None
    headers: dict[str, Any] | None = None
    auth_data: AuthData | None = None


class CallToolRequest(_Strict):
    arguments: dict[str, Any] = Field(default_factory=dict)


class FaultRule(_Strict):
    """One fault-injection rule for ``POST /_local/faults``."""

    method: str = "*"
    path: str = ".*"  # a regular expression, searched in the request path
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    seed: int = 0
    times: int | None = Field(default=None, ge=1)
    action: Literal["status", "latency", "drop", "drop_after_commit"]
    status: int = Field(default=503, ge=400, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    latency_ms: float = Field(default=0.0, ge=0, le=60_000)


class FaultRules(_Strict):
    rules: list[FaultRule] = Field(min_length=1, max_length=100)
