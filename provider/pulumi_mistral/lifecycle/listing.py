"""The refresh listing cache: one short-lived snapshot of every connector, shared by a burst of ``read`` calls."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["Listing"]


class Listing:
    """A short-lived, per-process snapshot of every connector, shared by concurrent ``read`` calls.

    ``pulumi refresh`` reads every resource (at most 4 at a time). One paginated listing (page size 1000,
    secrets included) answers all of them with a handful of requests instead of one GET each. Rules that keep
    it from ever serving stale state beyond a few seconds:

    * it is only used during a burst of reads of distinct connectors (a refresh), never for a single read;
    * a snapshot is used for at most ``TTL`` seconds, counted from when its listing request STARTED;
    * any write by this process (create, update, delete) drops it, and a listing that raced a write is
      discarded;
    * a connector missing from the snapshot is read with GET (it may be new, or gone: GET decides).
    """

    TTL_S = 3.0
    BURST_WINDOW_S = 2.0
    BURST_DISTINCT = 8

    def __init__(self, client: Callable[[], ConnectorsClient]) -> None:
        self._client = client  # the process's shared client, built on first use
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._snapshot: dict[str, dict[str, Any]] | None = None
        self._fetched_at = 0.0
        self._generation = 0
        self._recent: deque[tuple[float, str]] = deque(maxlen=64)
        self.listings = 0  # how many listings this process made (benchmarks)

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._snapshot = None

    def reset(self) -> None:
        """As in a fresh process: no snapshot, and no recent reads to make a burst of."""
        with self._lock:
            self._generation += 1
            self._snapshot = None
            self._recent.clear()

    def _fresh(self, now: float) -> dict[str, dict[str, Any]] | None:
        if self._snapshot is not None and now - self._fetched_at <= self.TTL_S:
            return self._snapshot
        return None

    def lookup(self, connector_id: str) -> dict[str, Any] | None:
        """The connector from a fresh snapshot, or None: the caller then does a GET."""
        now = time.monotonic()
        with self._lock:
            self._recent.append((now, connector_id))
            snap = self._fresh(now)
            if snap is not None:
                return snap.get(connector_id)
            distinct = {cid for t, cid in self._recent if now - t <= self.BURST_WINDOW_S}
            if len(distinct) < self.BURST_DISTINCT:
                return None
        # One listing at a time: concurrent readers wait here and then reuse the snapshot it produced.
        with self._fetch_lock:
            with self._lock:
                snap = self._fresh(time.monotonic())
                if snap is not None:
                    return snap.get(connector_id)
                generation = self._generation
            from pulumi_mistral.client.connectors import MAX_PAGE_SIZE  # the client comes with the first request

            started = time.monotonic()
            items = {
                c.id: c.model_dump(mode="json")
                for c in self._client().iter_connectors(page_size=MAX_PAGE_SIZE, fetch_connection_secrets=True)
            }
            with self._lock:
                self.listings += 1
                if generation != self._generation:  # a write happened meanwhile: this listing may be stale
                    return None
                self._snapshot, self._fetched_at = items, started
            return items.get(connector_id)
