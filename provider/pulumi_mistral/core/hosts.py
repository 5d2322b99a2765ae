"""The one loopback rule, shared by the client (plain http only to loopback) and the local server (bind warning).

A host is loopback when it is ``localhost`` or a name under ``.localhost`` (RFC 6761 reserves both for the
loopback interface), or a loopback IP address: 127.0.0.0/8, ``::1`` (brackets, as in URLs, are accepted).
"""

from __future__ import annotations

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``*.localhost``, 127.x.y.z and ``::1`` / ``[::1]`` (case-insensitive)."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only plain-http URLs and --host values get here: keeps the client's import light

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
