"""Reads an existing connector three ways: `Connector.get` (by id), `get_connector` (by name) and
`get_connector_tools` (by id); `read:id` and `read:name` come from stack config."""

import pulumi

from pulumi_mistral import native as mistral

config = pulumi.Config("read")
connector_id = config.require("id")

got = mistral.Connector.get("got", connector_id)
found = mistral.get_connector_output(name=config.require("name"))
tools = mistral.get_connector_tools_output(id=connector_id)

pulumi.export("got_name", got.name)
pulumi.export("got_description", got.description)
pulumi.export("got_headers", got.headers)
pulumi.export("found_id", found.connector_id)
pulumi.export("found_headers", found.headers)
pulumi.export("found_connection_secrets", found.connection_secrets)
pulumi.export("found_connection_config", found.connection_config)
pulumi.export("tool_names", tools.tool_names)
pulumi.export("tools", tools.tools)
pulumi.export("tools_fingerprint", tools.tools_fingerprint)

# The plain form of a function: plain values, so secretness is lost (a test pins it; programs use the output form).
plain = mistral.get_connector(name=config.require("name"))
pulumi.export("plain_headers", plain.headers)
