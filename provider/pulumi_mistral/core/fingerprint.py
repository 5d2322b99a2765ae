"""Fingerprints of MCP tool definitions: RFC 8785 canonical JSON hashed with SHA-256 (pure).

A tool's fingerprint covers exactly what a model sees and what decides whether calling the tool is safe:
``name``, ``title``, ``description``, ``inputSchema``, ``outputSchema`` and ``annotations``. Presentation
and transport details (``icons``, ``_meta``, ``execution``, ids, timestamps) are left out, so a server that
only changes an icon does not trip a pin, while one reworded word in a description does.

Canonical JSON (RFC 8785, JCS) makes the hash independent of key order, whitespace, unicode escaping and
number spelling (``1`` and ``1.0`` are the same number). Keys that are missing or ``null`` are omitted,
and so are ``null`` annotation hints and an empty ``annotations`` object (an unset hint is a missing one).

    >>> fp = fingerprint({"name": "echo", "inputSchema": {"type": "object"}})
    >>> fp.startswith("sha256:") and len(fp) == 71
    True
    >>> fp == fingerprint({"inputSchema": {"type": "object"}, "name": "echo", "_meta": {"x": 1}})
    True

Formats: a tool fingerprint and a set fingerprint are both ``"sha256:<64 lowercase hex>"`` (what
``spec`` accepts in ``tool_pins``). Accepted inputs: wire dicts (camelCase), snake_case keys
(``input_schema``, ``output_schema``, ``read_only_hint``...), and pydantic models such as
``models.MCPTool`` (dumped by alias, without unset fields).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785

__all__ = [
    "ANNOTATION_HINTS",
    "DEFINITION_FIELDS",
    "as_tool_dict",
    "canonical_json",
    "fingerprint",
    "set_fingerprint",
    "tool_definition",
    "tool_outputs",
    "tools_summary",
]

# The fields of an MCP tool that the fingerprint covers, in the MCP spec's order.
DEFINITION_FIELDS: tuple[str, ...] = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
ANNOTATION_HINTS: tuple[str, ...] = ("title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
PREFIX = "sha256:"

_FIELD_ALIASES: dict[str, str] = {"input_schema": "inputSchema", "output_schema": "outputSchema"}
_HINT_ALIASES: dict[str, str] = {
    "read_only_hint": "readOnlyHint",
    "destructive_hint": "destructiveHint",
    "idempotent_hint": "idempotentHint",
    "open_world_hint": "openWorldHint",
}
# JCS serialises numbers as IEEE doubles; integers beyond 2**53 have no exact double, and the rfc8785
# package refuses them rather than round. Rounding them as a JSON parser would keeps such schemas hashable.
_SAFE_INT = 2**53 - 1
_MAX_DEPTH = 64


def as_tool_dict(tool: Any) -> Mapping[str, Any]:
    """``tool`` as a mapping: a mapping as is, a pydantic model dumped by alias without unset fields."""
    if isinstance(tool, Mapping):
        return tool
    dump = getattr(tool, "model_dump", None)
    if callable(dump):
        data = dump(mode="json", by_alias=True, exclude_unset=True)
        if isinstance(data, Mapping):
            return data
    raise TypeError(f"a tool must be a mapping or a pydantic model, got {type(tool).__name__}")


def _plain_json(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data for JCS: tuples as lists, huge integers as doubles; rejects the rest."""
    if depth > _MAX_DEPTH:
        raise ValueError("tool definition is nested too deeply to fingerprint")
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INT <= value <= _SAFE_INT else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("tool definition contains a non-finite number (not JSON)")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"tool definition has a non-string key {key!r} (not JSON)")
            out[key] = _plain_json(item, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain_json(item, depth + 1) for item in value]
    raise ValueError(f"tool definition contains a {type(value).__name__} (not JSON)")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value`` (UTF-8 bytes)."""
    return bytes(rfc8785.dumps(_plain_json(value)))


def _annotations(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value  # not an object: kept as is, so a malformed value still changes the hash
    hints = {_HINT_ALIASES.get(k, k): v for k, v in value.items() if v is not None}
    return hints or None


def tool_definition(tool: Any) -> dict[str, Any]:
    """The fingerprinted part of ``tool``: the six definition fields, camelCase, without missing/None ones.

    ``jsonschema`` (the Connectors API's stored ConnectorTool shape) stands in for a missing ``inputSchema``.
    """
    data = as_tool_dict(tool)
    picked: dict[str, Any] = {}
    for key, value in data.items():
        field = _FIELD_ALIASES.get(key, key)
        if field in DEFINITION_FIELDS and value is not None:
            picked[field] = value
    if "inputSchema" not in picked and data.get("jsonschema") is not None:
        picked["inputSchema"] = data["jsonschema"]
    if "annotations" in picked:
        hints = _annotations(picked["annotations"])
        if hints is None:
            del picked["annotations"]
        else:
            picked["annotations"] = hints
    if not isinstance(picked.get("name"), str):
        raise ValueError("a tool definition needs a string 'name'")
    return {k: picked[k] for k in DEFINITION_FIELDS if k in picked}


def _digest(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


def fingerprint(tool: Any) -> str:
    """``"sha256:<64 hex>"`` over the canonical JSON of :func:`tool_definition`."""
    return _digest(canonical_json(tool_definition(tool)))


def tools_summary(tools: Iterable[Any]) -> list[dict[str, str]]:
    """``[{"name", "fingerprint"}]`` for each tool, sorted by name (then fingerprint, for duplicate names)."""
    rows = []
    for tool in tools:
        definition = tool_definition(tool)
        rows.append({"name": definition["name"], "fingerprint": _digest(canonical_json(definition))})
    return sorted(rows, key=lambda r: (r["name"], r["fingerprint"]))


def _summary_fingerprint(rows: Iterable[Mapping[str, str]]) -> str:
    """The set fingerprint of :func:`tools_summary` rows (see :func:`set_fingerprint`)."""
    by_name: dict[str, list[str]] = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row["fingerprint"])
    flat: dict[str, Any] = {name: fps[0] if len(fps) == 1 else fps for name, fps in by_name.items()}
    return _digest(canonical_json(flat))


def set_fingerprint(tools: Iterable[Any]) -> str:
    """One fingerprint for the whole tool set: canonical JSON of the name -> fingerprint map, hashed.

    Independent of the order the server lists its tools in. A name listed twice (a server should never do
    that; a client may pick either definition) maps to the sorted list of its fingerprints, so the
    duplicate still changes the hash.
    """
    return _summary_fingerprint(tools_summary(tools))


def tool_outputs(tools: Iterable[Any]) -> dict[str, Any]:
    """The Connector resource's tool outputs: ``{"tools": tools_summary, "tools_fingerprint": set_fingerprint}``."""
    summary = tools_summary(tools)
    return {"tools": summary, "tools_fingerprint": _summary_fingerprint(summary)}
