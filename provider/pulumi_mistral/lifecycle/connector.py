"""ConnectorLifecycle: check, diff, create, read, update and delete of one connector, on plain values.

Engine-neutral: no pulumi import. A door (the dynamic provider, the native provider) hands in plain
snake_case dicts (secret markers stripped, ``__provider`` and the like removed, values unknown in a preview
recognised by the ``is_unknown`` predicate it gives), and turns the answers (:mod:`.results`) into its own
engine's terms, marking the secret outputs. Errors are one-line :class:`~pulumi_mistral.errors.MistralError`
subclasses whose words are written here (a tool-drift block lists one tool per line).
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pulumi_mistral.core import diff as _diff
from pulumi_mistral.core import spec
from pulumi_mistral.errors import AuthenticationError, MistralError, NotFoundError
from pulumi_mistral.lifecycle import keys
from pulumi_mistral.lifecycle.create import create_connector, delete_quietly
from pulumi_mistral.lifecycle.outputs import (
    OUTPUT_ONLY_FIELDS,
    connector_dict,
    connector_outputs,
    drift_line,
    inputs_from_outputs,
)
from pulumi_mistral.lifecycle.results import (
    Autonaming,
    Checked,
    Created,
    Plan,
    PropertyChange,
    ReadOutcome,
    is_unknown,
    kind_of,
)
from pulumi_mistral.lifecycle.state import ConfigLike, ProcessState, settings_from_config
from pulumi_mistral.lifecycle.tools import (
    CONNECTION_FIELDS,
    check_tools,
    differs_from_pins,
    is_refresh_diff,
    outputs_digest,
    pins_of,
    previous_tool_outputs,
    subject_of,
    tool_outputs,
    tracking,
)

__all__ = ["ConnectorLifecycle"]

_F = TypeVar("_F", bound=Callable[..., Any])
# Why a property changes, as a detailed diff shows it.
_REASONS = {
    "replace": "{p} cannot be changed in place",
    "unknown": "not known until deployment",
    "control": "changes only this stack's outputs",
    "tools": "the live MCP tools differ from {base}",
}


def _named_key_errors(method: _F) -> _F:
    """A refused API key (401) fails naming where the key came from, not the client's generic words."""

    @functools.wraps(method)
    def wrapper(self: ConnectorLifecycle, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except AuthenticationError as exc:
            named = keys.refused_key(self.state.settings, exc)
            if named is None:
                raise
            raise named from exc

    return wrapper  # type: ignore[return-value]


class ConnectorLifecycle:
    """The lifecycle of a Mistral connector, shared by every door; all process state lives in ``state``.

    Thread-safe (the state guards itself), synchronous (the native door runs it in ``asyncio.to_thread``).
    ``warn`` of the state receives every warning (a refresh's drift line, tool changes under ``warn``).

    Example::

        life = ConnectorLifecycle(ProcessState())
        life.configure({"mistral:apiKey": key, "mistral:serverUrl": url}, os.environ)
        checked = life.check({}, {"description": "Docs", "server": "https://mcp.example.com/mcp", "name": "docs"})
        created = life.create(checked.inputs)
        life.read(created.connector_id, created.outputs)
    """

    def __init__(self, state: ProcessState, *, is_unknown: Callable[[Any], bool] = is_unknown) -> None:
        self.state = state
        self.is_unknown = is_unknown

    def configure(self, config: ConfigLike, environ: Mapping[str, str]) -> None:
        """Stack config (``mistral:apiKey``, ...), else ``environ``; raises a MistralError for a bad value."""
        self.state.configure(settings_from_config(config, environ))

    # -- check: validation and defaults, no HTTP ---------------------------------------------------------------

    def check(
        self,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        random_seed: bytes | None = None,
        autonaming: Autonaming | None = None,
    ) -> Checked:
        """Validate ``news`` (old inputs ``olds``) and fill the defaults. An auto name is derived from
        ``random_seed`` when the engine gives one (a preview then shows the name ``up`` creates), else random."""
        failures = spec.validate_inputs(news, is_unknown=self.is_unknown)
        if failures:
            return Checked(dict(news), [_unshown(f) for f in failures])
        inputs = spec.normalize_inputs(news)
        if inputs.get("visibility") is None and isinstance(olds.get("visibility"), str):
            # Unset, visibility is not managed (the server picks it). A refresh records the live value in the
            # inputs; keeping it here stops the engine's input diff from showing it as removed on every update.
            inputs["visibility"] = olds["visibility"]
        if inputs.get("name") is None:
            name = self._auto_name(olds, inputs, random_seed, autonaming)
            if isinstance(name, spec.Failure):
                return Checked(inputs, [name])
            if name is not None:
                inputs["name"] = name
        return Checked(inputs, [])

    def _auto_name(
        self, olds: Mapping[str, Any], inputs: Mapping[str, Any], seed: bytes | None, autonaming: Autonaming | None
    ) -> str | spec.Failure | None:
        """The name of a connector declared without one: the engine's proposal when it sends autonaming
        options, else ``name_prefix`` (the resource name) plus 7 characters, drawn from ``seed`` when given."""
        old_name = olds.get("name")
        if autonaming is not None:
            if autonaming.mode == "disable":
                return spec.Failure("name", "is required: autonaming is disabled for this stack; fix: set name")
            if isinstance(old_name, str):
                # An existing connector keeps its name, in `enforce` mode too: the engine draws a proposal from each
                # deployment's fresh seed, so taking it would rename the connector on every run. A replacement is
                # checked without old inputs, and gets the proposal.
                return old_name
            problem = spec.name_problem(autonaming.proposed_name)
            if problem:
                return spec.Failure(
                    "name",
                    f"the engine's proposed name {problem}; fix: set name, or change the stack's autonaming pattern",
                )
            return autonaming.proposed_name
        prefix = inputs.get("name_prefix")
        if not isinstance(prefix, str) or self.is_unknown(prefix):
            return None
        if olds.get("name_prefix") == prefix and isinstance(old_name, str) and spec.is_auto_name(old_name, prefix):
            return old_name
        return spec.auto_name(prefix, _seeded(seed, prefix))

    # -- diff: new inputs against the old OUTPUTS (no door gives the old inputs) -------------------------------

    @_named_key_errors
    def diff(self, connector_id: str, old_outputs: Mapping[str, Any], new_inputs: Mapping[str, Any]) -> Plan:
        """What changes. With tool tracking it lists the tools (or reuses a Read's listing) and may raise
        under ``tool_drift=block``: the engine is still planning, so nothing has changed."""
        unknown = sorted(k for k, v in new_inputs.items() if spec.contains(v, self.is_unknown))
        known = {k: v for k, v in new_inputs.items() if k not in unknown}
        planned = _diff.plan(
            old_outputs, new_inputs, name_is_auto=new_inputs.get("name_prefix") is not None, unknown=unknown
        )
        reasons = {p: _REASONS["unknown"] if p in unknown else "" for p in planned.changes}
        for key in ("adopt", "name_prefix"):  # control fields change only our outputs: still an update
            if key not in unknown and old_outputs.get(key) != known.get(key):
                reasons.setdefault(key, _REASONS["control"])
        tools_known = tracking(new_inputs) and not {"tool_pins", "tool_drift"} & set(unknown)
        if (
            tools_known
            and connector_id
            and self._tools_drifted(connector_id, old_outputs, known, set(reasons) | set(unknown))
        ):
            base = "the pins" if pins_of(known) else "the recorded tools"
            reasons.setdefault("tool_pins", _REASONS["tools"].format(base=base))
        changes = tuple(
            PropertyChange(
                p,
                kind_of(old_outputs, new_inputs, p),
                p in planned.replaces,
                _REASONS["replace"].format(p=p) if p in planned.replaces else reason or "changed",
            )
            for p, reason in sorted(reasons.items())
        )
        return Plan(changes, planned.delete_before_replace if changes else False)

    def _tools_drifted(
        self, connector_id: str, old_outs: Mapping[str, Any], news: Mapping[str, Any], changing: set[str]
    ) -> bool:
        """Diff's tool check: True when the live tools differ from the pins (shown as a change of tool_pins).

        The refresh's own Diff (its old outputs ARE the fresh read) reports drift, never fails or repeats. Skipped
        when the update changes the connection: ``update`` checks the new connection's tools after the PATCH.
        """
        if is_refresh_diff(self.state, connector_id, old_outs):
            return differs_from_pins(old_outs.get("tools"), pins_of(news))
        if changing & CONNECTION_FIELDS:
            return False
        _, outcome = check_tools(
            self.state, "diff", connector_id, news, old_outs, listed=self.state.tools.get(connector_id)
        )
        if outcome is None:
            return differs_from_pins(old_outs.get("tools"), pins_of(news))
        # Without pins the recorded tools are the baseline: a change is recorded by the next update.
        return bool(outcome.changes)

    # -- create: transactional, recovers from ambiguous failures, adopts on request ------------------------------

    @_named_key_errors
    def create(self, inputs: Mapping[str, Any]) -> Created:
        """Create (or recover, or adopt) the connector for checked ``inputs``; nothing is left behind on failure."""
        inputs = spec.normalize_inputs(inputs)
        self.state.listing.invalidate()
        connector, adopted = create_connector(self.state, inputs)
        self.state.listing.invalidate()
        outs = connector_outputs(connector, inputs)
        if tracking(inputs):

            def undo() -> None:  # a create that fails its tool check leaves nothing behind (an adopted one stays)
                if not adopted:
                    delete_quietly(self.state, connector.id)

            live, _ = check_tools(self.state, "adopt" if adopted else "create", connector.id, inputs, {}, undo=undo)
            if live is not None:
                outs.update(tool_outputs(live, inputs, None))
        return Created(connector.id, outs)

    # -- read: refresh, import and get -------------------------------------------------------------------------

    @_named_key_errors
    def read(self, connector_id: str, previous: Mapping[str, Any] | None) -> ReadOutcome | None:
        """The live connector. ``previous`` are the recorded outputs (a refresh): a gone connector is None.
        Without them (an import, a get by id) a missing connector raises a one-line NotFoundError."""
        previous = previous or {}
        data = self.state.listing.lookup(connector_id)
        if data is None:
            try:
                data = connector_dict(self.state.client().get(connector_id, fetch_connection_secrets=True))
            except NotFoundError:
                if previous:
                    return None
                raise NotFoundError(
                    f"connector '{connector_id}' not found in this workspace: check the id (the "
                    "connector id, or its name) and the API key's workspace",
                    status_code=404,
                ) from None
        outs = connector_outputs(data, previous)
        drifted = set(_diff.changed_fields(previous, outs)) - set(_diff.STATE_ONLY_FIELDS)
        if drifted and previous.get("connector_id"):  # a refresh: the props are the recorded outputs
            # Named here, in Read: the CLI's diff shows every secret as [secret], changed or not, and a line
            # written during the refresh's Diff comes too late for the CLI's summary.
            self.state.warn(drift_line(subject_of(previous, connector_id), drifted))
        if tracking(previous):
            live, _ = check_tools(self.state, "read", data["id"], previous, previous)
            # The server may just be down: then keep what was recorded rather than report every tool removed.
            outs.update(previous_tool_outputs(previous) if live is None else tool_outputs(live, previous, previous))
            if live is not None:
                self.state.tools.put(data["id"], live)
            self.state.reads.put(data["id"], outputs_digest(outs))
        return ReadOutcome(data["id"], outs, inputs_from_outputs(outs))

    # -- update: PATCH only what changed, return the full outputs ---------------------------------------------

    @_named_key_errors
    def update(
        self, connector_id: str, old_outputs: Mapping[str, Any], new_inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The full new outputs. With tool tracking the tools are checked before the PATCH (same connection:
        block changes nothing) or after it (a new connection: its tools only exist then)."""
        inputs = spec.normalize_inputs(new_inputs)
        payload = _diff.update_payload(old_outputs, inputs)
        tracked = tracking(inputs)
        checked_before = tracked and not set(payload) & CONNECTION_FIELDS
        live = check_tools(self.state, "update", connector_id, inputs, old_outputs)[0] if checked_before else None
        outs = self._patch(connector_id, inputs, payload) if payload else _merged(old_outputs, inputs)
        if tracked:
            if not checked_before:
                live = check_tools(self.state, "update-after-patch", connector_id, inputs, old_outputs)[0]
            outs.update(previous_tool_outputs(old_outputs) if live is None else tool_outputs(live, inputs, old_outputs))
        return outs

    def _patch(self, connector_id: str, inputs: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        self.state.wrote(connector_id)
        try:
            connector = self.state.client().update(connector_id, **payload)
        except NotFoundError as exc:
            raise MistralError(
                f"connector '{inputs.get('name')}' ({connector_id}) no longer exists; run a refresh so the stack "
                "forgets it, then deploy again to recreate it"
            ) from exc
        finally:
            self.state.listing.invalidate()
        return connector_outputs(connector, inputs)

    # -- delete: 404 counts as done ------------------------------------------------------------------------------

    @_named_key_errors
    def delete(self, connector_id: str) -> None:
        self.state.wrote(connector_id)
        try:
            self.state.client().delete(connector_id)
        except NotFoundError:
            pass
        finally:
            self.state.listing.invalidate()


def _merged(old_outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs of an update that sends nothing (only control fields changed): old outputs, new inputs."""
    merged = {**old_outputs, **inputs}
    outs = {k: v for k, v in merged.items() if k in spec.ALL_FIELDS or k in OUTPUT_ONLY_FIELDS}
    return {k: v for k, v in outs.items() if k not in spec.CONTROL_FIELDS or k in inputs}


def _seeded(seed: bytes | None, prefix: str) -> random.Random | None:
    """A generator for the auto-name suffix drawn from the engine's seed (the same seed, the same name)."""
    return None if seed is None else random.Random(hashlib.sha256(seed + prefix.encode()).digest())


def _unshown(failure: spec.Failure) -> spec.Failure:
    """A URL that embeds credentials is reported with no property: the engine prints ``property <p> value
    '<value>' has a problem`` for a failure naming a property, and only secret inputs are redacted there."""
    if failure.reason == spec.CREDENTIALS_PROBLEM:
        return spec.Failure("", f"property {failure.property} {failure.reason}")
    return failure
