"""Engine stand-in, gRPC side: calls the real `python -m pulumi.dynamic` servicer like the engine does.

:class:`EngineClient` encodes requests the way the engine does: property bags as protobuf Structs built by
``rpc.serialize_properties``; secrets STRIPPED from every Check/Diff/Create/Read/Update/Delete request
(``Configure`` answers ``acceptSecrets=False``, so the engine marshals with ``KeepSecrets=false``); unknowns
as ``rpc.UNKNOWN``; numbers as doubles (that is what a Struct is). The servicer it calls runs in one of the
hosts of :mod:`pulumi_mistral.testing.provider_hosts`.

Example::

    with SubprocessProviderHost(cwd=project_dir) as host:
        engine = EngineClient(host.target)
        engine.configure({"mistral:apiKey": key, "mistral:serverUrl": url}, secret_keys={"mistral:apiKey"})
        inputs, failures = engine.check(urn, {}, news)
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from pulumi.output import Unknown
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

# ``strip_secrets(value)``: every secret marker removed (what ``KeepSecrets=false`` marshalling sends).
from pulumi_mistral.core.secret_markers import strip as strip_secrets

__all__ = [
    "DiffAnswer",
    "EngineClient",
    "strip_secrets",
    "to_wire",
]

RPC_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 30.0  # for the host's gRPC channel to be ready
_EXC_HEADER = re.compile(r"^[A-Za-z_][\w.]*: ")  # "pulumi_mistral.errors.MistralError: ..." in a traceback
_TRACEBACK = "Traceback (most recent call last):"


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
            grpc.channel_ready_future(self.channel).result(timeout=READY_TIMEOUT_S)
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
            urn=urn,
            olds=_struct(strip_secrets(olds)),
            news=_struct(strip_secrets(news)),
            name=urn.rsplit("::", 1)[-1],
            type=urn.rsplit("::", 2)[-2],
        )
        resp = self._call("Check", request)
        return _props(resp.inputs), [(f.property, f.reason) for f in resp.failures]

    def diff(
        self,
        ident: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> DiffAnswer:
        request = proto.DiffRequest(
            id=ident,
            urn=urn,
            olds=_struct(strip_secrets(olds)),
            news=_struct(strip_secrets(news)),
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
            id=ident,
            urn=urn,
            properties=_struct(strip_secrets(props)),
            inputs=_struct(strip_secrets(inputs)),
        )
        resp = self._call("Read", request)
        new_inputs = _props(resp.inputs) if resp.HasField("inputs") else None
        return resp.id, _props(resp.properties), new_inputs

    def update(
        self,
        ident: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = proto.UpdateRequest(
            id=ident,
            urn=urn,
            olds=_struct(strip_secrets(olds)),
            news=_struct(strip_secrets(news)),
            old_inputs=_struct(strip_secrets(old_inputs or {})),
        )
        return _props(self._call("Update", request).properties)

    def delete(
        self, ident: str, urn: str, props: Mapping[str, Any], old_inputs: Mapping[str, Any] | None = None
    ) -> None:
        request = proto.DeleteRequest(
            id=ident,
            urn=urn,
            properties=_struct(strip_secrets(props)),
            old_inputs=_struct(strip_secrets(old_inputs or {})),
        )
        self._call("Delete", request)
