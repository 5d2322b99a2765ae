"""Workspaces of the local server: one per API key, known by the key's SHA-256 fingerprint only.

The key presented in ``Authorization: Bearer <key>`` is compared with every configured key in constant time
(``hmac.compare_digest``, no early exit). A missing or unknown key is a 401.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from pulumi_mistral.local.exceptions import Unauthorized


@dataclass(frozen=True)
class Workspace:
    fingerprint: str  # SHA-256 hex of the API key

    @property
    def tag(self) -> str:
        """Short, loggable form of the fingerprint."""
        return self.fingerprint[:12]


def key_fingerprint(api_key: str) -> str:
    """The SHA-256 (hex) of an API key: the only form of a key the server keeps."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class KeyRing:
    """The configured API keys; compares a presented key with all of them in constant time.

    Keys are held as SHA-256 fingerprints only, so a key known only by its hash (the development key of an
    earlier start) is accepted like any other.
    """

    def __init__(self, api_keys: Sequence[str], fingerprints: Sequence[str] = ()) -> None:
        known = [key_fingerprint(k) for k in api_keys] + [fp.lower() for fp in fingerprints]
        if not known:
            raise ValueError("at least one API key is required")
        self._fingerprints = list(dict.fromkeys(known))

    @property
    def fingerprints(self) -> list[str]:
        return list(self._fingerprints)

    def authenticate(self, authorization: str | None) -> Workspace:
        if not authorization:
            raise Unauthorized("Missing API key: send the header 'Authorization: Bearer <key>'")
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthorized("Malformed Authorization header: expected 'Bearer <key>'")
        candidate = key_fingerprint(presented.strip()).encode("ascii")
        found: str | None = None
        for fp in self._fingerprints:  # no early exit: the time taken does not depend on which key matched
            if hmac.compare_digest(candidate, fp.encode("ascii")):
                found = fp
        if found is None:
            raise Unauthorized("Invalid API key")
        return Workspace(found)
