"""Timestamps of the local server: RFC 3339 UTC with microseconds and ``Z``, strictly increasing per process."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


def format_timestamp(moment: datetime) -> str:
    """``moment`` (UTC) as the server writes every timestamp, e.g. ``2025-01-02T03:04:05.000006Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Clock:
    """UTC timestamps that strictly increase within the process (the wall clock may repeat or step back).

    So (created_at, id) is a stable, total order of connectors.
    """

    def __init__(self) -> None:
        self._last = datetime(1970, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> str:
        with self._lock:
            now = datetime.now(timezone.utc)
            if now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
        return format_timestamp(now)
