"""What the lifecycle takes and answers, as plain values: the unknown sentinel, autonaming, and each step's result.

Every door translates these into its engine's terms: the dynamic provider into ``pulumi.dynamic`` results,
the native provider into ``pulumi.provider.experimental`` responses (a detailed diff from :class:`Plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_mistral.core import spec
from pulumi_mistral.core.spec import UNKNOWN  # a value not known until deployment (a preview)

__all__ = ["UNKNOWN", "Autonaming", "Checked", "Created", "Plan", "PropertyChange", "ReadOutcome", "is_unknown"]


def is_unknown(value: Any) -> bool:
    """The lifecycle's default predicate: ``value`` is :data:`UNKNOWN` (a door may pass its own)."""
    return value is UNKNOWN


@dataclass(frozen=True)
class Autonaming:
    """The engine's autonaming options for one resource (``CheckRequest.autonaming``), when it sends them.

    ``mode`` is ``propose`` (the provider may use ``proposed_name``), ``enforce`` (it must use it exactly) or
    ``disable`` (a name must be given). Either way a given name wins, and an existing connector keeps its name:
    the engine draws a fresh proposal on every deployment (a replacement is checked anew and gets it).
    """

    proposed_name: str
    mode: Literal["propose", "enforce", "disable"] = "propose"


@dataclass(frozen=True)
class Checked:
    """Check's answer: the inputs to record, and the failures (``property`` empty: no value shown)."""

    inputs: dict[str, Any]
    failures: list[spec.Failure] = field(default_factory=list)


@dataclass(frozen=True)
class PropertyChange:
    """One changed property of a diff: ``kind`` against the old outputs, whether it replaces, and why (short)."""

    property: str
    kind: Literal["add", "update", "delete"]
    replace: bool
    reason: str


@dataclass(frozen=True)
class Plan:
    """Diff's answer: what changes and how. Empty: nothing to do (DIFF_NONE, never "unknown").

    ``delete_before_replace`` is True when a replacement keeps the name (names are unique, so the old
    connector must go first). The dynamic door uses :attr:`changed`, :attr:`replaces` and
    ``delete_before_replace``; the native door also maps each :class:`PropertyChange` to a detailed diff entry.
    """

    changes: tuple[PropertyChange, ...] = ()
    delete_before_replace: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def replaces(self) -> list[str]:
        return [c.property for c in self.changes if c.replace]

    @property
    def properties(self) -> list[str]:
        return [c.property for c in self.changes]


@dataclass(frozen=True)
class Created:
    """Create's answer: the connector id and its full outputs (plain: the door marks the secret ones)."""

    connector_id: str
    outputs: dict[str, Any]


@dataclass(frozen=True)
class ReadOutcome:
    """Read's answer: the live outputs, and the inputs that reproduce them (a refresh records both).

    For an import (``pulumi import`` or a get by id) the engine prints the inputs as program code: give it
    :meth:`inputs_without_secrets` so no secret value lands in that code.
    """

    connector_id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]

    def inputs_without_secrets(self) -> dict[str, Any]:
        return {k: v for k, v in self.inputs.items() if k not in spec.SECRET_FIELDS}


def kind_of(old: Mapping[str, Any], new: Mapping[str, Any], name: str) -> Literal["add", "update", "delete"]:
    """``add`` when the old outputs lack ``name``, ``delete`` when the new inputs drop it, else ``update``."""
    if old.get(name) is None:
        return "add"
    if name not in new or new.get(name) is None:
        return "delete"
    return "update"
