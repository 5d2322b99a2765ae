"""The typed Connectors API client: ``ConnectorsClient``, the ``UNSET`` sentinel and the retry policy.

from pulumi_mistral.client import ConnectorsClient, UNSET

with ConnectorsClient() as client:          # MISTRAL_API_KEY, MISTRAL_SERVER_URL
    client.update(connector_id, description="new", icon_url=None)   # icon_url cleared, rest untouched
"""

from __future__ import annotations

from pulumi_mistral.client._http import RetryPolicy
from pulumi_mistral.client.connectors import ConnectorsClient
from pulumi_mistral.client.models import UNSET, UnsetType

__all__ = ["UNSET", "ConnectorsClient", "RetryPolicy", "UnsetType"]
