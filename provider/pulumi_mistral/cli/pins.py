"""Pin files and the pins of live tools: ``pins_for``, the ``--write-pins`` overlay, the tools lock (I/O edge).

Not to be confused with :mod:`pulumi_mistral.core.pinning`, the pure rules that *compare* tools with pins
(fingerprints, changes, the ``tool_drift`` policy). This module *fetches* the live tools and reads and writes
the files that hold pins and tool definitions:

``live_tools(client, connector)``
    Every live MCP tool of a connector, fresh from its server (``refresh=true``): one request per 1,000 tools.
    The one way the CLI lists tools (``pins_for``, ``drift`` and ``drift --write-pins``).
``pins_for(connector)``
    The ``tool_pins`` of a deployed connector's live tools (public: ``pulumi_mistral.pins_for``).
``render_pins(pins, fmt)``
    ``{resource: {tool: fingerprint}}`` as a ``connectors.yaml`` overlay (``drift --write-pins``).
``render_tools_lock(definitions)`` / ``load_tools_lock(path)``
    The tools lock file (``drift --write-pins --tools-lock FILE``) and reading it back (``drift --tools-lock``).

A pin says "this exact tool definition was reviewed and is trusted", so write pins from the tools as they are
now, review them, and commit them with the program::

    from pulumi_mistral import pins_for

    print(pins_for("docs"))            # {"search_docs": "sha256:…", …}; key from MISTRAL_API_KEY
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi_mistral.core import pinning
from pulumi_mistral.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["live_tools", "load_tools_lock", "pins_for", "render_pins", "render_tools_lock"]


def live_tools(client: ConnectorsClient, connector: str) -> list[Any]:
    """Every live tool of ``connector`` (an id or a name), listed fresh from its MCP server, page after page."""
    return list(client.iter_tools(connector, refresh=True))


def pins_for(
    connector: str,
    *,
    client: ConnectorsClient | None = None,
    api_key: str | None = None,
    server_url: str | None = None,
) -> dict[str, str]:
    """``{tool name: "sha256:…"}`` for the live tools of ``connector`` (an id or a name), sorted by name.

    Uses ``client`` when given, else a client built from ``api_key`` / ``server_url`` (or the
    ``MISTRAL_API_KEY`` / ``MISTRAL_SERVER_URL`` environment variables), closed afterwards.
    """
    if client is None:
        from pulumi_mistral.client import ConnectorsClient

        with ConnectorsClient(api_key=api_key, server_url=server_url) as own:
            return pins_for(connector, client=own)
    return pinning.pins_from_tools(live_tools(client, connector))


def render_pins(pins: Mapping[str, Mapping[str, str]], fmt: str) -> str:
    """``{resource: {tool: fingerprint}}`` as a connectors.yaml overlay (or JSON with --format json)."""
    doc = {"connectors": {resource: {"tool_pins": dict(p)} for resource, p in pins.items()}}
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    import yaml

    head = (
        "# tool_pins of the live MCP tools, written by `pulumi-mistral drift --write-pins`.\n"
        "# Review every tool before you pin it: a pin says 'this exact definition is trusted'.\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def render_tools_lock(definitions: Mapping[str, Sequence[Any]]) -> str:
    """``{resource: [tool definitions]}`` as a tools lock file (JSON, sorted, one definition per tool)."""
    from pulumi_mistral.core.fingerprint import tool_definition

    doc = {
        "version": 1,
        "connectors": {
            resource: sorted((tool_definition(t) for t in tools), key=lambda d: d["name"])
            for resource, tools in definitions.items()
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def load_tools_lock(path: str) -> list[Mapping[str, Any]]:
    """The tool definitions of a tools lock file (written by ``--write-pins --tools-lock``), all connectors."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON (line {exc.lineno}): expected a tools lock file") from None
    connectors = data.get("connectors") if isinstance(data, Mapping) else None
    if not isinstance(connectors, Mapping):
        raise InputError(f'{path}: expected {{"connectors": {{resource: [tool definitions]}}}}')
    return [t for tools in connectors.values() if isinstance(tools, list) for t in tools if isinstance(t, Mapping)]
