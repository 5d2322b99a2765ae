"""One stack, two workspaces: `first` through the default provider (stack config `mistral:apiKey`), `second`
through an explicit provider whose apiKey is the secret `workspaces:secondKey`."""

import pulumi

from pulumi_mistral import native as mistral

config = pulumi.Config("workspaces")
second_workspace = mistral.Provider(
    "second-workspace",
    api_key=config.require_secret("secondKey"),
    server_url=pulumi.Config("mistral").require("serverUrl"),
)

first = mistral.Connector(
    "first", name="in-first", description="In the first workspace", server="https://mcp.example.com/mcp"
)
second = mistral.Connector(
    "second",
    name="in-second",
    description="In the second workspace",
    server="https://mcp.example.com/mcp",
    opts=pulumi.ResourceOptions(provider=second_workspace),
)

pulumi.export("first_id", first.connector_id)
pulumi.export("second_id", second.connector_id)
