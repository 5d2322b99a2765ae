"""One connector to the demo MCP server with tool tracking; tool_pins and tool_drift come from stack config."""

import json

import pulumi

from pulumi_mistral import Connector

config = pulumi.Config("tools")
pins = json.loads(config.get("pins") or "null")

tools = Connector(
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
