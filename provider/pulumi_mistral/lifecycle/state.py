"""ProcessState: what one provider process keeps between calls (settings, client, caches, the warning sink).

Both doors keep exactly one per process and hand it to the lifecycle; nothing here is reached as a module
global. The engine runs up to 4 calls at once on the dynamic door, and the native door runs the lifecycle in
``asyncio.to_thread``: every member is guarded by a lock.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pulumi_mistral.core import secret_markers
from pulumi_mistral.errors import MistralError
from pulumi_mistral.lifecycle.listing import Listing

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = [
    "CONFIG_KEY_SOURCE",
    "ENV_KEY_SOURCE",
    "TUNING",
    "ConfigLike",
    "ProcessState",
    "Recent",
    "Settings",
    "settings_from_config",
    "warn_on_stderr",
]

# Where the API key came from, as messages name it.
CONFIG_KEY_SOURCE = "stack config mistral:apiKey"
ENV_KEY_SOURCE = "the MISTRAL_API_KEY environment variable"


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
    # CONFIG_KEY_SOURCE, ENV_KEY_SOURCE, or None (no key): what an error about the key names.
    api_key_source: str | None = None


# stack config key -> (environment variable, Settings field, parser)
TUNING: dict[str, tuple[str, str, Callable[[str], float]]] = {
    "mistral:timeout": ("MISTRAL_TIMEOUT", "timeout", float),
    "mistral:maxAttempts": ("MISTRAL_MAX_ATTEMPTS", "max_attempts", int),
    "mistral:maxRetryTime": ("MISTRAL_MAX_RETRY_TIME", "max_retry_time", float),
}


class ConfigLike(Protocol):
    """Stack config as the doors hand it over: ``get("mistral:apiKey")`` (a Mapping or pulumi.dynamic.Config)."""

    def get(self, key: str) -> Any: ...  # pragma: no cover - a protocol


def settings_from_config(config: ConfigLike, environ: Mapping[str, str]) -> Settings:
    """Settings from stack config (``mistral:*``), else the ``MISTRAL_*`` environment, else the defaults."""
    config_key = secret_markers.strip(config.get("mistral:apiKey"))
    env_key = environ.get("MISTRAL_API_KEY")
    source = CONFIG_KEY_SOURCE if config_key else ENV_KEY_SOURCE if env_key else None
    values: dict[str, Any] = {
        "api_key": config_key or env_key,
        "api_key_source": source,
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


_V = TypeVar("_V")


class Recent(Generic[_V]):
    """Values per connector id, each forgotten ``ttl_s`` seconds after it was put; at most ``max_entries``."""

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, _V]] = {}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def forget(self, connector_id: str) -> None:
        with self._lock:
            self._items.pop(connector_id, None)

    def put(self, connector_id: str, value: _V) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items = {k: v for k, v in self._items.items() if now - v[0] <= self.ttl_s}
            self._items[connector_id] = (now, value)

    def get(self, connector_id: str) -> _V | None:
        with self._lock:
            entry = self._items.get(connector_id)
            if entry is None or time.monotonic() - entry[0] > self.ttl_s:
                return None
            return entry[1]


def warn_on_stderr(text: str) -> None:
    """A one-line ``warning: ...`` on stderr, where the engine shows a dynamic provider's output as a diagnostic.

    ``pulumi.log.warn`` does the same in the provider process (it has no engine connection there), but in a
    process that also runs a program it would go to that program's engine; stderr is right in both.
    """
    print(f"warning: {' '.join(text.split())}", file=sys.stderr, flush=True)


class ProcessState:
    """Everything one provider process keeps between calls; handed to the lifecycle, never pickled.

    * ``settings`` (from ``configure``) and the shared ``client()`` built from them (httpx clients are
      thread-safe);
    * ``listing``: the refresh listing cache (one paged listing answers a burst of reads);
    * ``tools``: live tool lists a Read fetched, reused by the next Diff of the same connector (``pulumi
      refresh`` calls Read then Diff, ``preview --refresh`` Read, the refresh's Diff, then the program's Diff:
      without it each would list the tools again, and warn again);
    * ``reads``: a digest of the outputs a Read just returned for a tracked connector, so the refresh's own
      Diff (old outputs = what Read returned) is recognised: it reports drift but never enforces a policy;
    * the ids of the connectors this process created, so a second resource declaring the same name is told so;
    * ``warn``: where warnings go (default: one ``warning:`` line on stderr).

    Example::

        state = ProcessState(warn=my_sink)
        state.configure(settings_from_config({"mistral:apiKey": key}, os.environ))
        state.client().list()
    """

    def __init__(self, *, warn: Callable[[str], None] = warn_on_stderr) -> None:
        self._lock = threading.Lock()
        self.settings = Settings()
        self._client: ConnectorsClient | None = None
        self.listing = Listing(self.client)
        self.tools: Recent[list[dict[str, Any]]] = Recent()
        self.reads: Recent[str] = Recent()
        self._created: set[str] = set()
        self.warn = warn

    def configure(self, settings: Settings) -> None:
        """Use ``settings`` from now on: a change closes the shared client, and the next call builds a new one."""
        with self._lock:
            if settings != self.settings:
                if self._client is not None:
                    self._client.close()
                self._client = None
                self.settings = settings
        self.listing.invalidate()  # a snapshot made with other settings must not answer a read

    def client(self) -> ConnectorsClient:
        """The process's shared client, built on first use from the settings (a bad key fails here, named)."""
        with self._lock:
            if self._client is None:
                from pulumi_mistral.client import ConnectorsClient
                from pulumi_mistral.lifecycle.keys import checked_key

                s = self.settings
                self._client = ConnectorsClient(
                    api_key=checked_key(s),
                    server_url=s.server_url,
                    timeout=s.timeout,
                    max_attempts=s.max_attempts,
                    max_retry_time=s.max_retry_time,
                )
            return self._client

    def wrote(self, connector_id: str) -> None:
        """This process writes ``connector_id`` (before and after the request): drop what it cached about it."""
        self.listing.invalidate()
        self.tools.forget(connector_id)
        self.reads.forget(connector_id)

    def remember_created(self, connector_id: str) -> None:
        with self._lock:
            self._created.add(connector_id)

    def created_here(self, connector_id: str) -> bool:
        """True when this process created (or took over) ``connector_id`` for a resource."""
        with self._lock:
            return connector_id in self._created

    def reset(self) -> None:
        """As in a fresh process: no settings, no client, no caches (tests, benchmarks, the in-process host)."""
        self.configure(Settings())
        self.listing.reset()
        self.tools.clear()
        self.reads.clear()
        with self._lock:
            self._created.clear()
