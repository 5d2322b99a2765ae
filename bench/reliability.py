"""Reliability report: runs the long fault-injection, bad-input, fuzz and durability scenarios and prints the
docs/reliability.md table (markdown) with the numbers measured in this run, plus the command that reproduces it.

    python bench/reliability.py                 # the full report (about 10 minutes on 2 cores)
    python bench/reliability.py --quick         # fewer seeds and cases, for a smoke run
    python bench/reliability.py --hostile-only  # only the hostile-input row (seconds)

The scenarios are the ones the test suites run (``tests/reliability``, ``tests/fuzz``, ``tests/hostile``);
this script only scales them up and counts. Secrets used by the scenarios are synthetic and are never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "reliability"))
sys.path.insert(0, str(REPO / "tests" / "hostile"))
sys.path.insert(0, str(REPO / "examples"))

import harness  # noqa: E402 - after the path set-up above

from pulumi_mistral.provider import reset_process_state  # noqa: E402
from pulumi_mistral.testing.local_server import LocalServer  # noqa: E402

# invariant -> (table label, what one check is); checked after every phase against the server and the state
INVARIANTS: dict[str, tuple[str, str]] = {
    "missing": ("Missing: a declared connector not in the state or not on the server", "one per declared connector"),
    "duplicates": ("Duplicates: more than one connector for a declared one", "one per declared connector"),
    "orphans": ("Orphans: a connector on the server that the state does not know", "one per connector on the server"),
    "lost_writes": (
        "Lost writes: a declared property the server does not hold",
        "one per managed property of each declared connector (not after the refresh: it records drift on purpose)",
    ),
    "state_mismatches": (
        "State != server: a property (or id) in the state that the server does not hold",
        "one per resource in the state",
    ),
}


def lifecycles(seeds: int, connectors: int) -> dict[str, Any]:
    """Whole lifecycles under the standard fault profile, one fresh server per seed."""
    totals: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    checks: Counter[str] = Counter()
    converged = 0
    extra_runs = 0
    phases = 0
    for seed in range(1, seeds + 1):
        reset_process_state()
        with LocalServer() as server:
            result = harness.run_lifecycle(server, seed=seed, connectors=connectors)
        converged += int(result.converged)
        for phase in result.phases:
            phases += 1
            extra_runs += phase.runs - 1
            kinds.update(phase.injected_by_kind)
            totals["runs"] += phase.runs
            for attr in ("http_requests", "injected", "provider_ops"):
                totals[attr] += getattr(phase, attr)
            for attr in INVARIANTS:
                totals[attr] += getattr(phase.invariants, attr)
            checks.update(phase.invariants.checks)
        print(
            f"  seed {seed}: converged={result.converged} {result.seconds:.0f}s runs={[p.runs for p in result.phases]}",
            file=sys.stderr,
            flush=True,
        )
    return {
        "seeds": seeds,
        "connectors": connectors,
        "converged": converged,
        "phases": phases,
        "extra_runs": extra_runs,
        "kinds": dict(kinds),
        "checks": dict(checks),
        **totals,
    }


def timeouts() -> dict[str, Any]:
    """A latency fault longer than the client timeout on each operation: bounded, named, then converges."""
    from pulumi_mistral import errors

    ok = 0
    worst = 0.0
    with LocalServer() as server:
        controls = server.controls()
        client = server.client(timeout=0.2, max_attempts=2, max_retry_time=1.0)
        try:
            seed = client.create(name="to-seed", description="d", server=harness.MCP_URL)
            calls = {
                "create": (
                    ("POST", r"^/v1/connectors$"),
                    lambda: client.create(name="to-new", description="d", server=harness.MCP_URL),
                ),
                "get": (("GET", r"^/v1/connectors/[^/]+$"), lambda: client.get("to-seed")),
                "update": (("PATCH", r"^/v1/connectors/"), lambda: client.update(seed.id, description="n")),
                "list": (("GET", r"^/v1/connectors$"), lambda: client.list()),
                "delete": (("DELETE", r"^/v1/connectors/"), lambda: client.delete(seed.id)),
            }
            for operation, ((method, path), call) in calls.items():
                controls.set_faults([{"method": method, "path": path, "action": "latency", "latency_ms": 1500}])
                started = time.monotonic()
                try:
                    call()
                    named = False
                except errors.TimeoutError as exc:
                    named = str(exc).startswith(f"{operation} of ")
                worst = max(worst, time.monotonic() - started)
                controls.clear_faults()
                time.sleep(1.6)
                try:
                    call()
                    recovered = True
                except errors.NotFoundError:
                    recovered = operation == "delete"  # the timed-out delete had landed
                ok += int(named and recovered)
        finally:
            client.close()
    return {"operations": len(calls), "ok": ok, "worst_s": worst}


@contextlib.contextmanager
def checking_engine() -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """The real dynamic-provider servicer (in-process) configured for a fresh local server; after the block, the
    list holds the API requests the server received (check must send none)."""
    from pulumi_mistral.testing.engine import EngineClient
    from pulumi_mistral.testing.provider_hosts import InProcessProviderHost

    sent: list[dict[str, Any]] = []
    with LocalServer() as server, InProcessProviderHost() as host:
        controls = server.controls()
        engine = EngineClient(host.target)
        try:
            engine.configure(
                {"mistral:apiKey": server.api_key, "mistral:serverUrl": server.url}, secret_keys={"mistral:apiKey"}
            )
            controls.clear_requests()
            yield engine, sent
            sent.extend(r for r in controls.requests() if r["path"].startswith("/v1/"))
        finally:
            engine.close()


def bad_inputs() -> dict[str, Any]:
    """The bad-input table through the real gRPC servicer; counts API requests the server saw meanwhile."""
    from pulumi.dynamic.dynamic import serialize_provider
    from test_bad_inputs import CASES, FIX_RE, URN, _inputs

    from pulumi_mistral.provider import ConnectorProvider

    pickle = serialize_provider(ConnectorProvider())
    rejected = named = fixed = 0
    with checking_engine() as (engine, sent):
        for _case, prop, overrides in CASES:
            _, failures = engine.check(URN, {}, {**_inputs(overrides), "__provider": pickle})
            reasons = dict(failures)
            rejected += int(bool(failures))
            named += int(prop in reasons)
            fixed += int(prop in reasons and bool(FIX_RE.search(reasons[prop])))
    return {"cases": len(CASES), "rejected": rejected, "named": named, "fixed": fixed, "requests": len(sent)}


def hostile_inputs() -> dict[str, Any]:
    """The hostile-input suite's cases: every write route over one keep-alive connection, and check."""
    from pulumi.dynamic.dynamic import serialize_provider

    import hostile
    from mcp_servers.runner import start_demo_server
    from pulumi_mistral.core import spec
    from pulumi_mistral.provider import ConnectorProvider

    with start_demo_server() as demo, LocalServer() as server:
        outcomes = hostile.run_server_cases(server, demo.url)
    counts = hostile.summary(outcomes)
    pickle = serialize_provider(ConnectorProvider())
    checks = hostile.check_cases()
    refused = 0
    with checking_engine() as (engine, sent):
        for case in checks:
            _, failures = engine.check(hostile.URN, {}, {**hostile.GOOD, **case.inputs, "__provider": pickle})
            refused += int(
                any(p == case.prop or p.startswith(case.prop + ".") for p, _ in failures)
                and hostile.SECRET not in repr(failures)
            )
    surrogates = hostile.surrogate_cases()
    pure = sum(
        1
        for c in surrogates
        if any(f.property.split(".")[0] == c.prop for f in spec.validate_inputs({**hostile.GOOD, **c.inputs}))
    )
    return {
        **counts,
        "checks": len(checks),
        "checks_refused": refused,
        "check_requests": len(sent),
        "surrogates": len(surrogates),
        "surrogates_refused": pure,
    }


def fuzz(quick: bool) -> dict[str, Any]:
    """The fuzz suite (long variants unless quick) in a child pytest; case counts come back through a file."""
    with tempfile.TemporaryDirectory() as tmp:
        counts_file = Path(tmp) / "counts.jsonl"
        marker = "not slow" if quick else "slow or not slow"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", marker, "tests/fuzz"],
            cwd=REPO,
            env={**os.environ, "PULUMI_MISTRAL_FUZZ_COUNTS": str(counts_file)},
            capture_output=True,
            text=True,
            timeout=3600,
        )
        counts: Counter[str] = Counter()
        if counts_file.exists():
            for line in counts_file.read_text().splitlines():
                counts.update(json.loads(line))
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "no output"
    return {"passed": proc.returncode == 0, "summary": summary, "counts": dict(counts)}


def durability(quick: bool) -> dict[str, Any]:
    from test_durability import kill_during_load

    with tempfile.TemporaryDirectory() as tmp:
        return kill_during_load(
            Path(tmp), seconds=1.5 if quick else 4.0, workers=4 if quick else 8, cycles=1 if quick else 4
        )


def hostile_row(ho: dict[str, Any]) -> tuple[str, str, str, str]:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(ho["kinds"].items(), key=lambda kv: -kv[1]))
    return (
        "Hostile input: raw bodies to every write route (create, update, call_tool, test-control faults); "
        "hostile values through the gRPC servicer's Check",
        f"{ho['cases']} bodies ({kinds}); {ho['checks']} Check inputs, {ho['surrogates']} lone-surrogate "
        "inputs on the declarations path (protobuf cannot carry them)",
        f"{ho['cases']} requests, each followed by a list, a get and a state export on the same connection; "
        f"{ho['checks']} checks",
        f"{ho['status_5xx']} 5xx, {ho['dropped']} dropped connections, {ho['failed']} failed read-backs or "
        f"leaked secrets ({ho['refused_4xx']} refused 4xx, {ho['accepted_2xx']} accepted); Check: "
        f"{ho['checks_refused']}/{ho['checks']} refused naming the property, {ho['check_requests']} API "
        f"requests; {ho['surrogates_refused']}/{ho['surrogates']} surrogate inputs refused",
    )


def table(
    lc: dict[str, Any],
    to: dict[str, Any],
    bad: dict[str, Any],
    fz: dict[str, Any],
    du: dict[str, Any],
    command: str,
    ho: dict[str, Any],
) -> str:
    k = lc["kinds"]
    injected = (
        f"503: {k.get('503', 0)}, dropped connections: {k.get('drop', 0)}, "
        f"429 + Retry-After: {k.get('429', 0)}, ambiguous creates (committed, answer lost): "
        f"{k.get('drop_after_commit', 0)}"
    )
    c = fz["counts"]
    rows = [
        (
            "Lifecycles under faults (create, update, replace, add/remove, drift + refresh, destroy)",
            f"{lc['seeds']} seeds x {lc['connectors']} connectors; injected {lc['injected']} failures "
            f"of {lc['http_requests']} API requests ({injected})",
            f"{lc['http_requests']} API requests, {lc['provider_ops']} provider operations, "
            f"{lc['runs']} runs over {lc['phases']} phases ({lc['extra_runs']} re-runs needed)",
            f"{lc['converged']}/{lc['seeds']} runs converged",
        ),
        *[
            (
                label,
                f"after each of the {lc['phases']} phases; {unit}",
                f"{lc['checks'].get(key, 0)} checks",
                f"{lc[key]} found",
            )
            for key, (label, unit) in INVARIANTS.items()
        ],
        (
            "Timeout on every operation (latency 1.5 s > client timeout 0.2 s)",
            "create, get, update, list, delete",
            f"{to['operations']} operations",
            f"{to['ok']}/{to['operations']} failed fast (worst {to['worst_s']:.2f} s) naming the operation, "
            "then converged",
        ),
        (
            "Bad inputs through the gRPC servicer's Check",
            f"{bad['cases']} cases",
            f"{bad['cases']} checks",
            f"{bad['rejected']}/{bad['cases']} rejected, {bad['named']} name the property, {bad['fixed']} say the "
            f"fix; {bad['requests']} API requests sent",
        ),
        (
            "Fuzzing: schemathesis (app OpenAPI + wire contract), hypothesis through the provider",
            "generated requests and connectors",
            f"{c.get('schemathesis_app', 0) + c.get('schemathesis_contract', 0)} HTTP cases, "
            f"{c.get('provider_roundtrip', 0)} round trips, {c.get('provider_update', 0)} updates",
            ("no 5xx, all conform, no diff" if fz["passed"] else f"FAILED: {fz['summary']}"),
        ),
        hostile_row(ho),
        (
            "SIGKILL mid write load, restart",
            f"{du['cycles']} kills",
            f"{du['acknowledged_writes']} acknowledged writes",
            f"{du['lost_writes']} lost; integrity_check: {', '.join(du['integrity'])}",
        ),
    ]
    lines = ["| what | injected / input | operations | result |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows]
    lines += ["", f"Reproduce: `{command}`"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds and cases (a smoke run)")
    parser.add_argument("--seeds", type=int, default=None, help="lifecycles to run (default 10; quick: 2)")
    parser.add_argument("--connectors", type=int, default=None, help="connectors per lifecycle (default 10)")
    parser.add_argument("--hostile-only", action="store_true", help="only the hostile-input row")
    args = parser.parse_args()
    if args.hostile_only:
        ho = hostile_inputs()
        print("| what | injected / input | operations | result |\n|---|---|---|---|")
        print("| " + " | ".join(hostile_row(ho)) + " |")
        print("\nReproduce: `python bench/reliability.py --hostile-only`")
        return 0 if not (ho["status_5xx"] or ho["dropped"] or ho["failed"] or ho["check_requests"]) else 1
    seeds = args.seeds or (2 if args.quick else 10)
    connectors = args.connectors or (6 if args.quick else 10)
    started = time.monotonic()
    print("lifecycles under faults...", file=sys.stderr, flush=True)
    lc = lifecycles(seeds, connectors)
    print("timeouts, bad inputs...", file=sys.stderr, flush=True)
    to = timeouts()
    bad = bad_inputs()
    print("hostile inputs...", file=sys.stderr, flush=True)
    ho = hostile_inputs()
    print("fuzzing...", file=sys.stderr, flush=True)
    fz = fuzz(args.quick)
    print("durability...", file=sys.stderr, flush=True)
    du = durability(args.quick)
    command = "python bench/reliability.py" + (" --quick" if args.quick else "")
    if args.seeds or args.connectors:
        command += f" --seeds {seeds} --connectors {connectors}"
    print(table(lc, to, bad, fz, du, command, ho))
    print(f"\n(measured in {time.monotonic() - started:.0f} s)")
    healthy = (
        lc["converged"] == seeds
        and not any(lc[key] for key in INVARIANTS)
        and to["ok"] == to["operations"]
        and bad["rejected"] == bad["cases"]
        and not bad["requests"]
        and fz["passed"]
        and du["lost_writes"] == 0
        and not (ho["status_5xx"] or ho["dropped"] or ho["failed"] or ho["check_requests"])
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
