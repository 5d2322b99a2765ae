"""The old drift import path, kept for users (``Declared`` too): it lives in :mod:`pulumi_mistral.cli.drift`."""

from __future__ import annotations

import sys

from pulumi_mistral.cli.drift import (
    CLASSES,
    UNKNOWN,
    DeclaredConnector,
    Finding,
    Report,
    RequestCounter,
    add_arguments,
    compare_settings,
    load_declared_yaml,
    load_stack_export,
    render,
    run,
    scan,
)
from pulumi_mistral.cli.drift.command import main

Declared = DeclaredConnector  # the old name, kept so that existing imports and isinstance checks still work

__all__ = [
    "CLASSES",
    "UNKNOWN",
    "Declared",
    "DeclaredConnector",
    "Finding",
    "Report",
    "RequestCounter",
    "add_arguments",
    "compare_settings",
    "load_declared_yaml",
    "load_stack_export",
    "main",
    "render",
    "run",
    "scan",
]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
