"""Settings comparison of a declared connector with a live one, for the drift report (pure: no I/O, no pulumi).

``compare_settings(inputs, live)`` returns the drifted properties (:class:`PropertyDrift`) and the properties
that could not be compared: a declared value that cannot be read where the comparison runs (a ``{secret: key}``
reference, an encrypted stack-export value) is :data:`UNKNOWN`, and is never reported as a changed value. The
rules are :mod:`pulumi_mistral.core.diff`'s, so a property the provider would not update is never drift here.

    >>> compare_settings({"name": "a", "headers": UNKNOWN}, {"id": "c1", "name": "a", "headers": {"K": "v"}})
    ([], ['headers'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_mistral.core import diff, spec
from pulumi_mistral.core.spec import UNKNOWN  # a declared value we cannot read here: compared as "unknown"

__all__ = ["UNKNOWN", "PropertyDrift", "compare_settings"]


@dataclass(frozen=True)
class PropertyDrift:
    """One property: declared vs live. For a secret, ``declared``/``live`` are never values."""

    property: str
    declared: Any
    live: Any
    secret: bool = False
    details: tuple[str, ...] = ()


def _keys(value: Any) -> set[str]:
    return set(value) if isinstance(value, Mapping) else set()


def _secret_details(prop: str, declared: Any, live: Any) -> tuple[str, ...]:
    """Which keys of a secret map differ, by name only (names are not secret; the API lists them).

    A key whose declared value cannot be read (UNKNOWN) is never said to have changed: it was not compared.
    """
    if prop == "auth_data":
        if declared is None or live is None:
            return (f"auth_data {'set' if declared is None else 'removed'} on the live connector",)
        return tuple(
            f"{k} changed"
            for k in spec.AUTH_DATA_FIELDS
            if _keys(declared) and not spec.holds_unknown(declared.get(k)) and declared.get(k) != (live or {}).get(k)
        )
    label = "header" if prop == "headers" else "secret"
    d, live_keys = _keys(declared), _keys(live)
    out = [f"{label} '{k}' only declared" for k in sorted(d - live_keys)]
    out += [f"{label} '{k}' only live" for k in sorted(live_keys - d)]
    out += [
        f"{label} '{k}' value changed"
        for k in sorted(d & live_keys)
        if not spec.holds_unknown(declared[k]) and declared[k] != live[k]
    ]
    return tuple(out)


def compare_settings(inputs: Mapping[str, Any], live: Mapping[str, Any]) -> tuple[list[PropertyDrift], list[str]]:
    """The drifted properties of one connector and the properties that could not be compared (unknown).

    ``inputs`` are the declared inputs (UNKNOWN for values that cannot be read), ``live`` the connector as
    the API returned it (``model_dump()``). The rules are :mod:`pulumi_mistral.core.diff`'s, so a property the
    provider would not update is never drift here.
    """
    desired = spec.normalize_inputs({k: v for k, v in inputs.items() if k in spec.INPUT_FIELDS})
    unknown = sorted(k for k, v in desired.items() if spec.holds_unknown(v))
    known = {k: v for k, v in desired.items() if k not in unknown}
    state = diff.live_state(live, known)
    drifted: list[PropertyDrift] = []
    for prop in unknown:  # a partly unreadable map still drifts in what can be read: its keys, its known values
        if isinstance(desired[prop], Mapping):
            details = _secret_details(prop, desired[prop], state.get(prop) or {})
            if details:
                drifted.append(PropertyDrift(prop, "(secret)", "changed", True, details))
    for prop in diff.changed_fields(state, known):
        if prop not in spec.INPUT_FIELDS or prop in unknown or (prop == "name" and "name" not in known):
            continue
        if prop in spec.SECRET_FIELDS:
            drifted.append(
                PropertyDrift(
                    prop, "(secret)", "changed", True, _secret_details(prop, known.get(prop), state.get(prop))
                )
            )
        else:
            drifted.append(
                PropertyDrift(
                    prop, diff.normalize_value(prop, known.get(prop)), diff.normalize_value(prop, state.get(prop))
                )
            )
    still_unknown = [p for p in unknown if p not in {d.property for d in drifted}]
    return sorted(drifted, key=lambda d: d.property), still_unknown
