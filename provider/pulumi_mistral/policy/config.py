"""The rules' configuration: each rule's parameters (JSON schema, defaults), levels, and the config file (pure).

One file configures both the policy pack (``pulumi preview --policy-pack-config FILE``) and ``pulumi-mistral
audit --config FILE``. Its format is Pulumi's: a rule id maps to a level, or to an object with an optional
``enforcementLevel`` and the rule's parameters; ``all`` sets the level of every rule a key does not set::

    {"all": "mandatory",
     "connector-server-host": {"allowedHosts": ["*.example.com"]},
     "connector-visibility": {"enforcementLevel": "advisory", "sharedOrgNames": ["docs-search"]}}

The CLI validates the pack's config against :data:`SCHEMAS` itself (it fills in the defaults, and a wrong type
is an error before any resource is looked at); :func:`parameter_problems` applies the same schemas here, for
the audit command and for what the CLI lets through (an unknown parameter, a pattern that is not a regular
expression). Every rule is ``mandatory`` unless configured otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_mistral.core.spec import NAME_PATTERN, suggest
from pulumi_mistral.errors import InputError
from pulumi_mistral.policy.rules import RULES, RULES_BY_ID, VISIBILITY_ORDER

__all__ = [
    "DEFAULT_LEVEL",
    "LEVELS",
    "SCHEMAS",
    "RuleConfig",
    "defaults",
    "load_config",
    "parameter_problems",
    "parse_config",
]

LEVELS: tuple[str, ...] = ("advisory", "mandatory", "remediate", "disabled")
DEFAULT_LEVEL = "mandatory"
ALL = "all"
_HOSTS = {"type": "array", "items": {"type": "string", "minLength": 1}}

# rule id -> {parameter: JSON schema with its default}. A rule without parameters has an empty map.
SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    "connector-server-https": {
        "allowLoopbackHttp": {
            "type": "boolean",
            "default": True,
            "description": "Allow plain http to a loopback host (localhost, 127.0.0.1, ::1).",
        },
    },
    "connector-server-host": {
        "allowedHosts": {
            **_HOSTS,
            "default": ["*"],
            "description": "Host patterns (fnmatch: *.example.com) a server may use.",
        },
        "deniedHosts": {
            **_HOSTS,
            "default": [],
            "description": "Host patterns no server may use (checked before allowedHosts).",
        },
    },
    "connector-visibility": {
        "maxVisibility": {
            "type": "string",
            "enum": list(VISIBILITY_ORDER),
            "default": "shared_workspace",
            "description": "The most visible a connector may be.",
        },
        "sharedOrgNames": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "description": "Connector names (or name prefixes) that may be shared_org.",
        },
    },
    "connector-shared-tools-tracked": {},
    "connector-name-pattern": {
        "pattern": {
            "type": "string",
            "minLength": 1,
            "format": "regex",
            "default": NAME_PATTERN,
            "description": "A regular expression every connector name must match (re.search).",
        },
    },
    "connector-description": {
        "minLength": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "The fewest characters a description may have (surrounding spaces aside).",
        },
    },
    "connector-names-unique": {},
    "connector-shared-org-limit": {
        "maxSharedOrg": {
            "type": "integer",
            "minimum": 0,
            "default": 1,
            "description": "The most shared_org connectors one stack may have.",
        },
    },
    "connector-server-tool-policy": {},
}
_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "string": (str,),
    "integer": (int, float),
    "array": (list, tuple),
}


@dataclass(frozen=True)
class RuleConfig:
    """One rule's effective configuration: its level and every parameter (defaults filled in)."""

    level: str = DEFAULT_LEVEL
    params: Mapping[str, Any] = field(default_factory=dict)


def defaults(rule_id: str) -> dict[str, Any]:
    """The rule's parameters at their defaults."""
    return {name: schema["default"] for name, schema in SCHEMAS[rule_id].items()}


def _value_problem(name: str, given: Any, schema: Mapping[str, Any]) -> str | None:
    kind = schema["type"]
    value: Any = given  # Any: the isinstance check below is over a looked-up tuple of types
    if (isinstance(given, bool) and kind != "boolean") or not isinstance(given, _TYPES[kind]):
        return f"{name} must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}, got {json.dumps(value)}"
    if kind == "integer" and (value != int(value) or value < schema.get("minimum", value)):
        return f"{name} must be a whole number of at least {schema.get('minimum', 0)}, got {json.dumps(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{name} must be one of {', '.join(schema['enum'])}, got {json.dumps(value)}"
    if kind == "string" and len(value) < schema.get("minLength", 0):
        return f"{name} must not be empty"
    if schema.get("format") == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            return f"{name} is not a regular expression ({exc})"
    if kind == "array":
        for i, item in enumerate(value):
            problem = _value_problem(f"{name}[{i}]", item, schema["items"])
            if problem:
                return problem
    return None


def parameter_problems(rule_id: str, params: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``params`` for the rule (an unknown name, a wrong type or value); empty when fine."""
    schemas = SCHEMAS[rule_id]
    problems = []
    for name, value in params.items():
        if name == "enforcementLevel":
            continue
        if name not in schemas:
            known = f"its parameters: {', '.join(schemas)}" if schemas else "it has no parameters"
            problems.append(f"unknown parameter '{name}'{suggest(name, list(schemas))} ({known})")
            continue
        problem = _value_problem(name, value, schemas[name])
        if problem:
            problems.append(problem)
    return problems


def _level(value: Any, where: str) -> str:
    if value not in LEVELS:
        raise InputError(f"{where}: enforcement level {json.dumps(value)} is not one of {', '.join(LEVELS)}")
    return str(value)


def parse_config(doc: Any, *, source: str = "config") -> dict[str, RuleConfig]:
    """Every rule's effective configuration from a parsed config document (None: all defaults).

    Raises :class:`~pulumi_mistral.errors.InputError` naming every problem of the document: an unknown rule
    or parameter, a wrong type, an unknown level. ``remediate`` is accepted for every rule, as Pulumi does: a
    rule without a remediation (all but ``connector-visibility``) then acts as ``mandatory``.
    """
    doc = {} if doc is None else doc
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: expected a JSON object of rule ids, got {type(doc).__name__}")
    problems: list[str] = []
    level = _all_level(doc.get(ALL), source, problems) or DEFAULT_LEVEL
    found = {rule.id: _rule_config(rule.id, doc.get(rule.id), level, source, problems) for rule in RULES}
    for key in doc:
        if key != ALL and key not in RULES_BY_ID:
            problems.append(f"{source}: unknown rule '{key}'{suggest(str(key), list(RULES_BY_ID))}")
    if problems:
        raise InputError(problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + "; ".join(problems))
    return found


def _all_level(raw: Any, source: str, problems: list[str]) -> str | None:
    """The level the ``all`` key sets for every rule (a level, or an object with one); None if absent or bad."""
    if raw is None:
        return None
    try:
        return _level(raw.get("enforcementLevel") if isinstance(raw, Mapping) else raw, f"{source}: all")
    except InputError as exc:
        problems.append(exc.message)
    return None


def _rule_config(rule_id: str, entry: Any, level: str, source: str, problems: list[str]) -> RuleConfig:
    """One rule's configuration: its entry (a level, or an object of level and parameters) over the defaults."""
    params = defaults(rule_id)
    if isinstance(entry, str):
        entry = {"enforcementLevel": entry}
    if entry is not None and not isinstance(entry, Mapping):
        problems.append(f"{source}: {rule_id}: expected a level or an object, got {json.dumps(entry)}")
        entry = None
    if entry:
        if "enforcementLevel" in entry:
            try:
                level = _level(entry["enforcementLevel"], f"{source}: {rule_id}")
            except InputError as exc:
                problems.append(exc.message)
        problems += [f"{source}: {rule_id}: {p}" for p in parameter_problems(rule_id, entry)]
        params.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    return RuleConfig(level=level, params=params)


def load_config(path: str | None) -> dict[str, RuleConfig]:
    """:func:`parse_config` of a JSON file (``--policy-pack-config`` / ``audit --config``); None: defaults."""
    if path is None:
        return parse_config(None)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON (line {exc.lineno}): expected a policy config object") from None
    return parse_config(doc, source=path)
