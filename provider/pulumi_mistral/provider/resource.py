"""Connector: the Pulumi resource for a Mistral connector (a pulumi.dynamic.Resource) and its ConnectorArgs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import pulumi
import pulumi.dynamic

from pulumi_mistral.core.spec import INPUT_FIELDS, SECRET_FIELDS
from pulumi_mistral.provider import OUTPUT_ONLY_FIELDS, TOOL_OUTPUT_FIELDS, ConnectorProvider

__all__ = ["SECRET_OUTPUTS", "AuthDataArgs", "Connector", "ConnectorArgs"]

# Outputs that hold secret values: kept secret in state and in the program (headers, auth_data,
# connection_secrets: the provider's secret fields, in input order).
SECRET_OUTPUTS: tuple[str, ...] = tuple(f for f in INPUT_FIELDS if f in SECRET_FIELDS)


@dataclass
class AuthDataArgs:
    """OAuth2 client credentials of a connector (a plain ``{"client_id", "client_secret"}`` dict works too).

    Example::

        AuthDataArgs(client_id="my-app", client_secret=config.require_secret("clientSecret"))
    """

    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]


@dataclass
class ConnectorArgs:
    """The inputs of a :class:`Connector` (the keyword arguments of ``Connector(...)`` take the same names).

    Example::

        args = ConnectorArgs(description="Docs search", server="https://mcp.example.com/mcp",
                             headers={"X-Api-Key": config.require_secret("docsKey")})
        docs = Connector("docs", args)
    """

    description: pulumi.Input[str]
    server: pulumi.Input[str]
    name: pulumi.Input[str] | None = None
    icon_url: pulumi.Input[str] | None = None
    visibility: pulumi.Input[str] | None = None
    headers: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    auth_data: pulumi.Input[AuthDataArgs | Mapping[str, Any]] | None = None
    system_prompt: pulumi.Input[str] | None = None
    connection_config: pulumi.Input[Mapping[str, Any]] | None = None
    connection_secrets: pulumi.Input[Mapping[str, Any]] | None = None
    adopt: pulumi.Input[bool] | None = None
    tool_pins: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    tool_drift: pulumi.Input[str] | None = None


def _auth_data(value: Any) -> Any:
    if isinstance(value, AuthDataArgs):
        return {"client_id": value.client_id, "client_secret": value.client_secret}
    return value


class Connector(pulumi.dynamic.Resource, module="connector", name="Connector"):
    """A Mistral connector: registers a remote MCP server with Mistral.

    Type token: ``pulumi-python:dynamic/connector:Connector``.

    ``name`` is optional: without it the connector is named after the resource plus a random suffix, and a
    change that forces a replacement (``visibility``) creates the new connector before deleting the old one.
    ``adopt=True`` takes over an existing connector with the same name instead of failing with a conflict.
    ``tool_pins`` (tool name -> ``sha256:...`` fingerprint, e.g. from :func:`pulumi_mistral.pins_for`) and
    ``tool_drift`` (``audit``, ``warn`` or ``block``) turn on tool tracking: the live MCP tools are listed
    on every create, update, refresh and diff (one extra request each) and their fingerprints are output as
    ``tools`` / ``tools_fingerprint``; a tool that differs from its pin is recorded, warned about, or
    stops ``pulumi up`` before any change (``block``). ``headers``, ``auth_data`` and ``connection_secrets``
    are always secret. Stack config ``mistral:apiKey``
    (secret) and ``mistral:serverUrl`` reach the provider; they are never stored in the state.

    Example::

        import pulumi
        from pulumi_mistral import Connector

        docs = Connector("docs", description="Docs search", server="https://mcp.example.com/mcp",
                         headers={"X-Api-Key": pulumi.Config().require_secret("docsKey")})
        pulumi.export("docs_id", docs.connector_id)
    """

    name: pulumi.Output[str]
    description: pulumi.Output[str]
    server: pulumi.Output[str]
    icon_url: pulumi.Output[str | None]
    visibility: pulumi.Output[str | None]
    headers: pulumi.Output[dict[str, str] | None]
    auth_data: pulumi.Output[dict[str, str] | None]
    system_prompt: pulumi.Output[str | None]
    connection_config: pulumi.Output[dict[str, Any] | None]
    connection_secrets: pulumi.Output[dict[str, Any] | None]
    adopt: pulumi.Output[bool | None]
    tool_pins: pulumi.Output[dict[str, str] | None]
    tool_drift: pulumi.Output[str | None]
    connector_id: pulumi.Output[str]
    created_at: pulumi.Output[str]
    modified_at: pulumi.Output[str]
    auth_type: pulumi.Output[str]
    tool_names: pulumi.Output[list[str]]
    tools: pulumi.Output[list[dict[str, str]] | None]
    tools_fingerprint: pulumi.Output[str | None]
    tool_definitions: pulumi.Output[list[dict[str, Any]] | None]

    def __init__(
        self,
        resource_name: str,
        args: ConnectorArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        name: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        server: pulumi.Input[str] | None = None,
        icon_url: pulumi.Input[str] | None = None,
        visibility: pulumi.Input[str] | None = None,
        headers: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        auth_data: pulumi.Input[AuthDataArgs | Mapping[str, Any]] | None = None,
        system_prompt: pulumi.Input[str] | None = None,
        connection_config: pulumi.Input[Mapping[str, Any]] | None = None,
        connection_secrets: pulumi.Input[Mapping[str, Any]] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        tool_pins: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        tool_drift: pulumi.Input[str] | None = None,
    ) -> None:
        given = {
            "name": name,
            "description": description,
            "server": server,
            "icon_url": icon_url,
            "visibility": visibility,
            "headers": headers,
            "auth_data": auth_data,
            "system_prompt": system_prompt,
            "connection_config": connection_config,
            "connection_secrets": connection_secrets,
            "adopt": adopt,
            "tool_pins": tool_pins,
            "tool_drift": tool_drift,
        }
        # Every declared property is registered (None when not given) so each output attribute exists.
        props: dict[str, Any] = dict.fromkeys(given)
        if args is not None:
            props.update({f.name: getattr(args, f.name) for f in fields(args)})
        # Keyword arguments win over the args object, so both styles can be mixed.
        props.update({k: v for k, v in given.items() if v is not None})
        props["auth_data"] = _auth_data(props.get("auth_data"))
        if props.get("name") is None:
            # Hidden input: the provider's check derives "<resource name>-<7 random chars>" from it.
            props["name_prefix"] = resource_name
        for key in SECRET_OUTPUTS:
            if props.get(key) is not None:
                # Secret in the state's inputs too, not only in the outputs.
                props[key] = pulumi.Output.secret(props[key])
        for key in (*OUTPUT_ONLY_FIELDS, *TOOL_OUTPUT_FIELDS):
            props[key] = None  # registers the output attribute; the provider fills it
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        opts = pulumi.ResourceOptions.merge(secret_opts, opts)
        super().__init__(ConnectorProvider(), resource_name, props, opts)
