"""The old export import path, kept for users: it lives in :mod:`pulumi_mistral.cli.export`."""

from __future__ import annotations

from pulumi_mistral.cli.export import *  # noqa: F403 - the same public names, by definition
from pulumi_mistral.cli.export import __all__ as __all__
