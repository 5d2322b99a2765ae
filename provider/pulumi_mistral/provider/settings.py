"""Per-process settings: how the provider talks to the API (stack config, else environment) and its shared client.

The engine pickles the provider object into every resource's state, so nothing here lives on the object: the
settings and the client are module-level, per process, and never pickled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi_mistral.core import secret_markers
from pulumi_mistral.errors import MistralError

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["STATE", "TUNING", "ProcessState", "Settings", "process_client", "set_settings", "settings_from_config"]


@dataclass(frozen=True)
class Settings:
    """How this provider process talks to the API. Built in ``configure()``; never pickled."""

    api_key: str | None = field(default=None, repr=False)
    server_url: str | None = None
    timeout: float = 30.0
    # More patient than the client's default (4): a deployment prefers waiting out a rate-limit burst (whose
    # Retry-After answers count as attempts) to failing a step that the next `pulumi up` would have to redo.
    max_attempts: int = 6
    max_retry_time: float = 60.0


# stack config key -> (environment variable, Settings field, parser)
TUNING: dict[str, tuple[str, str, Callable[[str], float]]] = {
    "mistral:timeout": ("MISTRAL_TIMEOUT", "timeout", float),
    "mistral:maxAttempts": ("MISTRAL_MAX_ATTEMPTS", "max_attempts", int),
    "mistral:maxRetryTime": ("MISTRAL_MAX_RETRY_TIME", "max_retry_time", float),
}


def settings_from_config(config: Any, environ: Mapping[str, str]) -> Settings:
    """Settings from stack config (``mistral:*``), else the ``MISTRAL_*`` environment, else the defaults."""
    values: dict[str, Any] = {
        "api_key": secret_markers.strip(config.get("mistral:apiKey")) or environ.get("MISTRAL_API_KEY"),
        "server_url": secret_markers.strip(config.get("mistral:serverUrl")) or environ.get("MISTRAL_SERVER_URL"),
    }
    for key, (env, name, parse) in TUNING.items():
        raw = config.get(key) or environ.get(env)
        if raw in (None, ""):
            continue
        try:
            value = parse(str(raw))
        except ValueError:
            value = None
        if value is None or value <= 0 or (name == "max_attempts" and value > 20):
            kind = "whole number up to 20" if parse is int else "number of seconds"
            raise MistralError(
                f"{key} (or {env}) must be a positive {kind}, got {str(raw)!r}; fix: pulumi config set {key} <value>"
            )
        values[name] = value
    return Settings(**values)


class ProcessState:
    """Settings and the shared client of this provider process. Lives at module level, outside the pickle."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings = Settings()
        self.client: ConnectorsClient | None = None


STATE = ProcessState()


def set_settings(settings: Settings) -> None:
    """Use ``settings`` from now on: a change closes the shared client, and the next call builds a new one."""
    with STATE.lock:
        if settings != STATE.settings:
            if STATE.client is not None:
                STATE.client.close()
            STATE.client = None
            STATE.settings = settings


def process_client() -> ConnectorsClient:
    """The process's shared client (httpx clients are thread-safe; the engine runs up to 4 calls at once)."""
    with STATE.lock:
        if STATE.client is None:
            from pulumi_mistral.client import ConnectorsClient

            s = STATE.settings
            STATE.client = ConnectorsClient(
                api_key=s.api_key, server_url=s.server_url, timeout=s.timeout,
                max_attempts=s.max_attempts, max_retry_time=s.max_retry_time,
            )
        return STATE.client
