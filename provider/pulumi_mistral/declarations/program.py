"""``declare_connectors``: the Connector resources of a Pulumi program, from connectors.yaml (the Pulumi side).

References are resolved here, as secrets: ``{secret: key}`` from stack config, ``{env: VAR}`` from the
environment. Every missing reference is reported at once, with the line that names it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pulumi_mistral.declarations.loader import SecretRef, load_declarations, resolve_secrets, secret_references
from pulumi_mistral.declarations.positions import Issue, Location
from pulumi_mistral.errors import DeclarationError

if TYPE_CHECKING:  # pragma: no cover
    import pulumi

    from pulumi_mistral.provider.resource import Connector

__all__ = ["declare_connectors"]


def declare_connectors(
    path: str | os.PathLike[str] = "connectors.yaml",
    *,
    stack: str | None = None,
    config: pulumi.Config | str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, Connector]:
    """Create one :class:`~pulumi_mistral.Connector` per connector declared in ``path``; ``{resource name: it}``.

    ``stack`` defaults to the current stack (its overrides apply). ``{secret: key}`` references are read as
    secrets from ``config`` (a ``pulumi.Config`` or a namespace; default: the project's namespace; a key
    written ``ns:key`` reads that namespace); ``{env: VAR}`` from the environment, marked secret. Missing
    references are reported together, with the line that names them. ``opts`` applies to every resource.

    Example (``__main__.py``)::

        import pulumi
        import pulumi_mistral

        connectors = pulumi_mistral.declare_connectors("connectors.yaml")
        pulumi.export("ids", {name: c.connector_id for name, c in connectors.items()})
    """
    import inspect

    import pulumi

    from pulumi_mistral.provider.resource import Connector

    declarations = load_declarations(path, stack if stack is not None else pulumi.get_stack())
    cfg = config if isinstance(config, pulumi.Config) else pulumi.Config(config)
    values, problems = _read_secrets(declarations, cfg, path)
    accepted = set(inspect.signature(Connector.__init__).parameters)
    for name, props in declarations.items():
        problems.extend(
            Issue(
                Location(str(path), 1, 1),
                f"connectors.{name}.{key}",
                "is not supported by this version of the Connector resource; fix: upgrade pulumi-mistral",
            )
            for key in props
            if key not in accepted
        )
    if problems:
        raise DeclarationError(problems)
    resolved = {name: resolve_secrets(props, values.__getitem__) for name, props in declarations.items()}
    return {name: Connector(name, opts=opts, **props) for name, props in resolved.items()}


def _read_secrets(
    declarations: dict[str, dict[str, Any]], cfg: pulumi.Config, path: str | os.PathLike[str]
) -> tuple[dict[SecretRef, Any], list[Issue]]:
    """Every ``{secret: key}`` and ``{env: VAR}`` reference read as a Pulumi secret, and one issue per missing one."""
    import pulumi

    problems: list[Issue] = []
    values: dict[SecretRef, Any] = {}
    for resource, prop, ref in secret_references(declarations):
        where = ref.location or Location(str(path), 1, 1)
        value: Any
        if ref.kind == "env":
            raw = os.environ.get(ref.key)
            value = None if raw is None else pulumi.Output.secret(raw)
            fix = f"environment variable {ref.key} is not set; fix: export it before running pulumi"
        else:
            namespace, _, key = ref.key.rpartition(":")
            value = (pulumi.Config(namespace) if namespace else cfg).get_secret(key)
            fix = f"stack config {ref.key} is not set; fix: pulumi config set --secret {ref.key} <value>"
        if value is None:
            problems.append(Issue(where, f"connectors.{resource}.{prop}", fix))
        values[ref] = value
    return values, problems
