"""The old drift import path, kept for users (``Declared`` too): it lives in :mod:`pulumi_mistral.cli.drift`."""

from __future__ import annotations

import sys

from pulumi_mistral.cli.drift import *  # noqa: F403 - the same public names, by definition
from pulumi_mistral.cli.drift import DeclaredConnector
from pulumi_mistral.cli.drift import __all__ as _names
from pulumi_mistral.cli.drift.command import main

Declared = DeclaredConnector  # the old name, kept so that existing imports and isinstance checks still work

__all__ = sorted([*_names, "Declared", "main"])

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
