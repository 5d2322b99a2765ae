"""A connector's outputs as plain values: every input as live state, the control inputs, the API-computed fields.

Plain means plain: no secret markers and no unknowns. The adapters mark the secret fields
(:data:`pulumi_mistral.core.spec.SECRET_FIELDS`) on their way out, each in its engine's form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_mistral.core import diff as _diff
from pulumi_mistral.core import spec

__all__ = [
    "CREATE_FIELDS",
    "OUTPUT_ONLY_FIELDS",
    "connector_dict",
    "connector_outputs",
    "drift_line",
    "inputs_from_outputs",
    "matches",
    "tool_names",
]

# Outputs the API computes; everything else in the outputs is an input echoed back (as live state).
OUTPUT_ONLY_FIELDS: tuple[str, ...] = ("connector_id", "created_at", "modified_at", "auth_type", "tool_names")
# Fields accepted by POST /v1/connectors; connection_config / connection_secrets need a PATCH afterwards.
CREATE_FIELDS: tuple[str, ...] = _diff.CREATE_FIELDS


def connector_dict(connector: Any) -> dict[str, Any]:
    if isinstance(connector, Mapping):
        return dict(connector)
    return connector.model_dump(mode="json")


def tool_names(tools: Iterable[Any] | None) -> list[str]:
    """The names of ``tools`` (the API's ``tools`` field, or a live listing), in their order."""
    names = []
    for tool in tools or []:
        name = tool.get("name") if isinstance(tool, Mapping) else getattr(tool, "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


def connector_outputs(connector: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Full outputs: every input (as live state), the control inputs, the API-computed fields; None dropped."""
    data = connector_dict(connector)
    live = _diff.live_state(data, inputs)
    outs: dict[str, Any] = {k: inputs[k] for k in spec.CONTROL_FIELDS if inputs.get(k) is not None}
    outs.update({k: v for k, v in live.items() if v is not None})
    outs["connector_id"] = data["id"]
    outs["created_at"] = data.get("created_at")
    outs["modified_at"] = data.get("modified_at")
    outs["auth_type"] = data.get("auth_type")
    outs["tool_names"] = tool_names(data.get("tools"))
    return {k: v for k, v in outs.items() if v is not None}


def inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k in spec.ALL_FIELDS}


def matches(connector: Any, sent: Mapping[str, Any]) -> bool:
    """True when a connector found by name carries exactly what our create sent (it is ours)."""
    return not _diff.create_differences(connector_dict(connector), sent)


def drift_line(subject: str, fields: set[str]) -> str:
    """What a refresh found, by property: the CLI's diff shows every secret as ``[secret]``, changed or not."""
    names = ", ".join(f"{f} (secret)" if f in spec.SECRET_FIELDS else f for f in sorted(fields))
    hint = "; secret values are not shown" if fields & spec.SECRET_FIELDS else ""
    return (
        f"{subject}: {names} differ{'s' if len(fields) == 1 else ''} from what this stack recorded "
        f"(changed outside it){hint}"
    )
