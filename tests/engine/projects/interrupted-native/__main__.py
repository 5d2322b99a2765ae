"""The native twin of `interrupted`: the same connectors, as `mistral:index:Connector` (pulumi_mistral.native).

`interrupted:named` named connectors and `interrupted:auto` auto-named ones, each created by a POST and a PATCH
(connection_config); `interrupted:description` changes them all at once; `interrupted:token` (secret) is a
header. With `interrupted:providerKey` (secret) every connector goes through an explicit provider on that key
(`interrupted:providerUrl`), in another workspace than the stack config's `mistral:apiKey`.
"""

import pulumi

from pulumi_mistral.native import Connector, Provider

config = pulumi.Config("interrupted")
description = config.get("description") or "Interrupted deployments"
token = config.get_secret("token")
headers = {"X-Token": token} if token is not None else None
provider_key = config.get_secret("providerKey")
opts = None
if provider_key is not None:
    workspace = Provider("workspace", api_key=provider_key, server_url=config.require("providerUrl"))
    opts = pulumi.ResourceOptions(provider=workspace)

for i in range(config.get_int("named") or 0):
    Connector(
        f"named-{i}",
        name=f"named-{i}",
        description=description,
        server="https://mcp.example.com/mcp",
        headers=headers,
        connection_config={"index": i},
        opts=opts,
    )
for i in range(config.get_int("auto") or 0):
    Connector(
        f"auto-{i}",
        description=description,
        server="https://mcp.example.com/mcp",
        headers=headers,
        connection_config={"index": i},
        opts=opts,
    )
