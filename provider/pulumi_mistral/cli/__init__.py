"""The `pulumi-mistral` command: a thin dispatcher over subcommands that live in their own modules.

Each subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int`` and is imported only when
its subcommand is chosen, so ``pulumi-mistral drift`` never pays for FastAPI and ``--help`` stays fast.

Exit codes: 0 success (drift: clean; audit: no mandatory rule broken; recover: done or nothing to do), 2 drift
found (drift), a mandatory rule broken (audit) or something that needs a person (recover), 1 every error,
usage errors included (argparse's own code for them is 2, which a CI job would read as "drift found").
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from pulumi_mistral._version import __version__

EXIT_USAGE = 1  # not argparse's 2: `pulumi-mistral drift` exits 2 for "drift found"
ENV_API_KEY = "MISTRAL_API_KEY"
ENV_SERVER_URL = "MISTRAL_SERVER_URL"
ENV_TIMEOUT = "MISTRAL_TIMEOUT"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 1 (subcommand parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def timeout_seconds(given: float | None, default: float) -> float:
    """A command's timeout: ``--timeout`` when given, else ``MISTRAL_TIMEOUT``, else ``default``. A bad value in
    the environment is an InputError naming the variable."""
    if given is not None:
        return float(given)
    raw = os.environ.get(ENV_TIMEOUT)
    if not raw:
        return default
    try:
        return positive_float(raw)
    except argparse.ArgumentTypeError as exc:
        from pulumi_mistral.errors import InputError

        raise InputError(f"{ENV_TIMEOUT}: {exc}") from None


def require_api_key() -> None:
    """The commands read the key only from the environment: say so when it is missing (not `api_key=`)."""
    if not os.environ.get(ENV_API_KEY, "").strip():
        from pulumi_mistral.errors import ConfigurationError

        raise ConfigurationError(
            f"no Mistral API key: set the {ENV_API_KEY} environment variable (the key is "
            "never taken as an argument, so it stays out of shell history)"
        )


# name -> (module, one-line help). Modules are imported lazily.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "local": ("pulumi_mistral.local.server", "run the local Connectors API server (needs the 'local' extra)"),
    "export": ("pulumi_mistral.cli.export", "export a workspace's connectors as connectors.yaml (bulk import)"),
    "drift": ("pulumi_mistral.cli.drift", "report settings and tool drift between declared and live connectors"),
    "audit": ("pulumi_mistral.cli.audit", "check every live connector against the policy pack's rules"),
    "recover": ("pulumi_mistral.cli.recover", "resolve what an interrupted deployment left pending (no orphans)"),
}


def add_report_arguments(parser: argparse.ArgumentParser, formats: Sequence[str], *, ignore_help: str) -> None:
    """The options every report command shares (drift, audit): the API, the format, the output, ignored names,
    progress and the request count."""
    parser.add_argument(
        "--server-url",
        metavar="URL",
        help=f"Connectors API base URL (default: {ENV_SERVER_URL}, else https://api.mistral.ai)",
    )
    parser.add_argument("--format", choices=formats, default="table", help="output format (default: table)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--ignore", metavar="GLOB", action="append", default=[], help=ignore_help)
    parser.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a TTY")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the API request count to stderr")


def report_envelope(source: str, exit_code: int) -> dict[str, Any]:
    """The head of a report's JSON document (drift, audit): the format's version, the tool, the source, the exit."""
    return {"version": 1, "tool": f"pulumi-mistral {__version__}", "source": source, "exit_code": exit_code}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = Parser(prog="pulumi-mistral", description="Mistral AI connectors as code.")
    parser.add_argument("--version", action="version", version=f"pulumi-mistral {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            mod = importlib.import_module(module)  # light: `local` imports its extra only when it runs
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    return int(args._run(args) or 0)
