"""ConnectorProvider: the Pulumi dynamic provider for Mistral connectors, a thin adapter over the shared lifecycle.

The engine pickles the provider object into the state of every resource (``__provider``) and unpickles it in
a separate ``python -m pulumi.dynamic`` process. So the object holds nothing: no key, no client, no socket.
What the process keeps between calls (settings, client, caches) is :data:`PROCESS`, handed to the lifecycle
(:mod:`pulumi_mistral.lifecycle`), which does the work on plain values. Every state holds a by-reference
pickle of ``pulumi_mistral.provider.ConnectorProvider``: the class must stay defined in this module.

This adapter translates the dynamic protocol (see the dynamic-provider notes): ``__provider`` and secret markers
stripped on the way in, values unknown during preview recognised as ``pulumi.output.Unknown`` or its wire
string, secret outputs wire-marked on the way out, ``ReadResult(None, {})`` for a gone connector. Importing it
in the provider process makes the servicer report our errors as their one-line message (:mod:`.servicer`).
"""

from __future__ import annotations

import os
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from pulumi_mistral.errors import ToolDriftError
from pulumi_mistral.lifecycle import (
    OUTPUT_ONLY_FIELDS,
    TOOL_OUTPUT_FIELDS,
    ConnectorLifecycle,
    ProcessState,
    Settings,
    settings_from_config,
)
from pulumi_mistral.provider import servicer, wire

__all__ = [
    "LIFECYCLE",
    "OUTPUT_ONLY_FIELDS",
    "PROCESS",
    "TOOL_OUTPUT_FIELDS",
    "ConnectorProvider",
    "Settings",
    "ToolDriftError",
    "reset_process_state",
    "settings_from_config",
]

# The one process state of the dynamic door (the provider object is pickled, so it cannot hold it).
PROCESS = ProcessState()
LIFECYCLE = ConnectorLifecycle(PROCESS, is_unknown=wire.is_unknown)

servicer.install_in_provider_process()


def reset_process_state() -> None:
    """Forget the configured key, the client, the listing cache and the recent reads (tests and benchmarks)."""
    PROCESS.reset()


class ConnectorProvider(ResourceProvider):
    """Pulumi dynamic provider for Mistral connectors; used by :class:`pulumi_mistral.Connector`.

    It holds no state, so its pickle is a tiny by-reference record. Usable directly (tests, tools)::

        p = ConnectorProvider()
        p.configure(ConfigureRequest(Config({"mistral:apiKey": key, "mistral:serverUrl": url}, "proj")))
        checked = p.check({}, {"description": "Docs", "server": "https://mcp.example.com/mcp", "name": "docs"})
        created = p.create(checked.inputs)
    """

    # The pickle holds no secret (tested), so it need not be encrypted on every resource (pitfall 2).
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        LIFECYCLE.configure(req.config, os.environ)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # The servicer drops the engine's random seed: auto names are drawn at random here.
        checked = LIFECYCLE.check(wire.plain_props(olds), wire.plain_props(news))
        return CheckResult(checked.inputs, [CheckFailure(f.property, f.reason) for f in checked.failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan = LIFECYCLE.diff(_id, wire.plain_props(olds), wire.plain_props(news))
        return DiffResult(
            changes=plan.changed, replaces=plan.replaces, delete_before_replace=plan.delete_before_replace
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        created = LIFECYCLE.create(wire.plain_props(props))
        return CreateResult(created.connector_id, wire.mark_secrets(created.outputs))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found = LIFECYCLE.read(id_, wire.plain_props(props))
        if found is None:
            return ReadResult(None, {})  # gone: the engine drops it (ReadResult(None) would crash the servicer)
        return ReadResult(found.connector_id, wire.mark_secrets(found.outputs), wire.mark_secrets(found.inputs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(wire.mark_secrets(LIFECYCLE.update(id_, wire.plain_props(olds), wire.plain_props(news))))

    def delete(self, id_: str, _props_: dict[str, Any]) -> None:
        LIFECYCLE.delete(id_)
