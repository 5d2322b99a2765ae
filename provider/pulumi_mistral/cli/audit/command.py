"""The ``pulumi-mistral audit`` command: its arguments, one run (config, listing, rules, render, write), exit status."""

from __future__ import annotations

import argparse
import json
import sys

from pulumi_mistral.cli import (
    ENV_TIMEOUT,
    Parser,
    add_report_arguments,
    positive_float,
    require_api_key,
    timeout_seconds,
)
from pulumi_mistral.cli.audit.formats import FORMATS, render
from pulumi_mistral.cli.audit.report import EXIT_CLEAN, EXIT_ERROR, audit
from pulumi_mistral.cli.drift.progress import Progress
from pulumi_mistral.cli.drift.report import RequestCounter
from pulumi_mistral.cli.files import write_output
from pulumi_mistral.errors import MistralError
from pulumi_mistral.policy.config import RuleConfig, load_config
from pulumi_mistral.policy.rules import RULES

__all__ = ["DEFAULT_TIMEOUT", "add_arguments", "main", "run"]

DEFAULT_TIMEOUT = 30.0  # seconds per listing request, retries included (MISTRAL_TIMEOUT or --timeout)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "The API key is read only from the MISTRAL_API_KEY environment variable (never an argument, "
        "so it stays out of shell history).\nExit status: 0 clean (or advisory findings only), 2 a "
        "mandatory rule is broken, 1 error (usage errors included)."
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="the policy pack's config (the file given to --policy-pack-config); default: every "
        "rule mandatory at its defaults",
    )
    parser.add_argument(
        "--check-config",
        action="store_true",
        help="only check the config file and print each rule's level and parameters (no API call)",
    )
    add_report_arguments(parser, FORMATS, ignore_help="do not audit connectors whose name matches GLOB (repeatable)")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help=f"the most one listing request may take, retries included (default: {ENV_TIMEOUT}, "
        f"else {DEFAULT_TIMEOUT:g})",
    )


def render_config(config: dict[str, RuleConfig]) -> str:
    """Each rule's effective level and parameters, one line each (``--check-config``)."""
    width = max(len(r.id) for r in RULES)
    lines = [
        f"{r.id:<{width}}  {config[r.id].level:<9}  {'audit+pack' if r.live else 'pack only ':<10}  "
        f"{json.dumps(dict(config[r.id].params), sort_keys=True)}"
        for r in RULES
    ]
    return (
        "\n".join(
            [
                "config ok: each rule, its level, where it applies (the audit applies what a live connector "
                "shows), its parameters",
                *lines,
            ]
        )
        + "\n"
    )


def run(args: argparse.Namespace) -> int:
    from pulumi_mistral.client import ConnectorsClient

    counter = RequestCounter()
    try:
        config = load_config(args.config)
        if args.check_config:
            text, code = render_config(config), EXIT_CLEAN
        else:
            timeout = timeout_seconds(args.timeout, DEFAULT_TIMEOUT)
            require_api_key()
            progress = Progress(sys.stderr, bool(args.progress or sys.stderr.isatty()))
            with ConnectorsClient(
                server_url=args.server_url, on_request=counter.add, timeout=timeout, max_retry_time=timeout
            ) as client:
                source = args.config or client.server_url
                report = audit(client, config, source=source, ignore=args.ignore, progress=progress)
            report.requests = counter.snapshot()
            text, code = render(report, args.format), report.exit_code
        if args.output:
            write_output(args.output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except MistralError as exc:  # InputError included; every message is already one line
        print(f"pulumi-mistral audit: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    if args.verbose and not args.check_config:
        print(f"pulumi-mistral audit: {counter.snapshot()['total']} API requests", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run ``audit`` with its own parser (``python -m pulumi_mistral.cli.audit``)."""
    parser = Parser(prog="pulumi-mistral audit", description=str(__doc__).splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
