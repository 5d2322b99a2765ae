"""The full project on the native door: one connector using every kind of property, driven by stack config."""

import json

import pulumi

from pulumi_mistral import native as mistral

config = pulumi.Config("full")
mcp_url = config.require("mcpUrl")
extra = json.loads(config.get("extra") or "{}")  # optional inputs a test adds (tool_pins, tool_drift, ...)

full = mistral.Connector(
    "full",
    name=config.get("name") or "engine-full",
    description=config.get("description") or "Every kind of property",
    server=mcp_url,
    visibility=config.get("visibility") or "private",
    headers={"X-Team": "platform", "X-Api-Key": config.require_secret("headerSecret")},
    auth_data=mistral.AuthDataArgs(client_id="engine-client", client_secret=config.require_secret("clientSecret")),
    connection_config={"region": "eu", "limits": {"rps": 5, "burst": [1, 2]}},
    connection_secrets={"token": config.require_secret("connectionSecret")},
    system_prompt="Answer briefly.",
    **extra,
)

pulumi.export("connector_id", full.connector_id)
pulumi.export("name", full.name)
pulumi.export("tool_names", full.tool_names)
