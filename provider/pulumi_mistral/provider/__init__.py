"""ConnectorProvider: the Pulumi dynamic provider for Mistral connectors (thin glue over the client and the pure core).

The Pulumi engine pickles the provider object into the state of every resource (``__provider``) and unpickles
it in a separate ``python -m pulumi.dynamic`` process. So the object holds nothing: no key, no client, no
socket. The API key and server URL arrive through :meth:`ConnectorProvider.configure` (stack config
``mistral:apiKey`` / ``mistral:serverUrl``, else ``MISTRAL_API_KEY`` / ``MISTRAL_SERVER_URL``) and live in a
module-level, per-process cache that is never pickled (:mod:`.settings`). Every state holds a by-reference
pickle of ``pulumi_mistral.provider.ConnectorProvider``: the class must stay defined in this module.

Wire facts this module relies on (see the dynamic-provider notes): secrets arrive stripped, numbers arrive
as floats, values unknown during preview arrive as ``pulumi.output.Unknown``; ``diff`` gets the old OUTPUTS;
``read`` must return ``ReadResult(None, {})`` when the connector is gone.

Tool tracking (opt-in per connector: on when ``tool_pins`` or ``tool_drift`` is set) lists the connector's
live MCP tools in create, read, update and diff (one extra request each), outputs their fingerprints
(``tools``, ``tools_fingerprint``) and applies the ``tool_drift`` policy; see :mod:`.tools`.
Without it nothing here lists tools, so request counts are those of a plain connector.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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

from pulumi_mistral.core import diff as _diff
from pulumi_mistral.core import spec
from pulumi_mistral.errors import ConflictError, MistralError, NotFoundError, ToolDriftError
from pulumi_mistral.provider.failures import provider_error
from pulumi_mistral.provider.listing import LISTING
from pulumi_mistral.provider.outputs import (
    CREATE_FIELDS,
    OUTPUT_ONLY_FIELDS,
    connector_dict,
    connector_outputs,
    contains_unknown,
    drift_line,
    inputs_from_outputs,
    is_unknown,
    mark_secret,
    matches,
    plain_props,
)
from pulumi_mistral.provider.settings import Settings, process_client, set_settings, settings_from_config
from pulumi_mistral.provider.tools import (
    CONNECTION_FIELDS,
    READS,
    TOOL_OUTPUT_FIELDS,
    TOOLS,
    assess_tools,
    differs_from_pins,
    is_refresh_diff,
    live_tools_under_policy,
    outputs_digest,
    pins_of,
    policy_of,
    previous_tool_outputs,
    subject_of,
    tool_changes_line,
    tool_outputs,
    tracking,
    warn,
)

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = [
    "OUTPUT_ONLY_FIELDS",
    "TOOL_OUTPUT_FIELDS",
    "ConnectorProvider",
    "Settings",
    "ToolDriftError",
    "reset_process_state",
    "settings_from_config",
]

_PATCH_AFTER_CREATE: tuple[str, ...] = ("connection_config", "connection_secrets")
# After an ambiguous create failure the connector may become visible a little later: look it up a few times.
_RECOVERY_LOOKUPS = 4
_RECOVERY_DELAY_S = 0.25


def reset_process_state() -> None:
    """Forget the configured key, the client, the listing cache and the recent reads (tests and benchmarks)."""
    set_settings(Settings())
    LISTING.reset()
    TOOLS.clear()
    READS.clear()


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
        set_settings(settings_from_config(req.config, os.environ))
        LISTING.invalidate()  # a snapshot made with other settings must not answer a read

    # -- check: validation and defaults, no HTTP ---------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = plain_props(news)
        olds = plain_props(olds)
        failures = spec.validate_inputs(news, is_unknown=is_unknown)
        if failures:
            return CheckResult(news, [CheckFailure(f.property, f.reason) for f in failures])
        inputs = spec.normalize_inputs(news)
        if inputs.get("visibility") is None and isinstance(olds.get("visibility"), str):
            # Unset, visibility is not managed (the server picks it). A refresh records the live value in the
            # inputs; keeping it here stops the engine's input diff from showing it as removed on every update.
            inputs["visibility"] = olds["visibility"]
        prefix = inputs.get("name_prefix")
        if inputs.get("name") is None and isinstance(prefix, str) and not is_unknown(prefix):
            old_name = olds.get("name")
            keep = (
                olds.get("name_prefix") == prefix
                and isinstance(old_name, str)
                and spec.is_auto_name(old_name, prefix)
            )
            inputs["name"] = old_name if keep else spec.auto_name(prefix)
        return CheckResult(inputs, [])

    # -- diff: new inputs against the old OUTPUTS, never __provider ----------------------------------------------

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old_outs = plain_props(olds)
        new_ins = plain_props(news)
        unknown = sorted(k for k, v in new_ins.items() if contains_unknown(v))
        known = {k: v for k, v in new_ins.items() if k not in unknown}
        name_is_auto = new_ins.get("name_prefix") is not None
        planned = _diff.plan(old_outs, new_ins, name_is_auto=name_is_auto, unknown=unknown)
        changes = set(planned.changes)
        # Control fields change only our outputs: still an update so the state records them.
        for key in ("adopt", "name_prefix"):
            if key not in unknown and old_outs.get(key) != known.get(key):
                changes.add(key)
        tools_known = tracking(new_ins) and not {"tool_pins", "tool_drift"} & set(unknown)
        if tools_known and _id and self._tools_drifted(_id, old_outs, known, changes | set(unknown),
                                                       is_refresh_diff(_id, old_outs)):
            changes.add("tool_pins")
        if not changes:
            return DiffResult(changes=False, replaces=[], delete_before_replace=False)
        return DiffResult(
            changes=True, replaces=planned.replaces, delete_before_replace=planned.delete_before_replace
        )

    # -- create: transactional, recovers from ambiguous failures, adopts on request ------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = spec.normalize_inputs(plain_props(props))
        name = inputs["name"]
        client = process_client()
        LISTING.invalidate()
        adopted = False
        connector: Any = None
        if inputs.get("adopt"):
            try:
                connector = client.get(name, fetch_connection_secrets=True)
                adopted = True
            except NotFoundError:
                connector = None
        connector = self._create_new(client, inputs) if connector is None else self._adopt(client, connector, inputs)
        patch = {k: inputs[k] for k in _PATCH_AFTER_CREATE if inputs.get(k) is not None} if not adopted else {}
        if patch:
            try:
                connector = client.update(connector.id, **patch)
            except MistralError as exc:
                # Transactional create: leave nothing half-made behind.
                with contextlib.suppress(MistralError):
                    client.delete(connector.id)
                raise provider_error(
                    f"connector '{name}' was created but setting {', '.join(sorted(patch))} failed "
                    f"({exc.message}); it was deleted again, so nothing was left behind: fix the cause and "
                    "run the update again",
                    exc,
                ) from exc
        LISTING.invalidate()
        outs = connector_outputs(connector, inputs)
        if tracking(inputs):
            outs.update(self._create_tools(client, connector.id, inputs, adopted))
        return CreateResult(connector.id, outs)

    def _create_tools(
        self, client: ConnectorsClient, connector_id: str, inputs: Mapping[str, Any], adopted: bool
    ) -> dict[str, Any]:
        """List the new connector's tools and apply the policy; under block a mismatch undoes the create."""
        subject = subject_of(inputs, connector_id)
        policy = policy_of(inputs)

        def undo() -> None:  # a create that fails its tool check leaves nothing behind (an adopted one stays)
            if not adopted:
                with contextlib.suppress(MistralError):
                    client.delete(connector_id)
                LISTING.invalidate()

        undone = "" if adopted else "; the new connector was deleted again, so nothing was left behind"
        live = live_tools_under_policy(
            connector_id, subject, policy, warning="; no tool fingerprints recorded",
            block=f", and tool_drift=block does not deploy tools it cannot verify{undone}", before_block=undo,
        )
        if live is None:
            return {}
        outcome = assess_tools(live, inputs, {}, subject)
        if outcome.blocked:
            undo()
            extra = "" if adopted else "\n(The connector created for this check was deleted again.)"
            raise ToolDriftError(outcome.message + extra)
        if outcome.level == "warn":
            warn(tool_changes_line(outcome, subject))
        return tool_outputs(live, inputs, None)

    def _create_new(self, client: ConnectorsClient, inputs: Mapping[str, Any]) -> Any:
        from pulumi_mistral.client import UNSET

        # name, description and server are always set once check() has passed; the other fields may be absent.
        name, description, server = inputs["name"], inputs["description"], inputs["server"]
        optional = {k: (inputs[k] if inputs.get(k) is not None else UNSET) for k in CREATE_FIELDS
                    if k not in ("name", "description", "server")}
        for attempt in range(2):  # a second POST only when the first certainly did not land
            try:
                return client.create(name=name, description=description, server=server, **optional)
            except ConflictError as exc:
                # The name is taken. A connector that is exactly what this stack declares is our own earlier
                # create whose answer was lost (in this run, or in an earlier one whose look-ups failed too):
                # recover it. Anything else belongs to someone else: taking it over needs adopt=True.
                found, taken = self._find_ours(client, inputs)
                if found is not None:
                    return found
                if not taken:
                    raise provider_error(
                        f"a connector named '{name}' exists (409) but looking it up to see whether it is this "
                        "stack's own failed; run the deployment again",
                        exc,
                    ) from exc
                raise provider_error(
                    f"a connector named '{name}' already exists in this workspace with other settings; to take it "
                    "over and manage it from this stack set adopt=True, otherwise choose another name (or omit "
                    "name to get a unique auto-generated one)",
                    exc,
                ) from exc
            except MistralError as exc:
                if not getattr(exc, "may_have_landed", False):
                    raise
                found, taken = self._find_ours(client, inputs)
                if found is not None:
                    return found
                if taken:
                    raise provider_error(
                        f"creating connector '{name}' failed ambiguously and a connector with that name but "
                        "different settings exists; set adopt=True to take it over, or choose another name",
                        exc,
                    ) from exc
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_ours(self, client: ConnectorsClient, inputs: Mapping[str, Any]) -> tuple[Any, bool]:
        """After a create whose outcome is unknown, or a 409: ``(connector, taken)``.

        ``connector`` is the one holding the name when it carries exactly what we send (it is ours), else None;
        ``taken`` says a connector with other settings holds the name. A few bounded look-ups ride out a
        server that is still failing.
        """
        name = inputs["name"]
        for i in range(_RECOVERY_LOOKUPS):
            try:
                found = client.get(name, fetch_connection_secrets=True)
            except NotFoundError:
                found = None
            except MistralError:
                found = None  # the server is still unwell: try again after a pause
            if found is not None:
                return (found, False) if matches(found, inputs) else (None, True)
            time.sleep(_RECOVERY_DELAY_S * (i + 1))
        return None, False

    def _adopt(self, client: ConnectorsClient, connector: Any, inputs: Mapping[str, Any]) -> Any:
        live = _diff.live_state(connector_dict(connector), None)
        wanted_vis = inputs.get("visibility")
        if wanted_vis is not None and live.get("visibility") not in (None, wanted_vis):
            raise provider_error(
                f"cannot adopt connector '{inputs['name']}': its visibility is '{live.get('visibility')}' but "
                f"'{wanted_vis}' is declared, and visibility cannot be changed in place; declare "
                f"visibility='{live.get('visibility')}' or delete the existing connector first"
            )
        payload = _diff.update_payload(live, inputs)
        return client.update(connector.id, **payload) if payload else connector

    # -- read: refresh; a gone connector is ReadResult(None, {}) --------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        previous = plain_props(props)
        data = LISTING.lookup(id_)
        if data is None:
            try:
                data = connector_dict(process_client().get(id_, fetch_connection_secrets=True))
            except NotFoundError:
                return ReadResult(None, {})
        outs = connector_outputs(data, previous)
        drifted = set(_diff.changed_fields(previous, plain_props(outs))) - set(_diff.STATE_ONLY_FIELDS)
        if drifted and previous.get("connector_id"):  # a refresh: the props are the recorded outputs
            # Named here, in Read: the CLI's diff shows every secret as [secret], changed or not, and a line
            # written during the refresh's Diff comes too late for the CLI's summary.
            warn(drift_line(subject_of(previous, id_), drifted))
        if tracking(previous):
            outs.update(self._read_tools(data["id"], previous))
            READS.put(data["id"], outputs_digest(outs))
        return ReadResult(data["id"], outs, inputs_from_outputs(outs))

    def _read_tools(self, connector_id: str, previous: Mapping[str, Any]) -> dict[str, Any]:
        """Fresh tool outputs for a refresh. Never raises: a refresh records, it does not enforce."""
        subject = subject_of(previous, connector_id)
        policy = policy_of(previous)
        live = live_tools_under_policy(
            connector_id, subject, policy, warning="; the recorded tool fingerprints were kept"
        )
        if live is None:
            # The server may just be down: keep what was recorded rather than report every tool as removed.
            return previous_tool_outputs(previous)
        outs = tool_outputs(live, previous, previous)
        TOOLS.put(connector_id, live)
        outcome = assess_tools(live, previous, previous, subject)
        if outcome.level in ("warn", "block"):
            suffix = " (tool_drift=block: the next up will fail)" if outcome.blocked else ""
            warn(tool_changes_line(outcome, subject) + suffix)
        return outs

    def _tools_drifted(
        self, connector_id: str, old_outs: Mapping[str, Any], news: Mapping[str, Any], changing: set[str],
        refresh: bool,
    ) -> bool:
        """Diff's tool check: True when the live tools differ from the pins (shown as a change of tool_pins).

        Raises under ``tool_drift=block`` (the engine is still planning, so nothing has changed), including
        when the tools cannot be listed (fail closed). Skipped when the update changes the connection (server,
        headers, auth...): the tools of the new connection are checked by ``update`` right after the PATCH.
        """
        subject = subject_of(news, connector_id)
        policy = policy_of(news)
        pins = pins_of(news)
        if refresh:
            # The refresh's own Diff: the old outputs ARE the fresh read; report drift, never fail or repeat.
            return differs_from_pins(old_outs.get("tools"), pins)
        if changing & CONNECTION_FIELDS:
            return False
        live = TOOLS.get(connector_id)
        warned = live is not None  # this process's Read listed (and warned about) them moments ago
        if live is None:
            live = live_tools_under_policy(
                connector_id, subject, policy, warning="; compared the recorded tools with the pins instead",
                block=", so they cannot be verified against the pins: tool_drift=block fails closed and nothing "
                      "was changed; retry when the MCP server is reachable",
            )
            if live is None:
                return differs_from_pins(old_outs.get("tools"), pins)
        outcome = assess_tools(live, news, old_outs, subject, policy=policy)
        if outcome.blocked:
            raise ToolDriftError(outcome.message)
        if outcome.level == "warn" and not warned:
            warn(tool_changes_line(outcome, subject))
        # Without pins the recorded tools are the baseline: a change is recorded by the next update.
        return bool(outcome.changes)

    # -- update: PATCH only what changed, return the full outputs ---------------------------------------------------

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old_outs = plain_props(olds)
        inputs = spec.normalize_inputs(plain_props(news))
        payload = _diff.update_payload(old_outs, inputs)
        tracked = tracking(inputs)
        # Same connection, same tools: check them BEFORE the PATCH, so block changes nothing. Otherwise the tools
        # of the new connection are checked after it.
        checked_before = tracked and not set(payload) & CONNECTION_FIELDS
        live = self._update_tools(id_, inputs, old_outs, patched=False) if checked_before else None
        if not payload:  # only control fields changed: nothing to send
            merged = {**old_outs, **inputs}
            outs = {k: v for k, v in merged.items() if k in spec.ALL_FIELDS or k in OUTPUT_ONLY_FIELDS}
            for key in spec.CONTROL_FIELDS:
                if key not in inputs:
                    outs.pop(key, None)
            outs = {k: mark_secret(v) if k in spec.SECRET_FIELDS else v for k, v in outs.items()}
        else:
            LISTING.invalidate()
            TOOLS.forget(id_)
            READS.forget(id_)
            try:
                connector = process_client().update(id_, **payload)
            except NotFoundError as exc:
                raise provider_error(
                    f"connector '{inputs.get('name')}' ({id_}) no longer exists; run a refresh so the stack "
                    "forgets it, then deploy again to recreate it",
                    exc,
                ) from exc
            finally:
                LISTING.invalidate()
            outs = connector_outputs(connector, inputs)
        if tracked:
            if not checked_before:
                live = self._update_tools(id_, inputs, old_outs, patched=True)
            outs.update(tool_outputs(live, inputs, old_outs) if live is not None else previous_tool_outputs(old_outs))
        return UpdateResult(outs)

    def _update_tools(
        self, connector_id: str, inputs: Mapping[str, Any], old_outs: Mapping[str, Any], *, patched: bool
    ) -> list[dict[str, Any]] | None:
        """The live tools for an update, after the policy had its say (None: they could not be listed)."""
        subject = subject_of(inputs, connector_id)
        policy = policy_of(inputs)
        landed = (" The settings change was applied (the connection changed, so the tools could only be "
                  "checked afterwards); the state keeps the previous outputs, so the next up checks again."
                  if patched else "")
        live = live_tools_under_policy(
            connector_id, subject, policy, warning="; the recorded tool fingerprints were kept",
            block=", so they cannot be verified against the pins: tool_drift=block fails closed."
                  f"{landed or ' Nothing was changed.'}",
        )
        if live is None:
            return None
        outcome = assess_tools(live, inputs, old_outs, subject, policy=policy)
        if outcome.blocked:
            if not patched:
                raise ToolDriftError(outcome.message)
            raise ToolDriftError(outcome.message.replace("Nothing was changed. ", "") + f"\n{landed.strip()}")
        if outcome.level == "warn" and patched:  # otherwise this operation's Diff has just warned
            warn(tool_changes_line(outcome, subject))
        return live

    # -- delete: 404 counts as done ----------------------------------------------------------------------------------

    def delete(self, id_: str, _props_: dict[str, Any]) -> None:
        LISTING.invalidate()
        TOOLS.forget(id_)
        READS.forget(id_)
        try:
            process_client().delete(id_)
        except NotFoundError:
            pass
        finally:
            LISTING.invalidate()
