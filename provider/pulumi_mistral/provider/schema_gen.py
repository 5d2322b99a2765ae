"""schema.json, generated from the Python resource: the Pulumi package schema other languages and tools read.

The properties, their types, which are required and which are secret all come from the code
(``ConnectorArgs``, the ``Connector`` output annotations, ``SECRET_OUTPUTS`` and :mod:`pulumi_mistral.core.spec`);
only the descriptions live here. A test asserts the committed file equals the generated one, so the two
cannot drift apart. Regenerate after changing the resource::

    python -m pulumi_mistral.provider.schema_gen > schema.json
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from typing import Any

from pulumi_mistral.core.names import camel
from pulumi_mistral.core.spec import INPUT_FIELDS

PACKAGE = "mistral"
RESOURCE_TOKEN = f"{PACKAGE}:index:Connector"
GET_CONNECTOR_TOKEN = f"{PACKAGE}:index:getConnector"
GET_CONNECTOR_TOOLS_TOKEN = f"{PACKAGE}:index:getConnectorTools"
# The Python SDK's name: a plain package (`pulumi package gen-sdk` of this schema installs and imports as it, and it
# does not clash with `pulumi_mistral`); this package embeds the same SDK as `pulumi_mistral.native`
# (plugin/sdkgen.py).
PYTHON_PACKAGE = "pulumi_mistral_native"
AUTH_DATA_TOKEN = f"{PACKAGE}:index:AuthData"
VISIBILITY_TOKEN = f"{PACKAGE}:index:ResourceVisibility"
TOOL_DRIFT_TOKEN = f"{PACKAGE}:index:ToolDriftPolicy"

_NAME = (
    "Connector name, unique per workspace: 1-64 letters, digits, '_' or '-'. Omitted: the resource name "
    "plus a random 7-character suffix."
)
# Every property needs one: generation fails on a property without a description.
DESCRIPTIONS: dict[str, str] = {
    "name": _NAME,
    "description": "What the connector is for (shown to users and models).",
    "server": "URL of the remote MCP server (http or https, with a host).",
    "icon_url": "URL of the connector's icon.",
    "visibility": "Who can see the connector. Changing it replaces the connector. Unset: not managed (the server's "
    "default).",
    "headers": "HTTP headers sent to the MCP server (secret).",
    "auth_data": "OAuth2 client credentials (secret).",
    "system_prompt": "Instructions given to the model when it uses this connector.",
    "connection_config": "Connection settings (set with a PATCH after create).",
    "connection_secrets": "Connection secrets (secret; write-only on the real API: not drift-checked when not "
    "returned).",
    "adopt": "Take over an existing connector with the same name instead of failing with a conflict (the native "
    "resource can also be imported with `pulumi import`).",
    "tool_pins": "Expected tool fingerprints by tool name ('sha256:<64 hex digits>'), checked against the live tools.",
    "tool_drift": "What a tool fingerprint change does: audit, warn or block.",
    "connector_id": "The connector's id (a UUID).",
    "created_at": "Creation time (RFC 3339, UTC).",
    "modified_at": "Last modification time (RFC 3339, UTC).",
    "auth_type": '"oauth2" when auth data is set, else "none".',
    "tool_names": "Names of the connector's cached tools ([] when none are cached yet).",
    "tools": "With tool tracking (toolPins or toolDrift set): each live tool's name and fingerprint.",
    "tools_fingerprint": "With tool tracking: one fingerprint over the whole live tool set.",
    "tool_definitions": "With tool tracking: the full definitions of the baseline tools (those matching the pins), "
    "kept to say what changed in a tool.",
}
TOOL_DRIFT_DESCRIPTIONS: dict[str, str] = {
    "audit": "Record tool changes in the outputs only.",
    "warn": "Record them and warn during preview and update.",
    "block": "Stop the update before any change while a tool differs from its pin.",
}
# Provider config beyond apiKey / serverUrl (the provider's tuning settings), by config key.
CONFIG_DESCRIPTIONS: dict[str, str] = {
    "timeout": "Seconds to wait for each API request.",
    "maxAttempts": "Attempts per API request, retries included (1-20).",
    "maxRetryTime": "Seconds all retries of one request may take together.",
}
AUTH_DATA_DESCRIPTIONS: dict[str, str] = {"client_id": "OAuth2 client id.", "client_secret": "OAuth2 client secret."}
AUTH_DATA_SECRETS = frozenset({"client_secret"})
# Python annotation (as written, the part inside Output[...]/Input[...]) -> schema type.
_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "dict[str, str]": {"type": "object", "additionalProperties": {"type": "string"}},
    "dict[str, Any]": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
    "list[str]": {"type": "array", "items": {"type": "string"}},
    "list[dict[str, str]]": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}},
    "list[dict[str, Any]]": {
        "type": "array",
        "items": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
    },
}


def _inner(annotation: str) -> tuple[str, bool]:
    """``pulumi.Output[dict[str, Any] | None]`` -> (``dict[str, Any]``, optional)."""
    match = re.fullmatch(r"(?:pulumi\.)?Output\[(.*)\]", annotation.strip())
    inner = match.group(1) if match else annotation
    parts = [p.strip() for p in re.split(r"\|(?![^\[]*\])", inner)]
    optional = "None" in parts
    return " | ".join(p for p in parts if p != "None"), optional


def _property(name: str, type_text: str, secret: bool, replace: bool = False) -> dict[str, Any]:
    if name == "visibility":
        spec_: dict[str, Any] = {"$ref": f"#/types/{VISIBILITY_TOKEN}"}
    elif name == "tool_drift":
        spec_ = {"$ref": f"#/types/{TOOL_DRIFT_TOKEN}"}
    elif name == "auth_data":
        spec_ = {"$ref": f"#/types/{AUTH_DATA_TOKEN}"}
    elif type_text in _TYPES:
        spec_ = dict(_TYPES[type_text])
    else:
        raise ValueError(f"no schema type for {name}: {type_text}; add it to schema_gen._TYPES")
    if secret:
        spec_["secret"] = True
    if replace:
        spec_["replaceOnChanges"] = True
    if name not in DESCRIPTIONS:
        raise ValueError(f"no description for property {name}; add it to schema_gen.DESCRIPTIONS")
    spec_["description"] = DESCRIPTIONS[name]
    return _ordered(spec_)


def _ordered(spec_: dict[str, Any]) -> dict[str, Any]:
    """One key order for every property, so regenerating gives byte-identical files."""
    order = ("$ref", "type", "additionalProperties", "items", "secret", "replaceOnChanges", "description")
    return {k: spec_[k] for k in order if k in spec_}


def resource_facts() -> dict[str, Any]:
    """What the Python resource says about itself: inputs, outputs (with types), required and secret names."""
    from pulumi_mistral.core import spec
    from pulumi_mistral.provider.resource import SECRET_OUTPUTS, Connector, ConnectorArgs

    arg_fields = [f.name for f in dataclasses.fields(ConnectorArgs)]
    order = {name: i for i, name in enumerate(spec.ALL_FIELDS)}
    inputs = sorted(arg_fields, key=lambda n: order.get(n, len(order)))
    annotations = {k: v if isinstance(v, str) else repr(v) for k, v in Connector.__annotations__.items()}
    outputs = {name: _inner(text) for name, text in annotations.items()}
    return {
        "inputs": inputs,
        "required_inputs": [f for f in spec.REQUIRED_FIELDS if f in inputs],
        "outputs": {name: t for name, (t, _) in outputs.items()},
        "required_outputs": [name for name, (_, optional) in outputs.items() if not optional],
        "secret": set(SECRET_OUTPUTS),
        "replace": set(spec.REPLACE_FIELDS),
        "visibilities": list(spec.VISIBILITIES),
        "tool_drift_policies": list(spec.TOOL_DRIFT_POLICIES),
        "auth_data_fields": list(spec.AUTH_DATA_FIELDS),
    }


def _config_variables() -> dict[str, dict[str, Any]]:
    """The provider's settings: stack config ``mistral:*`` for the default provider, inputs of an explicit one."""
    return {
        "apiKey": {
            "type": "string",
            "secret": True,
            "description": "Mistral API key (falls back to MISTRAL_API_KEY). The default provider reads it "
            "from stack config and keeps it out of the state; an explicit provider keeps its "
            "apiKey input encrypted in the state, as every secret input.",
            "defaultInfo": {"environment": ["MISTRAL_API_KEY"]},
        },
        "serverUrl": {
            "type": "string",
            "description": "Base URL of the Connectors API (falls back to MISTRAL_SERVER_URL; "
            "default https://api.mistral.ai).",
            "defaultInfo": {"environment": ["MISTRAL_SERVER_URL"]},
        },
        **_tuning_variables(),
    }


def _tuning_variables() -> dict[str, dict[str, Any]]:
    """The provider's tuning settings (``mistral:timeout`` ...) as config variables, with their defaults."""
    from pulumi_mistral.lifecycle.state import TUNING, Settings

    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    variables: dict[str, dict[str, Any]] = {}
    for key, (env, field_name, parse) in TUNING.items():
        name = key.split(":", 1)[1]
        if name not in CONFIG_DESCRIPTIONS:
            raise ValueError(f"no description for config {key}; add it to schema_gen.CONFIG_DESCRIPTIONS")
        variables[name] = {
            "type": "integer" if parse is int else "number",
            "default": defaults[field_name],
            "description": CONFIG_DESCRIPTIONS[name],
            "defaultInfo": {"environment": [env]},
        }
    return variables


_LOOKUP: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "description": "The connector's id. Give the id or the name."},
    "name": {"type": "string", "description": "The connector's name. Give the id or the name."},
}
# What getConnector returns: the connector as the API shows it (no control inputs, no tool tracking outputs).
_GET_CONNECTOR_OUTPUTS = (
    *INPUT_FIELDS,
    "connector_id",
    "created_at",
    "modified_at",
    "auth_type",
    "tool_names",
)
_TOOLS_OUTPUTS: dict[str, dict[str, Any]] = {
    "connectorId": {"type": "string", "description": "The connector's id."},
    "name": {"type": "string", "description": "The connector's name."},
    "toolNames": {"type": "array", "items": {"type": "string"}, "description": "The live tools' names."},
    "tools": {
        "type": "array",
        "items": {"type": "object", "additionalProperties": {"type": "string"}},
        "description": "Each live tool's name and fingerprint ('sha256:...'), the values tool pins take.",
    },
    "toolsFingerprint": {"type": "string", "description": "One fingerprint over the whole live tool set."},
    "toolDefinitions": {
        "type": "array",
        "items": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
        "description": "The live tools' full definitions (name, description, input schema...).",
    },
}


def _functions(props: dict[str, Any], secret: set[str]) -> dict[str, Any]:
    """getConnector and getConnectorTools: read a connector this stack does not manage, by id or by name."""
    connector = {camel(n): props[camel(n)] for n in _GET_CONNECTOR_OUTPUTS}
    return {
        GET_CONNECTOR_TOKEN: {
            "description": "A connector of the provider's workspace, by id or by name (secret properties stay secret).",
            "inputs": {"properties": _LOOKUP},
            "outputs": {
                "properties": connector,
                "required": [
                    k
                    for k in (
                        "name",
                        "description",
                        "server",
                        "connectorId",
                        "createdAt",
                        "modifiedAt",
                        "authType",
                        "toolNames",
                    )
                    if k in connector
                ],
            },
        },
        GET_CONNECTOR_TOOLS_TOKEN: {
            "description": "The live MCP tools of a connector, by id or by name, with their fingerprints (what "
            "toolPins pins).",
            "inputs": {"properties": _LOOKUP},
            "outputs": {"properties": _TOOLS_OUTPUTS, "required": list(_TOOLS_OUTPUTS)},
        },
    }


def _types(facts: dict[str, Any]) -> dict[str, Any]:
    """The schema's object and enum types: the OAuth client data, the visibility and the tool drift policy."""
    return {
        AUTH_DATA_TOKEN: {
            "type": "object",
            "description": "OAuth2 client credentials of a connector.",
            "properties": {
                camel(f): {
                    "type": "string",
                    "description": AUTH_DATA_DESCRIPTIONS[f],
                    **({"secret": True} if f in AUTH_DATA_SECRETS else {}),
                }
                for f in facts["auth_data_fields"]
            },
            "required": [camel(f) for f in facts["auth_data_fields"]],
        },
        VISIBILITY_TOKEN: {
            "type": "string",
            "description": "Who can see a connector.",
            "enum": [{"name": "".join(w.title() for w in v.split("_")), "value": v} for v in facts["visibilities"]],
        },
        TOOL_DRIFT_TOKEN: {
            "type": "string",
            "description": "What a change of a connector's MCP tools does.",
            "enum": [
                {"name": v.title(), "value": v, "description": TOOL_DRIFT_DESCRIPTIONS[v]}
                for v in facts["tool_drift_policies"]
            ],
        },
    }


def generate() -> dict[str, Any]:
    """The package schema as a dict (see the module docstring)."""
    from pulumi_mistral._version import __version__

    facts = resource_facts()
    outputs: dict[str, str] = facts["outputs"]
    secret: set[str] = facts["secret"]
    replace: set[str] = facts["replace"]
    missing = [name for name in facts["inputs"] if name not in outputs]
    if missing:
        raise ValueError(f"inputs without an output annotation on Connector: {missing}")
    inputs = {camel(n): _property(n, outputs[n], n in secret, n in replace) for n in facts["inputs"]}
    props = {camel(n): _property(n, t, n in secret, n in replace) for n, t in outputs.items()}
    # Inputs first, in input order, then the computed outputs, in the order the resource declares them.
    ordered_props = {k: props[k] for k in inputs if k in props} | {k: v for k, v in props.items() if k not in inputs}
    required = [camel(n) for n in facts["required_outputs"]]
    ordered_required = [k for k in ordered_props if k in required]
    variables = _config_variables()
    return {
        "name": PACKAGE,
        "version": __version__,
        "displayName": "Mistral AI connectors",
        "description": "Mistral AI connectors (remote MCP servers registered with Mistral) as Pulumi resources.",
        "keywords": ["mistral", "mcp", "connectors", "category/ai"],
        "license": "Apache-2.0",
        "repository": "https://github.com/pulumi-mistral/pulumi-mistral",
        "meta": {"moduleFormat": "(.*)"},
        "language": {
            "python": {"packageName": PYTHON_PACKAGE, "respectSchemaVersion": True},
            "nodejs": {"packageName": "@pulumi-mistral/native", "respectSchemaVersion": True},
        },
        "config": {"variables": variables},
        "provider": {
            "description": "The mistral provider: one Connectors API workspace (its API key). Declare one per "
            "workspace to manage several from one stack.",
            "inputProperties": variables,
        },
        "types": _types(facts),
        "resources": {
            RESOURCE_TOKEN: {
                "description": "A Mistral connector: registers a remote MCP server with Mistral. Served by the "
                "native plugin pulumi-resource-mistral; the Python dynamic resource "
                "`pulumi_mistral.Connector` (type token pulumi-python:dynamic/connector:Connector) "
                "shares its lifecycle, with the snake_case forms of these names.",
                "inputProperties": inputs,
                "requiredInputs": [camel(n) for n in facts["required_inputs"]],
                "properties": ordered_props,
                "required": ordered_required,
            }
        },
        "functions": _functions(ordered_props, secret),
    }


def render() -> str:
    """The schema.json text (2-space indent, trailing newline)."""
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """``python -m pulumi_mistral.provider.schema_gen > schema.json``"""
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
