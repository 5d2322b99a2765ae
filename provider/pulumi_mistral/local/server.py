"""The ``pulumi-mistral local`` subcommand: serve the local Connectors API with uvicorn.

    pulumi-mistral local                          # 127.0.0.1:8787, ./pulumi-mistral-local.db, one dev key
    pulumi-mistral local --api-key "$KEY_A" --api-key "$KEY_B" --db /tmp/connectors.db

Without ``--api-key`` a development key is generated and printed once, at the first start on a database;
that is the only place a key is ever printed. Its SHA-256 is kept beside the database (``<db>.dev-key``,
owner-only), so a restart on the same ``--db`` accepts the same key and its connectors stay reachable;
delete that file for a new key.

Stopping: SIGINT (Ctrl+C) or SIGTERM exits 0 at any moment from the first line of ``run``. While serving,
in-flight requests finish (for up to 5 s), then the store closes; while importing and building the app, the
start-up is abandoned at once; during uvicorn's start-up, it completes and shuts down straight away. A second
signal ends the process at once, killed by that signal (exit status 130 or 143 in a shell), without waiting
for requests or closing the store (SQLite's WAL keeps every acknowledged write).

How: one handler (``_StopSignals``) owns both signals for the whole run, installed before the slow imports and
never swapped (uvicorn's ``capture_signals`` is turned off: it swapped its own in for the serving time and
re-raised the signal afterwards). It records the signal and tells uvicorn (``should_exit``) rather than raising
into the code it interrupts, because libraries swallow exceptions raised inside them: a KeyboardInterrupt raised
into pydantic-core while the app's validators were built was lost, and the server went on serving. It raises
only into the imports and the app's construction, to cut them short, and the flag is checked after them in case
that exception was swallowed too. A signal that arrives before ``run`` (the interpreter's start-up and this
module's imports, about a tenth of a second) gets Python's default action: SIGTERM kills, SIGINT is a
KeyboardInterrupt.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import re
import secrets
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from pulumi_mistral.cli import positive_int
from pulumi_mistral.cli.files import write_atomic
from pulumi_mistral.core.hosts import is_loopback
from pulumi_mistral.local.settings import DEFAULT_DB, DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, LocalSettings
from pulumi_mistral.local.workspaces import Workspace, key_fingerprint

API_KEY_ENV = "PULUMI_MISTRAL_LOCAL_API_KEYS"  # comma-separated; keeps keys out of the process list
DEV_KEY_SUFFIX = ".dev-key"  # beside the database: "sha256:<hex>" of the generated development key
_DEV_KEY_RE = re.compile(r"sha256:([0-9a-f]{64})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"interface to bind (default {DEFAULT_HOST}: loopback only)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--db",
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"SQLite database file (default ./{DEFAULT_DB}); data survives restarts",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help=f"accepted API key, one workspace each (repeatable; also ${API_KEY_ENV}). "
        "Without any, a development key is generated and printed once",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="base URL browsers use to reach this server (OAuth redirect_uri is "
        "URL/oauth/callback); default http://HOST:PORT",
    )
    parser.add_argument(
        "--no-test-controls",
        action="store_true",
        help="disable the /_local/ test-control routes (reset, state, request log, faults)",
    )
    parser.add_argument("--mcp-timeout", type=float, default=30.0, help="MCP call timeout in seconds")
    parser.add_argument(
        "--max-body-bytes",
        type=positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help=f"largest request body accepted; larger is a 413 (default {DEFAULT_MAX_BODY_BYTES})",
    )
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
    stop = _StopSignals()  # first: a signal during the slow imports below must already be ours
    try:
        return _run(args, stop)
    except _Interrupted:
        return 0
    finally:
        stop.close()


def _announce(args: argparse.Namespace, keys: list[str], kept: str | None, *, generated: bool) -> None:
    """Where it listens, and its workspaces: a generated key shown once, a kept one never, else fingerprints."""
    kept_path = dev_key_path(args.db)
    print(f"pulumi-mistral local: http://{args.host}:{args.port}  (database: {args.db})", flush=True)
    if generated:
        print(f"Development API key (shown once): {keys[0]}", flush=True)
        print(
            f"Its SHA-256 is kept in {kept_path}: a restart on this database accepts the same key.",
            flush=True,
        )
    elif kept is not None:
        print(
            f"Development API key: the one printed when {args.db} was first served (only its SHA-256 is kept, "
            f"in {kept_path}). Lost it? Delete that file for a new key; connectors made with the old key then "
            "belong to another workspace.",
            flush=True,
        )
    else:
        tags = ", ".join(Workspace(key_fingerprint(k)).tag for k in keys)
        print(f"Workspaces (key fingerprints): {tags}", flush=True)
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}, not loopback: anyone who can reach it and has a key "
            "can use it, over plain HTTP",
            file=sys.stderr,
            flush=True,
        )


def _missing_extra(exc: ImportError) -> str:
    """The one line when the 'local' extra is not installed: the missing module, and how to install the extra."""
    missing = exc.name or str(exc)
    return (
        f"pulumi-mistral local: cannot import {missing}. Install the package with its 'local' extra, e.g. "
        f"pip install 'dist/pulumi_mistral_connectors-<version>.whl[local]' (docs/installation-configuration.md)\n"
    )


def _run(args: argparse.Namespace, stop: _StopSignals) -> int:
    try:
        with stop.abortable():  # the slow part (about half a second): a signal abandons it at once
            import uvicorn

            from pulumi_mistral.local.app import create_app
    except ImportError as exc:  # the 'local' extra is not installed
        sys.stderr.write(_missing_extra(exc))
        return 1
    if stop.signum is not None:  # the exception was swallowed on its way up: the flag was not
        return 0

    keys = [k for k in args.api_key if k]
    keys += [k.strip() for k in os.environ.get(API_KEY_ENV, "").split(",") if k.strip()]
    kept_path = dev_key_path(args.db)
    kept = None if keys else _stored_dev_key(kept_path)
    generated = not keys and kept is None
    if generated:
        keys = [secrets.token_urlsafe(32)]
        _store_dev_key(kept_path, keys[0])
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = LocalSettings(
        db_path=args.db,
        api_keys=keys,
        api_key_fingerprints=[kept] if kept else [],
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        enable_test_controls=not args.no_test_controls,
        mcp_call_timeout=args.mcp_timeout,
        max_body_bytes=args.max_body_bytes,
    )
    _announce(args, keys, kept, generated=generated)
    with stop.abortable():  # building the app opens nothing (the store opens in the lifespan)
        app = create_app(settings)
        config = uvicorn.Config(
            app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=5
        )
        server = _uvicorn_server(config)
    stop.attach(server)
    if stop.signum is not None:
        return 0
    server.run()  # a signal from here on sets server.should_exit: uvicorn shuts down gracefully
    return 0 if stop.signum is not None or server.started else 1


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Interrupted(BaseException):
    """Raised by the first signal into the imports and the app construction only (BaseException: the
    ``except Exception`` of a library does not take it for its own error)."""


class _StopSignals:
    """The SIGINT/SIGTERM handler of one ``run``, installed once, never swapped while the process lives.

    The first signal is recorded (``signum``), tells the server to shut down if there is one, and puts back the
    default action of both signals, so that a second one ends the process whatever it is doing; the handler
    only raises inside ``abortable()``. Nothing is printed from the handler.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._server: Any = None  # a uvicorn.Server, once there is one
        self._abort = False
        self._previous: dict[int, Any] = {}
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # a second signal before the defaults were back: end now
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.signum = signum
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        if self._server is not None:
            self._server.should_exit = True
        if self._abort:
            raise _Interrupted(signum)

    @contextlib.contextmanager
    def abortable(self) -> Iterator[None]:
        """A signal inside the block raises _Interrupted there (so the block must have no side effects); an
        error a library raises after a signal came is taken for a consequence of the interruption."""
        if self.signum is not None:
            raise _Interrupted(self.signum)
        previous_hook = sys.unraisablehook
        sys.unraisablehook = functools.partial(_quiet_when_interrupted, previous_hook)
        self._abort = True
        try:
            yield
        except Exception:
            if self.signum is None:
                raise
            raise _Interrupted(self.signum) from None
        finally:
            self._abort = False
            sys.unraisablehook = previous_hook

    def attach(self, server: Any) -> None:
        """From now on a signal asks ``server`` to shut down (at once, if one came already)."""
        self._server = server
        if self.signum is not None:
            server.should_exit = True

    def close(self) -> None:
        """Put back the handlers found at start, unless a signal came (then the defaults stay: a second signal
        while the process exits ends it at once)."""
        self._server = None
        if self.signum is None:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)


def _quiet_when_interrupted(hook: Callable[[Any], object], unraisable: Any) -> None:
    """The unraisable hook inside ``abortable()``: the _Interrupted a finalizer or a weakref callback swallowed
    (importlib has one per module lock) says nothing the flag does not already hold; the rest is reported."""
    if not isinstance(unraisable.exc_value, _Interrupted):
        hook(unraisable)


def _uvicorn_server(config: Any) -> Any:
    """A uvicorn.Server that leaves the signal handlers alone (uvicorn's ``capture_signals`` would swap its own
    in for the serving time and re-raise the signal to ours afterwards: two swaps, and windows between them)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server(config)
