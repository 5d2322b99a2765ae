"""The dynamic door's wire values: markers and unknowns in, plain values to the lifecycle, secret markers out.

Wire facts these rely on: secrets arrive stripped (direct callers may still send the markers), values unknown
during preview arrive as ``pulumi.output.Unknown`` or its wire string, and outputs mark secret fields with the
wire marker so the engine keeps them secret in the state and in the program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

from pulumi_mistral.core import secret_markers, spec

__all__ = ["PROVIDER_KEY", "is_unknown", "mark_secrets", "plain_props"]

PROVIDER_KEY = "__provider"


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def plain_props(bag: Mapping[str, Any] | None) -> dict[str, Any]:
    """A property bag without ``__provider`` (it never takes part in anything we decide) and without markers."""
    return {k: secret_markers.strip(v) for k, v in (bag or {}).items() if k != PROVIDER_KEY}


def mark_secrets(bag: Mapping[str, Any]) -> dict[str, Any]:
    """``bag`` with every secret field wrapped in the wire marker (it stays secret in state and program)."""
    return {k: rpc.wrap_rpc_secret(v) if k in spec.SECRET_FIELDS else v for k, v in bag.items()}
