"""connectors.yaml as desired state: ``load_declarations`` (pure, no pulumi) and ``declare_connectors``.

* :mod:`~pulumi_mistral.declarations.positions`: YAML parsed with the file:line:column of every key and value;
* :mod:`~pulumi_mistral.declarations.loader`: layers, per-stack overrides, validation, secret references;
* :mod:`~pulumi_mistral.declarations.program`: one Connector per declaration, references resolved as secrets.
"""

from __future__ import annotations

from pulumi_mistral.declarations.loader import (
    DECLARABLE_FIELDS,
    SECRET_MAPS,
    SecretRef,
    load_declarations,
    overlay_path,
    resolve_secrets,
    secret_references,
)
from pulumi_mistral.declarations.positions import Issue, Location
from pulumi_mistral.declarations.program import declare_connectors
from pulumi_mistral.errors import DeclarationError

__all__ = [
    "DECLARABLE_FIELDS",
    "SECRET_MAPS",
    "DeclarationError",
    "Issue",
    "Location",
    "SecretRef",
    "declare_connectors",
    "load_declarations",
    "overlay_path",
    "resolve_secrets",
    "secret_references",
]
