"""Every connector declared in connectors.yaml, created (or adopted) by pulumi_mistral.declare_connectors."""

import pulumi

import pulumi_mistral

# Validated as a whole before anything is created: a mistake names its file, line, column and property.
connectors = pulumi_mistral.declare_connectors("connectors.yaml")

pulumi.export("connector_ids", {name: c.connector_id for name, c in connectors.items()})
pulumi.export("connector_names", {name: c.name for name, c in connectors.items()})
