"""The tools project on the native door: one connector with tool tracking; tool_pins and tool_drift from config."""

import json

import pulumi

from pulumi_mistral import native as mistral

config = pulumi.Config("tools")
pins = json.loads(config.get("pins") or "null")

tools = mistral.Connector(
    "tools",
    name="engine-tools",
    description=config.get("description") or "The demo MCP server, its tools pinned",
    server=config.require("mcpUrl"),
    tool_pins=pins,
    tool_drift=config.get("policy"),
)

pulumi.export("connector_id", tools.connector_id)
pulumi.export("tools_fingerprint", tools.tools_fingerprint)
pulumi.export("tool_names", tools.tool_names)
