"""The dynamic door's floor: a dynamic provider that does nothing, for a Connector-shaped resource.

`bench/engine.py` copies this file next to the floor program as ``noop.py``, so the provider is pickled by
reference (as ``ConnectorProvider`` is) and the provider process imports this module, not ours, when it unpickles
it. Its resource registers the properties of a Connector, and its create and read return outputs of the same shape
(the output-only fields with fixed values), so both stacks hold state of the same size: ``ours / floor`` is then
what our provider does (HTTP, the client, validation, diff), not how much state the engine moves.
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

INPUTS = (
    "name",
    "description",
    "server",
    "icon_url",
    "visibility",
    "headers",
    "auth_data",
    "system_prompt",
    "connection_config",
    "connection_secrets",
    "adopt",
    "tool_pins",
    "tool_drift",
)
OUTPUT_ONLY = (
    "connector_id",
    "created_at",
    "modified_at",
    "auth_type",
    "tool_names",
    "tools",
    "tools_fingerprint",
    "tool_definitions",
)
STAMP = "2026-01-01T00:00:00.000000Z"


def _outputs(id_: str, props: dict[str, Any]) -> dict[str, Any]:
    outs = {k: v for k, v in props.items() if k != "__provider" and v is not None}
    outs.update(
        connector_id=id_,
        created_at=STAMP,
        modified_at=STAMP,
        auth_type="none",
        tool_names=[],
        visibility=outs.get("visibility") or "shared_workspace",
    )
    return outs


class NoopProvider(ResourceProvider):
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        id_ = str(uuid.uuid4())
        return CreateResult(id_, _outputs(id_, props))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = _outputs(id_, props)
        return ReadResult(id_, outs, {k: v for k, v in outs.items() if k in INPUTS})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Noop(Resource, module="noop", name="Noop"):
    def __init__(self, resource_name: str, **given: Any) -> None:
        props: dict[str, Any] = dict.fromkeys(INPUTS + OUTPUT_ONLY)
        props.update(given)
        super().__init__(NoopProvider(), resource_name, props)
