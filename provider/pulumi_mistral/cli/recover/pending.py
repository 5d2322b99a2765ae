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
* :func:`engine_naming`: how the engine names a resource type under the stack's ``pulumi:autonaming`` config.
  The native door takes the engine's proposed name when that config applies, so a native auto name need not
  have the provider's ``<resource name>-<7 characters>`` shape: whether it comes back after a kill depends on
  the pattern (a random part draws another one);
* :func:`secret_values`: every secret value of the export, so that nothing printed can carry one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_mistral.cli import ENV_API_KEY, ENV_SERVER_URL
from pulumi_mistral.core.secret_markers import is_secret, reveal
from pulumi_mistral.core.spec import is_auto_name
from pulumi_mistral.policy.view import DYNAMIC_TYPE, NATIVE_TYPE, declared_view

__all__ = [
    "UNREADABLE",
    "ApiSettings",
    "PendingOp",
    "api_settings",
    "engine_naming",
    "pending_operations",
    "recorded_ids",
    "secret_values",
]

DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-python"
NATIVE_PROVIDER_TYPE = "pulumi:providers:mistral"
DOORS: dict[str, str] = {DYNAMIC_TYPE: "dynamic", NATIVE_TYPE: "native"}
AUTONAMING_KEY = "pulumi:autonaming"
# The random parts of an autonaming pattern, as the Pulumi CLI reads them (resource/autonaming/strategy.go).
_RANDOM_PART = re.compile(r"\$\{(?:hex|alphanum|string|num)\(\d+\)\}|\$\{uuid\}")
_MODES = {"default": "provider", "verbatim": "fixed", "disabled": "disabled"}


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
    provider reference (``<provider urn>::<provider id>``), ``naming`` how the engine names this type under
    the stack's autonaming config (:func:`engine_naming`; the command fills it in for native creates).
    """

    kind: str
    urn: str
    type: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    connector_id: str | None = None
    provider: str | None = None
    naming: str = "provider"

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
    def name_origin(self) -> str:
        """Where the recorded name came from, which says whether the next ``up`` asks for it again.

        ``declared`` (the program set it: it comes back); ``drawn`` (drawn at random for this resource: it
        never comes back); ``pattern`` (the stack's autonaming pattern without a random part: it comes back);
        ``unknown``. Both doors record the hidden ``name_prefix`` input (native: ``namePrefix``) exactly when
        no name was declared. The provider draws ``<name_prefix>-<7 characters>``; a native connector under
        the stack's ``pulumi:autonaming`` config takes the engine's proposal instead.
        """
        prefix = self.inputs.get("name_prefix")
        if not isinstance(prefix, str):
            return "declared"
        if self.door == "native" and self.naming != "provider":
            return {"random": "drawn", "fixed": "pattern"}.get(self.naming, "unknown")
        return "drawn" if is_auto_name(self.name, prefix) else "unknown"

    @property
    def auto_named(self) -> bool:
        """True when the recorded name was drawn at random for this resource (:attr:`name_origin`)."""
        return self.name_origin == "drawn"

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
        found.append(
            PendingOp(
                kind=kind,
                urn=urn,
                type=type_,
                inputs=inputs,
                connector_id=connector_id if isinstance(connector_id, str) and connector_id else None,
                provider=provider if isinstance(provider, str) and provider else None,
            )
        )
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


def api_settings(
    export: Mapping[str, Any], op: PendingOp, environ: Mapping[str, str], stack_config: Mapping[str, Any] | None = None
) -> ApiSettings:
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


def _naming_level(section: Any) -> str | None:
    """One level of ``pulumi:autonaming`` (the root, a provider, a resource type), or None when it sets nothing."""
    if not isinstance(section, Mapping):
        return None
    pattern = section.get("pattern")
    if isinstance(pattern, str):
        return "random" if _RANDOM_PART.search(pattern) else "fixed"
    mode = section.get("mode")
    return _MODES.get(mode, "unknown") if isinstance(mode, str) else None


def engine_naming(stack_config: Mapping[str, Any] | None, type_: str) -> str:
    """How the engine names a resource of ``type_`` under the stack's ``pulumi:autonaming`` config (values by key,
    as ``pulumi config --json`` gives them), resolved as the Pulumi CLI does: the resource type's entry under its
    package's provider, else that provider's, else the root's.

    ``provider`` (no config, or mode ``default``: the provider draws the name itself), ``random`` (a pattern
    with a random part: the engine proposes another name on every create), ``fixed`` (mode ``verbatim``, or a
    pattern without a random part: the same name every time), ``disabled``, or ``unknown``.
    """
    section = (stack_config or {}).get(AUTONAMING_KEY)
    if section is None:
        return "provider"
    if not isinstance(section, Mapping):
        return "unknown"
    chosen = _naming_level(section) or "provider"
    providers = section.get("providers")
    provider = providers.get(type_.split(":", 1)[0]) if isinstance(providers, Mapping) else None
    if isinstance(provider, Mapping):
        chosen = _naming_level(provider) or chosen
        resources = provider.get("resources")
        chosen = (_naming_level(resources.get(type_)) if isinstance(resources, Mapping) else None) or chosen
    return chosen


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
