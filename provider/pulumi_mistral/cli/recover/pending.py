"""What an interrupted deployment left in a stack export: its pending operations, and the API each one used (pure).

Reads the JSON of ``pulumi stack export --show-secrets`` (already parsed): secret values arrive as
``plaintext`` and are decoded; a value that is still ``ciphertext`` is :data:`UNREADABLE` and is never
compared. Nothing here does I/O; the command passes the environment in.

* :func:`pending_operations`: each pending operation with the connector inputs it recorded, in snake_case
  whatever door declared it (the dynamic resource's own names; the native resource's camelCase ones);
* :func:`api_settings`: the key and server URL the operation's provider used. Dynamic: the stack config
  ``mistral:apiKey`` / ``mistral:serverUrl`` recorded as the inputs of the default ``pulumi-python``
  provider, else ``MISTRAL_API_KEY`` / ``MISTRAL_SERVER_URL``, as the provider reads them. Native: the
  recorded ``pulumi:providers:mistral`` resource's ``apiKey`` / ``serverUrl``, else the stack config, else
  the environment;
* :func:`secret_values`: every secret value of the export, so that nothing printed can carry one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_mistral.core.secret_markers import is_secret, reveal
from pulumi_mistral.core.spec import is_auto_name
from pulumi_mistral.policy.view import DYNAMIC_TYPE, NATIVE_TYPE, declared_view

__all__ = [
    "UNREADABLE",
    "ApiSettings",
    "PendingOp",
    "api_settings",
    "pending_operations",
    "recorded_ids",
    "secret_values",
]

ENV_API_KEY = "MISTRAL_API_KEY"
ENV_SERVER_URL = "MISTRAL_SERVER_URL"
DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-python"
NATIVE_PROVIDER_TYPE = "pulumi:providers:mistral"
DOORS: dict[str, str] = {DYNAMIC_TYPE: "dynamic", NATIVE_TYPE: "native"}


class _Unreadable:
    """A recorded value still encrypted (the export was made without the secrets): never compared."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE: Any = _Unreadable()


@dataclass(frozen=True)
class PendingOp:
    """One pending operation: ``kind`` is the engine's (``creating``, ``updating``, ``deleting``, ...).

    ``inputs`` are the connector's recorded inputs in snake_case (empty for a type that is not a connector),
    ``connector_id`` the recorded id (updates and deletes have one, creates do not), ``provider`` the recorded
    provider reference (``<provider urn>::<provider id>``).
    """

    kind: str
    urn: str
    type: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    connector_id: str | None = None
    provider: str | None = None

    @property
    def resource(self) -> str:
        """The resource name (the URN's last part)."""
        return self.urn.rsplit("::", 1)[-1]

    @property
    def door(self) -> str | None:
        """``dynamic`` or ``native`` for a connector, None for any other type."""
        return DOORS.get(self.type)

    @property
    def name(self) -> str | None:
        """The connector name the operation recorded (for a create: the name its Check drew), or None."""
        value = self.inputs.get("name")
        return value if isinstance(value, str) and value else None

    @property
    def auto_named(self) -> bool:
        """True when the recorded name was drawn for this resource (no name was declared).

        Dynamic: the hidden ``name_prefix`` input and a name of its shape. Native: a name of the shape
        ``<resource name>-<7 characters>``, the one the native door draws.
        """
        prefix = self.inputs.get("name_prefix")
        if self.door == "native" and prefix is None:
            prefix = self.resource
        return isinstance(prefix, str) and is_auto_name(self.name, prefix)

    @property
    def unreadable(self) -> list[str]:
        """The recorded inputs that are still encrypted, by name."""
        return sorted(k for k, v in self.inputs.items() if _holds(v, UNREADABLE))


def _holds(value: Any, marker: Any) -> bool:
    if value is marker:
        return True
    if isinstance(value, Mapping):
        return any(_holds(v, marker) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, marker) for v in value)
    return False


def _deployment(export: Mapping[str, Any]) -> Mapping[str, Any]:
    deployment = export.get("deployment")
    return deployment if isinstance(deployment, Mapping) else {}


def recorded_ids(export: Mapping[str, Any]) -> dict[str, str]:
    """The id of each resource in the state by URN (a resource being replaced away, ``delete: true``, last)."""
    ids: dict[str, str] = {}
    resources = [r for r in _deployment(export).get("resources") or [] if isinstance(r, Mapping)]
    for res in sorted(resources, key=lambda r: not r.get("delete")):
        if isinstance(res.get("id"), str) and res["id"]:
            ids[str(res.get("urn"))] = res["id"]
    return ids


def pending_operations(export: Mapping[str, Any]) -> list[PendingOp]:
    """Every pending operation of a stack export, in the order the state records them.

    An update or delete whose operation was recorded without its id (the engine writes the checkpoint while
    the step fills it in) takes the id its resource has in the state.
    """
    found = []
    ids = recorded_ids(export)
    for op in _deployment(export).get("pending_operations") or []:
        resource = op.get("resource") if isinstance(op, Mapping) else None
        if not isinstance(resource, Mapping):
            continue
        type_ = str(resource.get("type") or "")
        urn = str(resource.get("urn") or "")
        inputs: Mapping[str, Any] = {}
        if type_ in DOORS:
            revealed = reveal(resource.get("inputs") or {}, UNREADABLE)
            inputs = dict(declared_view(urn.rsplit("::", 1)[-1], revealed, urn=urn, type_=type_).props)
        kind = str(op.get("type") or "")
        connector_id = resource.get("id") or (ids.get(urn) if kind != "creating" else None)
        provider = resource.get("provider")
        found.append(PendingOp(
            kind=kind, urn=urn, type=type_, inputs=inputs,
            connector_id=connector_id if isinstance(connector_id, str) and connector_id else None,
            provider=provider if isinstance(provider, str) and provider else None,
        ))
    return found


@dataclass(frozen=True)
class ApiSettings:
    """Where a connector lives: the API key (never shown), the server URL, and where they were found."""

    api_key: str | None = field(default=None, repr=False)
    server_url: str | None = None
    source: str = ""

    @property
    def workspace(self) -> tuple[str | None, str | None]:
        """One key and URL is one workspace: operations with equal settings share a client."""
        return self.api_key, self.server_url


def _provider_resource(export: Mapping[str, Any], reference: str | None) -> Mapping[str, Any] | None:
    if not reference or "::" not in reference:
        return None
    urn, _, provider_id = reference.rpartition("::")
    for res in _deployment(export).get("resources") or []:
        if isinstance(res, Mapping) and res.get("urn") == urn and res.get("id") == provider_id:
            return res
    return None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def api_settings(export: Mapping[str, Any], op: PendingOp, environ: Mapping[str, str],
                 stack_config: Mapping[str, Any] | None = None) -> ApiSettings:
    """The key and URL of ``op``'s provider (see the module docstring for the order), from a revealed export.

    ``stack_config`` (``pulumi config --json`` values by key) is only read for the native door.
    """
    provider = _provider_resource(export, op.provider)
    recorded = reveal((provider or {}).get("inputs") or {}, UNREADABLE)
    if op.door == "native":
        keys = ("apiKey", "serverUrl")
        origin = "the recorded mistral provider"
    else:
        keys = ("mistral:apiKey", "mistral:serverUrl")
        origin = "the stack config recorded with the deployment"
    key, url = (_text(recorded.get(k)) if isinstance(recorded, Mapping) else None for k in keys)
    sources = [origin] if key else []
    if op.door == "native" and stack_config:
        if key is None and (key := _text(stack_config.get("mistral:apiKey"))):
            sources.append("the stack config")
        url = url or _text(stack_config.get("mistral:serverUrl"))
    if key is None and (key := _text(environ.get(ENV_API_KEY))):
        sources.append(ENV_API_KEY)
    url = url or _text(environ.get(ENV_SERVER_URL))
    return ApiSettings(api_key=key, server_url=url, source=" and ".join(sources) or "nowhere")


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def secret_values(value: Any) -> set[str]:
    """Every value held under a secret marker anywhere in ``value`` (a revealed export, or a config map)."""
    found: set[str] = set()
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if is_secret(node):
            found.update(_leaves(reveal(node, None)))
        elif isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
