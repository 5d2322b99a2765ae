"""The desired state of a connector: its input fields and their validation, one failure per property (pure).

Used by the provider's ``check``, the YAML declarations and the drift report, so all three reject exactly
the same inputs with exactly the same words. Each rule is one ``*_problem(value) -> str | None`` function
(``name_problem``, ``url_problem``, ``choice_problem``; the header rules are ``core.headers``'); the local server calls
the same functions for what the API itself refuses, so a preview refuses what an apply would. Nothing here
does I/O or imports pulumi; values that are not known yet (a preview) are recognised through the
``is_unknown`` predicate the caller passes in.

    >>> validate_inputs({"description": "Docs", "server": "ftp://x"})[0].property
    'server'
"""

from __future__ import annotations

import difflib
import random
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pulumi_mistral.core.headers import header_names_problems, header_value_problem
from pulumi_mistral.core.json_values import json_problem, never_unknown, type_name

# Fields sent to the Connectors API, in the order the API documents them.
INPUT_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "server",
    "icon_url",
    "visibility",
    "headers",
    "auth_data",
    "system_prompt",
    "connection_config",
    "connection_secrets",
)
# Fields that steer the provider and are never sent to the API.
CONTROL_FIELDS: tuple[str, ...] = ("adopt", "tool_pins", "tool_drift", "name_prefix")
ALL_FIELDS: tuple[str, ...] = INPUT_FIELDS + CONTROL_FIELDS

SECRET_FIELDS = frozenset({"headers", "auth_data", "connection_secrets"})
# The API's update cannot change these: a change means a new connector.
REPLACE_FIELDS = frozenset({"visibility"})
DICT_FIELDS = frozenset({"headers", "connection_config", "connection_secrets"})
REQUIRED_FIELDS = ("description", "server")

VISIBILITIES: tuple[str, ...] = ("shared_global", "shared_org", "shared_workspace", "private")
TOOL_DRIFT_POLICIES: tuple[str, ...] = ("audit", "warn", "block")
AUTH_DATA_FIELDS: tuple[str, ...] = ("client_id", "client_secret")

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
NAME_MAX = 64
_NAME_RE = re.compile(NAME_PATTERN)
_FINGERPRINT_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

# Limits a real API has, shared with the local server. Keys are counted per map, at any level.
MAX_MAP_KEYS = 256
MAX_NESTING = 16  # levels of maps and lists inside connection_config / connection_secrets (the map is level 1)
_AUTO_SUFFIX_LEN = 7
_AUTO_ALPHABET = string.ascii_lowercase + string.digits


class _Unknown:
    """A value not known where it is looked at: a computed input during a preview, an encrypted secret, a secret
    reference that cannot be read. One instance, :data:`UNKNOWN`, shared by the lifecycle, the drift report and
    the policy rules; it pickles as a reference to that instance."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Failure:
    """One problem with one property: ``reason`` says what is wrong and how to fix it, never a secret value."""

    property: str
    reason: str

    def __str__(self) -> str:
        return f"{self.property}: {self.reason}"


def suggest(key: str, candidates: tuple[str, ...] | list[str]) -> str:
    """A ' (did you mean ...?)' hint for a misspelt key, or '' when nothing is close."""
    match = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if not match:
        match = [c for c in candidates if c.replace("_", "") == key.lower().replace("_", "").replace("-", "")]
    return f" (did you mean '{match[0]}'?)" if match else ""


# user[:password]@ before the host (urlsplit's rule: '@' in the part up to the first / ? #), valid URL or not.
_USERINFO_RE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://)?[^/?#]*@")
CREDENTIALS_PROBLEM = (
    "embeds credentials (user:password@), which would sit in plain text in the state, outputs "
    "and drift reports; fix: remove them from the URL and send them in headers or auth_data"
)


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an absolute http(s) URL with a host, with the fix (credentials first, never quoted),
    or None. The local server answers a bad ``server`` with the same words."""
    if _USERINFO_RE.match(value):
        return CREDENTIALS_PROBLEM
    problem = _url_shape_problem(value)
    return f"{problem}; fix: use an absolute URL such as https://mcp.example.com/mcp" if problem else None


def _url_shape_problem(value: str) -> str | None:
    if not value.strip():
        return "is empty"
    if any(c.isspace() for c in value):
        return "contains whitespace"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"'{parts.scheme}://'" if parts.scheme else "no scheme"
        return f"must start with http:// or https:// (it has {shown})"
    if not parts.hostname:
        return "has no host"
    return None


def name_problem(value: Any, *, can_omit: bool = True) -> str | None:
    """Why ``value`` is not a valid connector name, or None. The fix offers auto-naming only where the name
    ``can_omit`` (a resource's input; the API itself requires a name)."""
    omit = ", or omit name to auto-name" if can_omit else ""
    if not isinstance(value, str):
        return f"must be a string (got {type_name(value)}); fix: quote it{omit}"
    if not value:
        return f"must not be empty; fix: give 1-64 letters, digits, '_' or '-'{omit}"
    if len(value) > NAME_MAX:
        return f"is {len(value)} characters long, the limit is {NAME_MAX}; fix: shorten it"
    if not _NAME_RE.match(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "_-"))})
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"may only contain letters, digits, '_' and '-' (found {shown}); fix: replace them with '-' or '_'"
    return None


def choice_problem(value: Any, choices: tuple[str, ...]) -> str | None:
    """Why ``value`` is not one of ``choices`` (the nearest one suggested), or None."""
    if isinstance(value, str) and value in choices:
        return None
    shown = repr(value) if isinstance(value, str) else type_name(value)
    return f"must be one of {', '.join(choices)} (got {shown}){suggest(str(value), choices)}"


class _Collector:
    """Accumulates failures while walking one property bag."""

    def __init__(self, is_unknown: Callable[[Any], bool]) -> None:
        self.failures: list[Failure] = []
        self.is_unknown = is_unknown

    def add(self, prop: str, reason: str) -> None:
        self.failures.append(Failure(prop, reason))

    def string(
        self, prop: str, value: Any, *, allow_empty: bool = True, empty_fix: str = "give a short human-readable text"
    ) -> bool:
        if not isinstance(value, str):
            self.add(prop, f"must be a string (got {type_name(value)}); fix: quote the value")
            return False
        if not allow_empty and not value.strip():
            self.add(prop, f"must not be empty; fix: {empty_fix}")
            return False
        return True

    def url(self, prop: str, value: Any) -> None:
        if self.string(prop, value):
            self.problem(prop, url_problem(value))

    def problem(self, prop: str, reason: str | None) -> None:
        if reason is not None:
            self.add(prop, reason)

    def mapping(self, prop: str, value: Any) -> bool:
        if not isinstance(value, Mapping):
            self.add(
                prop,
                f'must be a map of names to values (got {type_name(value)}); fix: write it as {{"name": "value", ...}}',
            )
            return False
        for key in value:
            if not isinstance(key, str) or not key:
                self.add(prop, "keys must be non-empty strings; fix: give every entry a non-empty name")
                return False
        return True


def _check_headers(c: _Collector, prop: str, value: Any) -> None:
    if not c.mapping(prop, value):
        return
    bad_names = set()
    for name, reason in header_names_problems(value):
        c.add(f"{prop}.{name}" if name else prop, reason)
        bad_names.add(name)
    for key, item in value.items():
        if key in bad_names or c.is_unknown(item):
            continue
        problem = header_value_problem(item)
        if problem:
            c.add(f"{prop}.{key}", problem)


def _check_auth_data(c: _Collector, prop: str, value: Any) -> None:
    if not c.mapping(prop, value):
        return
    for key in value:
        if key not in AUTH_DATA_FIELDS:
            c.add(
                f"auth_data.{key}",
                f"is not a field of auth_data{suggest(key, AUTH_DATA_FIELDS)}; "
                "fix: auth_data takes exactly client_id and client_secret",
            )
    for key in AUTH_DATA_FIELDS:
        if key not in value or value[key] is None:
            c.add(
                f"auth_data.{key}",
                f"is required when auth_data is set; fix: add {key} (read the secret from config, never from code)",
            )
        elif not c.is_unknown(value[key]):
            c.string(
                f"auth_data.{key}",
                value[key],
                allow_empty=False,
                empty_fix=f"set the OAuth client's {key} (read the secret from config, never from code)",
            )


def _check_json_map(c: _Collector, prop: str, value: Any) -> None:
    if not c.mapping(prop, value):
        return
    problem = json_problem(value, max_depth=MAX_NESTING, max_keys=MAX_MAP_KEYS, skip=c.is_unknown)
    if problem:
        path, reason = problem
        c.add(".".join([prop, *map(str, path)]), reason)


def _check_tool_pins(c: _Collector, prop: str, value: Any) -> None:
    if not c.mapping(prop, value):
        return
    for key, item in value.items():
        if c.is_unknown(item):
            continue
        if not isinstance(item, str) or not _FINGERPRINT_RE.match(item):
            c.add(
                f"tool_pins.{key}",
                "must be a tool fingerprint 'sha256:<64 hex digits>'; fix: copy it from the connector's `tools` output",
            )


# Each field's check, in the order its failures are reported (after unknown and missing keys).
_FIELD_CHECKS: dict[str, Callable[[_Collector, str, Any], object]] = {
    "name": lambda c, prop, value: c.problem(prop, name_problem(value)),
    "description": lambda c, prop, value: c.string(prop, value, allow_empty=False),
    "server": _Collector.url,
    "icon_url": _Collector.url,
    "visibility": lambda c, prop, value: c.problem(prop, choice_problem(value, VISIBILITIES)),
    "system_prompt": _Collector.string,
    "headers": _check_headers,
    "auth_data": _check_auth_data,
    "connection_config": _check_json_map,
    "connection_secrets": _check_json_map,
    "adopt": lambda c, prop, value: c.problem(
        prop, None if isinstance(value, bool) else f"must be true or false (got {type_name(value)})"
    ),
    "tool_pins": _check_tool_pins,
    "tool_drift": lambda c, prop, value: c.problem(prop, choice_problem(value, TOOL_DRIFT_POLICIES)),
    "name_prefix": _Collector.string,
}


def validate_inputs(props: Mapping[str, Any], *, is_unknown: Callable[[Any], bool] = never_unknown) -> list[Failure]:
    """Every problem in ``props`` (a connector's inputs), one :class:`Failure` per property.

    Keys starting with ``__`` (such as ``__provider``) are the engine's and are ignored. Values for which
    ``is_unknown`` is true (not known until deployment) are skipped.
    """
    c = _Collector(is_unknown)
    _check_keys(c, props)

    def present(field: str) -> bool:
        return props.get(field) is not None and not is_unknown(props.get(field))

    for field, check in _FIELD_CHECKS.items():
        if present(field):
            check(c, field, props[field])
    _check_json_values(c, props, present)
    return c.failures


def _check_keys(c: _Collector, props: Mapping[str, Any]) -> None:
    """Keys that are not connector properties (the nearest one suggested), then missing required ones."""
    for key in props:
        if key.startswith("__") or key in ALL_FIELDS:
            continue
        c.add(
            key,
            f"is not a connector property{suggest(key, ALL_FIELDS)}; fix: remove it, or use one of "
            f"{', '.join(f for f in ALL_FIELDS if f != 'name_prefix')}",
        )
    for field in REQUIRED_FIELDS:
        if props.get(field) is None:
            c.add(field, f"is required; fix: set {field}")


def _check_json_values(c: _Collector, props: Mapping[str, Any], present: Callable[[str], bool]) -> None:
    """Non-finite numbers and invalid text anywhere in a property the checks above let through.

    The engine would send NaN as null and every later preview would plan the same update forever; a lone
    surrogate cannot be stored or served back by the API at all.
    """
    failed = {f.property.split(".", 1)[0] for f in c.failures}
    for field in ALL_FIELDS:
        if field in failed or not present(field):
            continue
        problem = json_problem(props[field], skip=c.is_unknown)
        if problem:
            path, reason = problem
            c.add(".".join([field, *map(str, path)]), reason)


def _clean_prefix(prefix: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", prefix).strip("-_") or "connector"
    return cleaned[: NAME_MAX - _AUTO_SUFFIX_LEN - 1]


def auto_name(prefix: str, rand: random.Random | None = None) -> str:
    """A valid connector name from ``prefix`` plus a random 7-character suffix (at most 64 characters)."""
    rng = rand or random.SystemRandom()
    cleaned = _clean_prefix(prefix)
    suffix = "".join(rng.choice(_AUTO_ALPHABET) for _ in range(_AUTO_SUFFIX_LEN))
    return f"{cleaned}-{suffix}"


def is_auto_name(name: str | None, prefix: str | None) -> bool:
    """True when ``name`` has the shape :func:`auto_name` gives for ``prefix``."""
    if not name or prefix is None:
        return False
    head, _, tail = name.rpartition("-")
    return len(tail) == _AUTO_SUFFIX_LEN and head == _clean_prefix(prefix)


def contains(value: Any, predicate: Callable[[Any], bool]) -> bool:
    """True when ``value``, or anything nested in its maps and lists, satisfies ``predicate``."""
    if predicate(value):
        return True
    if isinstance(value, Mapping):
        return any(contains(v, predicate) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains(v, predicate) for v in value)
    return False


def holds_unknown(value: Any) -> bool:
    """True for :data:`UNKNOWN`, and for a map or list holding it anywhere."""
    return contains(value, lambda v: v is UNKNOWN)


def ints_from_floats(value: Any) -> Any:
    """Integral floats back to ints, recursively: the engine's wire format turns every number into a double."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: ints_from_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [ints_from_floats(v) for v in value]
    return value


def normalize_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs in canonical form: numbers as the user wrote them, no None values, empty maps dropped.

    Idempotent: ``normalize_inputs(normalize_inputs(p)) == normalize_inputs(p)``.
    """
    out: dict[str, Any] = {}
    for key, value in props.items():
        value = ints_from_floats(value)
        if value is None or (key in DICT_FIELDS and isinstance(value, Mapping) and not value):
            continue
        out[key] = value
    return out
