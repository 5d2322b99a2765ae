"""The `pulumi-mistral` command: a thin dispatcher over subcommands that live in their own modules.

Each subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int`` and is imported only when
its subcommand is chosen, so ``pulumi-mistral drift`` never pays for FastAPI and ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pulumi_mistral._version import __version__

# name -> (module, one-line help). Modules are imported lazily.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "local": ("pulumi_mistral.local.server", "run the local Connectors API server (needs the 'local' extra)"),
    "export": ("pulumi_mistral.export", "export a workspace's connectors as connectors.yaml (bulk import)"),
    "drift": ("pulumi_mistral.drift", "report settings and tool drift between declared and live connectors"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pulumi-mistral", description="Mistral AI connectors as code.")
    parser.add_argument("--version", action="version", version=f"pulumi-mistral {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            try:
                mod = importlib.import_module(module)
            except ImportError as exc:  # e.g. the 'local' extra is not installed
                missing = getattr(exc, "name", None) or str(exc)
                parser.exit(1, f"pulumi-mistral {name}: cannot import {missing!s}. "
                               f"Install the extra: pip install 'pulumi-mistral-connectors[local]'\n")
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
