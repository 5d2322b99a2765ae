"""What `recover` does with each pending operation, given what the API holds, and the words it prints (pure).

A pending **create** of a connector is decided by the connector that holds the recorded name:

==========================  ==================================================================================
nothing holds the name      the create did not land: clear the pending create
auto-named, as declared     the killed run made it under a name only this stack drew: delete it and clear the
                            pending create; the next ``up`` creates it again under a new name
named, as declared          clear the pending create and leave the connector alone: the next ``up``'s create
                            finds it by name and takes it over (the provider's recovery after a 409). It is
                            not deleted, because a connector of a declared name may be another stack's. A
                            native name from an autonaming pattern without a random part counts as named:
                            the engine proposes it again
differs from the recording  not touched, and said so: a person decides (exit 2)
origin of the name unknown  not touched (no name declared, but not a name the provider or a known autonaming
                            config draws): a person decides (exit 2)
==========================  ==================================================================================

"Auto-named" is :attr:`~pulumi_mistral.cli.recover.pending.PendingOp.name_origin`: the provider's
``<resource name>-<7 characters>`` under the recorded ``name_prefix``, or (native door) a name the stack's
``pulumi:autonaming`` pattern drew with a random part.

"As declared" is the provider's create-recovery rule: every field a create sends (``name``, ``description``,
``server``, ``icon_url``, ``visibility``, ``headers``, ``auth_data``, ``system_prompt``) equals the recording,
under :mod:`pulumi_mistral.core.diff`'s comparison. ``connection_config`` and ``connection_secrets`` are set
by a PATCH after the create, so a killed create may lack them; they do not decide.

Pending **updates** and **deletes** keep their resource in the state: a refresh of that resource records what
is live (or forgets a connector that is gone), and the next ``up`` or ``destroy`` does the rest. Pending
creates can only be cleared all at once (``pulumi refresh --clear-pending-creates``), so they are cleared only
when none of them needs a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_mistral.cli.recover.pending import PendingOp
from pulumi_mistral.core import diff

__all__ = [
    "CREATE_FIELDS",
    "EXIT_DONE",
    "EXIT_ERROR",
    "EXIT_PERSON",
    "Plan",
    "Step",
    "decide",
    "differing_fields",
]

EXIT_DONE = 0
EXIT_ERROR = 1
EXIT_PERSON = 2
CREATE_FIELDS = diff.CREATE_FIELDS  # what POST /v1/connectors accepts


def differing_fields(recorded: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The create fields in which a live connector (``model_dump()``) differs from recorded inputs, by name
    (the provider's create-recovery rule, ``core.diff.create_differences``)."""
    return diff.create_differences(live, recorded)


@dataclass(frozen=True)
class Step:
    """What to do with one pending operation, and the line that says so (never a secret value)."""

    op: PendingOp
    line: str
    delete_id: str | None = None  # a connector to delete (an auto-named one the killed run made)
    refresh: bool = False  # refresh this resource (a pending update or delete)
    needs_person: bool = False  # nothing here can resolve it: a person decides


def _label(op: PendingOp) -> str:
    return f"{op.resource} ('{op.name}')" if op.name and op.name != op.resource else op.resource


def _create(op: PendingOp, live: Mapping[str, Any] | None, recorded: Mapping[str, str]) -> Step:
    what = f"{_label(op)}: interrupted while creating"
    if op.name is None:
        return Step(
            op,
            f"{what}, and no name was recorded: check the workspace for a connector of this resource yourself",
            needs_person=True,
        )
    if live is None:
        return Step(op, f"{what}; no connector holds the name: the create did not land. Clear the pending create")
    unreadable = op.unreadable
    if unreadable:
        return Step(
            op,
            f"{what}; a connector holds the name, but the recorded {', '.join(unreadable)} cannot be "
            "read (export without secrets?), so it was not compared: not touched",
            needs_person=True,
        )
    changed = differing_fields(op.inputs, live)
    connector_id = str(live.get("id") or "")
    if connector_id in recorded:
        return Step(
            op,
            f"{what}; connector {connector_id} holds the name, and the state records it already (as "
            f"{recorded[connector_id]}): clear the pending create; nothing to delete",
        )
    if changed:
        return Step(
            op,
            f"{what}; connector {connector_id} holds the name but differs from what was declared "
            f"({', '.join(changed)}): not touched. If it is this stack's, delete it; if not, choose "
            "another name",
            needs_person=True,
        )
    origin = op.name_origin
    if origin == "drawn":
        return Step(
            op,
            f"{what}; connector {connector_id} is the one it made (as declared, under the name this "
            "stack drew): delete it and clear the pending create; the next `pulumi up` creates it "
            "again",
            delete_id=connector_id,
        )
    if origin == "unknown":
        return Step(
            op,
            f"{what}; connector {connector_id} holds the name, which was not declared but is not one "
            "the provider draws, and the stack's autonaming config (pulumi:autonaming) does not say "
            "whether the next `pulumi up` proposes it again: not touched. If the config draws names at "
            "random, delete it; if not, leave it",
            needs_person=True,
        )
    how = "the name the stack's autonaming pattern gives it again" if origin == "pattern" else "the name"
    return Step(
        op,
        f"{what}; connector {connector_id} holds {how}, as declared: clear the pending create and "
        "leave the connector; the next `pulumi up` finds it by name and takes it over (if you destroy the "
        "stack instead, delete it yourself)",
    )


def _update(op: PendingOp, live: Mapping[str, Any] | None) -> Step:
    what = f"{_label(op)}: interrupted while updating"
    if op.connector_id is None:
        return Step(op, f"{what}, with no id recorded: refresh it", refresh=True)
    if live is None:
        return Step(
            op,
            f"{what}; connector {op.connector_id} no longer exists: refresh it so the stack forgets it; "
            "the next `pulumi up` creates it again",
            refresh=True,
        )
    changed = differing_fields(op.inputs, live) if not op.unreadable else []
    state = f"it does not have the new settings yet ({', '.join(changed)})" if changed else "it has the new settings"
    return Step(
        op,
        f"{what}; connector {op.connector_id} exists and {state}: refresh it; the next `pulumi up` "
        "applies the change again (check it with `pulumi preview --diff`)",
        refresh=True,
    )


def _delete(op: PendingOp, live: Mapping[str, Any] | None) -> Step:
    what = f"{_label(op)}: interrupted while deleting"
    if op.connector_id is None:
        return Step(op, f"{what}, with no id recorded: refresh it", refresh=True)
    if live is None:
        return Step(
            op,
            f"{what}; connector {op.connector_id} is gone (the delete landed): refresh it so the stack forgets it",
            refresh=True,
        )
    return Step(
        op,
        f"{what}; connector {op.connector_id} still exists (the delete did not land): refresh it; run "
        "the interrupted `pulumi destroy` (or `pulumi up`) again to delete it",
        refresh=True,
    )


def decide(op: PendingOp, live: Mapping[str, Any] | None, recorded: Mapping[str, str] | None = None) -> Step:
    """The step for one pending operation; ``live`` is the connector found (by name for a create, by id
    otherwise), None when there is none; ``recorded`` maps the connector ids the state holds to their resource
    names (a connector recorded there is never deleted)."""
    if op.door is None:
        if op.kind == "creating":
            return Step(
                op,
                f"{op.resource}: interrupted while creating a {op.type}, which is not a connector: "
                "check whether it exists yourself",
                needs_person=True,
            )
        return Step(
            op,
            f"{op.resource}: interrupted while {op.kind} a {op.type}, which is not a connector: refresh it",
            refresh=True,
        )
    if op.kind == "creating":
        return _create(op, live, recorded or {})
    if op.kind == "updating":
        return _update(op, live)
    if op.kind == "deleting":
        return _delete(op, live)
    return Step(op, f"{_label(op)}: interrupted while {op.kind}: refresh it", refresh=True)


@dataclass
class Plan:
    """Every step, and what carrying them out means for the stack as a whole."""

    stack: str
    steps: list[Step] = field(default_factory=list)

    @property
    def deletes(self) -> list[Step]:
        return [s for s in self.steps if s.delete_id]

    @property
    def refresh_urns(self) -> list[str]:
        return [s.op.urn for s in self.steps if s.refresh]

    @property
    def creates(self) -> list[Step]:
        return [s for s in self.steps if s.op.kind == "creating"]

    @property
    def needs_person(self) -> bool:
        return any(s.needs_person for s in self.steps)

    @property
    def clears(self) -> bool:
        """Clear every pending create: only when there is one and none of them waits for a person."""
        return bool(self.creates) and not any(s.needs_person for s in self.creates)

    def summary(self, *, carried_out: bool) -> str:
        """The closing line: what was (or would be) done, and the next command."""
        if not self.steps:
            return f"Stack {self.stack} has no pending operations: nothing to do."
        if not carried_out:
            return (
                f"Nothing was changed. To carry this out: pulumi-mistral recover --stack {self.stack} --yes "
                f"(if the stack is locked and no deployment is running, first: pulumi cancel --yes --stack "
                f"{self.stack})"
            )
        if self.needs_person:
            return (
                f"Done, except what needs a person above. Pending creates were not cleared (the CLI clears "
                f"them all at once): once each is dealt with, run `pulumi refresh --clear-pending-creates "
                f"--stack {self.stack}` or this command again."
            )
        return (
            f"Done: stack {self.stack} has no pending operations. Run the interrupted command again "
            "(`pulumi up`, or `pulumi destroy`)."
        )
