"""`pulumi-mistral audit`: the policy pack's rules that a live connector can show, over a whole workspace.

    MISTRAL_API_KEY=... pulumi-mistral audit --config policy-config.json --format sarif -o audit.sarif
    pulumi-mistral audit --config policy-config.json --check-config     # the config alone, no API call

Every connector the key can list, managed by a stack or not, goes through the rules of
:mod:`pulumi_mistral.policy` that read what the API shows: ``connector-server-https``,
``connector-server-host``, ``connector-visibility``, ``connector-name-pattern`` and ``connector-description``.
The others need declared inputs (tool pins, the other connectors of a stack) and are listed as not applied.
``--config`` takes the same file as ``pulumi preview --policy-pack-config``: levels (``all`` included) and
parameters; a disabled rule is not applied, an advisory finding is reported without failing.

Exit 0 when clean or advisory findings only, 2 when a mandatory rule is broken, 1 on any error (one line on
stderr), usage errors and a wrong config included. The workspace is listed in pages of 1,000 without secrets
(nothing secret is fetched, so nothing secret can be printed; a server URL is shown without its user info and
query). The API key is read only from ``MISTRAL_API_KEY``; the URL from ``--server-url`` or
``MISTRAL_SERVER_URL``.

The modules: ``report`` (the run and its findings), ``formats`` (table, json, markdown, sarif, on the drift
report's helpers), ``command`` (arguments, run, exit status).
"""

from __future__ import annotations

from pulumi_mistral.cli.audit.command import add_arguments, run
from pulumi_mistral.cli.audit.formats import render
from pulumi_mistral.cli.audit.report import AuditFinding, AuditReport, audit

__all__ = ["AuditFinding", "AuditReport", "add_arguments", "audit", "render", "run"]
