"""The desired state of a connector: its input fields and their validation, one failure per property (pure).

Used by the provider's ``check``, the YAML declarations and the drift report, so all three reject exactly
the same inputs with exactly the same words. The local server applies the rules that describe what the API
itself refuses (header names, JSON values that cannot be carried, size limits) through the same functions,
so a preview refuses what an apply would. Nothing here does I/O or imports pulumi; values that are not
known yet (a preview) are recognised through the ``is_unknown`` predicate the caller passes in.

    >>> validate_inputs({"description": "Docs", "server": "ftp://x"})[0].property
    'server'
"""

from __future__ import annotations

import difflib
import random
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token
_FINGERPRINT_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# RFC 9110 field values: visible characters, spaces and tabs; no other control character (CR, LF, NUL...).
_HEADER_VALUE_BAD_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Lone UTF-16 surrogates: Python strings can hold them (from JSON \ud800 escapes), UTF-8 and JSON answers cannot.
SURROGATE_RE = re.compile("[\ud800-\udfff]")

# Limits a real API has, shared with the local server. Keys are counted per map, at any level.
MAX_HEADERS = 64
MAX_MAP_KEYS = 256
MAX_NESTING = 16  # levels of maps and lists inside connection_config / connection_secrets (the map is level 1)
MAX_JSON_DEPTH = 64  # any JSON document the local server accepts
# Header names the API sets itself when it calls the MCP server: framing and hop-by-hop headers (RFC 9110
# 7.6.1, RFC 9112) and the MCP session and protocol headers. A connector header of one of these names would
# break every forwarded call, so it is refused at check and at the API.
FORBIDDEN_HEADER_NAMES: frozenset[str] = frozenset({
    "connection", "content-length", "host", "keep-alive", "mcp-protocol-version", "mcp-session-id",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
})
_AUTO_SUFFIX_LEN = 7
_AUTO_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Failure:
    """One problem with one property: ``reason`` says what is wrong and how to fix it, never a secret value."""

    property: str
    reason: str

    def __str__(self) -> str:
        return f"{self.property}: {self.reason}"


def _never_unknown(_: Any) -> bool:
    return False


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "map"}.get(
        type(value), type(value).__name__
    )


def suggest(key: str, candidates: tuple[str, ...] | list[str]) -> str:
    """A ' (did you mean ...?)' hint for a misspelt key, or '' when nothing is close."""
    match = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if not match:
        match = [c for c in candidates if c.replace("_", "") == key.lower().replace("_", "").replace("-", "")]
    return f" (did you mean '{match[0]}'?)" if match else ""


# user[:password]@ before the host (urlsplit's rule: '@' in the part up to the first / ? #), valid URL or not.
_USERINFO_RE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://)?[^/?#]*@")
CREDENTIALS_PROBLEM = ("embeds credentials (user:password@), which would sit in plain text in the state, outputs "
                       "and drift reports; fix: remove them from the URL and send them in headers or auth_data")


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an absolute http(s) URL with a host (credentials first, never quoted), or None."""
    if _USERINFO_RE.match(value):
        return CREDENTIALS_PROBLEM
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


def check_name(value: Any) -> str | None:
    """Why ``value`` is not a valid connector name, or None when it is one."""
    if not isinstance(value, str):
        return f"must be a string (got {_type_name(value)}); fix: quote it, or omit name to auto-name"
    if not value:
        return "must not be empty; fix: give 1-64 letters, digits, '_' or '-', or omit name to auto-name"
    if len(value) > NAME_MAX:
        return f"is {len(value)} characters long, the limit is {NAME_MAX}; fix: shorten it"
    if not _NAME_RE.match(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "_-"))})
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"may only contain letters, digits, '_' and '-' (found {shown}); fix: replace them with '-' or '_'"
    return None


class _Collector:
    """Accumulates failures while walking one property bag."""

    def __init__(self, is_unknown: Callable[[Any], bool]) -> None:
        self.failures: list[Failure] = []
        self.is_unknown = is_unknown

    def add(self, prop: str, reason: str) -> None:
        self.failures.append(Failure(prop, reason))

    def string(self, prop: str, value: Any, *, allow_empty: bool = True,
               empty_fix: str = "give a short human-readable text") -> bool:
        if not isinstance(value, str):
            self.add(prop, f"must be a string (got {_type_name(value)}); fix: quote the value")
            return False
        if not allow_empty and not value.strip():
            self.add(prop, f"must not be empty; fix: {empty_fix}")
            return False
        return True

    def url(self, prop: str, value: Any) -> None:
        if self.string(prop, value):
            problem = url_problem(value)
            if problem:
                fix = "" if problem == CREDENTIALS_PROBLEM else "; fix: use an absolute URL such as https://mcp.example.com/mcp"
                self.add(prop, problem + fix)

    def choice(self, prop: str, value: Any, choices: tuple[str, ...]) -> None:
        if not isinstance(value, str) or value not in choices:
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            self.add(prop, f"must be one of {', '.join(choices)} (got {shown}){suggest(str(value), choices)}")

    def mapping(self, prop: str, value: Any) -> bool:
        if not isinstance(value, Mapping):
            self.add(prop, f"must be a map of names to values (got {_type_name(value)}); "
                           'fix: write it as {"name": "value", ...}')
            return False
        for key in value:
            if not isinstance(key, str) or not key:
                self.add(prop, "keys must be non-empty strings; fix: give every entry a non-empty name")
                return False
        return True


def header_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a connector header, or None when it can (the local server applies this too)."""
    if not _HEADER_NAME_RE.match(name):
        return "is not a valid HTTP header name; fix: use letters, digits and '-' (e.g. X-Api-Key)"
    if name.lower() in FORBIDDEN_HEADER_NAMES:
        return ("is set by the API itself when it calls the MCP server (a framing, hop-by-hop or MCP session "
                "header), so it would break forwarding; fix: remove it")
    return None


def header_value_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a header value, or None when it can. Never quotes the value (it is a secret)."""
    if not isinstance(value, str):
        return f"must be a string (got {_type_name(value)}); fix: quote the value"
    if _HEADER_VALUE_BAD_RE.search(value):
        return "must not contain control characters (line breaks, NUL...); fix: remove them from the value"
    if SURROGATE_RE.search(value):
        return f"{_INVALID_TEXT}; fix: remove the invalid character"
    return None


def header_names_problems(names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, reason) for every problem in a set of header names: bad names, too many, names equal but for case."""
    names = list(names)
    found = [(n, p) for n in names if (p := header_name_problem(n)) is not None]
    first: dict[str, str] = {}
    for name in names:
        other = first.setdefault(name.lower(), name)
        if other != name:
            found.append((name, f"differs from '{other}' only by case, and header names are case-insensitive, so "
                                "one would overwrite the other; fix: keep one of them"))
    if len(names) > MAX_HEADERS:
        found.append(("", f"has {len(names)} headers, the limit is {MAX_HEADERS}; fix: send fewer headers"))
    return found


def _check_headers(c: _Collector, value: Any) -> None:
    if not c.mapping("headers", value):
        return
    bad_names = set()
    for name, reason in header_names_problems(value):
        c.add(f"headers.{name}" if name else "headers", reason)
        bad_names.add(name)
    for key, item in value.items():
        if key in bad_names or c.is_unknown(item):
            continue
        problem = header_value_problem(item)
        if problem:
            c.add(f"headers.{key}", problem)


def _check_auth_data(c: _Collector, value: Any) -> None:
    if not c.mapping("auth_data", value):
        return
    for key in value:
        if key not in AUTH_DATA_FIELDS:
            c.add(f"auth_data.{key}", f"is not a field of auth_data{suggest(key, AUTH_DATA_FIELDS)}; "
                                      "fix: auth_data takes exactly client_id and client_secret")
    for key in AUTH_DATA_FIELDS:
        if key not in value or value[key] is None:
            c.add(f"auth_data.{key}", f"is required when auth_data is set; fix: add {key} "
                                      "(read the secret from config, never from code)")
        elif not c.is_unknown(value[key]):
            c.string(f"auth_data.{key}", value[key], allow_empty=False,
                     empty_fix=f"set the OAuth client's {key} (read the secret from config, never from code)")


def _check_json_map(c: _Collector, prop: str, value: Any) -> None:
    if not c.mapping(prop, value):
        return
    problem = json_problem(value, max_depth=MAX_NESTING, max_keys=MAX_MAP_KEYS, skip=c.is_unknown)
    if problem:
        path, reason = problem
        c.add(".".join([prop, *map(str, path)]), reason)


_INVALID_TEXT = "is not valid Unicode text (it holds a lone UTF-16 surrogate, which JSON cannot carry)"
_NOT_FINITE = "is not a finite number (NaN or Infinity), which JSON cannot carry; fix: use a finite number or null"


def json_problem(
    value: Any, *, max_depth: int = MAX_JSON_DEPTH, max_keys: int | None = None,
    skip: Callable[[Any], bool] = _never_unknown,
) -> tuple[tuple[str | int, ...], str] | None:
    """The first place in ``value`` that a JSON answer could not carry back, as (path, reason), or None.

    Finds non-finite numbers, strings and keys that are not valid Unicode (lone surrogates), values that are
    not JSON data, nesting deeper than ``max_depth`` levels (``value`` itself is level 1) and maps with more
    than ``max_keys`` keys. Reasons name the problem, never the value; a key in the path that is not valid
    text is shown with U+FFFD in place of the surrogate. Values for which ``skip`` is true are not looked into.
    Iterative, so a hostile depth cannot exhaust the stack.
    """
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(value, (), 1)]
    while stack:
        node, path, depth = stack.pop()
        if skip(node) or node is None or isinstance(node, (bool, int)):
            continue
        if isinstance(node, float):
            if node != node or node in (float("inf"), float("-inf")):
                return path, _NOT_FINITE
            continue
        if isinstance(node, str):
            if SURROGATE_RE.search(node):
                return path, f"{_INVALID_TEXT}; fix: remove the invalid character"
            continue
        if not isinstance(node, (Mapping, list, tuple)):
            return path, f"must be JSON data (string, number, boolean, list or map), got {_type_name(node)}"
        if depth > max_depth:
            return path, f"is nested more than {max_depth} levels deep; fix: flatten the structure"
        if isinstance(node, Mapping):
            if max_keys is not None and len(node) > max_keys:
                return path, f"has {len(node)} keys, the limit is {max_keys}; fix: split or shrink the map"
            children: list[tuple[Any, tuple[str | int, ...], int]] = []
            for key, item in node.items():
                if not isinstance(key, str):
                    return path, f"has a key that is not a string (got {_type_name(key)}); fix: use string keys"
                shown = SURROGATE_RE.sub("\ufffd", key)
                if shown != key:
                    return (*path, shown), f"{_INVALID_TEXT} in its name; fix: rename the key"
                children.append((item, (*path, key), depth + 1))
            stack.extend(reversed(children))
        else:
            stack.extend(reversed([(item, (*path, i), depth + 1) for i, item in enumerate(node)]))
    return None


def _check_tool_pins(c: _Collector, value: Any) -> None:
    if not c.mapping("tool_pins", value):
        return
    for key, item in value.items():
        if c.is_unknown(item):
            continue
        if not isinstance(item, str) or not _FINGERPRINT_RE.match(item):
            c.add(f"tool_pins.{key}", "must be a tool fingerprint 'sha256:<64 hex digits>'; "
                                      "fix: copy it from the connector's `tools` output")


def validate_inputs(
    props: Mapping[str, Any], *, is_unknown: Callable[[Any], bool] = _never_unknown
) -> list[Failure]:
    """Every problem in ``props`` (a connector's inputs), one :class:`Failure` per property.

    Keys starting with ``__`` (such as ``__provider``) are the engine's and are ignored. Values for which
    ``is_unknown`` is true (not known until deployment) are skipped.
    """
    c = _Collector(is_unknown)
    for key in props:
        if key.startswith("__") or key in ALL_FIELDS:
            continue
        c.add(key, f"is not a connector property{suggest(key, ALL_FIELDS)}; fix: remove it, or use one of "
                   f"{', '.join(f for f in ALL_FIELDS if f != 'name_prefix')}")

    def present(field: str) -> bool:
        return props.get(field) is not None and not is_unknown(props.get(field))

    for field in REQUIRED_FIELDS:
        if props.get(field) is None:
            c.add(field, f"is required; fix: set {field}")
    if present("name") and (problem := check_name(props["name"])):
        c.add("name", problem)
    if present("description"):
        c.string("description", props["description"], allow_empty=False)
    for field in ("server", "icon_url"):
        if present(field):
            c.url(field, props[field])
    if present("visibility"):
        c.choice("visibility", props["visibility"], VISIBILITIES)
    if present("system_prompt"):
        c.string("system_prompt", props["system_prompt"])
    if present("headers"):
        _check_headers(c, props["headers"])
    if present("auth_data"):
        _check_auth_data(c, props["auth_data"])
    for field in ("connection_config", "connection_secrets"):
        if present(field):
            _check_json_map(c, field, props[field])
    if present("adopt") and not isinstance(props["adopt"], bool):
        c.add("adopt", f"must be true or false (got {_type_name(props['adopt'])})")
    if present("tool_pins"):
        _check_tool_pins(c, props["tool_pins"])
    if present("tool_drift"):
        c.choice("tool_drift", props["tool_drift"], TOOL_DRIFT_POLICIES)
    if present("name_prefix"):
        c.string("name_prefix", props["name_prefix"])
    _check_json_values(c, props, present)
    return c.failures


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
