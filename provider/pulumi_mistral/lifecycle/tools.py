"""Tool tracking: a tracked connector's live MCP tools, their outputs, and the one tool check of every step.

Tracking is opt-in per connector (on when ``tool_pins`` or ``tool_drift`` is set). The lifecycle then lists the
live tools in create, read, update and diff (one listing each, paged past 1000 tools), outputs their
fingerprints (``tools``, ``tools_fingerprint``), the baseline definitions (``tool_definitions``) and their names
(``tool_names``), and applies the policy: audit records, warn adds a warning, block fails the step. Without
tracking nothing here runs. :func:`check_tools` is the one place a step lists the tools and applies the policy;
:data:`STEPS` holds how each step words and enforces the outcome.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_mistral.core import fingerprint, pinning, secret_markers, spec
from pulumi_mistral.errors import MistralError, ServerError, ToolDriftError, TransportError
from pulumi_mistral.lifecycle.state import ProcessState

__all__ = [
    "CONNECTION_FIELDS",
    "STEPS",
    "TOOL_OUTPUT_FIELDS",
    "Step",
    "check_tools",
    "differs_from_pins",
    "is_refresh_diff",
    "outputs_digest",
    "pins_of",
    "policy_of",
    "previous_tool_outputs",
    "subject_of",
    "tool_changes_line",
    "tool_outputs",
    "tracking",
]

# Outputs present only while tool tracking is on: fingerprints of the live tools, and the full definitions of
# the baseline tools (those matching the pins, else the recorded ones), so a message can say what changed.
TOOL_OUTPUT_FIELDS: tuple[str, ...] = ("tools", "tools_fingerprint", "tool_definitions")
# Settings that decide which tools the Connectors API sees: changing one makes the pre-update tool list moot.
CONNECTION_FIELDS = frozenset({"server", "headers", "auth_data", "connection_config", "connection_secrets"})

_LANDED = (
    "The settings change was applied (the connection changed, so the tools could only be checked "
    "afterwards); the state keeps the previous outputs, so the next up checks again."
)


@dataclass(frozen=True)
class Step:
    """How one lifecycle step treats the tools: the words it adds, and whether a block verdict fails it.

    ``unlisted`` ends the warning when the tools cannot be listed; ``fails_closed`` ends the error raised
    then under ``tool_drift=block`` (None: the step never enforces, it warns: a refresh records). ``blocked``
    rewrites a block verdict's message (None: the step warns instead, with ``block_suffix``). ``warns`` says
    whether a warn verdict is warned here (an update's Diff has already warned about the same tools).
    """

    unlisted: str
    fails_closed: str | None
    blocked: Callable[[str], str] | None
    warns: bool = True
    block_suffix: str = ""


def _same(message: str) -> str:
    return message


STEPS: dict[str, Step] = {
    "create": Step(
        "; no tool fingerprints recorded",
        ", and tool_drift=block does not deploy tools it cannot verify; the new connector was deleted "
        "again, so nothing was left behind",
        lambda m: m + "\n(The connector created for this check was deleted again.)",
    ),
    "adopt": Step(
        "; no tool fingerprints recorded", ", and tool_drift=block does not deploy tools it cannot verify", _same
    ),
    "read": Step(
        "; the recorded tool fingerprints were kept",
        None,
        None,
        block_suffix=" (tool_drift=block: the next up will fail)",
    ),
    "diff": Step(
        "; compared the recorded tools with the pins instead",
        ", so they cannot be verified against the pins: tool_drift=block fails closed and nothing was "
        "changed; retry when the MCP server is reachable",
        _same,
    ),
    "update": Step(
        "; the recorded tool fingerprints were kept",
        ", so they cannot be verified against the pins: tool_drift=block fails closed. Nothing was changed.",
        _same,
        warns=False,
    ),
    "update-after-patch": Step(
        "; the recorded tool fingerprints were kept",
        f", so they cannot be verified against the pins: tool_drift=block fails closed. {_LANDED}",
        lambda m: m.replace("Nothing was changed. ", "") + f"\n{_LANDED}",
    ),
}


def check_tools(
    state: ProcessState,
    step: str,
    connector_id: str,
    props: Mapping[str, Any],
    recorded: Mapping[str, Any],
    *,
    listed: list[dict[str, Any]] | None = None,
    undo: Callable[[], None] | None = None,
) -> tuple[list[dict[str, Any]] | None, pinning.PolicyOutcome | None]:
    """List the live tools (unless ``listed``: a Read of this process just did) and apply the policy for ``step``.

    Returns ``(live, outcome)``; ``(None, None)`` when the tools cannot be listed and the policy lets the step
    go on. Under ``tool_drift=block`` a step that enforces raises (after ``undo``, e.g. deleting what a create
    just made; it must not raise): a :class:`ToolDriftError` for tools that differ, a one-line error for tools
    that cannot be listed (block fails closed). Warnings go to ``state.warn``; a step given ``listed`` does not
    repeat them.
    """
    rules, subject, policy = STEPS[step], subject_of(props, connector_id), policy_of(props)
    live = listed
    if live is None:
        try:
            live = [dict(fingerprint.as_tool_dict(t)) for t in state.client().iter_tools(connector_id, refresh=True)]
        except (ServerError, TransportError) as exc:
            reason = f"{subject}: the MCP tools could not be listed ({exc.message})"
            if policy == "block" and rules.fails_closed is not None:
                if undo is not None:
                    undo()
                raise MistralError(reason + rules.fails_closed) from exc
            if policy != "audit":
                state.warn(reason + rules.unlisted)
            return None, None
    outcome = pinning.assess(
        live,
        pins=pins_of(props),
        policy=policy,
        subject=subject,
        recorded=recorded.get("tools") if isinstance(recorded.get("tools"), list) else None,
        known_definitions=recorded.get("tool_definitions") or None,
    )
    if outcome.blocked and rules.blocked is not None:
        if undo is not None:
            undo()
        raise ToolDriftError(rules.blocked(outcome.message))
    if outcome.level in ("warn", "block") and rules.warns and listed is None:
        state.warn(tool_changes_line(outcome, subject) + (rules.block_suffix if outcome.blocked else ""))
    return live, outcome


def outputs_digest(outputs: Mapping[str, Any]) -> str:
    # The engine hands the outputs back with secrets stripped and every number a float.
    plain = {k: secret_markers.strip(v) for k, v in outputs.items()}
    canonical = json.dumps(spec.ints_from_floats(plain), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_refresh_diff(state: ProcessState, connector_id: str, old_outputs: Mapping[str, Any]) -> bool:
    """True (once) when a Diff's old outputs are the ones this process's Read just returned."""
    if not connector_id or state.reads.get(connector_id) != outputs_digest(old_outputs):
        return False
    state.reads.forget(connector_id)
    return True


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


def tool_outputs(
    live: list[dict[str, Any]], props: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``tools``, ``tools_fingerprint``, ``tool_definitions`` and ``tool_names`` for the live tools.

    ``tool_definitions`` holds only the baseline: definitions whose fingerprint is pinned (kept from earlier
    reads while the server shows something else, which is what lets a message say *what* changed), or,
    without pins, the live tools (then the recorded tools are the baseline). So the state grows by the size
    of the pinned tools' definitions, not by every version the server ever listed. ``tool_names`` are the live
    tools' names in the listing's order (the order the API's ``tools`` field then shows).
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
    outs["tool_names"] = [t["name"] for t in live if isinstance(t.get("name"), str)]
    return outs


def previous_tool_outputs(previous: Mapping[str, Any]) -> dict[str, Any]:
    return {k: previous[k] for k in TOOL_OUTPUT_FIELDS if previous.get(k) is not None}


def tool_changes_line(outcome: pinning.PolicyOutcome, subject: str) -> str:
    """The one-line warning naming the tool changes an assessment found."""
    count = len(outcome.changes)
    shown = "; ".join(c.summary() for c in outcome.changes)
    return f"{subject}: {count} tool change{'s' if count != 1 else ''} against the pins: {shown}"


def differs_from_pins(tools: Any, pins: Mapping[str, str] | None) -> bool:
    """True when recorded ``tools`` rows (name, fingerprint) are not exactly the pinned set."""
    if not pins or not isinstance(tools, list):
        return False
    rows = {(r.get("name"), r.get("fingerprint")) for r in tools if isinstance(r, Mapping)}
    return rows != set(pins.items()) or len(rows) != len(tools)
