"""Engine stand-in, gRPC side: hosts the real `python -m pulumi.dynamic` servicer and calls it like the engine does.

Two hosts run the SDK's own ``DynamicResourceProviderServicer``:

* :class:`SubprocessProviderHost` starts ``python -u -m pulumi.dynamic`` as a child process with
  ``cwd`` = the project directory (exactly like the ``pulumi-resource-pulumi-python`` shim), reads the port
  it prints and dials it. This proves that the pickled provider imports in a fresh process.
* :class:`InProcessProviderHost` loads the same servicer code into this process (without its ``main()``)
  and serves it on 127.0.0.1 over real gRPC: faster, for tests that run many steps. Its provider
  configuration does not overwrite this process's Pulumi SDK settings (the real module would).

:class:`EngineClient` encodes requests the way the engine does: property bags as protobuf Structs built by
``rpc.serialize_properties``; secrets STRIPPED from every Check/Diff/Create/Read/Update/Delete request
(``Configure`` answers ``acceptSecrets=False``, so the engine marshals with ``KeepSecrets=false``); unknowns
as ``rpc.UNKNOWN``; numbers as doubles (that is what a Struct is).

Example::

    with SubprocessProviderHost(cwd=project_dir) as host:
        engine = EngineClient(host.target)
        engine.configure({"mistral:apiKey": key, "mistral:serverUrl": url}, secret_keys={"mistral:apiKey"})
        inputs, failures = engine.check(urn, {}, news)
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib.util
import io
import os
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from pulumi.output import Unknown
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

# ``strip_secrets(value)``: every secret marker removed (what ``KeepSecrets=false`` marshalling sends).
from pulumi_mistral.core.secret_markers import strip as strip_secrets
from pulumi_mistral.testing.processes import spawn, stop_process

__all__ = [
    "DiffAnswer",
    "EngineClient",
    "InProcessProviderHost",
    "ProviderHost",
    "SubprocessProviderHost",
    "strip_secrets",
    "to_wire",
]

_T = TypeVar("_T")
RPC_TIMEOUT_S = 120.0
_EXC_HEADER = re.compile(r"^[A-Za-z_][\w.]*: ")  # "pulumi_mistral.errors.MistralError: ..." in a traceback
_TRACEBACK = "Traceback (most recent call last):"
START_TIMEOUT_S = 30.0


def _run(coro_factory: Any) -> Any:
    """Run a coroutine to completion from sync code, whether or not this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(coro_factory())
        finally:
            loop.close()
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(RPC_TIMEOUT_S)
    if thread.is_alive():  # never hand back a silent None for a call that is still running
        raise TimeoutError(f"a coroutine did not finish within {RPC_TIMEOUT_S:.0f} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def to_wire(value: Any) -> Any:
    """A program-side value as the engine holds it: ``Unknown`` becomes the ``rpc.UNKNOWN`` string."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def _struct(props: Mapping[str, Any]) -> Any:
    wire = to_wire(dict(props))
    return _run(lambda: rpc.serialize_properties(wire, {}))


def _props(struct: Any) -> dict[str, Any]:
    return to_wire(rpc.deserialize_properties(struct, keep_unknowns=True))


# ---- hosts ---------------------------------------------------------------------------------------------------


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
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "main")
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


@dataclass(frozen=True)
class DiffAnswer:
    """A DiffResponse in plain terms: ``changes`` is "none", "some" or "unknown"."""

    changes: str
    replaces: list[str]
    delete_before_replace: bool


class ProviderCallError(RuntimeError):
    """A provider RPC failed; ``details`` is what the servicer sent: our error's message alone, or a traceback
    (an error that is not a MistralError, or an error before the provider module was loaded)."""

    def __init__(self, method: str, details: str) -> None:
        if _TRACEBACK not in details:
            super().__init__(f"{method} failed: {details.strip()}")
            self.method = method
            self.details = details
            return
        lines = details.strip().splitlines()
        # The final exception's message: from its "module.Type: ..." line to the end, so a multi-line
        # message (a tool-drift report) is kept whole, as the engine shows it; else the last line.
        start = next((i for i in range(len(lines) - 1, -1, -1) if _EXC_HEADER.match(lines[i])), None)
        if start is None:
            message = next((ln for ln in reversed(lines) if ln.strip()), details).strip()
        else:
            message = "\n".join(ln.rstrip() for ln in lines[start:]).strip()
        super().__init__(f"{method} failed: {message}")
        self.method = method
        self.details = details


class EngineClient:
    """The engine's side of ``pulumirpc.ResourceProvider`` for one dynamic-provider server.

    Example::

        engine = EngineClient(host.target)
        engine.configure({"mistral:apiKey": key}, secret_keys={"mistral:apiKey"})
        ident, outs = engine.create(urn, checked_inputs)
    """

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT_S)
        except BaseException:
            self.channel.close()
            raise
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.calls: list[str] = []  # method names, in order (tests count provider calls)

    def close(self) -> None:
        self.channel.close()

    def _call(self, method: str, request: Any) -> Any:
        self.calls.append(method)
        try:
            return getattr(self.stub, method)(request, timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise ProviderCallError(method, exc.details() or str(exc)) from None

    def configure(self, config: Mapping[str, Any], *, secret_keys: Iterable[str] = ()) -> None:
        """Configure with the whole stack config, namespaces kept, secrets marked (as the engine sends it)."""
        secret = set(secret_keys)
        args = {k: (rpc.wrap_rpc_secret(v) if k in secret else v) for k, v in config.items()}
        variables = {f"pulumi-python:config:{k}": str(v) for k, v in config.items()}  # deprecated map
        request = proto.ConfigureRequest(args=_struct(args), variables=variables, acceptSecrets=True)
        self._call("Configure", request)

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        request = proto.CheckRequest(
            urn=urn, olds=_struct(strip_secrets(olds)), news=_struct(strip_secrets(news)),
            name=urn.rsplit("::", 1)[-1], type=urn.rsplit("::", 2)[-2],
        )
        resp = self._call("Check", request)
        return _props(resp.inputs), [(f.property, f.reason) for f in resp.failures]

    def diff(
        self, ident: str, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> DiffAnswer:
        request = proto.DiffRequest(
            id=ident, urn=urn, olds=_struct(strip_secrets(olds)), news=_struct(strip_secrets(news)),
            old_inputs=_struct(strip_secrets(old_inputs or {})),
        )
        resp = self._call("Diff", request)
        changes = {proto.DiffResponse.DIFF_NONE: "none", proto.DiffResponse.DIFF_SOME: "some"}.get(
            resp.changes, "unknown"
        )
        return DiffAnswer(changes, list(resp.replaces), bool(resp.deleteBeforeReplace))

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self._call("Create", proto.CreateRequest(urn=urn, properties=_struct(strip_secrets(props))))
        return resp.id, _props(resp.properties)

    def read(
        self, ident: str, urn: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        request = proto.ReadRequest(
            id=ident, urn=urn, properties=_struct(strip_secrets(props)), inputs=_struct(strip_secrets(inputs)),
        )
        resp = self._call("Read", request)
        new_inputs = _props(resp.inputs) if resp.HasField("inputs") else None
        return resp.id, _props(resp.properties), new_inputs

    def update(
        self, ident: str, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = proto.UpdateRequest(
            id=ident, urn=urn, olds=_struct(strip_secrets(olds)), news=_struct(strip_secrets(news)),
            old_inputs=_struct(strip_secrets(old_inputs or {})),
        )
        return _props(self._call("Update", request).properties)

    def delete(
        self, ident: str, urn: str, props: Mapping[str, Any], old_inputs: Mapping[str, Any] | None = None
    ) -> None:
        request = proto.DeleteRequest(
            id=ident, urn=urn, properties=_struct(strip_secrets(props)),
            old_inputs=_struct(strip_secrets(old_inputs or {})),
        )
        self._call("Delete", request)
