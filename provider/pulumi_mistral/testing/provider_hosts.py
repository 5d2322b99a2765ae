"""Hosts of the real dynamic-provider servicer (``python -m pulumi.dynamic``), for the engine stand-in to call.

Two hosts run the SDK's own ``DynamicResourceProviderServicer``:

* :class:`SubprocessProviderHost` starts ``python -u -m pulumi.dynamic`` as a child process with
  ``cwd`` = the project directory (exactly like the ``pulumi-resource-pulumi-python`` shim), reads the port
  it prints and dials it. This proves that the pickled provider imports in a fresh process.
* :class:`InProcessProviderHost` loads the same servicer code into this process (without its ``main()``)
  and serves it on 127.0.0.1 over real gRPC: faster, for tests that run many steps. Its provider
  configuration does not overwrite this process's Pulumi SDK settings (the real module would).

:class:`pulumi_mistral.testing.engine.EngineClient` calls either through its ``target``.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent import futures
from pathlib import Path
from typing import Any, TypeVar

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

from pulumi_mistral.testing.processes import spawn, stop_process

__all__ = ["InProcessProviderHost", "ProviderHost", "SubprocessProviderHost"]

_T = TypeVar("_T")
START_TIMEOUT_S = 30.0


class ProviderHost:
    """A running dynamic-provider gRPC server; ``target`` is ``127.0.0.1:<port>``."""

    target: str

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def logs(self) -> str:
        """Everything the provider process printed (stdout after the port line, and stderr)."""
        return ""

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SubprocessProviderHost(ProviderHost):
    """``python -u -m pulumi.dynamic`` as a child process, as the engine's plugin shim starts it.

    Example::

        with SubprocessProviderHost(cwd="examples/quickstart", env={"PULUMI_PROJECT": "quickstart"}) as host:
            print(host.target)
    """

    def __init__(
        self,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        python: str | None = None,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        full_env = dict(os.environ)
        full_env.setdefault("PULUMI_CONFIG", "{}")
        full_env.update(env or {})
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._out: list[bytes] = []
        # The engine passes its own address as argv[1]; the servicer ignores it.
        self.proc = spawn(  # a process group of its own: close() ends it and anything it started
            [python or sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:0"],
            cwd=str(cwd) if cwd is not None else None,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            port = self._read_port(start_timeout)
        except BaseException:
            self.close()
            raise
        self.target = f"127.0.0.1:{port}"
        # Drain stdout: a provider that prints must never block on a full pipe.
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()

    def _read_port(self, timeout: float) -> int:
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"the dynamic provider did not print its port: {self.logs()[-2000:]}")
                if sel.select(timeout=min(left, 0.5)):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        continue
                    buf += chunk
        finally:
            sel.close()
        line, _, rest = buf.partition(b"\n")
        if rest:
            self._out.append(rest)
        return int(line.strip())

    def _drain_stdout(self) -> None:
        stream = self.proc.stdout
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: os.read(stream.fileno(), 4096), b""):
                self._out.append(chunk)

    def logs(self) -> str:
        self._stderr.seek(0)
        err = self._stderr.read()
        return (b"".join(self._out) + err).decode("utf-8", "replace")

    def close(self) -> None:
        try:
            stop_process(self.proc, timeout=5)  # SIGTERM, then SIGKILL; its group too
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._stderr.close()


def load_servicer_module() -> dict[str, Any]:
    """The SDK's ``pulumi/dynamic/__main__.py`` executed without its final ``main()`` call (fresh caches)."""
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")
    if spec is None or spec.origin is None:  # pragma: no cover
        raise RuntimeError("pulumi.dynamic.__main__ not found")
    source = Path(spec.origin).read_text()
    tree = ast.parse(source)
    tree.body = [
        node
        for node in tree.body
        if not (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "main"
        )
    ]
    namespace: dict[str, Any] = {"__name__": "pulumi_dynamic_servicer_in_process", "__file__": spec.origin}
    exec(compile(tree, spec.origin, "exec"), namespace)  # noqa: S102 - the SDK's own servicer source
    # get_provider() calls pulumi.runtime.configure(Settings(...)) on every request; in a separate process
    # that is harmless, here it would clobber the settings of a program running under set_mocks.
    namespace["configure"] = lambda _settings: None
    # In a provider process, importing pulumi_mistral.provider makes the servicer send our errors as their
    # one-line message; here that module is already imported, so the same change is made to this copy.
    from pulumi_mistral.provider import servicer

    servicer.install(namespace)
    return namespace


class _StderrTee(io.TextIOBase):
    """``sys.stderr`` while an in-process host runs: writes go through and are also kept, because a provider
    reports warnings on its stderr (the engine shows a plugin's stderr as diagnostics)."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target
        self._lock = threading.Lock()
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        self.target.write(text)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


class InProcessProviderHost(ProviderHost):
    """The SDK's dynamic-provider servicer served from this process on 127.0.0.1 (real gRPC, no subprocess).

    What is written to ``sys.stderr`` while it runs is kept for :meth:`logs` (from any thread: filter it).

    Example::

        with InProcessProviderHost() as host:
            engine = EngineClient(host.target)
    """

    def __init__(self) -> None:
        # Each operation gets a fresh provider process from the engine: forget what an earlier in-process
        # operation's provider cached (settings, listings, tool lists), or it would leak into this one.
        from pulumi_mistral.provider import reset_process_state

        reset_process_state()
        self._tee = _StderrTee(sys.stderr)
        sys.stderr = self._tee
        try:
            module = load_servicer_module()
            self.servicer = module["DynamicResourceProviderServicer"]()
            self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))  # the engine's concurrency
            provider_pb2_grpc.add_ResourceProviderServicer_to_server(self.servicer, self.server)
            port = self.server.add_insecure_port("127.0.0.1:0")
            self.server.start()
        except BaseException:  # no host to close(): give sys.stderr back now, or it stays teed for good
            sys.stderr = self._tee.target
            raise
        self.target = f"127.0.0.1:{port}"

    def logs(self) -> str:
        return self._tee.text()

    def close(self) -> None:
        self.server.stop(grace=None).wait(5)
        if sys.stderr is self._tee:
            sys.stderr = self._tee.target


# ---- the engine's calls --------------------------------------------------------------------------------------
