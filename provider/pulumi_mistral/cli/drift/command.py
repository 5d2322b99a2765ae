"""The ``pulumi-mistral drift`` command: its arguments, one run (load, scan or write pins, render, write), exit status.

``add_arguments(parser)`` and ``run(args) -> int`` are what the ``pulumi-mistral`` dispatcher calls; ``main``
runs the command with its own parser. Every error is one line on stderr and exit 1 (see the package docstring).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi_mistral.cli import (
    ENV_TIMEOUT,
    Parser,
    add_report_arguments,
    positive_float,
    positive_int,
    require_api_key,
    timeout_seconds,
)
from pulumi_mistral.cli.drift.formats import FORMATS, render
from pulumi_mistral.cli.drift.load import (
    DeclaredConnector,
    check_stack,
    connectors_line,
    load_declared_yaml,
    load_stack_export,
    select_connectors,
)
from pulumi_mistral.cli.drift.progress import Progress
from pulumi_mistral.cli.drift.report import DEFAULT_CONCURRENCY, EXIT_CLEAN, EXIT_ERROR, RequestCounter, scan
from pulumi_mistral.cli.files import write_output
from pulumi_mistral.cli.pins import live_tools, load_tools_lock, render_pins, render_tools_lock
from pulumi_mistral.core import pinning
from pulumi_mistral.errors import InputError, MistralError

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["DEFAULT_TIMEOUT", "ENV_TIMEOUT", "add_arguments", "main", "run"]

DEFAULT_TIMEOUT = 30.0  # seconds per connector's tool listing (and per request); MISTRAL_TIMEOUT or --timeout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "The API key is read only from the MISTRAL_API_KEY environment variable (never an argument, "
        "so it stays out of shell history).\nExit status: 0 clean, 2 drift, 1 error (usage errors "
        "included)."
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--declared", metavar="FILE", help="connectors.yaml with the declared connectors")
    src.add_argument(
        "--stack-export",
        metavar="FILE",
        help="JSON of `pulumi stack export` ('-' reads stdin); encrypted secrets compare as unknown",
    )
    parser.add_argument("--stack", metavar="NAME", help="with --declared: apply this stack's overrides")
    add_report_arguments(
        parser, FORMATS, ignore_help="do not report unmanaged connectors whose name matches GLOB (repeatable)"
    )
    parser.add_argument(
        "--connector",
        metavar="NAME",
        action="append",
        default=[],
        help="only these declared connectors (repeatable); with --write-pins, live names work too",
    )
    _add_tool_arguments(parser)


def _add_tool_arguments(parser: argparse.ArgumentParser) -> None:
    """Writing pins, the tools lock, and the bounds of the tool listings."""
    parser.add_argument(
        "--write-pins",
        action="store_true",
        help="print tool_pins for the live tools of the declared (or --connector) connectors as a "
        "connectors.yaml overlay, instead of the drift report",
    )
    parser.add_argument(
        "--tools-lock",
        metavar="FILE",
        help="with --write-pins: also write the full tool definitions to FILE; otherwise: read them "
        "from FILE, so a changed pinned tool says what changed (description, schema, ...)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"parallel tool listings, at least 1 (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help=f"the most one connector's tool listing (or one listing page) may take, retries "
        f"included (default: {ENV_TIMEOUT}, else {DEFAULT_TIMEOUT:g})",
    )


def _load(args: argparse.Namespace) -> tuple[list[DeclaredConnector], str, int | None]:
    """The declared connectors, the source's name and the line unmanaged findings point at."""
    if args.stack and not args.declared:
        raise InputError("--stack applies to --declared connectors.yaml only (a stack export is one stack)")
    if args.declared:
        if args.stack and not args.write_pins:  # --write-pins may be what writes the stack's overlay
            check_stack(args.declared, args.stack)
        declared = load_declared_yaml(args.declared, args.stack)
        return declared, args.declared, connectors_line(args.declared)
    if args.stack_export:
        if args.stack_export == "-":
            return load_stack_export(sys.stdin.read(), source="stack-export"), "stack-export", None
        try:
            text = Path(args.stack_export).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {args.stack_export}: {getattr(exc, 'strerror', None) or exc}") from None
        return load_stack_export(text, source=args.stack_export), args.stack_export, None
    if args.write_pins and args.connector:
        return [], "workspace", None
    raise InputError("give the declared connectors: --declared connectors.yaml or --stack-export state.json")


@dataclass(frozen=True)
class _Unlisted:
    """A connector whose tools could not be listed for --write-pins, and whether the user must act on it."""

    resource: str
    message: str
    kept_pins: dict[str, str] | None  # its declared pins, written again so the overlay loses none
    must_act: bool


def _declared_pins(decl: DeclaredConnector | None) -> dict[str, str] | None:
    pins = decl.inputs.get("tool_pins") if decl is not None else None
    if isinstance(pins, Mapping) and pins and all(isinstance(v, str) for v in pins.values()):
        return {str(k): str(v) for k, v in pins.items()}
    return None


def _live_tools_of(
    client: ConnectorsClient, declared: list[DeclaredConnector], names: Sequence[str]
) -> tuple[dict[str, list[Any]], list[_Unlisted]]:
    """--write-pins: the live tools of each declared connector, and of each --connector name not declared.

    A connector whose tools cannot be listed (its MCP server is down) does not stop the others: it is
    returned in the second list. The user must act when it was named with --connector or tracks its tools
    (tool_pins or tool_drift): its pins were not refreshed (its declared pins are kept in the overlay). For a
    connector that tracks nothing, no pins are written and nothing is lost.
    """
    targets: list[tuple[str, str, DeclaredConnector | None]] = [
        (d.resource, d.connector_id or d.name or d.resource, d) for d in declared
    ]
    known = {n for _, n, _ in targets} | {r for r, _, _ in targets} | {d.name for d in declared}
    targets += [(n, n, None) for n in names if n not in known]
    listed: dict[str, list[Any]] = {}
    unlisted: list[_Unlisted] = []
    for resource, id_or_name, decl in targets:
        try:
            listed[resource] = live_tools(client, id_or_name)
        except MistralError as exc:
            tracks = decl is not None and (
                decl.inputs.get("tool_pins") is not None or decl.inputs.get("tool_drift") is not None
            )
            must_act = tracks or bool(names)
            unlisted.append(_Unlisted(resource, exc.message, _declared_pins(decl), must_act))
    return listed, unlisted


def _pins_overlay(
    declared: list[DeclaredConnector], listed: Mapping[str, list[Any]], unlisted: Sequence[_Unlisted]
) -> dict[str, dict[str, str]]:
    """The pins to write, in declaration order: fresh ones, and the declared ones of connectors not listed."""
    kept = {u.resource: u.kept_pins for u in unlisted if u.kept_pins}
    order = [d.resource for d in declared] + [r for r in listed if r not in {d.resource for d in declared}]
    return {
        r: pinning.pins_from_tools(listed[r]) if r in listed else kept[r] for r in order if r in listed or r in kept
    }


def _say_unlisted(unlisted: Sequence[_Unlisted]) -> None:
    for u in unlisted:
        level = "error" if u.must_act else "warning"
        if u.kept_pins:
            what = "its declared tool_pins are written again, unchanged; check its MCP server and run again"
        elif u.must_act:
            what = "no pins written for it; check its MCP server and run again"
        else:
            what = "no pins written for it (it tracks no tools, so nothing is lost)"
        print(
            f"pulumi-mistral drift: {level}: connector '{u.resource}': cannot list its tools ({u.message}): {what}",
            file=sys.stderr,
        )


def _lock_entries(path: str, resources: Sequence[str]) -> dict[str, list[Any]]:
    """The previous tools lock's definitions of ``resources`` (kept for connectors that could not be listed)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    connectors = data.get("connectors") if isinstance(data, Mapping) else None
    if not isinstance(connectors, Mapping):
        return {}
    return {r: list(connectors[r]) for r in resources if isinstance(connectors.get(r), list)}


def _write_pins(
    args: argparse.Namespace, client: ConnectorsClient, declared: list[DeclaredConnector]
) -> tuple[str, int]:
    """``--write-pins``: the pins overlay of the live tools (and the tools lock when asked), and the exit status."""
    tools, unlisted = _live_tools_of(client, declared, args.connector)
    text = render_pins(_pins_overlay(declared, tools, unlisted), args.format)
    _say_unlisted(unlisted)
    if args.tools_lock:
        kept = _lock_entries(args.tools_lock, [u.resource for u in unlisted])
        write_output(args.tools_lock, render_tools_lock({**kept, **tools}))
    return text, EXIT_ERROR if any(u.must_act for u in unlisted) else EXIT_CLEAN


def run(args: argparse.Namespace) -> int:
    from pulumi_mistral.client import ConnectorsClient

    def fail(message: str) -> int:
        print(f"pulumi-mistral drift: error: {message}", file=sys.stderr)
        return EXIT_ERROR

    counter = RequestCounter()
    try:
        timeout = timeout_seconds(args.timeout, DEFAULT_TIMEOUT)
        declared, source, source_line = _load(args)
        if args.connector:
            declared = select_connectors(declared, args.connector, write_pins=args.write_pins)
        require_api_key()
        progress = Progress(sys.stderr, bool(args.progress or sys.stderr.isatty()))
        # max_retry_time = timeout: retries of a hung or failing MCP server stay within the one budget.
        with ConnectorsClient(
            server_url=args.server_url, on_request=counter.add, timeout=timeout, max_retry_time=timeout
        ) as client:
            if args.write_pins:
                text, code = _write_pins(args, client, declared)
            else:
                report = scan(
                    client,
                    declared,
                    source=source,
                    ignore=args.ignore,
                    concurrency=args.concurrency,
                    progress=progress,
                    unmanaged=not args.connector,
                    source_line=source_line,
                    known_definitions=load_tools_lock(args.tools_lock) if args.tools_lock else None,
                    on_error=lambda m: print(f"pulumi-mistral drift: error: {m}", file=sys.stderr),
                )
                report.requests = counter.snapshot()
                text = render(report, args.format)
                code = report.exit_code
    except MistralError as exc:  # InputError included; every message is already one line
        return fail(exc.message)
    if args.output:
        try:
            write_output(args.output, text)
        except InputError as exc:
            return fail(exc.message)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.verbose:
        counts = counter.snapshot()
        print(
            f"pulumi-mistral drift: {counts['total']} API requests ({counts['settings']} listing connectors, "
            f"{counts['tools']} listing tools)",
            file=sys.stderr,
        )
    return code


def main(argv: Iterable[str] | None = None) -> int:
    """Run ``drift`` with its own parser (``python -m pulumi_mistral.cli.drift``)."""
    from pulumi_mistral.cli import drift  # the package's docstring describes the command

    parser = Parser(prog="pulumi-mistral drift", description=str(drift.__doc__).splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(list(argv) if argv is not None else None))
