"""The drift command's progress bar: one throttled line on stderr, only on a terminal or with ``--progress``."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """A one-line progress bar on stderr (only when enabled: a TTY, or --progress); never on stdout."""

    def __init__(self, stream: TextIO, enabled: bool, *, interval: float = 0.1) -> None:
        self.stream, self.enabled, self.interval = stream, enabled, interval
        self._last = 0.0
        self._label = ""
        self._shown = False

    def update(self, label: str, done: int, total: int | None = None, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        # Throttled, except the first update of a phase and its last one, which must always show.
        first = label != self._label
        if not (force or first or (total and done >= total)) and now - self._last < self.interval:
            return
        self._last, self._label = now, label
        if total:
            width = 24
            filled = min(width, int(width * done / total))
            text = f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        else:
            text = f"{label} {done}"
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
