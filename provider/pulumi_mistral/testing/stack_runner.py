"""StackRunner: runs a Pulumi program's dynamic resources through the real provider, the way the engine does.

A TEST TOOL, not a deployment engine, and its state file holds secrets in plain text. What it models, what it
does not, and how it differs from the real engine (measured): docs/engine.md, "The stand-in measured against the
engine". How to use it: docs/testing.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import runpy
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pulumi_mistral.testing.engine import EngineClient, to_wire
from pulumi_mistral.testing.projects import project_name
from pulumi_mistral.testing.provider_hosts import InProcessProviderHost, ProviderHost, SubprocessProviderHost
from pulumi_mistral.testing.stack_state import (
    PreviewResult,
    RefreshResult,
    StackRunError,
    StackState,
    Step,
    UpResult,
    annotate,
    changed_properties,
    secret_keys,
)

__all__ = ["PreviewResult", "RefreshResult", "StackRunError", "StackRunner", "Step", "UpResult"]

DEFAULT_SECRET_KEYS: tuple[str, ...] = ("mistral:apiKey",)
# The prefixes pulumi.log uses on stderr when a provider has no engine connection (the engine shows these lines).
DIAGNOSTIC_PREFIXES: tuple[str, ...] = ("debug: ", "info: ", "warning: ", "error: ")
PROGRAM_TIMEOUT_S = 300.0


class _Run:
    """One program run (up or preview): registrations from the mocks become engine steps."""

    def __init__(self, runner: StackRunner, engine: EngineClient, state: StackState, preview: bool) -> None:
        self.runner = runner
        self.engine = engine
        self.state = state
        self.preview = preview
        self.steps: list[Step] = []
        self.registered: list[str] = []
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()

    def urn(self, typ: str, name: str) -> str:
        return f"urn:pulumi:{self.runner.stack}::{self.runner.project}::{typ}::{name}"

    def _check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        inputs, failures = self.engine.check(urn, olds, news)
        if failures:
            # Like the engine's diagnostics, minus the value (it may be a secret).
            lines = [
                f"  property {prop} has a problem: {reason}" if prop else f"  has a problem: {reason}"
                for prop, reason in failures
            ]
            typ, name = urn.rsplit("::", 2)[-2:]
            raise StackRunError(f"{typ} resource '{name}' has check errors:\n" + "\n".join(lines))
        return inputs

    def register(self, typ: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        # One step at a time (the real engine runs up to 4 provider calls at once; not modelled).
        with self.lock:
            try:
                return self._register(typ, name, inputs)
            except BaseException as exc:
                self.errors.append(exc)
                raise

    def _register(self, typ: str, name: str, raw_inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        urn = self.urn(typ, name)
        self.registered.append(urn)
        news = to_wire(dict(raw_inputs))
        secret = secret_keys(news)
        old = self.state.resources.get(urn)
        olds_in = old["inputs"] if old else {}
        checked = self._check(urn, olds_in, news)
        if old is None:
            self.steps.append(Step("create", urn))
            if self.preview:
                return "", annotate(checked, secret)
            ident, outs = self.engine.create(urn, checked)
            return self._record(urn, typ, ident, annotate(checked, secret), outs, secret)
        answer = self.engine.diff(old["id"], urn, old["outputs"], checked, old["inputs"])
        changed = changed_properties(old["inputs"], checked)
        kind = answer.changes
        if kind == "unknown":  # the engine's fallback: old inputs vs new inputs, __provider included
            changed = changed_properties(old["inputs"], checked, ignore=())
            kind = "some" if changed else "none"
        if kind == "none":
            self.steps.append(Step("same", urn))
            if not self.preview:
                old["inputs"] = annotate(checked, secret)
                self.state.save()
            return old["id"], old["outputs"]
        if answer.replaces:
            order = "delete-before-replace" if answer.delete_before_replace else "create-before-delete"
            self.steps.append(Step("replace", urn, (order, *answer.replaces)))
            if self.preview:
                return old["id"], annotate(checked, secret)
            fresh = self._check(urn, {}, news)  # the replacement is checked without olds
            if answer.delete_before_replace:
                self.engine.delete(old["id"], urn, old["outputs"], old["inputs"])
                del self.state.resources[urn]
                self.state.save()
                ident, outs = self.engine.create(urn, fresh)
            else:
                ident, outs = self.engine.create(urn, fresh)
                # Record the new resource before deleting the old one, and the old one as a pending delete
                # until it is gone: a failed delete then never orphans either half (the engine does the same).
                self.state.pending_deletes.append({**old, "urn": urn})
                result = self._record(urn, typ, ident, annotate(fresh, secret), outs, secret)
                self.engine.delete(old["id"], urn, old["outputs"], old["inputs"])
                self.state.pending_deletes.pop()
                self.state.save()
                return result
            return self._record(urn, typ, ident, annotate(fresh, secret), outs, secret)
        self.steps.append(Step("update", urn, tuple(changed)))
        if self.preview:
            return old["id"], {**old["outputs"], **annotate(checked, secret)}
        outs = self.engine.update(old["id"], urn, old["outputs"], checked, old["inputs"])
        return self._record(urn, typ, old["id"], annotate(checked, secret), outs, secret)

    def _record(
        self, urn: str, typ: str, ident: str, inputs: dict[str, Any], outs: dict[str, Any], secret: set[str]
    ) -> tuple[str, dict[str, Any]]:
        outs = annotate(outs, secret)
        self.state.resources.pop(urn, None)  # re-insert: keeps creation order for deletes
        self.state.resources[urn] = {"type": typ, "id": ident, "inputs": inputs, "outputs": outs}
        self.state.save()
        return ident, outs


class _LoopThreads(ThreadPoolExecutor):
    """The run loop's executor: the SDK's mocks open an event loop in each worker thread and never close it
    (a ResourceWarning per thread); this one opens them itself and closes them after the run."""

    def __init__(self) -> None:
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()
        super().__init__(thread_name_prefix="stack-runner-rpc", initializer=self._open_loop)

    def _open_loop(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with self._loops_lock:
            self._loops.append(loop)

    def close_loops(self) -> None:
        self.shutdown(wait=True)
        with self._loops_lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            loop.close()


def _make_mocks(run: _Run) -> Any:
    import pulumi

    class ForwardingMocks(pulumi.runtime.Mocks):
        """Dynamic resources go to the real provider; anything else gets a mock id and echoes its inputs."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
            if args.typ.startswith("pulumi-python:dynamic"):
                return run.register(args.typ, args.name, args.inputs)
            return args.resource_id or f"{args.name}_id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[Any] | None]:
            return {}, None

    return ForwardingMocks()


class StackRunner:
    """Runs a Pulumi program's dynamic resources through the real dynamic-provider gRPC server (a test tool).

    ``program`` is a project directory (with ``Pulumi.yaml`` and ``__main__.py``) or a function that declares
    resources. ``config`` is the stack config with namespaces (``{"mistral:apiKey": ..., "app:x": ...}``;
    keys without a namespace get the project's); ``secret_keys`` says which values are secret. What is and is not
    modelled: docs/engine.md, "The stand-in measured against the engine".

    Example::

        with StackRunner(my_program, project="demo", config=config, in_process=True) as stack:
            assert [s.op for s in stack.up().steps] == ["create"]
            assert [s.op for s in stack.up().steps] == ["same"]
            stack.destroy()
    """

    def __init__(
        self,
        program: str | os.PathLike[str] | Callable[[], Any],
        *,
        stack: str = "dev",
        project: str | None = None,
        config: Mapping[str, Any] | None = None,
        secret_keys: Iterable[str] = DEFAULT_SECRET_KEYS,
        state_path: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        in_process: bool = False,
    ) -> None:
        self.program = program
        self.project_dir: Path | None = None
        if not callable(program):
            self.project_dir = Path(program).resolve()
            project = project or project_name(self.project_dir)
        self.project = project or "project"
        self.stack = stack
        self.config = {self._qualify(k): v for k, v in (config or {}).items()}
        self.secret_keys = {self._qualify(k) for k in secret_keys}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="stack-runner-")
            state_path = Path(self._tmp.name) / f"{self.project}.{stack}.json"
        self.state_path = Path(state_path)
        self.env = dict(env or {})
        self.in_process = in_process
        self.host: ProviderHost | None = None
        self.engine: EngineClient | None = None
        self.provider_calls: list[str] = []  # every provider RPC of every run, in order
        # The provider's diagnostic lines (stderr "warning: ..." etc.) of the last operation, also when it failed.
        self.diagnostics: list[str] = []

    # -- setup ---------------------------------------------------------------------------------------------------

    def _qualify(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def _start_engine(self) -> EngineClient:
        """A fresh provider server for each operation, as each `pulumi up` starts its own plugin process."""
        self._stop_engine()
        if self.in_process:
            self.host = InProcessProviderHost()
        else:
            env = {"PULUMI_PROJECT": self.project, "PULUMI_STACK": self.stack, **self.env}
            cwd = self.project_dir or Path.cwd()
            self.host = SubprocessProviderHost(cwd=cwd, env=env)
        self.engine = EngineClient(self.host.target)
        self.engine.configure(self.config, secret_keys=self.secret_keys)
        return self.engine

    def _stop_engine(self) -> None:
        if self.host is not None:
            self.diagnostics = [ln for ln in self.host.logs().splitlines() if ln.startswith(DIAGNOSTIC_PREFIXES)]
        if self.engine is not None:
            self.provider_calls.extend(self.engine.calls)
            self.engine.close()
            self.engine = None
        if self.host is not None:
            self.host.close()
            self.host = None

    def provider_logs(self) -> str:
        """What the current provider process printed (empty for the in-process host)."""
        return self.host.logs() if self.host is not None else ""

    def close(self) -> None:
        """Stop the provider server (no process is left behind) and remove the temporary state directory."""
        self._stop_engine()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> StackRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running the program -----------------------------------------------------------------------------------

    def _execute(self, run: _Run) -> tuple[dict[str, Any], set[str]]:
        """Run the program under set_mocks in a fresh thread (fresh context: root stack, config)."""
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = self._execute_in_thread(run)
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, name="stack-runner-program", daemon=True)
        thread.start()
        thread.join(PROGRAM_TIMEOUT_S)
        if thread.is_alive():
            raise StackRunError(f"the program did not finish within {PROGRAM_TIMEOUT_S:.0f} s")
        if run.errors:
            err = run.errors[0]
            if isinstance(err, StackRunError):
                raise StackRunError(str(err)) from None
            raise StackRunError(f"{type(err).__name__}: {err}") from err
        if "error" in box:
            raise StackRunError(f"the program failed: {box['error']}") from box["error"]
        return box["result"]

    def _execute_in_thread(self, run: _Run) -> tuple[dict[str, Any], set[str]]:
        import pulumi
        from pulumi.runtime import config as runtime_config
        from pulumi.runtime.settings import SETTINGS
        from pulumi.runtime.stack import wait_for_rpcs

        loop = asyncio.new_event_loop()
        # A failed resource leaves dependent outputs failed and never awaited; the error is reported once,
        # by the run, not again by asyncio's "exception was never retrieved" at garbage collection.
        loop.set_exception_handler(lambda _loop, _context: None)
        executor = _LoopThreads()
        loop.set_default_executor(executor)
        asyncio.set_event_loop(loop)
        try:
            runtime_config.set_all_config(
                {k: str(v) for k, v in self.config.items()}, secret_keys=sorted(self.secret_keys)
            )
            pulumi.runtime.set_mocks(_make_mocks(run), project=self.project, stack=self.stack, preview=run.preview)
            # set_mocks makes a new RPC manager but keeps the set of tracked outputs, whose value a fresh thread
            # inherits from the first run: after a failed run it holds tasks of that run's closed loop, and the
            # next run's wait_for_rpcs failed on them with "Event loop is closed". Each run gets its own set.
            SETTINGS.outputs = set()
            self._call_program()
            loop.run_until_complete(wait_for_rpcs())
            return loop.run_until_complete(self._stack_outputs())
        finally:
            self._close_loop(loop)
            executor.close_loops()
            SETTINGS.outputs = set()  # no reference to this run's tasks outlives it

    @staticmethod
    def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
        """Close the run's loop the way ``asyncio.run`` does, so a failed run leaves nothing for the next one.

        A program that raises (or whose check fails) leaves registrations and outputs in flight. Closing the
        loop under them made the next run fail with "Event loop is closed" and left "coroutine was never
        awaited" warnings: cancel them and let them finish, and wait for the executor threads that still run
        a registration, before the loop goes.
        """
        try:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
            asyncio.set_event_loop(None)

    def _call_program(self) -> None:
        if callable(self.program):
            self.program()
            return
        assert self.project_dir is not None
        old_cwd, old_path = os.getcwd(), list(sys.path)
        os.chdir(self.project_dir)
        sys.path.insert(0, str(self.project_dir))
        try:
            runpy.run_path(str(self.project_dir / "__main__.py"), run_name="__main__")
        finally:
            os.chdir(old_cwd)
            sys.path[:] = old_path

    @staticmethod
    async def _stack_outputs() -> tuple[dict[str, Any], set[str]]:
        import pulumi
        from pulumi.runtime.settings import get_root_resource

        root = get_root_resource()
        outputs: dict[str, Any] = {}
        secret: set[str] = set()
        for key, value in (getattr(root, "outputs", None) or {}).items():
            out = pulumi.Output.from_input(value)
            outputs[key] = await out.future()
            if await out.is_secret():
                secret.add(key)
        return outputs, secret

    # -- operations --------------------------------------------------------------------------------------------

    def up(self) -> UpResult:
        """Deploy: run the program, apply its steps, delete resources it no longer declares."""
        state = StackState(self.state_path)
        engine = self._start_engine()
        try:
            run = _Run(self, engine, state, preview=False)
            state.delete_pending(engine, run.steps)
            outputs, secret = self._execute(run)
            for urn in reversed(list(state.resources)):
                if urn not in run.registered:  # no longer in the program: deleted
                    state.delete(engine, urn, run.steps)
            result = UpResult(outputs, run.steps, secret)
        finally:
            self._stop_engine()
        result.diagnostics = list(self.diagnostics)
        return result

    def preview(self, *, refresh: bool = False, expect_no_changes: bool = False) -> PreviewResult:
        """Plan without changing anything: Check and Diff only (and Read first with ``refresh=True``)."""
        state = StackState(self.state_path)
        state.save = lambda: None  # type: ignore[method-assign]  # a preview never writes the state
        engine = self._start_engine()
        try:
            steps: list[Step] = []
            if refresh:
                steps.extend(self._refresh(engine, state).steps)
                steps = [s for s in steps if s.op != "read"]
            run = _Run(self, engine, state, preview=True)
            self._execute(run)
            steps.extend(run.steps)
            steps.extend(Step("delete", urn) for urn in reversed(list(state.resources)) if urn not in run.registered)
            result = PreviewResult(steps)
        finally:
            self._stop_engine()
        result.diagnostics = list(self.diagnostics)
        if expect_no_changes and result.changes:
            planned = ", ".join(f"{s.op} {s.name}" for s in result.steps if s.op != "same")
            raise StackRunError(f"no changes were expected, but the preview plans: {planned}")
        return result

    def refresh(self) -> RefreshResult:
        """Read every resource: record the live state, report drift per property, drop the gone ones."""
        state = StackState(self.state_path)
        engine = self._start_engine()
        try:
            result = self._refresh(engine, state)
        finally:
            self._stop_engine()
        result.diagnostics = list(self.diagnostics)
        return result

    def _refresh(self, engine: EngineClient, state: StackState) -> RefreshResult:
        drift: dict[str, list[str]] = {}
        gone: list[str] = []
        steps: list[Step] = []
        for urn in list(state.resources):
            res = state.resources[urn]
            ident, outs, inputs = engine.read(res["id"], urn, res["outputs"], res["inputs"])
            if not ident:
                gone.append(urn)
                steps.append(Step("refresh-delete", urn))
                del state.resources[urn]
                state.save()
                continue
            # The refresh diff: Diff with the roles swapped (live outputs as olds, recorded inputs as news).
            answer = engine.diff(ident, urn, outs, res["inputs"], res["inputs"])
            if answer.changes == "some":
                new_inputs = inputs if inputs is not None else outs
                changed = changed_properties(res["inputs"], new_inputs)
                names = (
                    [k for k in changed if k in res["inputs"]] or changed or changed_properties(res["outputs"], outs)
                )
                drift[urn] = names or ["(unknown)"]
                steps.append(Step("read", urn, tuple(drift[urn])))
            else:
                steps.append(Step("read", urn))
            secret = secret_keys(res["outputs"]) | secret_keys(res["inputs"])
            res["outputs"] = annotate(outs, secret)
            if inputs is not None:
                res["inputs"] = annotate(inputs, secret)
            res["id"] = ident
            state.save()
        return RefreshResult(drift, gone, steps)

    def destroy(self) -> list[Step]:
        """Delete every resource of the stack (newest first) and empty the state."""
        state = StackState(self.state_path)
        if not state.resources and not state.pending_deletes:
            return []
        engine = self._start_engine()
        steps: list[Step] = []
        try:
            state.delete_pending(engine, steps)
            for urn in reversed(list(state.resources)):
                state.delete(engine, urn, steps)
            return steps
        finally:
            self._stop_engine()

    def state(self) -> dict[str, dict[str, Any]]:
        """A copy of the recorded resources (urn -> type, id, inputs, outputs); secrets as wire markers."""
        return copy.deepcopy(StackState(self.state_path).resources)
