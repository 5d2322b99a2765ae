"""Connectors from stack config (`policy:connectors`, resource name -> Connector arguments): each test its own."""

import json

import pulumi

from pulumi_mistral import Connector

config = pulumi.Config("policy")
made = {resource: Connector(resource, **args) for resource, args in json.loads(config.require("connectors")).items()}
# A computed input: a server known only after another connector exists (unknown during the preview of a create).
if config.get_bool("computed"):
    first = next(iter(made.values()))
    Connector(
        "computed",
        description="Known after the first connector exists",
        visibility="private",
        server=first.connector_id.apply(lambda cid: f"https://{cid}.example.com/mcp"),
    )
