"""The gRPC server of the native plugin: the SDK's experimental provider servicer, with what it lacks added.

``pulumi.provider.experimental.server.ProviderServicer`` serves a ``Provider`` over the engine's protocol. Three
things it does not do, which this subclass adds, each in a few lines:

* **One-line errors.** The servicer wraps every exception in a new one carrying the Python traceback, so the
  engine shows ``<message>:\\n  File ...`` for every failure. Our own errors (:class:`MistralError`, whose
  messages are written for people) are sent as the message alone, on one line (a tool-drift block keeps one line
  per tool); any other exception (a bug) keeps its traceback.
* **Autonaming.** The engine passes ``pulumi:autonaming`` (a proposed name and a mode) to a provider's Check only
  when its Configure answer says it supports that; the servicer neither says so nor passes the options on.
  Here Configure says so, and Check hands the options to the provider through :data:`AUTONAMING`. Configure
  also hands on the name of the provider being configured (:data:`PROVIDER_NAME`), which the servicer drops.
* **Serving.** ``server.main`` builds the stock servicer itself; :func:`serve` does the same with this one
  (loopback only, the port on the first line of stdout, as the engine expects).

:class:`EngineLog` sends diagnostics through the engine's Log RPC, attached to the resource being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from pulumi.provider.experimental.provider import Provider
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS  # the SDK's own message size limits
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from pulumi_mistral.errors import MistralError, ToolDriftError
from pulumi_mistral.lifecycle import Autonaming

__all__ = ["AUTONAMING", "PROVIDER_NAME", "EngineLog", "MistralServicer", "engine_address", "serve"]

# The RPCs whose failures reach people: our errors become their message alone.
_ONE_LINE_RPCS = ("CheckConfig", "Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Invoke")


_MODES: dict[int, Any] = {
    provider_pb2.CheckRequest.AutonamingOptions.PROPOSE: "propose",
    provider_pb2.CheckRequest.AutonamingOptions.ENFORCE: "enforce",
    provider_pb2.CheckRequest.AutonamingOptions.DISABLE: "disable",
}
# The options of the Check being served (None: the engine sent none, i.e. the default naming).
AUTONAMING: contextvars.ContextVar[Autonaming | None] = contextvars.ContextVar("autonaming", default=None)
# The name of the provider resource being configured ("default_0_1_0" for the default provider), when sent.
PROVIDER_NAME: contextvars.ContextVar[str] = contextvars.ContextVar("provider_name", default="")


def _our_error(exc: BaseException) -> MistralError | None:
    """The MistralError behind ``exc``: the servicer raises a new exception from inside its handler of ours."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, MistralError):
            return current
        seen.add(id(current))
        current = current.__context__
    return None


def _one_line(rpc: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def method(self: ProviderServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await rpc(self, request, context)
        except Exception as exc:
            ours = _our_error(exc)
            if ours is None:
                raise
            # One line each, but a tool-drift block keeps its own lines: one per tool, as on the dynamic door.
            keep = isinstance(ours, ToolDriftError)
            await context.abort(grpc.StatusCode.UNKNOWN, ours.message if keep else " ".join(ours.message.split()))

    method.__name__ = rpc.__name__
    return method


class MistralServicer(ProviderServicer):
    """The experimental servicer with one-line errors and the engine's autonaming options (module docstring)."""

    async def Configure(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        token = PROVIDER_NAME.set(request.name if request.HasField("name") else "")
        try:
            response = await super().Configure(request, context)
        finally:
            PROVIDER_NAME.reset(token)
        response.supports_autonaming_configuration = True
        return response

    async def Check(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        options = None
        if request.HasField("autonaming"):
            options = Autonaming(request.autonaming.proposed_name, _MODES.get(request.autonaming.mode, "propose"))
        token = AUTONAMING.set(options)
        try:
            return await super().Check(request, context)
        finally:
            AUTONAMING.reset(token)


for _name in _ONE_LINE_RPCS:
    setattr(MistralServicer, _name, _one_line(getattr(MistralServicer, _name)))


class EngineLog:
    """Diagnostics shown by the engine (``log(severity, text, urn)``), over its Log RPC; stderr without an engine.

    A provider's stderr also reaches the engine, but as lines of the stack; through the Log RPC a message is
    attached to the resource it is about and has a severity (``info``, ``warning``, ``error``).
    """

    _SEVERITIES = {"info": engine_pb2.INFO, "warning": engine_pb2.WARNING, "error": engine_pb2.ERROR}

    def __init__(self, address: str) -> None:
        self._address = address
        self._stub: Any = None

    def __call__(self, severity: str, text: str, urn: str = "") -> None:
        message = " ".join(text.split())
        if self._address:
            try:
                if self._stub is None:
                    self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
                self._stub.Log(
                    engine_pb2.LogRequest(severity=self._SEVERITIES[severity], message=message, urn=urn), timeout=10
                )
                return
            except grpc.RpcError:
                pass  # the engine went away: stderr still reaches whoever runs us
        print(f"{severity}: {message}", file=sys.stderr, flush=True)


def engine_address(args: list[str]) -> str:
    """The engine's address: the first argument that is not a flag."""
    return next((a for a in args if not a.startswith("-")), "")


def serve(provider: Provider, version: str, args: list[str] | None = None) -> None:
    """Serve ``provider`` to the engine whose address is the first argument (``sys.argv[1:]`` by default)."""
    argv = list(sys.argv[1:] if args is None else args)
    engine = engine_address(argv)

    async def run() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = MistralServicer(argv, version, provider, engine_address=engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
