"""`pulumi-mistral recover`: resolve what an interrupted deployment left pending, so that nothing is orphaned.

    pulumi cancel --yes --stack dev                   # only if the stack is still locked by the killed run
    pulumi-mistral recover --stack dev                # the plan: what it found, what it would do
    pulumi-mistral recover --stack dev --yes          # carry it out; then run `pulumi up` (or destroy) again

A killed ``pulumi up`` (SIGKILL: a cancelled CI job, an OOM kill) leaves pending operations in the state. A
pending create of an auto-named connector is an orphan in the making: the next ``up`` draws a new name and
creates a second connector, and nothing ever deletes the first. The CLI's own ways out do not help: on the
pinned CLI ``pulumi refresh --import-pending-creates URN --import-pending-creates ID`` drops the pending create
without importing anything (for any resource type), and ``--clear-pending-creates`` forgets it.

Run in the project's directory, the command reads the stack through the Pulumi CLI
(``pulumi stack export --show-secrets``, kept in memory), looks up each pending connector in the workspace of
the provider that recorded it, and decides as :mod:`~pulumi_mistral.cli.recover.decide` says. Exit 0 when done
or when there is nothing to do, 2 when something needs a person (or, without ``--yes``, when the plan awaits
it), 1 on any error (one line on stderr, naming the fix). No secret value is ever printed.

The modules: ``pending`` (the export's pending operations and their API settings), ``decide`` (each case and
its words), ``stack`` (the Pulumi CLI calls), ``command`` (arguments, one run, exit status). See
docs/interrupted.md.
"""

from __future__ import annotations

from pulumi_mistral.cli.recover.command import add_arguments, run

__all__ = ["add_arguments", "run"]
