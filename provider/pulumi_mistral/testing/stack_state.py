"""The stand-in's results and state file: steps, up/preview/refresh results, and the stack's resources on disk."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from pulumi_mistral.cli.files import write_atomic
from pulumi_mistral.core.secret_markers import strip
from pulumi_mistral.core.spec import ints_from_floats
from pulumi_mistral.testing.engine import EngineClient

__all__ = ["PreviewResult", "RefreshResult", "StackRunError", "StackState", "Step", "UpResult"]

PROVIDER_KEY = "__provider"


@dataclass(frozen=True)
class Step:
    """One step of a run: ``op`` is create, same, update, replace, delete, read or refresh-delete.

    For ``replace``, ``detail`` is ``("delete-before-replace",)`` or ``("create-before-delete",)``; for
    ``update`` it lists the changed input properties; for drift it lists the drifted properties.
    """

    op: str
    urn: str
    detail: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class UpResult:
    """Result of :meth:`StackRunner.up`: the stack outputs (secrets unwrapped; names in ``secret_outputs``)."""

    outputs: dict[str, Any]
    steps: list[Step]
    secret_outputs: set[str] = field(default_factory=set)
    diagnostics: list[str] = field(default_factory=list)


@dataclass
class PreviewResult:
    """Result of :meth:`StackRunner.preview`: the planned steps; ``changes`` is True unless all are "same"."""

    steps: list[Step]
    diagnostics: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return any(s.op != "same" for s in self.steps)


@dataclass
class RefreshResult:
    """Result of :meth:`StackRunner.refresh`: ``drift`` maps a URN to its drifted properties; ``gone`` lists
    resources that no longer exist (dropped from the state)."""

    drift: dict[str, list[str]]
    gone: list[str]
    steps: list[Step]
    diagnostics: list[str] = field(default_factory=list)


class StackRunError(RuntimeError):
    """A run failed (check failures, a provider error); the message names the resource, never secret values."""


def secret_keys(bag: Mapping[str, Any]) -> set[str]:
    return {k for k, v in bag.items() if rpc.is_rpc_secret(v)}


def annotate(bag: Mapping[str, Any], secret: Iterable[str]) -> dict[str, Any]:
    """Re-mark same-named properties as secret (the engine's ``annotateSecrets``)."""
    keys = set(secret)
    return {k: (rpc.wrap_rpc_secret(v) if k in keys else v) for k, v in bag.items()}


def _norm(value: Any) -> Any:
    return ints_from_floats(strip(value))


def changed_properties(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore: Iterable[str] = (PROVIDER_KEY,)
) -> list[str]:
    """The properties whose values differ, secret markers and int/float differences aside."""
    keys = (set(old) | set(new)) - set(ignore)
    return sorted(k for k in keys if _norm(old.get(k)) != _norm(new.get(k)))


class StackState:
    """The stack's resources: urn -> {type, id, inputs, outputs}, in creation order; JSON on disk.

    ``pending_deletes`` holds the old halves of create-before-delete replacements whose delete failed: like
    the engine (``delete: true`` in its state), the next ``up`` or ``destroy`` deletes them first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.resources: dict[str, dict[str, Any]] = {}
        self.pending_deletes: list[dict[str, Any]] = []
        if path.exists():
            data = json.loads(path.read_text())
            self.resources = data.get("resources", {})
            self.pending_deletes = data.get("pending_deletes", [])

    def save(self) -> None:
        data = {"version": 1, "resources": self.resources, "pending_deletes": self.pending_deletes}
        # Owner-only from the first byte: the state holds secrets in plain text.
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True), mode=0o600)

    def delete_pending(self, engine: EngineClient, steps: list[Step]) -> None:
        """Delete the recorded old halves of earlier replacements (each removed from the state once gone)."""
        while self.pending_deletes:
            res = self.pending_deletes[0]
            engine.delete(res["id"], res["urn"], res["outputs"], res["inputs"])
            self.pending_deletes.pop(0)
            self.save()
            steps.append(Step("delete", res["urn"], ("pending-delete",)))

    def delete(self, engine: EngineClient, urn: str, steps: list[Step]) -> None:
        """Delete one recorded resource and drop it from the state."""
        res = self.resources[urn]
        engine.delete(res["id"], urn, res["outputs"], res["inputs"])
        del self.resources[urn]
        self.save()
        steps.append(Step("delete", urn))
