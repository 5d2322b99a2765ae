"""The old export import path, kept for users: it lives in :mod:`pulumi_mistral.cli.export`."""

from __future__ import annotations

from pulumi_mistral.cli.export import (
    Export,
    add_arguments,
    config_key,
    connector_declaration,
    export_connectors,
    render_python,
    render_python_explicit,
    render_yaml,
    run,
)

__all__ = [
    "Export",
    "add_arguments",
    "config_key",
    "connector_declaration",
    "export_connectors",
    "render_python",
    "render_python_explicit",
    "render_yaml",
    "run",
]
