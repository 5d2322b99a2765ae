"""ConnectorProvider: the Pulumi dynamic provider for Mistral connectors (thin glue over the client and the pure core).

The Pulumi engine pickles the provider object into the state of every resource (``__provider``) and unpickles
it in a separate ``python -m pulumi.dynamic`` process. So the object holds nothing: no key, no client, no
socket. The API key and server URL arrive through :meth:`ConnectorProvider.configure` (stack config
``mistral:apiKey`` / ``mistral:serverUrl``, else ``MISTRAL_API_KEY`` / ``MISTRAL_SERVER_URL``) and live in a
module-level, per-process cache that is never pickled.

Wire facts this module relies on (see the dynamic-provider notes): secrets arrive stripped, numbers arrive
as floats, values unknown during preview arrive as ``pulumi.output.Unknown``; ``diff`` gets the old OUTPUTS;
``read`` must return ``ReadResult(None, {})`` when the connector is gone.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
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
from pulumi.output import Unknown
from pulumi.runtime import rpc

from pulumi_mistral import diff as _diff
from pulumi_mistral import spec
from pulumi_mistral.errors import ConflictError, MistralError, NotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["OUTPUT_ONLY_FIELDS", "ConnectorProvider", "reset_process_state"]

PROVIDER_KEY = "__provider"
# Outputs the API computes; everything else in the outputs is an input echoed back (as live state).
OUTPUT_ONLY_FIELDS: tuple[str, ...] = ("connector_id", "created_at", "modified_at", "auth_type", "tool_names")
# Fields accepted by POST /v1/connectors; connection_config / connection_secrets need a PATCH afterwards.
_CREATE_FIELDS: tuple[str, ...] = (
    "name", "description", "server", "icon_url", "visibility", "headers", "auth_data", "system_prompt",
)
_PATCH_AFTER_CREATE: tuple[str, ...] = ("connection_config", "connection_secrets")
# After an ambiguous create failure the connector may become visible a little later: look it up a few times.
_RECOVERY_LOOKUPS = 4
_RECOVERY_DELAY_S = 0.25


# ---- per-process configuration (never pickled) --------------------------------------------------------------


class _ProcessState:
    """Settings and the shared client of this provider process. Lives at module level, outside the pickle."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.api_key: str | None = None
        self.server_url: str | None = None
        self.client: ConnectorsClient | None = None


_STATE = _ProcessState()


def _set_settings(api_key: str | None, server_url: str | None) -> None:
    with _STATE.lock:
        if (api_key, server_url) != (_STATE.api_key, _STATE.server_url):
            if _STATE.client is not None:
                _STATE.client.close()
            _STATE.client = None
            _STATE.api_key, _STATE.server_url = api_key, server_url
    _LISTING.invalidate()


def _client() -> ConnectorsClient:
    """The process's shared client (httpx clients are thread-safe; the engine runs up to 4 calls at once)."""
    with _STATE.lock:
        if _STATE.client is None:
            from pulumi_mistral.client import ConnectorsClient

            _STATE.client = ConnectorsClient(api_key=_STATE.api_key, server_url=_STATE.server_url)
        return _STATE.client


def reset_process_state() -> None:
    """Forget the configured key, the client and the listing cache (tests and benchmarks)."""
    _set_settings(None, None)


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
    PAGE_SIZE = 1000

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
                for c in _client().iter_connectors(page_size=self.PAGE_SIZE, fetch_connection_secrets=True)
            }
            with self._lock:
                self.listings += 1
                if generation != self._generation:  # a write happened meanwhile: this listing may be stale
                    return None
                self._snapshot, self._fetched_at = items, started
            return items.get(connector_id)


_LISTING = _Listing()


# ---- helpers -----------------------------------------------------------------------------------------------------


def _is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def _contains_unknown(value: Any) -> bool:
    if _is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_unknown(v) for v in value)
    return False


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
        config = req.config
        api_key = config.get("mistral:apiKey") or os.environ.get("MISTRAL_API_KEY")
        server_url = config.get("mistral:serverUrl") or os.environ.get("MISTRAL_SERVER_URL")
        _set_settings(_plain(api_key), _plain(server_url))

    # -- check: validation and defaults, no HTTP ---------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = _props(news)
        olds = _props(olds)
        failures = spec.validate_inputs(news, is_unknown=_is_unknown)
        if failures:
            return CheckResult(news, [CheckFailure(f.property, f.reason) for f in failures])
        inputs = spec.normalize_inputs(news)
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
        planned = _diff.plan(old_outs, known, name_is_auto=name_is_auto)
        changes = set(planned.changes) | {k for k in unknown if k in spec.INPUT_FIELDS}
        replaces = set(planned.replaces) | {k for k in unknown if k in spec.REPLACE_FIELDS}
        # Control fields change only our outputs: still an update so the state records them.
        for key in ("adopt", "name_prefix"):
            if key not in unknown and old_outs.get(key) != known.get(key):
                changes.add(key)
        if not changes:
            return DiffResult(changes=False, replaces=[], delete_before_replace=False)
        return DiffResult(
            changes=True,
            replaces=sorted(replaces),
            delete_before_replace=bool(replaces) and not name_is_auto,
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
        return CreateResult(connector.id, _outputs(connector, inputs))

    def _create_new(self, client: ConnectorsClient, inputs: Mapping[str, Any]) -> Any:
        from pulumi_mistral.client import UNSET

        kwargs = {k: (inputs[k] if inputs.get(k) is not None else UNSET) for k in _CREATE_FIELDS}
        name = inputs["name"]
        for attempt in range(2):  # a second POST only when the first certainly did not land
            try:
                return client.create(**kwargs)
            except ConflictError as exc:
                if attempt:  # our own first, ambiguous POST may be the one holding the name
                    found = self._find_ours(client, inputs)
                    if found is not None:
                        return found
                raise _fail(
                    f"a connector named '{name}' already exists in this workspace; to take it over and manage "
                    "it from this stack set adopt=True, otherwise choose another name (or omit name to get a "
                    "unique auto-generated one)",
                    exc,
                ) from exc
            except MistralError as exc:
                if not getattr(exc, "may_have_landed", False):
                    raise
                found = self._find_ours(client, inputs)
                if found is not None:
                    return found
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_ours(self, client: ConnectorsClient, inputs: Mapping[str, Any]) -> Any:
        """After a create whose outcome is unknown: the connector by name if it is the one we sent, else None."""
        name = inputs["name"]
        for i in range(_RECOVERY_LOOKUPS):
            try:
                found = client.get(name, fetch_connection_secrets=True)
            except NotFoundError:
                found = None
            except MistralError:
                found = None  # the server is still unwell: try again after a pause
            if found is not None:
                if _matches(found, inputs):
                    return found
                raise _fail(
                    f"creating connector '{name}' failed ambiguously and a connector with that name but "
                    "different settings exists; set adopt=True to take it over, or choose another name"
                )
            time.sleep(_RECOVERY_DELAY_S * (i + 1))
        return None

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
        return ReadResult(data["id"], outs, _inputs_from_outputs(outs))

    # -- update: PATCH only what changed, return the full outputs ---------------------------------------------------

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old_outs = _props(olds)
        inputs = spec.normalize_inputs(_props(news))
        payload = _diff.update_payload(old_outs, inputs)
        if not payload:  # only control fields changed: nothing to send
            merged = {**old_outs, **{k: v for k, v in inputs.items()}}
            outs = {k: v for k, v in merged.items() if k in spec.ALL_FIELDS or k in OUTPUT_ONLY_FIELDS}
            for key in spec.CONTROL_FIELDS:
                if key not in inputs:
                    outs.pop(key, None)
            return UpdateResult({k: _secret(v) if k in spec.SECRET_FIELDS else v for k, v in outs.items()})
        _LISTING.invalidate()
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
        return UpdateResult(_outputs(connector, inputs))

    # -- delete: 404 counts as done ----------------------------------------------------------------------------------

    def delete(self, id_: str, _props_: dict[str, Any]) -> None:
        _LISTING.invalidate()
        try:
            _client().delete(id_)
        except NotFoundError:
            pass
        finally:
            _LISTING.invalidate()
