"""Fault-injection lifecycles: a seeded program of connectors, driven through the stack runner under faults,
with the convergence invariants checked against the local server after every phase.

Shared by the reliability tests (short variants always on, long ones behind ``slow``) and by
``bench/reliability.py`` (which prints the docs/reliability.md table from the same functions).

Everything is real: the local server on loopback, the SDK's gRPC dynamic-provider servicer, the provider and
its HTTP client. Faults come from the server's own fault rules and are counted from its request log, both
through the server's test controls (``LocalServer.controls()``).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from pulumi.runtime import rpc

from pulumi_mistral.core import diff, spec
from pulumi_mistral.testing.controls import Controls
from pulumi_mistral.testing.engine import ProviderCallError
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunError, StackRunner

MCP_URL = "https://mcp.example.com/mcp"
MAX_UP_RUNS = 5  # the bound on re-running `up` (or destroy/refresh) until it converges
PROVIDER_OPS = ("Create", "Read", "Update", "Delete")


# ---- fault profiles ------------------------------------------------------------------------------------------


def standard_faults(
    seed: int,
    *,
    p503: float = 0.30,
    pdrop: float = 0.10,
    p429: float = 0.05,
    burst: int = 3,
    ambiguous: float = 0.15,
    retry_after: float = 0.2,
) -> list[dict[str, Any]]:
    """The issue's profile: ~30% of API requests fail with 503, ~10% of connections drop, 429 bursts with
    Retry-After, and some creates commit on the server while their answer is lost (the ambiguous create).

    Rules are evaluated in order and the first terminal one wins, so each later probability is scaled by
    what the earlier rules left: the overall rates are then the nominal ones.
    """
    api = r"^/v1/"
    rules: list[dict[str, Any]] = []
    if burst:  # a burst: the first requests after the rules are set all get 429 with Retry-After
        rules.append(
            {
                "method": "*",
                "path": api,
                "probability": 1.0,
                "times": burst,
                "seed": seed,
                "action": "status",
                "status": 429,
                "retry_after": retry_after,
            }
        )
    left = 1.0
    if ambiguous:
        rules.append(
            {
                "method": "POST",
                "path": r"^/v1/connectors$",
                "probability": ambiguous,
                "seed": seed + 1,
                "action": "drop_after_commit",
            }
        )
    for prob, rule in (
        (pdrop, {"action": "drop"}),
        (p503, {"action": "status", "status": 503}),
        (p429, {"action": "status", "status": 429, "retry_after": retry_after}),
    ):
        if prob <= 0:
            continue
        scaled = min(1.0, prob / left)
        rules.append(
            {"method": "*", "path": api, "probability": round(scaled, 6), "seed": seed + len(rules) + 1, **rule}
        )
        left -= prob
    return rules


def is_injected(entry: dict[str, Any]) -> bool:
    """A request that got an injected failure (latency alone is not a failure)."""
    return fault_kind(entry) is not None


def fault_kind(entry: dict[str, Any]) -> str | None:
    """ "503", "429", "drop", "drop_after_commit" (the ambiguous create) or None for a clean request."""
    fault = entry.get("fault") or ""
    if "drop_after_commit" in fault:
        return "drop_after_commit"
    if "drop" in fault:
        return "drop"
    if "status" in fault:
        return str(entry.get("status"))
    return None


# ---- the declared program ------------------------------------------------------------------------------------


def make_program(declared: dict[str, dict[str, Any]]) -> Callable[[], None]:
    """A Pulumi program declaring one Connector per entry of ``declared`` (mutated between runs)."""

    def program() -> None:
        import pulumi

        from pulumi_mistral import Connector

        for res_name, kwargs in list(declared.items()):
            c = Connector(res_name, **kwargs)
            pulumi.export(f"{res_name}_id", c.connector_id)

    return program


def connector_args(rng: random.Random, index: int, run_tag: str, *, secret: str = "s3cr3t") -> dict[str, Any]:
    """Seeded, varied connector inputs: explicit or auto names, secrets, config maps, OAuth client data."""
    args: dict[str, Any] = {"description": f"connector {index}", "server": f"{MCP_URL}/{index}"}
    if rng.random() < 0.7:
        args["name"] = f"{run_tag}-c{index}"
    if rng.random() < 0.5:
        args["headers"] = {"X-Api-Key": f"{secret}-h{index}"}
    if rng.random() < 0.4:
        args["connection_config"] = {"region": rng.choice(["eu", "us"]), "limit": rng.randint(1, 9)}
    if rng.random() < 0.3:
        args["connection_secrets"] = {"token": f"{secret}-t{index}"}
    if rng.random() < 0.3:
        args["auth_data"] = {"client_id": f"client-{index}", "client_secret": f"{secret}-a{index}"}
    if rng.random() < 0.3:
        args["system_prompt"] = f"Be brief ({index})."
    if rng.random() < 0.3:
        args["visibility"] = "private"
    return args


# ---- invariants ----------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _plain(value["value"])
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class Invariants:
    """What the server holds compared with the declaration and the stack's state (all zero when converged)."""

    duplicates: int = 0  # extra connectors for one declared resource
    orphans: int = 0  # connectors on the server that the state does not know
    missing: int = 0  # declared resources with no connector in state or on the server
    lost_writes: int = 0  # declared property values that the server does not hold
    state_mismatches: int = 0  # state properties (id, values) that differ from the server
    problems: list[str] = field(default_factory=list)
    # How many checks of each kind were made, counting only checks that could fail: one per declared resource
    # (missing, duplicates), per declared property compared (lost_writes), per connector on the server
    # (orphans), per resource in the state (state_mismatches).
    checks: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.orphans or self.missing or self.lost_writes or self.state_mismatches)


def check_invariants(controls: Controls, stack: StackRunner, declared: dict[str, dict[str, Any]]) -> Invariants:
    """Compare the server (``/_local/state``, secrets included) with the declaration and the stack's state."""
    inv = Invariants()
    live = controls.connectors()
    by_id = {c["id"]: c for c in live}
    state = {urn.rsplit("::", 1)[-1]: res for urn, res in stack.state().items()}
    claimed: set[str] = set()
    for res_name, args in declared.items():
        inv.checks.update(("missing", "duplicates"))
        owners = (
            [c for c in live if c["name"] == args["name"]]
            if "name" in args
            else [c for c in live if spec.is_auto_name(c["name"], res_name)]
        )
        if len(owners) > 1:
            inv.duplicates += len(owners) - 1
            inv.problems.append(f"{res_name}: {len(owners)} connectors on the server")
        res = state.get(res_name)
        if res is None or res["id"] not in by_id:
            inv.missing += 1
            inv.problems.append(f"{res_name}: not in state" if res is None else f"{res_name}: state id not on server")
            continue
        connector = by_id[res["id"]]
        claimed.add(res["id"])
        wanted = spec.normalize_inputs({**args, "name": connector["name"] if "name" not in args else args["name"]})
        actual = diff.live_state(connector, None)
        # every input field is compared, but an unset visibility is not managed (changed_fields skips it)
        inv.checks["lost_writes"] += sum(
            1 for f in spec.INPUT_FIELDS if not (f == "visibility" and wanted.get(f) is None)
        )
        lost = [f for f in diff.changed_fields(actual, wanted) if f in spec.INPUT_FIELDS]
        if lost:
            inv.lost_writes += len(lost)
            inv.problems.append(f"{res_name}: server differs from the declaration in {lost}")
        outs = _plain({k: v for k, v in res["outputs"].items() if k != "__provider"})
        stale = [f for f in diff.changed_fields(outs, actual) if f in spec.INPUT_FIELDS]
        if outs.get("connector_id") != connector["id"]:
            stale.append("connector_id")
        if stale:
            inv.state_mismatches += len(stale)
            inv.problems.append(f"{res_name}: state differs from the server in {stale}")
    inv.checks["state_mismatches"] += len(state)
    for res_name in state:
        if res_name not in declared:
            inv.state_mismatches += 1
            inv.problems.append(f"{res_name}: still in state but no longer declared")
    inv.checks["orphans"] += len(live)
    for c in live:
        if c["id"] not in claimed:
            inv.orphans += 1
            inv.problems.append(f"orphan on the server: {c['name']}")
    return inv


# ---- running under faults ------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    """One phase (create, update, replace, ...): how many runs it took and what the server saw."""

    name: str
    runs: int = 0
    converged: bool = False
    http_requests: int = 0
    injected: int = 0
    injected_by_kind: Counter[str] = field(default_factory=Counter)
    provider_ops: int = 0
    errors: list[str] = field(default_factory=list)
    invariants: Invariants = field(default_factory=Invariants)


@dataclass
class LifecycleResult:
    """A whole lifecycle under one seed."""

    seed: int
    connectors: int
    phases: list[PhaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return all(p.converged for p in self.phases)

    def total(self, attr: str) -> int:
        return sum(getattr(p, attr) for p in self.phases)

    def invariant_total(self, attr: str) -> int:
        return sum(getattr(p.invariants, attr) for p in self.phases)


def run_until_converged(
    name: str,
    action: Callable[[], Any],
    controls: Controls,
    stack: StackRunner,
    declared: dict[str, dict[str, Any]],
    *,
    max_runs: int = MAX_UP_RUNS,
    before_each: Callable[[int], None] | None = None,
    check_declared: bool = True,
) -> PhaseResult:
    """Run ``action`` (an up, destroy or refresh) until it succeeds, at most ``max_runs`` times; then lift the
    faults and check the invariants. Requests and injected faults are counted from the server's log."""
    phase = PhaseResult(name)
    calls_before = len(stack.provider_calls)
    for attempt in range(max_runs):
        if before_each is not None:
            before_each(attempt)
        phase.runs += 1
        try:
            action()
        except (StackRunError, ProviderCallError) as exc:  # up wraps errors; refresh/destroy do not
            phase.errors.append(str(exc).splitlines()[-1][:300])
            continue
        finally:
            entries = controls.requests(api_only=True)  # then emptied: the log is bounded
            controls.clear_requests()
            phase.http_requests += len(entries)
            kinds = [k for k in map(fault_kind, entries) if k is not None]
            phase.injected += len(kinds)
            phase.injected_by_kind.update(kinds)
        phase.converged = True
        break
    controls.clear_faults()
    phase.provider_ops = sum(1 for c in stack.provider_calls[calls_before:] if c in PROVIDER_OPS)
    phase.invariants = check_invariants(controls, stack, declared)
    if not check_declared:  # a refresh records drift on purpose: only state-vs-server and orphans count
        phase.invariants.lost_writes = 0
        phase.invariants.checks["lost_writes"] = 0
        phase.invariants.problems = [p for p in phase.invariants.problems if "declaration" not in p]
    phase.converged = phase.converged and phase.invariants.ok
    return phase


@contextlib.contextmanager
def lifecycle_stack(
    server: LocalServer, declared: dict[str, dict[str, Any]], *, project: str = "chaos"
) -> Iterator[StackRunner]:
    with StackRunner(make_program(declared), project=project, config=server.config(), in_process=True) as stack:
        yield stack


def run_lifecycle(
    server: LocalServer,
    seed: int,
    *,
    connectors: int = 6,
    faults: Callable[[int], list[dict[str, Any]]] = standard_faults,
    max_runs: int = MAX_UP_RUNS,
) -> LifecycleResult:
    """create many, update, replace, add/remove, drift + refresh, destroy; each phase under fresh faults.

    The server must start empty for this workspace; it is empty again at the end when the run converged.
    """
    rng = random.Random(seed)
    tag = f"r{seed}"
    result = LifecycleResult(seed=seed, connectors=connectors)
    started = time.monotonic()
    controls = server.controls()
    declared: dict[str, dict[str, Any]] = {f"res{i}": connector_args(rng, i, tag) for i in range(connectors)}
    phase_no = [0]

    def arm(_attempt: int) -> None:
        # Fresh rules (and a fresh burst) for each run, with seeds derived from the run and the phase.
        phase_no[0] += 1
        controls.set_faults(faults(seed * 1000 + phase_no[0]))

    try:
        controls.clear_requests()
        with lifecycle_stack(server, declared, project=f"chaos{seed}") as stack:

            def phase(name: str, action: Callable[[], Any], *, check_declared: bool = True) -> None:
                result.phases.append(
                    run_until_converged(
                        name,
                        action,
                        controls,
                        stack,
                        declared,
                        max_runs=max_runs,
                        before_each=arm,
                        check_declared=check_declared,
                    )
                )

            phase("create", stack.up)
            for i, key in enumerate(sorted(declared)):  # update: descriptions, secrets, config, prompts
                args = declared[key]
                if i % 2 == 0:
                    args["description"] = f"updated {key} ({seed})"
                if "headers" in args:
                    args["headers"] = {**args["headers"], "X-Extra": f"v{seed}"}
                if i % 3 == 0:
                    args["connection_config"] = {"updated": True}
                if i % 4 == 1 and "system_prompt" in args:
                    del args["system_prompt"]  # cleared: the update must send null
                elif i % 4 == 1:
                    args["system_prompt"] = "New."
            phase("update", stack.up)
            for key in sorted(declared)[:2]:  # replace: visibility cannot change in place
                args = declared[key]
                args["visibility"] = "shared_org" if args.get("visibility") == "private" else "private"
            phase("replace", stack.up)
            for key in sorted(declared)[-2:]:  # the program drops two resources and declares two new ones
                del declared[key]
            for i in range(connectors, connectors + 2):
                declared[f"res{i}"] = connector_args(rng, i, tag)
            phase("add-remove", stack.up)
            # Out-of-band drift (without faults), then a refresh and an up under faults put it back.
            victim = next(iter(stack.state().values()))
            controls.http.patch(
                f"/v1/connectors/{victim['id']}", json={"description": "changed by hand"}
            ).raise_for_status()
            controls.clear_requests()
            phase("refresh", stack.refresh, check_declared=False)
            phase("up-after-drift", stack.up)
            declared.clear()
            phase("destroy", stack.destroy)
    finally:
        with contextlib.suppress(httpx.HTTPError):
            controls.clear_faults()
    result.seconds = time.monotonic() - started
    return result
