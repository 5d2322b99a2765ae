"""Property bags in and out of the provider: markers and unknowns on the way in, a connector's outputs on the way out.

Wire facts these rely on: secrets arrive stripped (direct callers may still send the markers), values unknown
during preview arrive as ``pulumi.output.Unknown`` or its wire string, and outputs mark secret fields with the
wire marker so the engine keeps them secret in the state and in the program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

from pulumi_mistral.core import diff as _diff
from pulumi_mistral.core import secret_markers, spec

__all__ = [
    "CREATE_FIELDS",
    "OUTPUT_ONLY_FIELDS",
    "PROVIDER_KEY",
    "connector_dict",
    "connector_outputs",
    "contains_unknown",
    "drift_line",
    "inputs_from_outputs",
    "is_unknown",
    "mark_secret",
    "matches",
    "plain_props",
    "tool_names",
]

PROVIDER_KEY = "__provider"
# Outputs the API computes; everything else in the outputs is an input echoed back (as live state).
OUTPUT_ONLY_FIELDS: tuple[str, ...] = ("connector_id", "created_at", "modified_at", "auth_type", "tool_names")
# Fields accepted by POST /v1/connectors; connection_config / connection_secrets need a PATCH afterwards.
CREATE_FIELDS: tuple[str, ...] = (
    "name", "description", "server", "icon_url", "visibility", "headers", "auth_data", "system_prompt",
)


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def contains_unknown(value: Any) -> bool:
    return spec.contains(value, is_unknown)


def plain_props(bag: Mapping[str, Any] | None) -> dict[str, Any]:
    """A property bag without ``__provider`` (it never takes part in anything we decide) and without markers."""
    return {k: secret_markers.strip(v) for k, v in (bag or {}).items() if k != PROVIDER_KEY}


def mark_secret(value: Any) -> Any:
    return rpc.wrap_rpc_secret(value)


def connector_dict(connector: Any) -> dict[str, Any]:
    if isinstance(connector, Mapping):
        return dict(connector)
    return connector.model_dump(mode="json")


def tool_names(connector: Mapping[str, Any]) -> list[str]:
    names = []
    for tool in connector.get("tools") or []:
        name = tool.get("name") if isinstance(tool, Mapping) else getattr(tool, "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


def connector_outputs(connector: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Full outputs: every input (as live state), the control inputs, the API-computed fields; secrets marked."""
    data = connector_dict(connector)
    live = _diff.live_state(data, inputs)
    outs: dict[str, Any] = {k: inputs[k] for k in spec.CONTROL_FIELDS if inputs.get(k) is not None}
    for key, value in live.items():
        if value is not None:
            # The wire marker keeps the value secret in the engine's state and in the program.
            outs[key] = mark_secret(value) if key in spec.SECRET_FIELDS else value
    outs["connector_id"] = data["id"]
    outs["created_at"] = data.get("created_at")
    outs["modified_at"] = data.get("modified_at")
    outs["auth_type"] = data.get("auth_type")
    outs["tool_names"] = tool_names(data)
    return {k: v for k, v in outs.items() if v is not None}


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k in spec.ALL_FIELDS}


def matches(connector: Any, sent: Mapping[str, Any]) -> bool:
    """True when a connector found by name carries exactly what our create sent (it is ours)."""
    live = _diff.live_state(connector_dict(connector), None)
    wanted = {k: sent.get(k) for k in CREATE_FIELDS}
    return not [f for f in _diff.changed_fields(live, wanted) if f in CREATE_FIELDS]


def drift_line(subject: str, fields: set[str]) -> str:
    """What a refresh found, by property: the CLI's diff shows every secret as ``[secret]``, changed or not."""
    names = ", ".join(f"{f} (secret)" if f in spec.SECRET_FIELDS else f for f in sorted(fields))
    hint = "; secret values are not shown" if fields & spec.SECRET_FIELDS else ""
    return f"{subject}: {names} differ{'s' if len(fields) == 1 else ''} from what this stack recorded " \
           f"(changed outside it){hint}"
