"""Pulumi's secret wire markers: recognising them, and taking them off values (the one implementation).

A secret travels between the engine, the SDK and a provider as ``{SIG_KEY: SECRET_SIG, "value": v}``; a state
file or ``pulumi stack export`` stores it as ``{SIG_KEY: SECRET_SIG, "plaintext": "<json>"}`` (with
``--show-secrets``) or ``"ciphertext"`` (encrypted). These are Pulumi's published constants, written here so
that pure code (the drift report, the testing helpers) need not import pulumi.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["SECRET_SIG", "SIG_KEY", "is_secret", "reveal", "strip"]

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def is_secret(value: Any) -> bool:
    """True for a value wrapped in a secret marker (either form)."""
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def strip(value: Any) -> Any:
    """``value`` with every wire-form secret marker removed, recursively (what ``KeepSecrets=false`` sends)."""
    if is_secret(value) and "value" in value:
        return strip(value["value"])
    if isinstance(value, Mapping):
        return {k: strip(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strip(v) for v in value]
    return value


def reveal(value: Any, unreadable: Any) -> Any:
    """A state value without markers: ``plaintext`` decoded, ``value`` unwrapped, ``ciphertext`` -> ``unreadable``."""
    if isinstance(value, Mapping):
        if is_secret(value):
            if "plaintext" in value:
                text = value["plaintext"]
                try:
                    return reveal(json.loads(text), unreadable) if isinstance(text, str) else reveal(text, unreadable)
                except json.JSONDecodeError:
                    return text
            if "value" in value:
                return reveal(value["value"], unreadable)
            return unreadable
        return {k: reveal(v, unreadable) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v, unreadable) for v in value]
    return value
