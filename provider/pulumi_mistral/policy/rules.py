"""The governance rules: pure functions over connector views, each with a stable id, a description and parameters.

A resource rule takes one :class:`~pulumi_mistral.policy.view.ConnectorView` and its parameters and returns
the messages of its violations (empty: compliant); a stack rule takes every connector of a stack and returns
``(message, resource URN or None)`` pairs. Every message says what to change. A rule that needs a value not
known yet (:data:`~pulumi_mistral.policy.view.UNKNOWN`) says nothing. Messages never hold a secret: they name
connectors, hosts and visibilities, and show a server URL without its user info and query.

:data:`RULES` lists every rule in a stable order; ``Rule.live`` marks those a live connector can show
(``pulumi-mistral audit``). The parameters' JSON schemas, defaults and levels are in
:mod:`pulumi_mistral.policy.config`; the pulumi_policy adapter is :mod:`pulumi_mistral.policy.pack`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pulumi_mistral.core.diff import normalize_url
from pulumi_mistral.core.hosts import is_loopback
from pulumi_mistral.policy.view import UNKNOWN, ConnectorView, is_known

__all__ = [
    "RULES",
    "RULES_BY_ID",
    "SERVER_DEFAULT_VISIBILITY",
    "SHARED",
    "VISIBILITY_ORDER",
    "Rule",
    "StackViolation",
    "shown_url",
]

# From least to most visible. The API's enum also has shared_global, above shared_org.
VISIBILITY_ORDER: tuple[str, ...] = ("private", "shared_workspace", "shared_org", "shared_global")
SHARED = frozenset(VISIBILITY_ORDER[1:])
# What a connector created without a visibility gets (the local server's default, which models the API's).
SERVER_DEFAULT_VISIBILITY = "shared_workspace"

StackViolation = tuple[str, "str | None"]
ResourceCheck = Callable[[ConnectorView, Mapping[str, Any]], list[str]]
StackCheck = Callable[[Sequence[ConnectorView], Mapping[str, Any]], list[StackViolation]]


@dataclass(frozen=True)
class Rule:
    """One rule: ``id`` (kebab-case, stable: configs and SARIF use it), a one-line ``description``, and
    ``check`` (a :data:`ResourceCheck` for ``scope="resource"``, a :data:`StackCheck` for ``"stack"``).
    ``live``: the rule reads only what a live connector shows, so ``pulumi-mistral audit`` applies it."""

    id: str
    description: str
    scope: str
    check: Callable[..., Any]
    live: bool = False


def shown_url(url: str) -> str:
    """``url`` as messages show it: no user info, and ``?…`` for a query (either may hold a token)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(not a URL)"
    if not parts.scheme or not parts.hostname:
        return "(not a URL)"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}" + ("?…" if parts.query else "")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- resource rules ---------------------------------------------------------------------------------------------


def server_https(view: ConnectorView, params: Mapping[str, Any]) -> list[str]:
    server = _text(view.get("server"))
    if server is None:
        return []
    try:
        parts = urlsplit(server)
        host = parts.hostname or ""
    except ValueError:
        return ["server is not a valid URL: give an https:// URL of the MCP server"]
    scheme = parts.scheme.lower()
    if scheme == "https":
        return []
    shown = shown_url(server)
    if scheme == "http" and is_loopback(host):
        if params.get("allowLoopbackHttp", True):
            return []
        return [
            f"server {shown} uses plain http: use https:// (plain http to a loopback host is turned off by "
            "this rule's allowLoopbackHttp: false)"
        ]
    if scheme == "http":
        return [
            f"server {shown} uses plain http to {host}: use https:// (plain http is allowed only for a "
            "loopback host such as localhost or 127.0.0.1)"
        ]
    return [f"server {shown} is not an https:// URL: use https://"]


def _host(server: str) -> str | None:
    try:
        host = urlsplit(server).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def _match(host: str, patterns: Sequence[str]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(host, str(p).strip().lower().rstrip("."))), None)


def server_host(view: ConnectorView, params: Mapping[str, Any]) -> list[str]:
    server = _text(view.get("server"))
    host = _host(server) if server is not None else None
    if host is None:
        return []
    denied = _match(host, params.get("deniedHosts") or [])
    if denied is not None:
        return [
            f"server host {host} matches the denied pattern '{denied}': register an MCP server on another "
            "host (or change deniedHosts)"
        ]
    allowed = list(params.get("allowedHosts") or ["*"])
    if _match(host, allowed) is None:
        return [
            f"server host {host} is not allowed (allowedHosts: {', '.join(allowed)}): register an MCP "
            "server on an allowed host, or add the host to allowedHosts"
        ]
    return []


def _rank(visibility: str) -> int:
    return VISIBILITY_ORDER.index(visibility) if visibility in VISIBILITY_ORDER else len(VISIBILITY_ORDER)


def _visibility(view: ConnectorView) -> tuple[Any, str]:
    """The visibility the connector will have, and how messages name it (unset: the server's default)."""
    value = view.get("visibility")
    if value is None:
        return SERVER_DEFAULT_VISIBILITY, f"unset visibility (the server's default: {SERVER_DEFAULT_VISIBILITY})"
    return value, f"visibility {value}"


def visibility(view: ConnectorView, params: Mapping[str, Any]) -> list[str]:
    value, said = _visibility(view)
    if not isinstance(value, str):
        return []  # not known yet
    if value not in VISIBILITY_ORDER:
        return [f"visibility '{value}' is not one of {', '.join(VISIBILITY_ORDER)}: set one of them"]
    ceiling = str(params.get("maxVisibility") or "shared_workspace")
    listed = [str(n) for n in params.get("sharedOrgNames") or []]
    base = view.base_name
    if value == "shared_org" and isinstance(base, str) and base in listed:
        return []
    if _rank(value) <= _rank(ceiling):
        return []
    fix = f"set visibility to {ceiling} or lower"
    if value == "shared_org":
        who = (
            (f"the name prefix '{base}'" if view.auto_named else f"the name '{base}'")
            if isinstance(base, str)
            else "its name"
        )
        fix += f", or list {who} in sharedOrgNames"
    return [f"{said} is above the allowed ceiling {ceiling}: {fix}"]


def shared_tools_tracked(view: ConnectorView, _params: Mapping[str, Any]) -> list[str]:
    (value, said), pins, drift = _visibility(view), view.get("tool_pins"), view.get("tool_drift")
    if value not in SHARED or not is_known(pins) or drift is UNKNOWN:
        return []
    if (isinstance(pins, Mapping) and pins) or drift == "block":
        return []
    unset = "" if view.get("visibility") is not None else "set visibility: private, or "
    return [
        f"{said} shares the connector, so it must track its MCP tools: {unset}set tool_pins (from "
        "`pulumi-mistral drift --write-pins`), or tool_drift: block"
    ]


def name_pattern(view: ConnectorView, params: Mapping[str, Any]) -> list[str]:
    name = view.get("name")
    if not isinstance(name, str):
        return []  # auto-named and not drawn yet, or not known yet
    pattern = str(params.get("pattern") or ".*")
    if re.search(pattern, name):
        return []
    if view.auto_named:
        return [
            f"name '{name}' (drawn from '{view.base_name}') does not match {pattern}: set name explicitly, "
            "or rename the resource"
        ]
    return [f"name '{name}' does not match {pattern}: rename the connector"]


def description(view: ConnectorView, params: Mapping[str, Any]) -> list[str]:
    value = view.get("description")
    if value is UNKNOWN:
        return []
    minimum = int(params.get("minLength") or 1)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) >= minimum:
        return []
    what = "is empty" if not text else f"has {len(text)} characters, fewer than {minimum}"
    return [f"description {what}: say what the connector is for (users and models read it)"]


# -- stack rules --------------------------------------------------------------------------------------------------


def names_unique(views: Sequence[ConnectorView], _params: Mapping[str, Any]) -> list[StackViolation]:
    by_name: dict[str, list[ConnectorView]] = {}
    for view in views:
        name = view.get("name")
        if isinstance(name, str):
            by_name.setdefault(name, []).append(view)
    found: list[StackViolation] = []
    for name, same in sorted(by_name.items()):
        if len(same) < 2:
            continue
        resources = ", ".join(sorted(v.resource for v in same))
        found += [
            (
                f"connector name '{name}' is declared by {len(same)} resources of this stack ({resources}): "
                "give each connector its own name",
                v.urn,
            )
            for v in same
        ]
    return found


def shared_org_limit(views: Sequence[ConnectorView], params: Mapping[str, Any]) -> list[StackViolation]:
    limit = int(params.get("maxSharedOrg", 1))
    shared = sorted(v.label for v in views if v.get("visibility") == "shared_org")
    if len(shared) <= limit:
        return []
    return [
        (
            f"{len(shared)} connectors of this stack are shared_org ({', '.join(shared)}), at most {limit} "
            f"allowed: lower the visibility of {len(shared) - limit} of them, or raise maxSharedOrg",
            None,
        )
    ]


def _tool_policy(view: ConnectorView) -> tuple[Any, Any] | None:
    pins, drift = view.get("tool_pins"), view.get("tool_drift")
    if not is_known(pins) or drift is UNKNOWN:
        return None
    return (tuple(sorted(pins.items())) if isinstance(pins, Mapping) and pins else None, drift)


def _describe_policy(policy: tuple[Any, Any]) -> str:
    pins, drift = policy
    parts = [f"{len(pins)} pinned tool{'s' if len(pins) != 1 else ''}" if pins else "no pins"]
    parts.append(f"tool_drift {drift}" if drift else "no tool_drift")
    return ", ".join(parts)


def server_tool_policy(views: Sequence[ConnectorView], _params: Mapping[str, Any]) -> list[StackViolation]:
    by_server: dict[str, list[tuple[ConnectorView, tuple[Any, Any]]]] = {}
    for view in views:
        server, policy = _text(view.get("server")), _tool_policy(view)
        if server is not None and policy is not None:
            by_server.setdefault(normalize_url(server), []).append((view, policy))
    found: list[StackViolation] = []
    for server, group in sorted(by_server.items()):
        if len({policy for _, policy in group}) < 2:
            continue
        each = "; ".join(f"{v.resource}: {_describe_policy(p)}" for v, p in sorted(group, key=lambda g: g[0].resource))
        found += [
            (
                f"{len(group)} connectors register {shown_url(server)} with different tool policies ({each}): "
                "give them the same tool_pins and tool_drift, or register the server once",
                v.urn,
            )
            for v, _ in group
        ]
    return found


RULES: tuple[Rule, ...] = (
    Rule(
        "connector-server-https",
        "A connector's MCP server uses https (plain http only for a loopback host).",
        "resource",
        server_https,
        live=True,
    ),
    Rule(
        "connector-server-host",
        "A connector's MCP server host is allowed and not denied.",
        "resource",
        server_host,
        live=True,
    ),
    Rule(
        "connector-visibility",
        "A connector is no more visible than the ceiling; shared_org only for listed names.",
        "resource",
        visibility,
        live=True,
    ),
    Rule(
        "connector-shared-tools-tracked",
        "A shared connector tracks its MCP tools (tool_pins, or tool_drift block).",
        "resource",
        shared_tools_tracked,
    ),
    Rule(
        "connector-name-pattern",
        "A connector's name matches the configured pattern.",
        "resource",
        name_pattern,
        live=True,
    ),
    Rule("connector-description", "A connector has a description.", "resource", description, live=True),
    Rule("connector-names-unique", "No two connectors of a stack declare the same name.", "stack", names_unique),
    Rule(
        "connector-shared-org-limit",
        "A stack has at most a configured number of shared_org connectors.",
        "stack",
        shared_org_limit,
    ),
    Rule(
        "connector-server-tool-policy",
        "Connectors of one server URL in a stack share one tool policy.",
        "stack",
        server_tool_policy,
    ),
)
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
