"""Settings of one local server instance: LocalSettings, and the defaults the CLI and LocalServer share."""

from __future__ import annotations

import dataclasses

DEFAULT_HOST = "127.0.0.1"  # loopback only, unless asked otherwise
DEFAULT_PORT = 8787
DEFAULT_DB = "pulumi-mistral-local.db"
DEFAULT_MAX_BODY_BYTES = 1_048_576  # 1 MiB: a connector is a few kilobytes; a tool call's arguments fit easily


@dataclasses.dataclass
class LocalSettings:
    """Settings of one local server instance (built by the CLI, LocalServer or a test; never at import).

    settings = LocalSettings(db_path="connectors.db", api_keys=["dev-key"])
    """

    db_path: str = DEFAULT_DB
    api_keys: list[str] = dataclasses.field(default_factory=list)
    # Keys known only by their SHA-256 (hex): the development key of an earlier start, whose hash was kept.
    api_key_fingerprints: list[str] = dataclasses.field(default_factory=list)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Base URL the browser reaches this server on; the OAuth redirect_uri is public_url + "/oauth/callback".
    public_url: str | None = None
    enable_test_controls: bool = True
    mcp_call_timeout: float = 30.0
    mcp_connect_timeout: float = 5.0
    oauth_http_timeout: float = 10.0
    request_log_size: int = 1000
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
