"""The same connectors.yaml for every stack: declare_connectors applies the current stack's overrides."""

import pulumi

import pulumi_mistral

environment = pulumi.Config().require("environment")

# stack defaults to pulumi.get_stack(): the `stacks.<stack>` block and connectors.<stack>.yaml apply.
connectors = pulumi_mistral.declare_connectors("connectors.yaml")

pulumi.export("environment", environment)
pulumi.export("connectors", {name: c.server for name, c in connectors.items()})
pulumi.export("visibility", {name: c.visibility for name, c in connectors.items()})
