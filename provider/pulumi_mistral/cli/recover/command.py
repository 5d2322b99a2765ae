"""`pulumi-mistral recover`: arguments, one run (look up, print the plan, carry it out with --yes), exit status."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from pulumi_mistral.cli.recover.decide import EXIT_DONE, EXIT_ERROR, EXIT_PERSON, Plan, decide
from pulumi_mistral.cli.recover.pending import (
    ApiSettings,
    PendingOp,
    api_settings,
    engine_naming,
    pending_operations,
    recorded_ids,
    secret_values,
)
from pulumi_mistral.cli.recover.stack import PulumiStack, root_urn
from pulumi_mistral.errors import MistralError, NotFoundError, redact

__all__ = ["add_arguments", "run"]

PROG = "pulumi-mistral recover"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Resolve what an interrupted `pulumi up` or `pulumi destroy` left pending in a stack: "
        "find each connector it was creating, delete or leave it, and clear the pending "
        "operations, so the next deployment leaves nothing orphaned. Run it in the project's "
        "directory. Without --yes it prints the plan and changes nothing. Exit 0: done or "
        "nothing to do; 2: something needs a person (or the plan awaits --yes); 1: an error. "
        "See docs/interrupted.md."
    )
    parser.add_argument("--stack", required=True, help="the stack whose deployment was interrupted")
    parser.add_argument("--yes", action="store_true", help="carry the plan out (without it: print it only)")


class _Output:
    """Everything the command prints goes through here, with every known secret value redacted."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.secrets: set[str] = set()

    def say(self, text: str) -> None:
        print(redact(text, self.secrets), file=self.out)

    def fail(self, text: str) -> int:
        print(f"{PROG}: {redact(text, self.secrets)}", file=self.err)
        return EXIT_ERROR


class _StackConfig:
    """The stack config (``pulumi config --json --show-secrets``), read once, and only if something needs it."""

    def __init__(self, pulumi: PulumiStack) -> None:
        self.pulumi = pulumi
        self.values: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        if self.values is None:
            self.values = self.pulumi.config()
        return self.values


def _with_naming(ops: list[PendingOp], config: Callable[[], Mapping[str, Any]]) -> list[PendingOp]:
    """A native pending create of a connector declared without a name learns how the engine names its type: the
    stack's ``pulumi:autonaming`` decides whether its name comes back."""
    return [
        dataclasses.replace(op, naming=engine_naming(config(), op.type))
        if op.door == "native" and op.kind == "creating" and "name_prefix" in op.inputs
        else op
        for op in ops
    ]


def _settings(
    export: Mapping[str, Any], ops: list[PendingOp], config: Callable[[], Mapping[str, Any]]
) -> dict[str, ApiSettings]:
    """The API of each connector operation, by URN; the stack config is read only if a native one needs it."""
    found: dict[str, ApiSettings] = {}
    for op in ops:
        if op.door is None:
            continue
        settings = api_settings(export, op, os.environ)
        if op.door == "native" and settings.api_key is None:
            settings = api_settings(export, op, os.environ, config())
        if settings.api_key is None:
            raise MistralError(
                f"no API key for connector {op.resource}: the deployment recorded none and "
                "MISTRAL_API_KEY is not set; fix: export MISTRAL_API_KEY as for the deployment"
            )
        found[op.urn] = settings
    return found


def _look_up(ops: list[PendingOp], settings: dict[str, ApiSettings]) -> dict[str, Any]:
    """The live connector of each connector operation (by name for a create, by id otherwise), or None."""
    from pulumi_mistral.client import ConnectorsClient

    clients: dict[tuple[str | None, str | None], ConnectorsClient] = {}
    live: dict[str, Any] = {}
    try:
        for op in ops:
            if op.door is None:
                continue
            where = settings[op.urn]
            if where.workspace not in clients:
                clients[where.workspace] = ConnectorsClient(api_key=where.api_key, server_url=where.server_url)
            key = op.name if op.kind == "creating" else op.connector_id
            if not key:
                live[op.urn] = None
                continue
            try:
                found = clients[where.workspace].get(key, fetch_connection_secrets=True)
                live[op.urn] = found.model_dump(mode="json")
            except NotFoundError:
                live[op.urn] = None
            except MistralError as exc:
                raise MistralError(
                    f"looking up connector '{key}' ({op.resource}) failed: {exc.message}; nothing "
                    "was changed: fix the cause and run recover again"
                ) from exc
    finally:
        for client in clients.values():
            client.close()
    return live


def _carry_out(
    plan: Plan, pulumi: PulumiStack, export: Mapping[str, Any], settings: dict[str, ApiSettings], output: _Output
) -> None:
    """Refresh (which also proves the stack is not locked) before deleting; clear pending creates last."""
    from pulumi_mistral.client import ConnectorsClient

    root = [u for u in [root_urn(export)] if u]
    refreshed = False
    if plan.deletes or (plan.refresh_urns and not plan.clears):
        pulumi.refresh([*root, *plan.refresh_urns], clear_pending_creates=False)
        refreshed = True
    for step in plan.deletes:
        where = settings[step.op.urn]
        with ConnectorsClient(api_key=where.api_key, server_url=where.server_url) as client:
            try:
                client.delete(str(step.delete_id))
            except NotFoundError:
                pass
            except MistralError as exc:
                raise MistralError(
                    f"deleting connector {step.delete_id} ({step.op.resource}) failed: "
                    f"{exc.message}; the pending creates were not cleared, so running recover "
                    "again resumes here"
                ) from exc
        output.say(f"Deleted connector {step.delete_id} ({step.op.resource}, '{step.op.name}').")
    if plan.clears:
        pulumi.refresh([*root, *([] if refreshed else plan.refresh_urns)], clear_pending_creates=True)
        output.say(f"Cleared {len(plan.creates)} pending create(s).")
    if plan.refresh_urns:
        output.say(f"Refreshed {len(plan.refresh_urns)} resource(s) whose update or delete was interrupted.")


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run `pulumi-mistral recover` (see :func:`add_arguments`); returns the exit status."""
    output = _Output(out or sys.stdout, err or sys.stderr)
    if os.environ.get("MISTRAL_API_KEY"):
        output.secrets.add(os.environ["MISTRAL_API_KEY"])
    try:
        pulumi = PulumiStack(args.stack)
        export = pulumi.export()
        output.secrets |= secret_values(export)
        pulumi.secrets = output.secrets
        config = _StackConfig(pulumi)
        ops = _with_naming(pending_operations(export), config)
        plan = Plan(stack=args.stack)
        settings: dict[str, ApiSettings] = {}
        if ops:
            settings = _settings(export, ops, config)
            output.secrets |= {s.api_key for s in settings.values() if s.api_key}
            live = _look_up(ops, settings)
            recorded = {cid: urn.rsplit("::", 1)[-1] for urn, cid in recorded_ids(export).items()}
            plan.steps = [decide(op, live.get(op.urn), recorded) for op in ops]
        if not plan.steps:
            output.say(plan.summary(carried_out=False))
            return EXIT_DONE
        output.say(f"Stack {args.stack}: {len(plan.steps)} operation(s) left pending by an interrupted deployment:")
        for step in plan.steps:
            output.say(f"  - {step.line}")
        if not args.yes:
            output.say(plan.summary(carried_out=False))
            return EXIT_PERSON
        _carry_out(plan, pulumi, export, settings, output)
        output.say(plan.summary(carried_out=True))
        return EXIT_PERSON if plan.needs_person else EXIT_DONE
    except MistralError as exc:
        return output.fail(exc.message)
