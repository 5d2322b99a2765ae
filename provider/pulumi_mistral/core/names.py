"""The two spellings of a property name (pure): the Python SDKs' snake_case and the schema's camelCase.

The schema, its reference page, the native door's values and the policy view all convert with these; the native
door converts on every call, so both are cached.
"""

from __future__ import annotations

import functools
import re

__all__ = ["camel", "snake"]


@functools.lru_cache(maxsize=1024)
def camel(name: str) -> str:
    """``icon_url`` -> ``iconUrl``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.lru_cache(maxsize=1024)
def snake(name: str) -> str:
    """``iconUrl`` -> ``icon_url``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), name)
