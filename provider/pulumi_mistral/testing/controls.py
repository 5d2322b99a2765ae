"""Controls: the one client of the local server's test controls (``/_local/``), and what both server handles share.

``LocalServer`` (the app in a thread) and ``LocalServerProcess`` (a subprocess) both hand one out:

    with LocalServer() as server:
        controls = server.controls()           # the first workspace's; server.controls(key) for another one
        controls.set_faults([{"method": "POST", "path": "^/v1/connectors$", "action": "status", "status": 503}])
        controls.set_latency(50)               # every API request answers 50 ms later; 0 lifts every fault rule
        controls.calls()                       # ["POST /v1/connectors", ...]: the request log, oldest first
        controls.request_total()               # requests since the last clear (the log itself is bounded)
        controls.connectors()                  # this workspace's connectors as stored, secrets included
        controls.clear()                       # a fresh server: every workspace emptied, no faults, an empty log

The routes, and what a fault rule may say, are ``pulumi_mistral.local.controls``'s; this client speaks HTTP only
(no FastAPI), so it works against any local server it can reach. A server hands out one ``Controls`` per key and
closes them when it closes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["Controls", "ServerHandle"]

API_PREFIX = "/v1/"


class Controls:
    """The ``/_local/`` routes of one server, as one workspace (API key) calls them. Every call raises
    ``httpx.HTTPStatusError`` on a refusal, so a test never goes on after a control that did not apply."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.http.request(method, "/_local" + path, **kwargs).raise_for_status().json()

    # -- connectors ------------------------------------------------------------------------------------------
    def reset(self, *, all_workspaces: bool = False) -> int:
        """Delete this workspace's connectors (every workspace's with ``all_workspaces``); how many went."""
        params = {"all": "true"} if all_workspaces else None
        return int(self._call("POST", "/reset", params=params)["deleted"])

    def state(self) -> dict[str, Any]:
        """The workspace as stored: ``connectors`` (secrets included) and what OAuth state it holds."""
        return dict(self._call("GET", "/state"))

    def connectors(self) -> list[dict[str, Any]]:
        """This workspace's connectors, secrets included (faults never apply to ``/_local/``)."""
        return list(self.state()["connectors"])

    # -- the request log (server-wide; it never logs ``/_local/`` itself) ------------------------------------
    def requests(self, *, api_only: bool = False) -> list[dict[str, Any]]:
        """The logged requests, oldest first: method, path, query, status, fault... (``api_only``: ``/v1/...``)."""
        entries = list(self._call("GET", "/requests")["requests"])
        return [e for e in entries if str(e.get("path", "")).startswith(API_PREFIX)] if api_only else entries

    def calls(self) -> list[str]:
        """``METHOD path`` of every logged request, oldest first."""
        return [f"{r['method']} {r['path']}" for r in self.requests()]

    def request_total(self) -> int:
        """Requests since the last clear: a count that does not saturate, unlike the bounded log."""
        return int(self._call("GET", "/requests")["total"])

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    # -- fault rules (server-wide) ---------------------------------------------------------------------------
    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force, each with how often it ``fired`` and how many times ``remaining``."""
        return list(self._call("GET", "/faults")["rules"])

    def set_faults(self, rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Replace the fault rules (evaluated in order; see ``pulumi_mistral.local.controls``); the rules in force."""
        return list(self._call("POST", "/faults", json={"rules": [dict(r) for r in rules]})["rules"])

    def set_latency(self, ms: float) -> None:
        """Answer every API request (``/v1/...``) ``ms`` later (the latency fault rule); 0 lifts every rule."""
        if ms:
            self.set_faults([{"method": "*", "path": "^" + API_PREFIX, "action": "latency", "latency_ms": ms}])
        else:
            self.clear_faults()

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- everything --------------------------------------------------------------------------------------------
    def clear(self) -> None:
        """A fresh server: every workspace emptied, every fault rule lifted, the request log cleared."""
        self.reset(all_workspaces=True)
        self.clear_faults()
        self.clear_requests()

    @property
    def closed(self) -> bool:
        return self.http.is_closed

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Controls:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:  # never shows the key
        return f"Controls({self.http.base_url})"


class ServerHandle:
    """What ``LocalServer`` and ``LocalServerProcess`` share: API keys (one workspace each) and, for any of them,
    request headers, a client, stack config and the test controls. A subclass gives ``url`` and ``api_keys``."""

    api_keys: list[str]
    _controls: dict[str, Controls] | None = None

    @property
    def url(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def api_key(self) -> str:
        return self.api_keys[0]

    def headers(self, api_key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key or self.api_key}"}

    def client(self, api_key: str | None = None, **kwargs: Any) -> ConnectorsClient:
        """A ``pulumi_mistral.client.ConnectorsClient`` pointed at this server (the caller closes it)."""
        from pulumi_mistral.client import ConnectorsClient

        return ConnectorsClient(api_key=api_key or self.api_key, server_url=self.url, **kwargs)

    def config(self, api_key: str | None = None) -> dict[str, str]:
        """Stack config for a Pulumi program using this server (``mistral:apiKey`` is a secret)."""
        return {"mistral:apiKey": api_key or self.api_key, "mistral:serverUrl": self.url}

    def controls(self, api_key: str | None = None) -> Controls:
        """The test controls as the workspace of ``api_key`` (default: the first) calls them; the same object on
        every call, closed with the server."""
        key = api_key or self.api_key
        if self._controls is None:
            self._controls = {}
        found = self._controls.get(key)
        if found is None or found.closed:
            found = self._controls[key] = Controls(self.url, key)
        return found

    def _close_controls(self) -> None:
        for found in (self._controls or {}).values():
            found.close()
        self._controls = None
