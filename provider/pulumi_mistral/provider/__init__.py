"""ConnectorProvider: the Pulumi dynamic provider for Mistral connectors (thin glue over the client and the pure core).

The Pulumi engine pickles the provider object into the state of every resource (``__provider``) and unpickles
it in a separate ``python -m pulumi.dynamic`` process. So the object holds nothing: no key, no client, no
socket. The API key and server URL arrive through :meth:`ConnectorProvider.configure` (stack config
``mistral:apiKey`` / ``mistral:serverUrl``, else ``MISTRAL_API_KEY`` / ``MISTRAL_SERVER_URL``) and live in a
module-level, per-process cache that is never pickled.

Wire facts this module relies on (see the dynamic-provider notes): secrets arrive stripped, numbers arrive
as floats, values unknown during preview arrive as ``pulumi.output.Unknown``; ``diff`` gets the old OUTPUTS;
``read`` must return ``ReadResult(None, {})`` when the connector is gone.

Tool tracking (opt-in per connector: on when ``tool_pins`` or ``tool_drift`` is set) lists the connector's
live MCP tools in create, read, update and diff (one extra request each), outputs their fingerprints
(``tools``, ``tools_fingerprint``) and applies the ``tool_drift`` policy; see :func:`_assess_tools`.
Without it nothing here lists tools, so request counts are those of a plain connector.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

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
from pulumi.output import Unknown
from pulumi.runtime import rpc

from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.core import diff as _diff
from pulumi_mistral.core import fingerprint, pinning, spec
from pulumi_mistral.errors import (
    ConflictError,
    MistralError,
    NotFoundError,
    ServerError,
    ToolDriftError,
    TransportError,
)

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["OUTPUT_ONLY_FIELDS", "TOOL_OUTPUT_FIELDS", "ConnectorProvider", "ToolDriftError", "reset_process_state"]

PROVIDER_KEY = "__provider"
# Outputs the API computes; everything else in the outputs is an input echoed back (as live state).
OUTPUT_ONLY_FIELDS: tuple[str, ...] = ("connector_id", "created_at", "modified_at", "auth_type", "tool_names")
# Outputs present only while tool tracking is on: fingerprints of the live tools, and the full definitions of
# the baseline tools (those matching the pins, else the recorded ones), so a message can say what changed.
TOOL_OUTPUT_FIELDS: tuple[str, ...] = ("tools", "tools_fingerprint", "tool_definitions")
# Settings that decide which tools the Connectors API sees: changing one makes the pre-update tool list moot.
_CONNECTION_FIELDS = frozenset({"server", "headers", "auth_data", "connection_config", "connection_secrets"})
# Fields accepted by POST /v1/connectors; connection_config / connection_secrets need a PATCH afterwards.
_CREATE_FIELDS: tuple[str, ...] = (
    "name", "description", "server", "icon_url", "visibility", "headers", "auth_data", "system_prompt",
)
_PATCH_AFTER_CREATE: tuple[str, ...] = ("connection_config", "connection_secrets")
# After an ambiguous create failure the connector may become visible a little later: look it up a few times.
_RECOVERY_LOOKUPS = 4
_RECOVERY_DELAY_S = 0.25
_V = TypeVar("_V")


# ---- per-process configuration (never pickled) --------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How this provider process talks to the API. Built in ``configure()``; never pickled."""

    api_key: str | None = field(default=None, repr=False)
    server_url: str | None = None
    timeout: float = 30.0
    # More patient than the client's default (4): a deployment prefers waiting out a rate-limit burst (whose
    # Retry-After answers count as attempts) to failing a step that the next `pulumi up` would have to redo.
    max_attempts: int = 6
    max_retry_time: float = 60.0


# stack config key -> (environment variable, Settings field, parser)
_TUNING: dict[str, tuple[str, str, Callable[[str], float]]] = {
    "mistral:timeout": ("MISTRAL_TIMEOUT", "timeout", float),
    "mistral:maxAttempts": ("MISTRAL_MAX_ATTEMPTS", "max_attempts", int),
    "mistral:maxRetryTime": ("MISTRAL_MAX_RETRY_TIME", "max_retry_time", float),
}


def settings_from_config(config: Any, environ: Mapping[str, str]) -> Settings:
    """Settings from stack config (``mistral:*``), else the ``MISTRAL_*`` environment, else the defaults."""
    values: dict[str, Any] = {
        "api_key": _plain(config.get("mistral:apiKey")) or environ.get("MISTRAL_API_KEY"),
        "server_url": _plain(config.get("mistral:serverUrl")) or environ.get("MISTRAL_SERVER_URL"),
    }
    for key, (env, name, parse) in _TUNING.items():
        raw = config.get(key) or environ.get(env)
        if raw in (None, ""):
            continue
        try:
            value = parse(str(raw))
        except ValueError:
            value = None
        if value is None or value <= 0 or (name == "max_attempts" and value > 20):
            kind = "whole number up to 20" if parse is int else "number of seconds"
            raise MistralError(
                f"{key} (or {env}) must be a positive {kind}, got {str(raw)!r}; fix: pulumi config set {key} <value>"
            )
        values[name] = value
    return Settings(**values)


class _ProcessState:
    """Settings and the shared client of this provider process. Lives at module level, outside the pickle."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings = Settings()
        self.client: ConnectorsClient | None = None


_STATE = _ProcessState()


def _set_settings(settings: Settings) -> None:
    with _STATE.lock:
        if settings != _STATE.settings:
            if _STATE.client is not None:
                _STATE.client.close()
            _STATE.client = None
            _STATE.settings = settings
    _LISTING.invalidate()


def _client() -> ConnectorsClient:
    """The process's shared client (httpx clients are thread-safe; the engine runs up to 4 calls at once)."""
    with _STATE.lock:
        if _STATE.client is None:
            from pulumi_mistral.client import ConnectorsClient

            s = _STATE.settings
            _STATE.client = ConnectorsClient(
                api_key=s.api_key, server_url=s.server_url, timeout=s.timeout,
                max_attempts=s.max_attempts, max_retry_time=s.max_retry_time,
            )
        return _STATE.client


def reset_process_state() -> None:
    """Forget the configured key, the client, the listing cache and the recent reads (tests and benchmarks)."""
    _set_settings(Settings())
    _LISTING.reset()
    _TOOLS.clear()
    _READS.clear()


# ---- refresh batching ------------------------------------------------------------------------------------------


class _Listing:
    """A short-lived, per-process snapshot of every connector, shared by concurrent ``read`` calls.

    ``pulumi refresh`` reads every resource (at most 4 at a time). One paginated listing (page size 1000,
    secrets included) answers all of them with a handful of requests instead of one GET each. Rules that keep
    it from ever serving stale state beyond a few seconds:

    * it is only used during a burst of reads of distinct connectors (a refresh), never for a single read;
    * a snapshot is used for at most ``TTL`` seconds, counted from when its listing request STARTED;
    * any write by this process (create, update, delete) drops it, and a listing that raced a write is
      discarded;
    * a connector missing from the snapshot is read with GET (it may be new, or gone: GET decides).
    """

    TTL_S = 3.0
    BURST_WINDOW_S = 2.0
    BURST_DISTINCT = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._snapshot: dict[str, dict[str, Any]] | None = None
        self._fetched_at = 0.0
        self._generation = 0
        self._recent: deque[tuple[float, str]] = deque(maxlen=64)
        self.listings = 0  # how many listings this process made (benchmarks)

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._snapshot = None

    def reset(self) -> None:
        """As in a fresh process: no snapshot, and no recent reads to make a burst of."""
        with self._lock:
            self._generation += 1
            self._snapshot = None
            self._recent.clear()

    def _fresh(self, now: float) -> dict[str, dict[str, Any]] | None:
        if self._snapshot is not None and now - self._fetched_at <= self.TTL_S:
            return self._snapshot
        return None

    def lookup(self, connector_id: str) -> dict[str, Any] | None:
        """The connector from a fresh snapshot, or None: the caller then does a GET."""
        now = time.monotonic()
        with self._lock:
            self._recent.append((now, connector_id))
            snap = self._fresh(now)
            if snap is not None:
                return snap.get(connector_id)
            distinct = {cid for t, cid in self._recent if now - t <= self.BURST_WINDOW_S}
            if len(distinct) < self.BURST_DISTINCT:
                return None
        # One listing at a time: concurrent readers wait here and then reuse the snapshot it produced.
        with self._fetch_lock:
            with self._lock:
                snap = self._fresh(time.monotonic())
                if snap is not None:
                    return snap.get(connector_id)
                generation = self._generation
            started = time.monotonic()
            items = {
                c.id: c.model_dump(mode="json")
                for c in _client().iter_connectors(page_size=MAX_PAGE_SIZE, fetch_connection_secrets=True)
            }
            with self._lock:
                self.listings += 1
                if generation != self._generation:  # a write happened meanwhile: this listing may be stale
                    return None
                self._snapshot, self._fetched_at = items, started
            return items.get(connector_id)


_LISTING = _Listing()


# ---- tool tracking ------------------------------------------------------------------------------------------------


class _Recent(Generic[_V]):
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
_TOOLS: _Recent[list[dict[str, Any]]] = _Recent()

# A digest of the outputs this process's ``read`` just returned for a tracked connector, so that the refresh's
# own Diff is recognised: a refresh calls Read and then, for the same resource, Diff with the roles swapped (its
# old outputs are what Read returned, its new inputs the recorded ones). That Diff reports tool drift but never
# enforces a policy (a refresh records, it does not block) and does not repeat Read's warnings. Taken by the
# first matching Diff.
_READS: _Recent[str] = _Recent()


def _outputs_digest(outputs: Mapping[str, Any]) -> str:
    # The engine hands the outputs back with secrets stripped and every number a float.
    canonical = json.dumps(spec.ints_from_floats(_props(outputs)), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_refresh_diff(connector_id: str, old_outputs: Mapping[str, Any]) -> bool:
    """True (once) when a Diff's old outputs are the ones this process's Read just returned."""
    if not connector_id or _READS.get(connector_id) != _outputs_digest(old_outputs):
        return False
    _READS.forget(connector_id)
    return True


def _warn(text: str) -> None:
    """A one-line warning on stderr, where the engine shows a dynamic provider's output as a diagnostic.

    ``pulumi.log.warn`` does the same in the provider process (it has no engine connection there), but in a
    process that also runs a program it would go to that program's engine; stderr is right in both.
    """
    print(f"warning: {' '.join(text.split())}", file=sys.stderr, flush=True)


def _tracking(props: Mapping[str, Any]) -> bool:
    """Tool tracking is opt-in: on when ``tool_pins`` or ``tool_drift`` is set (known or not yet known)."""
    return props.get("tool_pins") is not None or props.get("tool_drift") is not None


def _policy(props: Mapping[str, Any]) -> str:
    value = props.get("tool_drift")
    return value if isinstance(value, str) and value in pinning.POLICIES else pinning.DEFAULT_POLICY


def _pins(props: Mapping[str, Any]) -> dict[str, str] | None:
    value = props.get("tool_pins")
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) and value else None


def _subject(props: Mapping[str, Any], fallback: str) -> str:
    name = props.get("name")
    return f"connector '{name if isinstance(name, str) else fallback}'"


def _list_tools(connector_id: str) -> list[dict[str, Any]]:
    """The live tools, fetched fresh from the MCP server through the API (``refresh=true``), as wire dicts."""
    return [dict(fingerprint.as_tool_dict(t)) for t in _client().iter_tools(connector_id, refresh=True)]


def _unverifiable(subject: str, exc: MistralError) -> str:
    return f"{subject}: the MCP tools could not be listed ({exc.message})"


def _tool_outputs(
    live: list[dict[str, Any]], props: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``tools``, ``tools_fingerprint`` and ``tool_definitions`` for the live tools.

    ``tool_definitions`` holds only the baseline: definitions whose fingerprint is pinned (kept from earlier
    reads while the server shows something else, which is what lets a message say *what* changed), or,
    without pins, the live tools (then the recorded tools are the baseline). So the state grows by the size
    of the pinned tools' definitions, not by every version the server ever listed.
    """
    outs = fingerprint.tool_outputs(live)
    pins = _pins(props)
    wanted = set(pins.values()) if pins else {row["fingerprint"] for row in outs["tools"]}
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


def _previous_tool_outputs(previous: Mapping[str, Any]) -> dict[str, Any]:
    return {k: previous[k] for k in TOOL_OUTPUT_FIELDS if previous.get(k) is not None}


def _one_line(outcome: pinning.PolicyOutcome, subject: str) -> str:
    count = len(outcome.changes)
    shown = "; ".join(c.summary() for c in outcome.changes)
    return f"{subject}: {count} tool change{'s' if count != 1 else ''} against the pins: {shown}"


def _drift_line(subject: str, fields: set[str]) -> str:
    """What a refresh found, by property: the CLI's diff shows every secret as ``[secret]``, changed or not."""
    names = ", ".join(f"{f} (secret)" if f in spec.SECRET_FIELDS else f for f in sorted(fields))
    hint = "; secret values are not shown" if fields & spec.SECRET_FIELDS else ""
    return f"{subject}: {names} differ{'s' if len(fields) == 1 else ''} from what this stack recorded " \
           f"(changed outside it){hint}"


def _assess_tools(
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
        pins=_pins(props),
        recorded=recorded.get("tools") if isinstance(recorded.get("tools"), list) else None,
        policy=policy or _policy(props),
        subject=subject,
        known_definitions=recorded.get("tool_definitions") or None,
    )


def _differs_from_pins(tools: Any, pins: Mapping[str, str] | None) -> bool:
    """True when recorded ``tools`` rows (name, fingerprint) are not exactly the pinned set."""
    if not pins or not isinstance(tools, list):
        return False
    rows = {(r.get("name"), r.get("fingerprint")) for r in tools if isinstance(r, Mapping)}
    return rows != set(pins.items()) or len(rows) != len(tools)


# ---- helpers -----------------------------------------------------------------------------------------------------


def _is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def _contains_unknown(value: Any) -> bool:
    return spec.contains(value, _is_unknown)


def _plain(value: Any) -> Any:
    """``value`` without secret wire markers (the engine strips them; direct callers may not)."""
    if rpc.is_rpc_secret(value):
        return _plain(value["value"])
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _props(bag: Mapping[str, Any] | None) -> dict[str, Any]:
    """A property bag without ``__provider`` (it never takes part in anything we decide) and without markers."""
    return {k: _plain(v) for k, v in (bag or {}).items() if k != PROVIDER_KEY}


def _secret(value: Any) -> Any:
    return rpc.wrap_rpc_secret(value)


def _connector_dict(connector: Any) -> dict[str, Any]:
    if isinstance(connector, Mapping):
        return dict(connector)
    return connector.model_dump(mode="json")


def _tool_names(connector: Mapping[str, Any]) -> list[str]:
    names = []
    for tool in connector.get("tools") or []:
        name = tool.get("name") if isinstance(tool, Mapping) else getattr(tool, "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


def _outputs(connector: Any, props: Mapping[str, Any]) -> dict[str, Any]:
    """Full outputs: every input (as live state), the control inputs, the API-computed fields; secrets marked."""
    data = _connector_dict(connector)
    live = _diff.live_state(data, props)
    outs: dict[str, Any] = {k: props[k] for k in spec.CONTROL_FIELDS if props.get(k) is not None}
    for key, value in live.items():
        if value is not None:
            # The wire marker keeps the value secret in the engine's state and in the program.
            outs[key] = _secret(value) if key in spec.SECRET_FIELDS else value
    outs["connector_id"] = data["id"]
    outs["created_at"] = data.get("created_at")
    outs["modified_at"] = data.get("modified_at")
    outs["auth_type"] = data.get("auth_type")
    outs["tool_names"] = _tool_names(data)
    return {k: v for k, v in outs.items() if v is not None}


def _inputs_from_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k in spec.ALL_FIELDS}


def _matches(connector: Any, sent: Mapping[str, Any]) -> bool:
    """True when a connector found by name carries exactly what our create sent (it is ours)."""
    live = _diff.live_state(_connector_dict(connector), None)
    wanted = {k: sent.get(k) for k in _CREATE_FIELDS}
    return not [f for f in _diff.changed_fields(live, wanted) if f in _CREATE_FIELDS]


def _fail(message: str, cause: BaseException | None = None) -> MistralError:
    err = MistralError(message)
    err.__cause__ = cause
    return err


# ---- the provider --------------------------------------------------------------------------------------------------


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
        _set_settings(settings_from_config(req.config, os.environ))

    # -- check: validation and defaults, no HTTP ---------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = _props(news)
        olds = _props(olds)
        failures = spec.validate_inputs(news, is_unknown=_is_unknown)
        if failures:
            return CheckResult(news, [CheckFailure(f.property, f.reason) for f in failures])
        inputs = spec.normalize_inputs(news)
        if inputs.get("visibility") is None and isinstance(olds.get("visibility"), str):
            # Unset, visibility is not managed (the server picks it). A refresh records the live value in the
            # inputs; keeping it here stops the engine's input diff from showing it as removed on every update.
            inputs["visibility"] = olds["visibility"]
        prefix = inputs.get("name_prefix")
        if inputs.get("name") is None and isinstance(prefix, str) and not _is_unknown(prefix):
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
        old_outs = _props(olds)
        new_ins = _props(news)
        unknown = sorted(k for k, v in new_ins.items() if _contains_unknown(v))
        known = {k: v for k, v in new_ins.items() if k not in unknown}
        name_is_auto = new_ins.get("name_prefix") is not None
        planned = _diff.plan(old_outs, new_ins, name_is_auto=name_is_auto, unknown=unknown)
        changes = set(planned.changes)
        # Control fields change only our outputs: still an update so the state records them.
        for key in ("adopt", "name_prefix"):
            if key not in unknown and old_outs.get(key) != known.get(key):
                changes.add(key)
        tools_known = _tracking(new_ins) and not {"tool_pins", "tool_drift"} & set(unknown)
        if tools_known and _id and self._tools_drifted(_id, old_outs, known, changes | set(unknown),
                                                       _is_refresh_diff(_id, old_outs)):
            changes.add("tool_pins")
        if not changes:
            return DiffResult(changes=False, replaces=[], delete_before_replace=False)
        return DiffResult(
            changes=True, replaces=planned.replaces, delete_before_replace=planned.delete_before_replace
        )

    # -- create: transactional, recovers from ambiguous failures, adopts on request ------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = spec.normalize_inputs(_props(props))
        name = inputs["name"]
        client = _client()
        _LISTING.invalidate()
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
                raise _fail(
                    f"connector '{name}' was created but setting {', '.join(sorted(patch))} failed "
                    f"({exc.message}); it was deleted again, so nothing was left behind: fix the cause and "
                    "run the update again",
                    exc,
                ) from exc
        _LISTING.invalidate()
        outs = _outputs(connector, inputs)
        if _tracking(inputs):
            outs.update(self._create_tools(client, connector.id, inputs, adopted))
        return CreateResult(connector.id, outs)

    def _create_tools(
        self, client: ConnectorsClient, connector_id: str, inputs: Mapping[str, Any], adopted: bool
    ) -> dict[str, Any]:
        """List the new connector's tools and apply the policy; under block a mismatch undoes the create."""
        subject = _subject(inputs, connector_id)
        policy = _policy(inputs)
        undo = "" if adopted else "; the new connector was deleted again, so nothing was left behind"
        try:
            live = _list_tools(connector_id)
        except (ServerError, TransportError) as exc:
            if policy == "block":
                if not adopted:
                    with contextlib.suppress(MistralError):
                        client.delete(connector_id)
                raise _fail(f"{_unverifiable(subject, exc)}, and tool_drift=block does not deploy tools it "
                            f"cannot verify{undo}", exc) from exc
            if policy == "warn":
                _warn(f"{_unverifiable(subject, exc)}; no tool fingerprints recorded")
            return {}
        outcome = _assess_tools(live, inputs, {}, subject)
        if outcome.blocked:
            if not adopted:
                with contextlib.suppress(MistralError):
                    client.delete(connector_id)
                _LISTING.invalidate()
            extra = "" if adopted else "\n(The connector created for this check was deleted again.)"
            raise ToolDriftError(outcome.message + extra)
        if outcome.level == "warn":
            _warn(_one_line(outcome, subject))
        return _tool_outputs(live, inputs, None)

    def _create_new(self, client: ConnectorsClient, inputs: Mapping[str, Any]) -> Any:
        from pulumi_mistral.client import UNSET

        # name, description and server are always set once check() has passed; the other fields may be absent.
        name, description, server = inputs["name"], inputs["description"], inputs["server"]
        optional = {k: (inputs[k] if inputs.get(k) is not None else UNSET) for k in _CREATE_FIELDS
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
                    raise _fail(
                        f"a connector named '{name}' exists (409) but looking it up to see whether it is this "
                        "stack's own failed; run the deployment again",
                        exc,
                    ) from exc
                raise _fail(
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
                    raise _fail(
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
                return (found, False) if _matches(found, inputs) else (None, True)
            time.sleep(_RECOVERY_DELAY_S * (i + 1))
        return None, False

    def _adopt(self, client: ConnectorsClient, connector: Any, inputs: Mapping[str, Any]) -> Any:
        live = _diff.live_state(_connector_dict(connector), None)
        wanted_vis = inputs.get("visibility")
        if wanted_vis is not None and live.get("visibility") not in (None, wanted_vis):
            raise _fail(
                f"cannot adopt connector '{inputs['name']}': its visibility is '{live.get('visibility')}' but "
                f"'{wanted_vis}' is declared, and visibility cannot be changed in place; declare "
                f"visibility='{live.get('visibility')}' or delete the existing connector first"
            )
        payload = _diff.update_payload(live, inputs)
        return client.update(connector.id, **payload) if payload else connector

    # -- read: refresh; a gone connector is ReadResult(None, {}) --------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        previous = _props(props)
        data = _LISTING.lookup(id_)
        if data is None:
            try:
                data = _connector_dict(_client().get(id_, fetch_connection_secrets=True))
            except NotFoundError:
                return ReadResult(None, {})
        outs = _outputs(data, previous)
        drifted = set(_diff.changed_fields(previous, _props(outs))) - set(_diff.STATE_ONLY_FIELDS)
        if drifted and previous.get("connector_id"):  # a refresh: the props are the recorded outputs
            # Named here, in Read: the CLI's diff shows every secret as [secret], changed or not, and a line
            # written during the refresh's Diff comes too late for the CLI's summary.
            _warn(_drift_line(_subject(previous, id_), drifted))
        if _tracking(previous):
            outs.update(self._read_tools(data["id"], previous))
            _READS.put(data["id"], _outputs_digest(outs))
        return ReadResult(data["id"], outs, _inputs_from_outputs(outs))

    def _read_tools(self, connector_id: str, previous: Mapping[str, Any]) -> dict[str, Any]:
        """Fresh tool outputs for a refresh. Never raises: a refresh records, it does not enforce."""
        subject = _subject(previous, connector_id)
        policy = _policy(previous)
        try:
            live = _list_tools(connector_id)
        except (ServerError, TransportError) as exc:
            # The server may just be down: keep what was recorded rather than report every tool as removed.
            if policy != "audit":
                _warn(f"{_unverifiable(subject, exc)}; the recorded tool fingerprints were kept")
            return _previous_tool_outputs(previous)
        outs = _tool_outputs(live, previous, previous)
        _TOOLS.put(connector_id, live)
        outcome = _assess_tools(live, previous, previous, subject)
        if outcome.level in ("warn", "block"):
            suffix = " (tool_drift=block: the next up will fail)" if outcome.blocked else ""
            _warn(_one_line(outcome, subject) + suffix)
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
        subject = _subject(news, connector_id)
        policy = _policy(news)
        pins = _pins(news)
        if refresh:
            # The refresh's own Diff: the old outputs ARE the fresh read; report drift, never fail or repeat.
            return _differs_from_pins(old_outs.get("tools"), pins)
        if changing & _CONNECTION_FIELDS:
            return False
        live = _TOOLS.get(connector_id)
        warned = live is not None  # this process's Read listed (and warned about) them moments ago
        if live is None:
            try:
                live = _list_tools(connector_id)
            except (ServerError, TransportError) as exc:
                if policy == "block":
                    raise _fail(f"{_unverifiable(subject, exc)}, so they cannot be verified against the pins: "
                                "tool_drift=block fails closed and nothing was changed; retry when the MCP "
                                "server is reachable", exc) from exc
                if policy == "warn":
                    _warn(f"{_unverifiable(subject, exc)}; compared the recorded tools with the pins instead")
                return _differs_from_pins(old_outs.get("tools"), pins)
        outcome = _assess_tools(live, news, old_outs, subject, policy=policy)
        if outcome.blocked:
            raise ToolDriftError(outcome.message)
        if outcome.level == "warn" and not warned:
            _warn(_one_line(outcome, subject))
        # Without pins the recorded tools are the baseline: a change is recorded by the next update.
        return bool(outcome.changes)

    # -- update: PATCH only what changed, return the full outputs ---------------------------------------------------

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old_outs = _props(olds)
        inputs = spec.normalize_inputs(_props(news))
        payload = _diff.update_payload(old_outs, inputs)
        tracking = _tracking(inputs)
        live: list[dict[str, Any]] | None = None
        if tracking and not set(payload) & _CONNECTION_FIELDS:
            # Same connection, same tools: check them BEFORE the PATCH, so block changes nothing.
            live = self._update_tools(id_, inputs, old_outs, patched=False)
        if not payload:  # only control fields changed: nothing to send
            merged = {**old_outs, **inputs}
            outs = {k: v for k, v in merged.items() if k in spec.ALL_FIELDS or k in OUTPUT_ONLY_FIELDS}
            for key in spec.CONTROL_FIELDS:
                if key not in inputs:
                    outs.pop(key, None)
            outs = {k: _secret(v) if k in spec.SECRET_FIELDS else v for k, v in outs.items()}
        else:
            _LISTING.invalidate()
            _TOOLS.forget(id_)
            _READS.forget(id_)
            try:
                connector = _client().update(id_, **payload)
            except NotFoundError as exc:
                raise _fail(
                    f"connector '{inputs.get('name')}' ({id_}) no longer exists; run a refresh so the stack "
                    "forgets it, then deploy again to recreate it",
                    exc,
                ) from exc
            finally:
                _LISTING.invalidate()
            outs = _outputs(connector, inputs)
        if tracking:
            if live is None:
                live = self._update_tools(id_, inputs, old_outs, patched=True)
            outs.update(_tool_outputs(live, inputs, old_outs) if live is not None else _previous_tool_outputs(old_outs))
        return UpdateResult(outs)

    def _update_tools(
        self, connector_id: str, inputs: Mapping[str, Any], old_outs: Mapping[str, Any], *, patched: bool
    ) -> list[dict[str, Any]] | None:
        """The live tools for an update, after the policy had its say (None: they could not be listed)."""
        subject = _subject(inputs, connector_id)
        policy = _policy(inputs)
        landed = (" The settings change was applied (the connection changed, so the tools could only be "
                  "checked afterwards); the state keeps the previous outputs, so the next up checks again."
                  if patched else "")
        try:
            live = _list_tools(connector_id)
        except (ServerError, TransportError) as exc:
            if policy == "block":
                raise _fail(f"{_unverifiable(subject, exc)}, so they cannot be verified against the pins: "
                            f"tool_drift=block fails closed.{landed or ' Nothing was changed.'}", exc) from exc
            if policy == "warn":
                _warn(f"{_unverifiable(subject, exc)}; the recorded tool fingerprints were kept")
            return None
        outcome = _assess_tools(live, inputs, old_outs, subject, policy=policy)
        if outcome.blocked:
            if not patched:
                raise ToolDriftError(outcome.message)
            raise ToolDriftError(outcome.message.replace("Nothing was changed. ", "") + f"\n{landed.strip()}")
        if outcome.level == "warn" and patched:  # otherwise this operation's Diff has just warned
            _warn(_one_line(outcome, subject))
        return live

    # -- delete: 404 counts as done ----------------------------------------------------------------------------------

    def delete(self, id_: str, _props_: dict[str, Any]) -> None:
        _LISTING.invalidate()
        _TOOLS.forget(id_)
        _READS.forget(id_)
        try:
            _client().delete(id_)
        except NotFoundError:
            pass
        finally:
            _LISTING.invalidate()
