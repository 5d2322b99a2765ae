"""The public names of the client and the error tree are pinned; importing the client stays lean."""

from __future__ import annotations

import subprocess
import sys

import pulumi_mistral.client as client_pkg
from pulumi_mistral import errors


def test_client_exports():
    assert sorted(client_pkg.__all__) == ["ConnectorsClient", "RetryPolicy", "UNSET", "UnsetType"]
    for name in client_pkg.__all__:
        assert hasattr(client_pkg, name)


def test_error_exports_and_tree():
    assert sorted(errors.__all__) == sorted(
        [
            "APIError",
            "AuthenticationError",
            "BadRequestError",
            "ConfigurationError",
            "ConflictError",
            "DeclarationError",
            "InputError",
            "MistralError",
            "NotFoundError",
            "PaginationError",
            "RateLimitError",
            "ServerError",
            "TimeoutError",
            "ToolDriftError",
            "TransportError",
            "ValidationError",
            "error_from_response",
        ]
    )
    tree = {
        "ConfigurationError": "MistralError",
        "APIError": "MistralError",
        "TransportError": "MistralError",
        "PaginationError": "MistralError",
        "BadRequestError": "APIError",
        "AuthenticationError": "APIError",
        "NotFoundError": "APIError",
        "ConflictError": "APIError",
        "ValidationError": "APIError",
        "RateLimitError": "APIError",
        "ServerError": "APIError",
        "TimeoutError": "TransportError",
        "DeclarationError": "ConfigurationError",
        "InputError": "MistralError",
        "ToolDriftError": "MistralError",
    }
    for child, parent in tree.items():
        assert getattr(errors, child).__bases__ == (getattr(errors, parent),)
    assert errors.MistralError.__bases__ == (Exception,)
    # the tree is drawn in the module docstring
    for name in tree:
        assert name in (errors.__doc__ or "")


def test_top_level_lazy_names_resolve():
    import pulumi_mistral

    assert pulumi_mistral.ConnectorsClient is client_pkg.ConnectorsClient
    assert pulumi_mistral.MistralError is errors.MistralError


def test_import_is_lean():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pulumi_mistral.client"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "pulumi_mistral.client" in imported
    for banned in ("pulumi", "fastapi", "starlette", "uvicorn", "mcp"):
        offenders = sorted(m for m in imported if m == banned or m.startswith(banned + "."))
        assert offenders == [], f"{banned} imported: {offenders[:5]}"
    # httpx comes with the first client; the MCP tool and tool-call models with their first use
    assert "httpx" not in imported
    assert "pulumi_mistral.client._models_mcp" not in imported


def test_every_model_name_resolves_and_tool_models_load_on_first_use():
    code = (
        "import sys; import pulumi_mistral.models as m; "
        "assert 'pulumi_mistral.client._models_mcp' not in sys.modules; "
        "from pulumi_mistral.models import MCPTool, parse_list_tools; "
        "assert 'pulumi_mistral.client._models_mcp' in sys.modules; "
        "assert parse_list_tools([{'name': 'echo', 'inputSchema': {}}])[0].__class__ is MCPTool; "
        "missing = [n for n in m.__all__ if getattr(m, n, None) is None]; assert missing == [], missing"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_lazy_names_are_the_tool_models_module_exports():
    """models names the tool models without importing them (they load on first use): the two lists agree."""
    from pulumi_mistral.client import _models_mcp, models

    assert frozenset(_models_mcp.__all__) == models._LAZY_NAMES


def test_every_error_of_the_package_is_in_the_one_tree():
    import importlib
    import pkgutil

    import pulumi_mistral

    for info in pkgutil.walk_packages(pulumi_mistral.__path__, "pulumi_mistral."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)

    def subclasses(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    outside = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in subclasses(errors.MistralError)
        if c.__module__.startswith("pulumi_mistral") and c.__module__ != "pulumi_mistral.errors"
    )
    assert outside == []
    for cls in subclasses(errors.MistralError):
        if cls.__module__ == "pulumi_mistral.errors":
            assert cls.__name__ in errors.__all__ and cls.__name__ in (errors.__doc__ or ""), cls


def test_public_import_paths_are_kept():
    """Paths users import from, kept as re-exports where the code moved (see docs/architecture.md)."""
    import pulumi_mistral
    import pulumi_mistral.models as old_models
    import pulumi_mistral.resource as old_resource
    from pulumi_mistral.client import models
    from pulumi_mistral.provider import ConnectorProvider, resource

    assert ConnectorProvider.__module__ == "pulumi_mistral.provider"  # the pickle in every state names it
    for name in old_resource.__all__:
        assert getattr(old_resource, name) is getattr(resource, name)
    assert pulumi_mistral.Connector is resource.Connector and pulumi_mistral.ConnectorArgs is resource.ConnectorArgs
    assert sorted(old_models.__all__) == sorted(models.__all__)
    for name in ("Connector", "ConnectorTool", "UNSET", "MCPTool", "parse_list_tools"):
        assert getattr(old_models, name) is getattr(models, name)
    for name in pulumi_mistral.__all__:
        assert getattr(pulumi_mistral, name) is not None
