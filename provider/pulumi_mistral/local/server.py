"""The ``pulumi-mistral local`` subcommand: serve the local Connectors API with uvicorn.

    pulumi-mistral local                          # 127.0.0.1:8787, ./pulumi-mistral-local.db, one dev key
    pulumi-mistral local --api-key "$KEY_A" --api-key "$KEY_B" --db /tmp/connectors.db

Without ``--api-key`` a development key is generated and printed once, at the first start on a database;
that is the only place a key is ever printed. Its SHA-256 is kept beside the database (``<db>.dev-key``,
owner-only), so a restart on the same ``--db`` accepts the same key and its connectors stay reachable;
delete that file for a new key. uvicorn handles SIGINT/SIGTERM: in-flight requests finish, then the store
closes.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import secrets
import signal
import sys
from pathlib import Path

from pulumi_mistral.cli import positive_int
from pulumi_mistral.cli.files import write_atomic
from pulumi_mistral.core.hosts import is_loopback
from pulumi_mistral.local.settings import DEFAULT_DB, DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, LocalSettings
from pulumi_mistral.local.workspaces import Workspace, key_fingerprint

API_KEY_ENV = "PULUMI_MISTRAL_LOCAL_API_KEYS"  # comma-separated; keeps keys out of the process list
DEV_KEY_SUFFIX = ".dev-key"  # beside the database: "sha256:<hex>" of the generated development key
_DEV_KEY_RE = re.compile(r"sha256:([0-9a-f]{64})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"interface to bind (default {DEFAULT_HOST}: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--db", default=DEFAULT_DB, metavar="PATH",
                        help=f"SQLite database file (default ./{DEFAULT_DB}); data survives restarts")
    parser.add_argument("--api-key", action="append", default=[], metavar="KEY",
                        help=f"accepted API key, one workspace each (repeatable; also ${API_KEY_ENV}). "
                             "Without any, a development key is generated and printed once")
    parser.add_argument("--public-url", default=None, metavar="URL",
                        help="base URL browsers use to reach this server (OAuth redirect_uri is "
                             "URL/oauth/callback); default http://HOST:PORT")
    parser.add_argument("--no-test-controls", action="store_true",
                        help="disable the /_local/ test-control routes (reset, state, request log, faults)")
    parser.add_argument("--mcp-timeout", type=float, default=30.0, help="MCP call timeout in seconds")
    parser.add_argument("--max-body-bytes", type=positive_int, default=DEFAULT_MAX_BODY_BYTES, metavar="N",
                        help=f"largest request body accepted; larger is a 413 (default {DEFAULT_MAX_BODY_BYTES})")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def dev_key_path(db: str) -> Path:
    """Where the SHA-256 of the development key of the database ``db`` is kept."""
    return Path(db + DEV_KEY_SUFFIX)


def _stored_dev_key(path: Path) -> str | None:
    try:
        match = _DEV_KEY_RE.fullmatch(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError):
        return None
    return match.group(1) if match else None


def _store_dev_key(path: Path, key: str) -> None:
    # owner-only from the first byte; a crash mid-write leaves the old file (or none), never half a digest
    write_atomic(path, f"sha256:{key_fingerprint(key)}\n", mode=0o600, encoding="ascii")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from pulumi_mistral.local.app import create_app

    keys = [k for k in args.api_key if k]
    keys += [k.strip() for k in os.environ.get(API_KEY_ENV, "").split(",") if k.strip()]
    kept_path = dev_key_path(args.db)
    kept = None if keys else _stored_dev_key(kept_path)
    generated = not keys and kept is None
    if generated:
        keys = [secrets.token_urlsafe(32)]
        _store_dev_key(kept_path, keys[0])
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = LocalSettings(db_path=args.db, api_keys=keys, api_key_fingerprints=[kept] if kept else [],
                             host=args.host, port=args.port, public_url=args.public_url,
                             enable_test_controls=not args.no_test_controls, mcp_call_timeout=args.mcp_timeout,
                             max_body_bytes=args.max_body_bytes)
    print(f"pulumi-mistral local: http://{args.host}:{args.port}  (database: {args.db})", flush=True)
    if generated:
        print(f"Development API key (shown once): {keys[0]}", flush=True)
        print(f"Its SHA-256 is kept in {kept_path}: a restart on this database accepts the same key.", flush=True)
    elif kept is not None:
        print(f"Development API key: the one printed when {args.db} was first served (only its SHA-256 is kept, "
              f"in {kept_path}). Lost it? Delete that file for a new key; connectors made with the old key then "
              "belong to another workspace.", flush=True)
    else:
        tags = ", ".join(Workspace(key_fingerprint(k)).tag for k in keys)
        print(f"Workspaces (key fingerprints): {tags}", flush=True)
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}, not loopback: anyone who can reach it and has a key "
              "can use it, over plain HTTP", file=sys.stderr, flush=True)
    app = create_app(settings)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    # uvicorn finishes in-flight requests on SIGINT/SIGTERM, runs the lifespan shutdown (closing the
    # store), then re-raises the signal to the previous handler; these handlers turn that into exit code 0.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


class _Stopped(Exception):
    """Raised by the re-delivered shutdown signal after uvicorn has shut down."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signum)
