"""Tool tracking: a tracked connector's live MCP tools, their outputs, and the ``tool_drift`` policy's verdicts.

Tracking is opt-in per connector (on when ``tool_pins`` or ``tool_drift`` is set). The provider then lists the
live tools in create, read, update and diff (one listing each, paged past 1000 tools), outputs their
fingerprints (``tools``, ``tools_fingerprint``) and the baseline definitions (``tool_definitions``), and applies
the policy: audit records, warn adds a warning, block fails the step. Without tracking nothing here runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pulumi_mistral.core import fingerprint, pinning, spec
from pulumi_mistral.errors import MistralError, ServerError, TransportError
from pulumi_mistral.provider.failures import provider_error
from pulumi_mistral.provider.outputs import plain_props
from pulumi_mistral.provider.settings import process_client

__all__ = [
    "CONNECTION_FIELDS",
    "READS",
    "TOOLS",
    "TOOL_OUTPUT_FIELDS",
    "Recent",
    "assess_tools",
    "differs_from_pins",
    "is_refresh_diff",
    "live_tools_under_policy",
    "outputs_digest",
    "pins_of",
    "policy_of",
    "previous_tool_outputs",
    "subject_of",
    "tool_changes_line",
    "tool_outputs",
    "tracking",
    "warn",
]

# Outputs present only while tool tracking is on: fingerprints of the live tools, and the full definitions of
# the baseline tools (those matching the pins, else the recorded ones), so a message can say what changed.
TOOL_OUTPUT_FIELDS: tuple[str, ...] = ("tools", "tools_fingerprint", "tool_definitions")
# Settings that decide which tools the Connectors API sees: changing one makes the pre-update tool list moot.
CONNECTION_FIELDS = frozenset({"server", "headers", "auth_data", "connection_config", "connection_secrets"})
_V = TypeVar("_V")


class Recent(Generic[_V]):
    """Values per connector id, each forgotten ``ttl_s`` seconds after it was put; at most ``max_entries``."""

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, _V]] = {}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def forget(self, connector_id: str) -> None:
        with self._lock:
            self._items.pop(connector_id, None)

    def put(self, connector_id: str, value: _V) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items = {k: v for k, v in self._items.items() if now - v[0] <= self.ttl_s}
            self._items[connector_id] = (now, value)

    def get(self, connector_id: str) -> _V | None:
        with self._lock:
            entry = self._items.get(connector_id)
            if entry is None or time.monotonic() - entry[0] > self.ttl_s:
                return None
            return entry[1]


# Live tool lists fetched by ``read`` in this process, reused by the next ``diff`` of the same connector.
# ``pulumi refresh`` calls Read and then Diff for each resource, and ``pulumi preview --refresh`` calls Read,
# the refresh's Diff, then the program's Diff (the order the pinned engine's log shows): without this, each
# would list the tools again (and warn again: a Diff that reuses Read's list does not repeat Read's warning).
# Any write to the connector drops its entry.
TOOLS: Recent[list[dict[str, Any]]] = Recent()

# A digest of the outputs this process's ``read`` just returned for a tracked connector, so that the refresh's
# own Diff is recognised: a refresh calls Read and then, for the same resource, Diff with the roles swapped (its
# old outputs are what Read returned, its new inputs the recorded ones). That Diff reports tool drift but never
# enforces a policy (a refresh records, it does not block) and does not repeat Read's warnings. Taken by the
# first matching Diff.
READS: Recent[str] = Recent()


def outputs_digest(outputs: Mapping[str, Any]) -> str:
    # The engine hands the outputs back with secrets stripped and every number a float.
    canonical = json.dumps(spec.ints_from_floats(plain_props(outputs)), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_refresh_diff(connector_id: str, old_outputs: Mapping[str, Any]) -> bool:
    """True (once) when a Diff's old outputs are the ones this process's Read just returned."""
    if not connector_id or READS.get(connector_id) != outputs_digest(old_outputs):
        return False
    READS.forget(connector_id)
    return True


def warn(text: str) -> None:
    """A one-line warning on stderr, where the engine shows a dynamic provider's output as a diagnostic.

    ``pulumi.log.warn`` does the same in the provider process (it has no engine connection there), but in a
    process that also runs a program it would go to that program's engine; stderr is right in both.
    """
    print(f"warning: {' '.join(text.split())}", file=sys.stderr, flush=True)


def tracking(props: Mapping[str, Any]) -> bool:
    """Tool tracking is opt-in: on when ``tool_pins`` or ``tool_drift`` is set (known or not yet known)."""
    return props.get("tool_pins") is not None or props.get("tool_drift") is not None


def policy_of(props: Mapping[str, Any]) -> str:
    """The ``tool_drift`` policy: one of :data:`pinning.POLICIES`, the default when unset or not yet known."""
    value = props.get("tool_drift")
    return value if isinstance(value, str) and value in pinning.POLICIES else pinning.DEFAULT_POLICY


def pins_of(props: Mapping[str, Any]) -> dict[str, str] | None:
    value = props.get("tool_pins")
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) and value else None


def subject_of(props: Mapping[str, Any], fallback: str) -> str:
    name = props.get("name")
    return f"connector '{name if isinstance(name, str) else fallback}'"


def _list_tools(connector_id: str) -> list[dict[str, Any]]:
    """The live tools, fetched fresh from the MCP server through the API (``refresh=true``), as wire dicts."""
    return [dict(fingerprint.as_tool_dict(t)) for t in process_client().iter_tools(connector_id, refresh=True)]


def _unverifiable(subject: str, exc: MistralError) -> str:
    return f"{subject}: the MCP tools could not be listed ({exc.message})"


def live_tools_under_policy(
    connector_id: str,
    subject: str,
    policy: str,
    *,
    warning: str,
    block: str | None = None,
    before_block: Callable[[], None] | None = None,
) -> list[dict[str, Any]] | None:
    """The live tools, or None when they cannot be listed and the policy lets the caller fall back.

    When the listing fails (a server error or a transport failure), the reason is
    ``"<subject>: the MCP tools could not be listed (<why>)"``. Under ``tool_drift=block``, if the caller gives
    ``block`` wording, ``before_block`` runs (e.g. to undo a create) and an error ``reason + block`` is raised:
    block fails closed. Otherwise ``reason + warning`` is warned unless the policy is audit, and None is
    returned. A refresh gives no ``block`` wording: it records, it never enforces, so under block it warns.
    """
    try:
        return _list_tools(connector_id)
    except (ServerError, TransportError) as exc:
        reason = _unverifiable(subject, exc)
        if policy == "block" and block is not None:
            if before_block is not None:
                before_block()
            raise provider_error(reason + block, exc) from exc
        if policy != "audit":
            warn(reason + warning)
        return None


def tool_outputs(
    live: list[dict[str, Any]], props: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``tools``, ``tools_fingerprint`` and ``tool_definitions`` for the live tools.

    ``tool_definitions`` holds only the baseline: definitions whose fingerprint is pinned (kept from earlier
    reads while the server shows something else, which is what lets a message say *what* changed), or,
    without pins, the live tools (then the recorded tools are the baseline). So the state grows by the size
    of the pinned tools' definitions, not by every version the server ever listed.
    """
    outs = fingerprint.tool_outputs(live)
    pinned = pins_of(props)
    wanted = set(pinned.values()) if pinned else {row["fingerprint"] for row in outs["tools"]}
    candidates = list((previous or {}).get("tool_definitions") or []) + live
    kept: dict[str, dict[str, Any]] = {}
    for item in candidates:
        try:
            definition = fingerprint.tool_definition(item)
            fp = fingerprint.fingerprint(definition)
        except (TypeError, ValueError):
            continue  # a malformed stored entry is dropped, never fatal
        if fp in wanted:
            kept[fp] = definition
    outs["tool_definitions"] = [d for fp, d in sorted(kept.items(), key=lambda item: (item[1]["name"], item[0]))]
    return outs


def previous_tool_outputs(previous: Mapping[str, Any]) -> dict[str, Any]:
    return {k: previous[k] for k in TOOL_OUTPUT_FIELDS if previous.get(k) is not None}


def tool_changes_line(outcome: pinning.PolicyOutcome, subject: str) -> str:
    """The one-line warning naming the tool changes an assessment found."""
    count = len(outcome.changes)
    shown = "; ".join(c.summary() for c in outcome.changes)
    return f"{subject}: {count} tool change{'s' if count != 1 else ''} against the pins: {shown}"


def assess_tools(
    live: list[dict[str, Any]],
    props: Mapping[str, Any],
    recorded: Mapping[str, Any],
    subject: str,
    *,
    policy: str | None = None,
) -> pinning.PolicyOutcome:
    """The policy's verdict on the live tools: against the pins when set, else against the recorded tools."""
    return pinning.assess(
        live,
        pins=pins_of(props),
        recorded=recorded.get("tools") if isinstance(recorded.get("tools"), list) else None,
        policy=policy or policy_of(props),
        subject=subject,
        known_definitions=recorded.get("tool_definitions") or None,
    )


def differs_from_pins(tools: Any, pins: Mapping[str, str] | None) -> bool:
    """True when recorded ``tools`` rows (name, fingerprint) are not exactly the pinned set."""
    if not pins or not isinstance(tools, list):
        return False
    rows = {(r.get("name"), r.get("fingerprint")) for r in tools if isinstance(r, Mapping)}
    return rows != set(pins.items()) or len(rows) != len(tools)
