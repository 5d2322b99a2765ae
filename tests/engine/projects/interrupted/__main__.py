"""`interrupted:named` named connectors and `interrupted:auto` auto-named ones, for the interruption tests.

Every connector sets connection_config, so its create is a POST and then a PATCH: a kill while the PATCH waits
leaves a connector that exists but that the state records only as a pending create. `interrupted:description`
changes every connector at once (an update); `interrupted:token` (secret) is sent as a header, so telling a
connector apart needs the secret.
"""

import pulumi

from pulumi_mistral import Connector

config = pulumi.Config("interrupted")
description = config.get("description") or "Interrupted deployments"
token = config.get_secret("token")
headers = {"X-Token": token} if token is not None else None

for i in range(config.get_int("named") or 0):
    Connector(
        f"named-{i}",
        name=f"named-{i}",
        description=description,
        server="https://mcp.example.com/mcp",
        headers=headers,
        connection_config={"index": i},
    )
for i in range(config.get_int("auto") or 0):
    Connector(
        f"auto-{i}",
        description=description,
        server="https://mcp.example.com/mcp",
        headers=headers,
        connection_config={"index": i},
    )
