"""Connector governance as code: pure rules over connector views, their config, and the policy-pack adapter.

``view`` (one snake_case view of a declared or live connector), ``rules`` (the rules, pure), ``config`` (their
parameters, levels and the config file) need nothing beyond the core; ``pack`` turns the rules into a
pulumi_policy pack and needs the ``policy`` extra. ``pulumi-mistral audit`` applies the rules a live connector
can show to a workspace. See docs/policy.md.

    from pulumi_mistral.policy import RULES, declared_view, parse_config

    config = parse_config({"connector-server-host": {"allowedHosts": ["*.example.com"]}})
    view = declared_view("docs", {"server": "http://mcp.example.org/mcp", "description": "Docs"})
    for rule in RULES:
        if rule.scope == "resource" and config[rule.id].level != "disabled":
            print(rule.id, rule.check(view, config[rule.id].params))
"""

from __future__ import annotations

from pulumi_mistral.policy.config import LEVELS, SCHEMAS, RuleConfig, load_config, parse_config
from pulumi_mistral.policy.rules import RULES, RULES_BY_ID, Rule
from pulumi_mistral.policy.view import UNKNOWN, ConnectorView, declared_view, live_view

__all__ = [
    "LEVELS",
    "RULES",
    "RULES_BY_ID",
    "SCHEMAS",
    "UNKNOWN",
    "ConnectorView",
    "Rule",
    "RuleConfig",
    "declared_view",
    "live_view",
    "load_config",
    "parse_config",
]
