"""`pulumi-mistral drift`: declared connectors against the live workspace and live tool lists, as a CI report.

    MISTRAL_API_KEY=... pulumi-mistral drift --declared connectors.yaml --stack prod --format markdown
    pulumi stack export --show-secrets | pulumi-mistral drift --stack-export - --format sarif -o drift.sarif
    pulumi-mistral drift --declared connectors.yaml --stack prod --write-pins --tools-lock tools.lock.json \
        > connectors.prod.yaml          # pins as a per-stack overlay; the lock keeps the full definitions

Four classes of findings, per connector and property:

``settings``   a declared property differs from the live one (the provider's own diff rules, so no false drift);
               secret properties (headers, auth_data, connection_secrets) only say changed/unchanged;
``tools``      a declared connector with ``tool_pins`` (or recorded ``tools`` in a stack export) whose live
               MCP tools differ: each changed, added and removed tool, and what changed in it (precisely
               with ``--tools-lock``, whose definitions count only where their fingerprint equals the pin);
``deleted``    declared (and, for a stack export, deployed) but not in the workspace;
``unmanaged``  in the workspace but declared nowhere (``--ignore GLOB`` skips names).

A property whose declared value cannot be read here (a ``{secret: key}`` reference, an encrypted value in a
stack export) is "not compared", in every format; it is never reported as a changed value.

Exit 0 when clean, 2 on drift, 1 on any error (one line on stderr), usage errors included: an unknown flag or
format, an unreadable file, a JSON that is not a stack export, ``--concurrency`` below 1, an unknown
``--stack`` or ``--connector``. ``--write-pins`` pins what it can list and names every connector whose
tools it cannot list on stderr; it exits 1 only when one of them tracks its tools (its declared pins are
written again) or was named with ``--connector``. The settings part lists the whole workspace in pages of
1,000 with secrets (1,000 connectors: 2 requests); tools cost one request per pinned connector, each bounded
by ``--timeout``.
The API key is read only from ``MISTRAL_API_KEY``, never from an argument (it would land in shell history).

The modules, one concern each: ``load`` (the declared connectors and the checks of that input), ``report``
(the scan, its findings and report, the request counter), ``formats`` (one module per format), ``progress``
(the bar on stderr), ``command`` (arguments, run, exit status). The settings comparison is
:mod:`pulumi_mistral.core.compare`; pin files and live tool listing are :mod:`pulumi_mistral.cli.pins`.
"""

from __future__ import annotations

from pulumi_mistral.cli.drift.command import add_arguments, run
from pulumi_mistral.cli.drift.formats import render
from pulumi_mistral.cli.drift.load import DeclaredConnector, load_declared_yaml, load_stack_export
from pulumi_mistral.cli.drift.report import CLASSES, Finding, Report, RequestCounter, scan
from pulumi_mistral.core.compare import UNKNOWN, compare_settings

__all__ = [
    "CLASSES",
    "UNKNOWN",
    "DeclaredConnector",
    "Finding",
    "Report",
    "RequestCounter",
    "add_arguments",
    "compare_settings",
    "load_declared_yaml",
    "load_stack_export",
    "render",
    "run",
    "scan",
]
