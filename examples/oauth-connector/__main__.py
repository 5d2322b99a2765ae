"""An OAuth2-protected MCP server as a Mistral connector, and the authorization URL a user opens to connect it."""

from typing import Any

import pulumi

from pulumi_mistral import Connector
from pulumi_mistral.client import ConnectorsClient

config = pulumi.Config()
mistral = pulumi.Config("mistral")

connector = Connector(
    "oauth-docs",
    description="Documentation behind OAuth2 (example MCP server)",
    server=config.get("mcpUrl") or "http://127.0.0.1:8766/mcp",
    auth_data={
        "client_id": config.get("clientId") or "demo-client",
        "client_secret": config.require_secret("clientSecret"),
    },
)


def authorization_url(args: list[Any]) -> str:
    """Ask the API for the URL that starts the OAuth flow (runs only once the connector exists)."""
    name, api_key, server_url = args
    # api_key / server_url None: the client falls back to MISTRAL_API_KEY / MISTRAL_SERVER_URL.
    with ConnectorsClient(api_key=api_key, server_url=server_url) as client:
        return client.get_auth_url(name).auth_url


auth_url = pulumi.Output.all(connector.name, mistral.get_secret("apiKey"), mistral.get("serverUrl")).apply(
    authorization_url
)

pulumi.export("connector_id", connector.connector_id)
pulumi.export("auth_type", connector.auth_type)
# The URL holds no secret (client id, PKCE challenge, state); it is only secret-tainted by the API key used to
# fetch it, and the person who connects the server must be able to read it.
pulumi.export("auth_url", pulumi.Output.unsecret(auth_url))
