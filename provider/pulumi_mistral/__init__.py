"""pulumi-mistral: Mistral AI connectors as code.

The public surface is loaded lazily: ``import pulumi_mistral.client`` must not import pulumi (the provider
process and the CLI pay only for what they use), so ``Connector`` and friends resolve on first access.

    import pulumi_mistral as mistral
    docs = mistral.Connector("docs", description="Docs search", server="https://mcp.example.com/mcp")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pulumi_mistral._version import __version__

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "ConnectorsClient": "pulumi_mistral.client",
    "Connector": "pulumi_mistral.provider.resource",
    "ConnectorArgs": "pulumi_mistral.provider.resource",
    "ConnectorProvider": "pulumi_mistral.provider",
    "declare_connectors": "pulumi_mistral.declarations",
    "MistralError": "pulumi_mistral.errors",
    "pins_for": "pulumi_mistral.cli.pins",
}

__all__ = [
    "Connector",
    "ConnectorArgs",
    "ConnectorProvider",
    "ConnectorsClient",
    "MistralError",
    "__version__",
    "declare_connectors",
    "pins_for",
]

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.cli.pins import pins_for
    from pulumi_mistral.client import ConnectorsClient
    from pulumi_mistral.declarations import declare_connectors
    from pulumi_mistral.errors import MistralError
    from pulumi_mistral.provider import ConnectorProvider
    from pulumi_mistral.provider.resource import Connector, ConnectorArgs


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_mistral' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
