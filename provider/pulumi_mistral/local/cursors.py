"""The signed, opaque pagination cursor of the local server (``next_cursor`` / ``cursor``).

A cursor is base64url JSON of the last (created_at, id) of a page and the caller's workspace, HMAC-SHA256
signed (truncated to 16 bytes) with a per-database secret. A garbled, tampered or foreign (other workspace or
other database) cursor is a 422 on ``query.cursor``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from pulumi_mistral.local.exceptions import Invalid
from pulumi_mistral.local.workspaces import Workspace


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Opaque, signed keyset cursors bound to one workspace and one database."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]

    def encode(self, ws: Workspace, created_at: str, connector_id: str) -> str:
        payload = json.dumps(
            {"c": created_at, "i": connector_id, "w": ws.fingerprint[:16]}, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, ws: Workspace, cursor: str) -> tuple[str, str]:
        bad = Invalid(
            ("query", "cursor"),
            "cursor is not a next_cursor issued to this API key; start again without a cursor",
            "value_error",
        )
        try:
            body, _, sig = cursor.partition(".")
            payload = _unb64(body)
            if not hmac.compare_digest(self._sign(payload), _unb64(sig)):
                raise bad
            data = json.loads(payload)
            if data.get("w") != ws.fingerprint[:16]:
                raise bad
            created_at, connector_id = data["c"], data["i"]
            if not isinstance(created_at, str) or not isinstance(connector_id, str):
                raise bad
        except (ValueError, KeyError, TypeError, AttributeError):
            raise bad from None
        return created_at, connector_id
