"""Stored rows as the local server's JSON: connectors (secrets masked unless asked for), tools, pretty tools, tool ids.

Pure functions of a row (``store.py``'s dicts), no I/O. What they show is listed with the other rules in
``backend.py`` (Connectors: ``auth_type``, secrets, ``tools``).
"""

from __future__ import annotations

import uuid
from typing import Any


def tool_id(connector_id: str, tool_name: str) -> str:
    """A stable id per (connector, tool), so a re-fetch keeps ids."""
    return str(uuid.uuid5(uuid.UUID(connector_id), tool_name))


def present_tools(row: dict[str, Any]) -> list[dict[str, Any]] | None:
    tools = row.get("tools")
    if tools is None:
        return None
    fetched = row.get("tools_fetched_at") or row["modified_at"]
    return [
        {
            "id": tool_id(row["id"], t["name"]),
            "name": t["name"],
            "description": t.get("description") or "",
            "execution_config": {"type": "mcp"},
            "visibility": row["visibility"],
            "created_at": fetched,
            "modified_at": fetched,
            "jsonschema": t.get("inputSchema"),
            "active": True,
        }
        for t in tools
    ]


def present(row: dict[str, Any], *, secrets: bool) -> dict[str, Any]:
    """The Connector as returned by the local server (see docs/architecture.md)."""
    headers: dict[str, str] = row.get("headers") or {}
    auth: dict[str, str] | None = row.get("auth_data")
    conn_secrets: dict[str, Any] = row.get("connection_secrets") or {}
    out: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "created_at": row["created_at"],
        "modified_at": row["modified_at"],
        "server": row["server"],
        "auth_type": "oauth2" if auth else "none",
        "tools": present_tools(row),
        "visibility": row["visibility"],
        "icon_url": row.get("icon_url"),
        "system_prompt": row.get("system_prompt"),
        "connection_config": row.get("connection_config"),
        "header_names": sorted(headers),
        "auth_data": None if auth is None else (dict(auth) if secrets else {"client_id": auth["client_id"]}),
        "connection_secret_names": sorted(conn_secrets),
    }
    if secrets:
        out["headers"] = dict(headers)
        out["connection_secrets"] = row.get("connection_secrets")
    return out


def _schema_type(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return "any"
    if "type" in prop:
        return prop["type"]
    for key in ("anyOf", "oneOf"):
        if key in prop:
            types = [_schema_type(p) for p in prop[key]]
            return next(t for t in types if t != "null") if len(types) == 2 and "null" in types else types
    return "any"


def pretty_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool for ``pretty=true``: name, description, annotations and a compact input schema (property -> type)."""
    schema = tool.get("inputSchema") or {}
    props = schema.get("properties") or {}
    return {
        "name": tool["name"],
        "description": tool.get("description"),
        "annotations": tool.get("annotations"),
        "inputSchema": {
            "properties": {k: _schema_type(v) for k, v in props.items()},
            "required": list(schema.get("required") or []),
        },
    }
