"""Property values of the native door: the engine's camelCase ``PropertyValue`` maps in, plain snake_case dicts out.

The lifecycle works on the dynamic door's shapes: snake_case keys, plain Python values, secrets unmarked and
values not known yet as the engine's unknown sentinel. The native door speaks the schema's camelCase names and
``PropertyValue`` objects (numbers are floats, lists tuples, maps read-only, secrets flagged, an unknown either
``Computed`` or the sentinel string). Only the property names of the schema are renamed: the keys inside
``headers``, ``connectionConfig``, ``connectionSecrets``, ``toolPins`` and the tool definitions are the user's
(or the MCP server's) and pass through as they are; ``authData`` is a schema type with two known fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from pulumi_mistral.core.names import camel, snake

__all__ = ["UNKNOWN", "camel", "from_values", "is_unknown", "snake", "to_values"]

# Nested schema objects whose own keys are schema names (everything else nested is user data).
_TYPED_OBJECTS = frozenset({"auth_data"})


def is_unknown(value: Any) -> bool:
    """The lifecycle's predicate for this door: a value the engine does not know yet."""
    return isinstance(value, str) and value == UNKNOWN


def _plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: _plain(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [_plain(v) for v in inner]
    return inner


def from_values(props: Mapping[str, PropertyValue], *, rename: bool = True) -> dict[str, Any]:
    """Plain snake_case values: secrets unwrapped, unknowns as :data:`UNKNOWN`, numbers as the floats they are.
    ``rename=False`` keeps the names as they came (provider config keys are not connector properties)."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = snake(key) if rename else key
        plain = _plain(value)
        if name in _TYPED_OBJECTS and isinstance(plain, Mapping):
            plain = {snake(k): v for k, v in plain.items()}
        out[name] = plain
    return out


def _value(plain: Any, secret: bool) -> PropertyValue:
    if isinstance(plain, PropertyValue):
        return plain
    if isinstance(plain, bool) or plain is None or isinstance(plain, str):
        inner: Any = plain
    elif isinstance(plain, int | float):
        inner = float(plain)
    elif isinstance(plain, Mapping):
        inner = {str(k): _value(v, False) for k, v in plain.items()}
    elif isinstance(plain, Iterable):
        inner = [_value(v, False) for v in plain]
    else:
        raise TypeError(f"cannot send a {type(plain).__name__} to the engine")
    return PropertyValue(inner, is_secret=secret)


def to_values(values: Mapping[str, Any], *, secret: Iterable[str] = ()) -> dict[str, PropertyValue]:
    """camelCase ``PropertyValue`` maps from plain snake_case values; the properties named in ``secret`` are
    marked secret as a whole. None values are left out (an unset property)."""
    secrets = frozenset(secret)
    out: dict[str, PropertyValue] = {}
    for name, plain in values.items():
        if plain is None:
            continue
        if name in _TYPED_OBJECTS and isinstance(plain, Mapping):
            plain = {camel(k): v for k, v in plain.items()}
        out[camel(name)] = _value(plain, name in secrets)
    return out
