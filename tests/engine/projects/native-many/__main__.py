"""The many project on the native door: `many:count` connectors (default 2), even ones named `many-<i>`, odd ones
auto-named; the same config keys as the dynamic project (`visibility`, `named_visibility`, `auto_visibility`,
`adopt`, `name`, `server`)."""

import pulumi

from pulumi_mistral import native as mistral

config = pulumi.Config("many")
count = config.get_int("count")
count = 2 if count is None else count
server = config.get("server") or "https://mcp.example.com/mcp"
default = config.get("visibility") or "private"

connectors = []
for i in range(count):
    named = i % 2 == 0
    kind = "named" if named else "auto"
    connectors.append(
        mistral.Connector(
            f"many-{i}",
            name=config.get("name") or (f"many-{i}" if named else None),
            description=f"Connector {i} of {count}",
            server=server,
            visibility=config.get(f"{kind}_visibility") or default,
            adopt=config.get_bool("adopt") if named else None,
        )
    )

pulumi.export("ids", [c.connector_id for c in connectors])
pulumi.export("names", [c.name for c in connectors])
