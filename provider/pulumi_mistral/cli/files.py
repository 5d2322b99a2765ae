"""Atomic file writes for every file a command writes: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic", "write_output"]


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: str | os.PathLike[str], text: str, *, mode: int | None = None, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, then rename it into place.

    ``mode`` sets the permissions (default: what a plain ``open()`` would give, from the umask); a file with
    ``mode=0o600`` is owner-only from its first byte. Missing parent directories are created. Raises OSError.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # created 0o600
    try:
        with open(fd, "w", encoding=encoding) as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode() if mode is None else mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_output(path: str, text: str) -> None:
    """A command's output file (``-o FILE``), written atomically; a failure is an InputError naming the file."""
    from pulumi_mistral.errors import InputError

    try:
        write_atomic(path, text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
