"""The rules for a connector's HTTP headers (pure): names, values, how many, and the names the API sets itself.

``spec`` checks a connector's ``headers`` with them, and the local server applies the same functions to what it
is sent, so a preview refuses what an apply would, in the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pulumi_mistral.core.json_values import INVALID_TEXT, SURROGATE_RE, type_name

__all__ = [
    "FORBIDDEN_HEADER_NAMES",
    "MAX_HEADERS",
    "header_name_problem",
    "header_names_problems",
    "header_value_problem",
]

_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token
# RFC 9110 field values: visible characters, spaces and tabs; no other control character (CR, LF, NUL...).
_HEADER_VALUE_BAD_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
MAX_HEADERS = 64  # a limit a real API has, shared with the local server
# Header names the API sets itself when it calls the MCP server: framing and hop-by-hop headers (RFC 9110
# 7.6.1, RFC 9112) and the MCP session and protocol headers. A connector header of one of these names would
# break every forwarded call, so it is refused at check and at the API.
FORBIDDEN_HEADER_NAMES: frozenset[str] = frozenset(
    {
        "connection",
        "content-length",
        "host",
        "keep-alive",
        "mcp-protocol-version",
        "mcp-session-id",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def header_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a connector header, or None when it can (the local server applies this too)."""
    if not _HEADER_NAME_RE.match(name):
        return "is not a valid HTTP header name; fix: use letters, digits and '-' (e.g. X-Api-Key)"
    if name.lower() in FORBIDDEN_HEADER_NAMES:
        return (
            "is set by the API itself when it calls the MCP server (a framing, hop-by-hop or MCP session "
            "header), so it would break forwarding; fix: remove it"
        )
    return None


def header_value_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a header value, or None when it can. Never quotes the value (it is a secret)."""
    if not isinstance(value, str):
        return f"must be a string (got {type_name(value)}); fix: quote the value"
    if _HEADER_VALUE_BAD_RE.search(value):
        return "must not contain control characters (line breaks, NUL...); fix: remove them from the value"
    if SURROGATE_RE.search(value):
        return f"{INVALID_TEXT}; fix: remove the invalid character"
    return None


def header_names_problems(names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, reason) for every problem in a set of header names: bad names, too many, names equal but for case."""
    names = list(names)
    found = [(n, p) for n in names if (p := header_name_problem(n)) is not None]
    first: dict[str, str] = {}
    for name in names:
        other = first.setdefault(name.lower(), name)
        if other != name:
            found.append(
                (
                    name,
                    f"differs from '{other}' only by case, and header names are case-insensitive, so "
                    "one would overwrite the other; fix: keep one of them",
                )
            )
    if len(names) > MAX_HEADERS:
        found.append(("", f"has {len(names)} headers, the limit is {MAX_HEADERS}; fix: send fewer headers"))
    return found
