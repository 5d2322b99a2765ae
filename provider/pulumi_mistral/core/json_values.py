"""What a JSON answer can carry back: json_problem finds the first value that it cannot (pure).

A request body, a connector's inputs and a client's arguments are all checked with it: non-finite numbers,
lone UTF-16 surrogates, values that are not JSON data, nesting too deep and maps with too many keys. The
connector's own limits (``spec.MAX_NESTING``, ``spec.MAX_MAP_KEYS``) are passed in by ``core.spec``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Lone UTF-16 surrogates: Python strings can hold them (from JSON \ud800 escapes), UTF-8 and JSON answers cannot.
SURROGATE_RE = re.compile("[\ud800-\udfff]")
MAX_JSON_DEPTH = 64  # any JSON document the local server accepts


def never_unknown(_: Any) -> bool:
    """The default ``skip``/``is_unknown`` predicate: every value is known."""
    return False


def type_name(value: Any) -> str:
    """The JSON name of a value's type (number, string, map...), for messages that never show the value."""
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "map"}.get(
        type(value), type(value).__name__
    )


INVALID_TEXT = "is not valid Unicode text (it holds a lone UTF-16 surrogate, which JSON cannot carry)"
NOT_FINITE = "is not a finite number (NaN or Infinity), which JSON cannot carry; fix: use a finite number or null"


def json_problem(
    value: Any,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_keys: int | None = None,
    skip: Callable[[Any], bool] = never_unknown,
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
        if skip(node):
            continue
        if not isinstance(node, (Mapping, list, tuple)):
            reason = _scalar_problem(node)
            if reason:
                return path, reason
            continue
        if depth > max_depth:
            return path, f"is nested more than {max_depth} levels deep; fix: flatten the structure"
        if isinstance(node, Mapping):
            problem = _keys_problem(node, path, max_keys)
            if problem:
                return problem
            items = [((*path, key), item) for key, item in node.items()]
        else:
            items = [((*path, i), item) for i, item in enumerate(node)]
        stack.extend((item, at, depth + 1) for at, item in reversed(items))
    return None


def _scalar_problem(node: Any) -> str | None:
    """Why a value that is neither a map nor a list cannot travel as JSON, or None."""
    if isinstance(node, float) and (node != node or node in (float("inf"), float("-inf"))):
        return NOT_FINITE
    if isinstance(node, str) and SURROGATE_RE.search(node):
        return f"{INVALID_TEXT}; fix: remove the invalid character"
    if node is None or isinstance(node, (bool, int, float, str)):
        return None
    return f"must be JSON data (string, number, boolean, list or map), got {type_name(node)}"


def _keys_problem(
    node: Mapping[Any, Any], path: tuple[str | int, ...], max_keys: int | None
) -> tuple[tuple[str | int, ...], str] | None:
    """The first problem with a map's keys (too many, not a string, not valid text), as (path, reason)."""
    if max_keys is not None and len(node) > max_keys:
        return path, f"has {len(node)} keys, the limit is {max_keys}; fix: split or shrink the map"
    for key in node:
        if not isinstance(key, str):
            return path, f"has a key that is not a string (got {type_name(key)}); fix: use string keys"
        shown = SURROGATE_RE.sub("\ufffd", key)
        if shown != key:
            return (*path, shown), f"{INVALID_TEXT} in its name; fix: rename the key"
    return None
