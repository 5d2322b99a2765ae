"""The quickstart example on the native door: the same two connectors and the same outputs."""

import pulumi

from pulumi_mistral import native as mistral

config = pulumi.Config("quickstart")
mcp_url = config.get("mcpUrl") or "http://127.0.0.1:8765/mcp"

tools = mistral.Connector(
    "quickstart-tools",
    description="Example MCP server: search_docs, echo, whoami and friends",
    server=mcp_url,
    system_prompt="Use these tools for questions about the example project.",
)

docs = mistral.Connector(
    "quickstart-docs",
    description="Documentation search over MCP",
    server="https://docs.example.com/mcp",
    visibility="private",
)

pulumi.export("tools_connector_id", tools.connector_id)
pulumi.export("tools_connector_name", tools.name)
pulumi.export("tools_tool_names", tools.tool_names)
pulumi.export("docs_connector_id", docs.connector_id)
pulumi.export("docs_connector_name", docs.name)
pulumi.export("docs_tool_names", docs.tool_names)
