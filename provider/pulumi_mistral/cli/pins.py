"""``pins_for``: the ``tool_pins`` of a deployed connector's live MCP tools (the helper behind pinning a stack).

A pin says "this exact tool definition was reviewed and is trusted", so write pins from the tools as they are
now, review them, and commit them with the program::

    from pulumi_mistral import pins_for

    print(pins_for("docs"))            # {"search_docs": "sha256:…", …}; key from MISTRAL_API_KEY

``pulumi-mistral drift --write-pins`` does the same for every declared connector and writes a YAML overlay.
The tools are fetched fresh from the MCP server (``refresh=true``): one request per 1,000 tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_mistral.core import pinning

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["pins_for"]

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
    return pinning.pins_from_tools(list(client.iter_tools(connector)))
