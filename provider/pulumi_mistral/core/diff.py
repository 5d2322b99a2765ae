"""Normalisation and diff of a connector's desired state against its live state (pure).

One set of rules decides what "changed" means, for the provider's ``diff`` and ``update``, for refresh
(``live_state``) and for the drift report, so that they can never disagree:

- a missing field, ``None`` and (for map fields) ``{}`` are the same thing;
- URLs are compared in canonical form (scheme and host lower-case, default port dropped, empty path = ``/``);
- numbers are compared as numbers (``1`` == ``1.0``: the engine turns every number into a double);
- ``visibility`` left unset in the desired state is not managed (the server picks its default);
- a secret the API does not return (write-only) keeps the value of the previous state.

    >>> changed_fields({"description": "a", "server": "https://X.com"}, {"description": "a", "server": "https://x.com/"})
    []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pulumi_mistral.core.spec import DICT_FIELDS, INPUT_FIELDS, REPLACE_FIELDS, ints_from_floats

# Inputs that change only our own outputs (no API call), but still make an update.
STATE_ONLY_FIELDS: tuple[str, ...] = ("tool_pins", "tool_drift")
_URL_FIELDS = frozenset({"server", "icon_url"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
UPDATABLE_FIELDS: tuple[str, ...] = tuple(f for f in INPUT_FIELDS if f not in REPLACE_FIELDS)
# What POST /v1/connectors accepts; connection_config and connection_secrets need a PATCH after it.
CREATE_FIELDS: tuple[str, ...] = tuple(f for f in INPUT_FIELDS if f not in ("connection_config", "connection_secrets"))


def normalize_url(value: str) -> str:
    """``value`` in canonical form; a string that is not a URL is returned unchanged."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return value
    if not parts.scheme or not parts.hostname:
        return value
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def normalize_value(name: str, value: Any) -> Any:
    """The canonical form of one field's value, used for every comparison."""
    value = ints_from_floats(value)
    if value is None:
        return None
    if name in DICT_FIELDS and isinstance(value, Mapping) and not value:
        return None
    if name in _URL_FIELDS and isinstance(value, str):
        return normalize_url(value)
    if isinstance(value, Mapping):
        return {k: value[k] for k in sorted(value)}
    return value


def _differs(name: str, old: Any, new: Any) -> bool:
    return bool(normalize_value(name, old) != normalize_value(name, new))


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The managed fields whose values differ between ``old`` (live or stored) and ``new`` (desired), sorted.

    Includes the state-only fields (``tool_pins``, ``tool_drift``); see :func:`update_payload` for what is
    sent to the API.
    """
    changed = []
    for name in (*INPUT_FIELDS, *STATE_ONLY_FIELDS):
        if name == "visibility" and new.get(name) is None:
            continue
        if _differs(name, old.get(name), new.get(name)):
            changed.append(name)
    return sorted(changed)


def update_payload(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that takes ``old`` to ``new``: only changed, API-updatable fields; ``None`` clears."""
    payload: dict[str, Any] = {}
    for name in changed_fields(old, new):
        if name in UPDATABLE_FIELDS:
            payload[name] = normalize_value(name, new.get(name)) if name not in _URL_FIELDS else new.get(name)
    return payload


def _merge_secret_map(live: Any, names: Any, previous: Any) -> Any:
    """A write-only map: the live values when the API returned them, else the names the API listed with the
    previous values (``None`` for a name we never knew), else the previous map unchanged."""
    if isinstance(live, Mapping):
        return dict(live) or None
    prev = previous if isinstance(previous, Mapping) else {}
    if isinstance(names, (list, tuple)):
        if not names:
            return None
        return {n: prev.get(n) for n in names}
    return dict(prev) or None


def live_state(connector: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The managed fields of a connector as the API returned it (``model_dump()`` of the wire model).

    A field the API did not return is unknown, not cleared: it keeps its value from ``previous``.
    """
    prev = previous or {}
    state: dict[str, Any] = {}
    for name in ("name", "description", "server", "icon_url", "visibility", "system_prompt", "connection_config"):
        state[name] = connector[name] if name in connector else prev.get(name)
    state["headers"] = _merge_secret_map(connector.get("headers"), connector.get("header_names"), prev.get("headers"))
    state["connection_secrets"] = _merge_secret_map(
        connector.get("connection_secrets"), connector.get("connection_secret_names"), prev.get("connection_secrets")
    )
    if "auth_data" in connector:
        live_auth = connector["auth_data"]
        if isinstance(live_auth, Mapping):
            prev_auth = prev.get("auth_data") if isinstance(prev.get("auth_data"), Mapping) else {}
            secret = live_auth.get("client_secret")
            if secret is None and prev_auth and prev_auth.get("client_id") == live_auth.get("client_id"):
                secret = prev_auth.get("client_secret")
            state["auth_data"] = {"client_id": live_auth.get("client_id"), "client_secret": secret}
        else:
            state["auth_data"] = None
    else:
        state["auth_data"] = prev.get("auth_data")
    return {k: ints_from_floats(v) for k, v in state.items()}


def create_differences(connector: Mapping[str, Any], sent: Mapping[str, Any]) -> list[str]:
    """The create fields in which a live connector (as the API returned it) differs from what a create sent,
    sorted. None: it carries exactly what that create sent (the create-recovery rule: the provider adopts it
    after an ambiguous create, ``recover`` leaves a named one for the next ``up``)."""
    live = live_state(connector, None)
    wanted = {k: sent.get(k) for k in CREATE_FIELDS}
    return [f for f in changed_fields(live, wanted) if f in CREATE_FIELDS]


@dataclass(frozen=True)
class DiffPlan:
    """What the engine should do: nothing, update ``changes``, or replace because of ``replaces``."""

    changes: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False


def plan(
    old_outputs: Mapping[str, Any],
    new_inputs: Mapping[str, Any],
    *,
    name_is_auto: bool,
    unknown: Iterable[str] = (),
) -> DiffPlan:
    """Compare new inputs with the old outputs. Replacing a connector whose name stays the same must delete
    first (names are unique); an auto-named one gets a fresh name, so it is created before the old one goes.

    ``unknown`` names inputs whose values are not known yet (a preview): such a managed field may change, so it
    counts as changed, and as a replacement when the API cannot update it.
    """
    pending = set(unknown)
    known = {k: v for k, v in new_inputs.items() if k not in pending}
    changes = sorted(set(changed_fields(old_outputs, known)) | (pending & set(INPUT_FIELDS)))
    replaces = [name for name in changes if name in REPLACE_FIELDS]
    return DiffPlan(changes=changes, replaces=replaces, delete_before_replace=bool(replaces) and not name_is_auto)
