"""``Connector``, kept at this import path for users: it lives in :mod:`pulumi_mistral.provider.resource`."""

from __future__ import annotations

from pulumi_mistral.provider.resource import SECRET_OUTPUTS, AuthDataArgs, Connector, ConnectorArgs

__all__ = ["SECRET_OUTPUTS", "AuthDataArgs", "Connector", "ConnectorArgs"]
