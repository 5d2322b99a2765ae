"""The connectors that CI checks for drift: declared in connectors.yaml, deployed by this stack."""

import pulumi

import pulumi_mistral

connectors = pulumi_mistral.declare_connectors("connectors.yaml")

pulumi.export("connector_ids", {name: c.connector_id for name, c in connectors.items()})
