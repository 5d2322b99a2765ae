"""Convergence under injected faults: whole lifecycles, the ambiguous create, 429 bursts, timeouts per operation.

The short variants run always; the long ones (more seeds, more connectors) sit behind ``slow``. Numbers for
docs/reliability.md come from ``bench/reliability.py``, which runs the same harness.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from harness import MAX_UP_RUNS, lifecycle_stack, run_lifecycle, run_until_converged

from pulumi_mistral import errors
from pulumi_mistral.testing.controls import Controls
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunError

MCP = "https://mcp.example.com/mcp"


def _assert_converged(result: Any) -> None:
    for phase in result.phases:
        inv = phase.invariants
        assert phase.converged, f"seed {result.seed} phase {phase.name}: {phase.runs} runs, {phase.errors} {inv}"
        assert phase.runs <= MAX_UP_RUNS
        assert (inv.duplicates, inv.orphans, inv.lost_writes, inv.missing, inv.state_mismatches) == (0, 0, 0, 0, 0)


def test_lifecycle_converges_under_faults(local_server: LocalServer) -> None:
    result = run_lifecycle(local_server, seed=1, connectors=6)
    _assert_converged(result)
    assert [p.name for p in result.phases] == [
        "create",
        "update",
        "replace",
        "add-remove",
        "refresh",
        "up-after-drift",
        "destroy",
    ]
    # Faults really happened (and were survived): a large share of the API requests failed, with every kind of
    # the profile, and every phase's run opened with its 429 burst.
    assert result.total("injected") >= 0.25 * result.total("http_requests") > 0
    kinds: Counter[str] = Counter()
    for phase in result.phases:
        kinds.update(phase.injected_by_kind)
        assert phase.injected_by_kind["429"] >= 3 * phase.runs, (phase.name, phase.injected_by_kind)
    assert {"503", "429", "drop", "drop_after_commit"} <= set(kinds), kinds
    assert local_server.controls().connectors() == []  # destroy left nothing behind


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 8))
def test_lifecycle_converges_under_faults_long(local_server: LocalServer, seed: int) -> None:
    result = run_lifecycle(local_server, seed=seed, connectors=10)
    _assert_converged(result)


def test_ambiguous_create_commits_but_answer_is_lost(local_server: LocalServer, controls: Controls) -> None:
    """Every create commits on the server and then loses its answer: the provider finds its own connector
    (explicit and auto-generated names alike) instead of creating a second one."""
    declared: dict[str, dict[str, Any]] = {
        "named": {"name": "amb-named", "description": "d", "server": MCP, "headers": {"X-K": "v"}},
        "auto": {"description": "auto-named", "server": MCP},
        "cfg": {"name": "amb-cfg", "description": "d", "server": MCP, "connection_config": {"n": 1}},
    }
    rule = {"method": "POST", "path": r"^/v1/connectors$", "action": "drop_after_commit", "times": 3}
    with lifecycle_stack(local_server, declared) as stack:
        phase = run_until_converged(
            "ambiguous", stack.up, controls, stack, declared, before_each=lambda _: controls.set_faults([rule])
        )
        assert phase.converged and phase.runs == 1, (phase.errors, phase.invariants)
        assert phase.injected == 3
        assert len(controls.connectors()) == 3
        stack.destroy()
    assert controls.connectors() == []


def test_ambiguous_patch_after_create_is_not_lost(local_server: LocalServer, controls: Controls) -> None:
    """create + the PATCH that sets connection_config/secrets, both answered by a dropped connection."""
    declared = {
        "c": {
            "name": "amb-patch",
            "description": "d",
            "server": MCP,
            "connection_config": {"k": "v"},
            "connection_secrets": {"t": "x"},
        }
    }
    rules = [{"method": "*", "path": r"^/v1/connectors", "action": "drop_after_commit", "times": 2}]
    with lifecycle_stack(local_server, declared) as stack:
        phase = run_until_converged(
            "ambiguous-patch", stack.up, controls, stack, declared, before_each=lambda _: controls.set_faults(rules)
        )
        assert phase.converged, (phase.errors, phase.invariants)
        assert phase.injected_by_kind["drop_after_commit"] >= 2, phase.injected_by_kind  # both answers were lost
        stack.destroy()


def test_429_burst_with_retry_after_is_waited_out(local_server: LocalServer, controls: Controls) -> None:
    declared = {f"c{i}": {"name": f"burst-{i}", "description": "d", "server": MCP} for i in range(3)}
    burst = [{"method": "*", "path": r"^/v1/", "action": "status", "status": 429, "retry_after": 0.3, "times": 3}]
    with lifecycle_stack(local_server, declared) as stack:
        started = time.monotonic()
        phase = run_until_converged(
            "burst", stack.up, controls, stack, declared, before_each=lambda _: controls.set_faults(burst)
        )
        elapsed = time.monotonic() - started
        # one run: a 429 is always safe to retry, even for a create; and the server's hint was honoured
        assert phase.converged and phase.runs == 1 and phase.injected == 3, phase.errors
        assert elapsed >= 3 * 0.3
        stack.destroy()


# ---- timeouts on every operation -------------------------------------------------------------------------

OPERATIONS = [
    ("create", "POST", r"^/v1/connectors$"),
    ("get", "GET", r"^/v1/connectors/[^/]+$"),
    ("update", "PATCH", r"^/v1/connectors/[^/]+$"),
    ("list", "GET", r"^/v1/connectors$"),
    ("delete", "DELETE", r"^/v1/connectors/[^/]+$"),
]


@pytest.mark.parametrize(("operation", "method", "path"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_timeout_on_every_operation(
    local_server: LocalServer, controls: Controls, operation: str, method: str, path: str
) -> None:
    """A server slower than the client's timeout: a bounded wait, a TimeoutError naming the operation, and
    after the fault is lifted the same operation converges (a timed-out delete may have landed: 404 is fine)."""
    client = local_server.client(timeout=0.2, max_attempts=2, max_retry_time=1.0)
    seed = client.create(name="to-seed", description="d", server=MCP)
    calls = {
        "create": lambda: client.create(name="to-new", description="d", server=MCP),
        "get": lambda: client.get("to-seed"),
        "update": lambda: client.update(seed.id, description="new"),
        "list": lambda: client.list(),
        "delete": lambda: client.delete(seed.id),
    }
    controls.set_faults([{"method": method, "path": path, "action": "latency", "latency_ms": 1500}])
    started = time.monotonic()
    with pytest.raises(errors.TimeoutError) as caught:
        calls[operation]()
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed  # 2 attempts x 0.2 s + backoff, bounded by max_retry_time
    assert str(caught.value).startswith(f"{operation} of ") and "timed out" in str(caught.value)
    if operation == "create":
        assert caught.value.may_have_landed  # a POST that reached the server: the caller must look before retrying
    controls.clear_faults()
    time.sleep(1.6)  # let the slow request finish on the server before judging the outcome
    try:
        calls[operation]()
    except errors.NotFoundError:
        assert operation == "delete"  # it landed the first time
    names = sorted(c["name"] for c in controls.connectors())
    expected = {"create": ["to-new", "to-seed"], "delete": []}.get(operation, ["to-seed"])
    assert names == expected
    client.close()


PROVIDER_OPERATIONS = [
    ("create", "POST", r"^/v1/connectors$"),
    ("update", "PATCH", r"^/v1/connectors/[^/]+$"),
    ("refresh", "GET", r"^/v1/connectors"),
    ("delete", "DELETE", r"^/v1/connectors/[^/]+$"),
]


@pytest.mark.parametrize(("operation", "method", "path"), PROVIDER_OPERATIONS, ids=[o[0] for o in PROVIDER_OPERATIONS])
def test_provider_timeout_on_every_operation(
    local_server: LocalServer, controls: Controls, operation: str, method: str, path: str
) -> None:
    """Through the stack runner with a short client timeout from stack config: each provider operation fails
    within a bound with an error naming it, and the next run after the fault is lifted converges."""
    from harness import make_program

    from pulumi_mistral.testing.engine import ProviderCallError
    from pulumi_mistral.testing.stack_runner import StackRunner

    declared: dict[str, dict[str, Any]] = {"c": {"name": f"slow-{operation}", "description": "d", "server": MCP}}
    config = {
        **local_server.config(),
        "mistral:timeout": "0.3",
        "mistral:maxAttempts": "1",
        "mistral:maxRetryTime": "1",
    }
    with StackRunner(make_program(declared), project="to", config=config, in_process=True) as stack:
        actions = {"create": stack.up, "update": stack.up, "refresh": stack.refresh, "delete": stack.destroy}
        if operation != "create":
            stack.up()
        if operation == "update":
            declared["c"]["description"] = "changed"
        if operation == "delete":
            declared.clear()
        controls.set_faults([{"method": method, "path": path, "action": "latency", "latency_ms": 1500}])
        started = time.monotonic()
        with pytest.raises((StackRunError, ProviderCallError), match="timed out") as caught:
            actions[operation]()
        # create: two POSTs of 0.3 s, each followed by the ambiguous-create recovery (name look-ups and 2.5 s
        # of pauses); the others: one request. The default 30 s timeout would take far longer.
        assert time.monotonic() - started < 15
        verb = {"refresh": "get"}.get(operation, operation)
        assert f"{verb} of connector" in str(caught.value)
        controls.clear_faults()
        time.sleep(1.6)  # the slow requests finish on the server before the next run judges the outcome
        phase = run_until_converged(f"after-{operation}-timeout", actions[operation], controls, stack, declared)
        assert phase.converged, (phase.errors, phase.invariants)
        stack.destroy()


def test_replace_whose_delete_fails_leaves_no_orphan(local_server: LocalServer, controls: Controls) -> None:
    declared: dict[str, dict[str, Any]] = {"auto": {"description": "d", "server": MCP}}
    with lifecycle_stack(local_server, declared) as stack:
        stack.up()
        declared["auto"]["visibility"] = "private"  # auto-named: create the replacement, then delete the old
        controls.set_faults([{"method": "DELETE", "path": r"^/v1/", "action": "status", "status": 503}])
        controls.clear_requests()
        with pytest.raises(StackRunError):
            stack.up()
        deletes = [r for r in controls.requests() if r["method"] == "DELETE"]
        assert deletes and all(r["status"] == 503 and r["fault"] for r in deletes), deletes  # the fault fired
        assert [r for r in controls.requests() if r["method"] == "POST" and r["status"] == 201]  # new half made
        controls.clear_faults()
        phase = run_until_converged("after-failed-delete", stack.up, controls, stack, declared)
        inv = phase.invariants
        try:
            assert (inv.duplicates, inv.orphans) == (0, 0), inv.problems
        finally:
            stack.destroy()
            for c in controls.connectors():  # the orphan: not in any state
                controls.http.delete(f"/v1/connectors/{c['id']}")
