"""The native provider plugin ``pulumi-resource-mistral``: the engine starts it, :func:`main` serves it.

It serves the ``mistral`` package (``schema.json``: the resource ``mistral:index:Connector``, the functions
``getConnector`` and ``getConnectorTools``, the provider config ``apiKey``, ``serverUrl``, ``timeout``,
``maxAttempts``, ``maxRetryTime``) with the same lifecycle as the dynamic ``Connector``. What it does on the
engine: docs/engine.md.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """The console script ``pulumi-resource-mistral ENGINE_ADDRESS``: serve until the engine stops us."""
    from pulumi_mistral._version import __version__
    from pulumi_mistral.plugin.provider import MistralProvider
    from pulumi_mistral.plugin.server import EngineLog, engine_address, serve

    args = sys.argv[1:]
    serve(MistralProvider(EngineLog(engine_address(args))), __version__, args)
