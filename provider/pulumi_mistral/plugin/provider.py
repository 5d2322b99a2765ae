"""MistralProvider: the native door, a thin adapter of ``pulumi.provider.experimental`` over the shared lifecycle.

Each method translates the engine's request into plain values (:mod:`.values`), runs the lifecycle in a worker
thread (the servicer's handlers share one event loop: blocking there would serialise every call) and answers in
the engine's terms. What the native protocol asks beyond the dynamic door's:

* Create and Update are called in a preview too (``preview=True``): they send nothing and answer unknowns.
* Read serves a refresh (the recorded outputs come with it), and an import or a get (nothing comes with it):
  then a missing connector is an error, never "gone" (the engine would record a ghost), and the inputs it
  answers leave the secret properties out (the engine prints them as program code).
* Diff answers a detailed diff: every changed property, secrets included, and an info line saying why a
  replacement replaces.
* Check draws an auto name from the engine's random seed (the preview shows the name ``up`` creates) or takes
  the engine's autonaming proposal.
* Two functions read what the stack does not manage: ``getConnector`` and ``getConnectorTools``.
* A connector migrated from the dynamic door (the program aliases the old type) keeps its connector: Diff
  asks for one update that sends nothing and rewrites the state in this door's shape (docs/native.md).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from pulumi_mistral.core import fingerprint, spec
from pulumi_mistral.errors import MistralError
from pulumi_mistral.lifecycle import (
    OUTPUT_ONLY_FIELDS,
    TOOL_OUTPUT_FIELDS,
    ConnectorLifecycle,
    ProcessState,
    settings_from_config,
)
from pulumi_mistral.lifecycle.state import CONFIG_KEY_SOURCE
from pulumi_mistral.lifecycle.tools import tracking
from pulumi_mistral.plugin import values
from pulumi_mistral.plugin.server import AUTONAMING, PROVIDER_NAME, EngineLog

__all__ = ["CONNECTOR", "GET_CONNECTOR", "GET_CONNECTOR_TOOLS", "MistralProvider"]

CONNECTOR = "mistral:index:Connector"
GET_CONNECTOR = "mistral:index:getConnector"
GET_CONNECTOR_TOOLS = "mistral:index:getConnectorTools"
_CONFIG_PREFIX = "mistral:config:"
# What the dynamic door keeps in every state; seen here only in the state of a connector migrated from there.
DYNAMIC_PROVIDER_KEY = "__provider"
_T = TypeVar("_T")
# The resource a call is about: its warnings and infos are attached to it.
_URN: contextvars.ContextVar[str] = contextvars.ContextVar("urn", default="")
_KINDS = {
    ("add", False): p.PropertyDiffKind.ADD,
    ("add", True): p.PropertyDiffKind.ADD_REPLACE,
    ("delete", False): p.PropertyDiffKind.DELETE,
    ("delete", True): p.PropertyDiffKind.DELETE_REPLACE,
    ("update", False): p.PropertyDiffKind.UPDATE,
    ("update", True): p.PropertyDiffKind.UPDATE_REPLACE,
}


def _secret(plain: Mapping[str, Any]) -> dict[str, PropertyValue]:
    return values.to_values(plain, secret=spec.SECRET_FIELDS)


class MistralProvider(p.Provider):
    """The ``mistral`` provider: one process per provider resource (the default one, or each explicit one)."""

    def __init__(self, log: EngineLog | None = None) -> None:
        self.log = log or EngineLog("")
        self.state = ProcessState(warn=lambda text: self.log("warning", text, _URN.get()))
        self.life = ConnectorLifecycle(self.state, is_unknown=values.is_unknown)
        # The engine's proposed name for each auto-named resource (its autonaming config), from its last Check:
        # a replacement is checked anew and takes it, so Diff can tell when the name stays (delete first).
        self._proposed: dict[str, str] = {}

    async def _run(self, urn: str, step: Callable[..., _T], *args: Any) -> _T:
        """``step(*args)`` in a worker thread, its diagnostics attached to ``urn``."""
        _URN.set(urn)
        return await asyncio.to_thread(step, *args)

    # -- the package and its configuration -------------------------------------------------------------------

    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        from pulumi_mistral.provider import schema_gen

        return p.GetSchemaResponse(schema=schema_gen.render())

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        """A bad ``timeout`` or ``maxAttempts`` is a failure here, before any connector is touched."""
        try:
            settings_from_config(_config_view(request.new_inputs), os.environ)
        except MistralError as exc:
            return p.CheckResponse(inputs=request.new_inputs, failures=[p.CheckFailure("", exc.message)])
        return p.CheckResponse(inputs=request.new_inputs)

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        view = {
            f"mistral:{k[len(_CONFIG_PREFIX) :]}": v
            for k, v in request.variables.items()
            if k.startswith(_CONFIG_PREFIX)
        }
        settings = settings_from_config(view, os.environ)
        provider = PROVIDER_NAME.get()
        if settings.api_key_source == CONFIG_KEY_SOURCE and provider and not provider.startswith("default"):
            settings = dataclasses.replace(settings, api_key_source=f"the apiKey of provider '{provider}'")
        self.state.configure(settings)
        return p.ConfigureResponse(
            accept_secrets=True, supports_preview=True, accept_resources=True, accept_outputs=False
        )

    # -- the connector's lifecycle -----------------------------------------------------------------------------

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        news = values.from_values(request.new_inputs)
        autonaming = AUTONAMING.get()
        if news.get("name") is None:
            news["name_prefix"] = request.name  # an auto name starts with the resource's name
            if autonaming is not None:
                self._proposed[request.urn] = autonaming.proposed_name
        checked = self.life.check(
            values.from_values(request.old_inputs), news, random_seed=request.random_seed or None, autonaming=autonaming
        )
        failures = [p.CheckFailure(_property_path(f.property), f.reason) for f in checked.failures]
        return p.CheckResponse(inputs=_secret(checked.inputs), failures=failures)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        old, new = values.from_values(request.old_state), values.from_values(request.new_inputs)
        if tracking(new) or tracking(old):
            plan = await self._run(request.urn, self.life.diff, request.resource_id, old, new)
        else:  # no tool tracking: a pure comparison, cheaper here than a hop to a worker thread and back
            _URN.set(request.urn)
            plan = self.life.diff(request.resource_id, old, new)
        if DYNAMIC_PROVIDER_KEY in old and not plan.changed:
            # A connector moved here from the dynamic door (an alias of its old type): its state is in the
            # dynamic shape. An update that sends nothing rewrites it in this door's shape.
            return p.DiffResponse(
                changes=True,
                diffs=[DYNAMIC_PROVIDER_KEY],
                detailed_diff={DYNAMIC_PROVIDER_KEY: p.PropertyDiff(p.PropertyDiffKind.DELETE, input_diff=False)},
            )
        proposed = self._proposed.get(request.urn) if new.get("name_prefix") else None
        # Under the stack's autonaming config the replacement takes the engine's proposal: when that is the
        # current name (no random part, e.g. `verbatim`), the old connector must go first.
        delete_first = plan.delete_before_replace or bool(plan.replaces and proposed == old.get("name"))
        for change in plan.changes:
            if change.replace:
                self.log(
                    "info",
                    f"{change.reason}, so the connector is replaced ({_order(delete_first, proposed)})",
                    request.urn,
                )
        return p.DiffResponse(
            changes=plan.changed,
            replaces=[values.camel(c) for c in plan.replaces],
            delete_before_replace=delete_first,
            diffs=[values.camel(c) for c in plan.properties],
            detailed_diff={
                values.camel(c.property): p.PropertyDiff(_KINDS[(c.kind, c.replace)], input_diff=True)
                for c in plan.changes
            },
        )

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        inputs = values.from_values(request.properties)
        if request.preview:
            return p.CreateResponse(properties=_secret({**inputs, **_unknown_outputs(inputs)}))
        created = await self._run(request.urn, self.life.create, inputs)
        return p.CreateResponse(resource_id=created.connector_id, properties=_secret(created.outputs))

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        previous = values.from_values(request.properties) or None
        found = await self._run(request.urn, self.life.read, request.resource_id, previous)
        if found is None:
            return p.ReadResponse()  # gone: a refresh forgets it
        inputs = found.inputs if previous else found.inputs_without_secrets()
        return p.ReadResponse(resource_id=found.connector_id, properties=_secret(found.outputs), inputs=_secret(inputs))

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        old, new = values.from_values(request.olds), values.from_values(request.news)
        if request.preview:
            # The planned outputs: the new inputs (an input the program dropped is gone), the API's own fields
            # as recorded, and what the update will change as unknown.
            kept = {k: old[k] for k in OUTPUT_ONLY_FIELDS if k in old}
            unknown = {k: values.UNKNOWN for k in ("modified_at", *_tracked_outputs(new))}
            return p.UpdateResponse(properties=_secret({**kept, **new, **unknown}))
        outputs = await self._run(request.urn, self.life.update, request.resource_id, old, new)
        return p.UpdateResponse(properties=_secret(outputs))

    async def delete(self, request: p.DeleteRequest) -> None:
        await self._run(request.urn, self.life.delete, request.resource_id)

    # -- functions ---------------------------------------------------------------------------------------------

    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        args = values.from_values(request.args)
        given = [k for k in ("id", "name") if isinstance(args.get(k), str) and args[k]]
        if request.tok not in (GET_CONNECTOR, GET_CONNECTOR_TOOLS):
            raise MistralError(
                f"unknown function {request.tok}: this provider has {GET_CONNECTOR} and {GET_CONNECTOR_TOOLS}"
            )
        if len(given) != 1:
            return p.InvokeResponse(failures=[p.CheckFailure("id", "give exactly one of id and name")])
        found = await self._run("", self.life.read, args[given[0]], None)
        assert found is not None  # without recorded outputs, a missing connector raises instead
        if request.tok == GET_CONNECTOR:
            shown = {k: v for k, v in found.outputs.items() if k not in spec.CONTROL_FIELDS}
            return p.InvokeResponse(return_value=_secret(shown))
        tools = await asyncio.to_thread(_live_tools, self.state, found.connector_id)
        outs = fingerprint.tool_outputs(tools)
        return p.InvokeResponse(
            return_value=values.to_values(
                {
                    "connector_id": found.connector_id,
                    "name": found.outputs.get("name"),
                    "tool_names": [t["name"] for t in tools],
                    **outs,
                    "tool_definitions": [fingerprint.tool_definition(t) for t in tools],
                }
            )
        )


def _order(delete_first: bool, proposed: str | None) -> str:
    """How a replacement goes, as the info line of a Diff says it."""
    if delete_first:
        return "the old one is deleted first: the name stays and names are unique"
    if proposed is not None:  # the engine forces delete-first for names with no random part, and does not say
        return (
            "the stack's autonaming config names the new one: it is created first when that name has a random "
            "part, else the old one is deleted first"
        )
    return "the new one, with a new name, is created first"


def _config_view(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """Provider inputs (``apiKey``, ``timeout``...) as the settings read stack config (``mistral:apiKey``)."""
    return {f"mistral:{k}": v for k, v in values.from_values(props, rename=False).items()}


def _property_path(name: str) -> str:
    """A failure's property path in the schema's names (``auth_data.client_id`` -> ``authData.clientId``)."""
    return ".".join(values.camel(part) for part in name.split(".")) if name else ""


def _tracked_outputs(inputs: Mapping[str, Any]) -> tuple[str, ...]:
    return TOOL_OUTPUT_FIELDS if tracking(inputs) else ()


def _unknown_outputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What a preview of a create cannot know: the API-computed outputs (and the tools, when tracked)."""
    return dict.fromkeys((*OUTPUT_ONLY_FIELDS, *_tracked_outputs(inputs)), values.UNKNOWN)


def _live_tools(state: ProcessState, connector_id: str) -> list[dict[str, Any]]:
    """The connector's live tools, fresh from its MCP server, as wire dicts (every page)."""
    return [dict(fingerprint.as_tool_dict(t)) for t in state.client().iter_tools(connector_id, refresh=True)]
