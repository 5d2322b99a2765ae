"""Benchmark of the Connector provider: pickle size, requests per operation, overhead against raw HTTP, refresh.

Run from the repository root:

    python bench/provider.py                    # the figures in docs/benchmarks.md
    python bench/provider.py --connectors 400 --latency 50 --iterations 30     # a quick run

The local Connectors API runs in its own process (``pulumi-mistral local``), so it shares no GIL with what is
measured. Ratios compare with a baseline measured in the same run.

* overhead: the provider's create, single read (a GET by id: not the burst path), update and delete, called in
  this process, against the same HTTP call made with a bare httpx client (target at most 1.15x);
* refresh: N connectors deployed through the real ``python -m pulumi.dynamic`` servicer, then read back by a
  FRESH provider process, 4 Reads at a time as the engine does, with the server's latency rule adding 20, 50
  and 100 ms to every API request (a loopback GET costs about 1 ms; no real API does). The baseline is one GET
  per connector, 4 at a time, with a bare httpx client. Requests are counted by the server's request counter,
  which does not saturate. Targets: at most ceil(N/1000) + 8 requests; at least 5x faster than one GET per
  connector at 50 ms for N = 400.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime._serialization import _serialize

from pulumi_mistral import provider as provider_module
from pulumi_mistral.provider import PROCESS, ConnectorProvider
from pulumi_mistral.testing.engine import EngineClient, strip_secrets
from pulumi_mistral.testing.local_process import LocalServerProcess
from pulumi_mistral.testing.provider_hosts import SubprocessProviderHost

SERVER = "https://mcp.example.com/mcp"
ENGINE_CONCURRENCY = 4  # the engine runs at most 4 provider calls at once
URN = "urn:pulumi:bench::bench::pulumi-python:dynamic/connector:Connector::"
PICKLE = serialize_provider(ConnectorProvider())


def median_ms(samples: Iterable[float]) -> float:
    return statistics.median(samples) * 1000


# ---- overhead of the provider's own code ------------------------------------------------------------------------


def overhead(api: LocalServerProcess, iterations: int) -> None:
    provider = ConnectorProvider()
    provider.configure(ConfigureRequest(Config({"mistral:apiKey": api.api_key, "mistral:serverUrl": api.url}, "bench")))
    raw = httpx.Client(base_url=api.url, headers=api.headers(), timeout=30)
    seq = iter(range(10**9))

    # -- requests per operation, from the server's counter
    counts: dict[str, int] = {}
    checked = provider.check({}, {"name": "count", "description": "d", "server": SERVER}).inputs
    api.controls().clear_requests()
    created = provider.create(checked)
    counts["create"] = api.controls().request_total()
    api.controls().clear_requests()
    provider.diff(created.id, created.outs, {**checked, "description": "e"})
    counts["diff"] = api.controls().request_total()
    api.controls().clear_requests()
    provider.read(created.id, created.outs)
    counts["read"] = api.controls().request_total()
    api.controls().clear_requests()
    updated = provider.update(created.id, created.outs, {**checked, "description": "e"})
    counts["update"] = api.controls().request_total()
    api.controls().clear_requests()
    provider.delete(created.id, updated.outs)
    counts["delete"] = api.controls().request_total()
    print("HTTP requests per operation: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    # -- create, update, delete: one cycle each, interleaved with the raw cycle so both see the same load
    def p_cycle() -> dict[str, float]:
        t: dict[str, float] = {}
        inputs = provider.check({}, {"name": f"p-{next(seq)}", "description": "d", "server": SERVER}).inputs
        t0 = time.perf_counter()
        c = provider.create(inputs)
        t["create"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        u = provider.update(c.id, c.outs, {**inputs, "description": "e"})
        t["update"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        provider.delete(c.id, u.outs)
        t["delete"] = time.perf_counter() - t0
        return t

    def r_cycle() -> dict[str, float]:
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        c = raw.post("/v1/connectors", json={"name": f"r-{next(seq)}", "description": "d", "server": SERVER})
        c.raise_for_status()
        cid = c.json()["id"]
        t["create"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        raw.patch(f"/v1/connectors/{cid}", json={"description": "e"}).raise_for_status()
        t["update"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        raw.delete(f"/v1/connectors/{cid}").raise_for_status()
        t["delete"] = time.perf_counter() - t0
        return t

    for _ in range(10):  # warm-up
        p_cycle()
        r_cycle()
    p_samples: list[dict[str, float]] = []
    r_samples: list[dict[str, float]] = []
    for _ in range(iterations):
        p_samples.append(p_cycle())
        r_samples.append(r_cycle())

    # -- read: one connector read again and again is never a burst, so every read is the single-read path
    one = provider.create(
        provider.check(
            {}, {"name": "single-read", "description": "d", "server": SERVER, "headers": {"X-K": "v"}}
        ).inputs
    )
    listings_before = PROCESS.listing.listings
    read_p: list[float] = []
    read_r: list[float] = []
    for i in range(iterations * 3 + 10):
        t0 = time.perf_counter()
        provider.read(one.id, one.outs)
        p = time.perf_counter() - t0
        t0 = time.perf_counter()
        raw.get(f"/v1/connectors/{one.id}", params={"fetch_connection_secrets": "true"}).raise_for_status()
        r = time.perf_counter() - t0
        if i >= 10:
            read_p.append(p)
            read_r.append(r)
    if PROCESS.listing.listings != listings_before:
        raise SystemExit("the single reads went through the shared listing: the read figure would be wrong")

    print(f"provider vs raw httpx, median of {iterations} (read: {len(read_p)}), target ratio <= 1.15x:")
    rows = [
        (op, median_ms(s[op] for s in p_samples), median_ms(s[op] for s in r_samples))
        for op in ("create", "update", "delete")
    ]
    rows.insert(1, ("read", median_ms(read_p), median_ms(read_r)))
    for op, p, r in rows:
        label = "read (GET by id)" if op == "read" else op
        print(f"  {label:<17} provider {p:6.2f} ms   raw {r:6.2f} ms   ratio {p / r:4.2f}x")
    provider.delete(one.id, one.outs)
    raw.close()
    provider_module.reset_process_state()


# ---- refresh through the real servicer, in a fresh provider process ------------------------------------------


def _engine(api: LocalServerProcess, cwd: str) -> tuple[SubprocessProviderHost, EngineClient, float]:
    """A fresh ``python -m pulumi.dynamic`` process, configured like the engine does; and its start time."""
    t0 = time.perf_counter()
    host = SubprocessProviderHost(cwd=cwd)
    engine = EngineClient(host.target)
    engine.configure({"mistral:apiKey": api.api_key, "mistral:serverUrl": api.url}, secret_keys={"mistral:apiKey"})
    return host, engine, time.perf_counter() - t0


def deploy(api: LocalServerProcess, n: int, cwd: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """N connectors created through the servicer (Check + Create), 4 at a time: (id, urn, outputs, inputs)."""
    host, engine, _ = _engine(api, cwd)
    try:

        def create(i: int) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
            urn = f"{URN}bulk-{i}"
            news = {
                "name": f"bulk-{i}",
                "description": f"connector {i}",
                "server": SERVER,
                "headers": {"X-I": str(i)},
                "__provider": PICKLE,
            }
            inputs, failures = engine.check(urn, {}, news)
            if failures:
                raise SystemExit(f"check failed: {failures}")
            ident, outs = engine.create(urn, inputs)
            return ident, urn, outs, inputs

        with ThreadPoolExecutor(ENGINE_CONCURRENCY) as pool:
            return list(pool.map(create, range(n)))
    finally:
        engine.close()
        host.close()


def _read_requests(resources: list[tuple[str, str, dict[str, Any], dict[str, Any]]]) -> list[Any]:
    """The engine's ReadRequests, marshalled before the clock starts: the real engine marshals in Go, so the
    Python stand-in's Struct encoding is not part of what a refresh costs (secrets stripped, as it sends them)."""

    async def build() -> list[Any]:
        return [
            proto.ReadRequest(
                id=ident,
                urn=urn,
                properties=await rpc.serialize_properties(strip_secrets(outs), {}),
                inputs=await rpc.serialize_properties(strip_secrets(inputs), {}),
            )
            for ident, urn, outs, inputs in resources
        ]

    return asyncio.run(build())


def refresh_provider(
    api: LocalServerProcess, resources: list[tuple[str, str, dict[str, Any], dict[str, Any]]], cwd: str
) -> dict[str, Any]:
    """A refresh by a fresh provider process: every resource read once, at most 4 Reads in flight."""
    requests = _read_requests(resources)
    host, engine, started_s = _engine(api, cwd)
    api.controls().clear_requests()
    gone = [0]
    lock = threading.Lock()

    def read(request: Any) -> None:
        if engine.stub.Read(request, timeout=120).id != request.id:
            with lock:
                gone[0] += 1

    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(ENGINE_CONCURRENCY) as pool:
            list(pool.map(read, requests))
        wall = time.perf_counter() - t0
    finally:
        engine.close()
        host.close()
    total = api.controls().request_total()
    log = api.controls().requests()
    listings = sum(1 for r in log if r["method"] == "GET" and r["path"] == "/v1/connectors")
    return {
        "wall": wall,
        "requests": total,
        "listings": listings if len(log) == total else None,
        "gone": gone[0],
        "start": started_s,
    }


def refresh_baseline(api: LocalServerProcess, ids: list[str]) -> dict[str, Any]:
    """One GET per connector, 4 at a time, with a bare httpx client: what a refresh without batching costs."""
    api.controls().clear_requests()
    with httpx.Client(
        base_url=api.url, headers=api.headers(), timeout=60, limits=httpx.Limits(max_connections=ENGINE_CONCURRENCY)
    ) as http:

        def get(cid: str) -> None:
            http.get(f"/v1/connectors/{cid}", params={"fetch_connection_secrets": "true"}).raise_for_status()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(ENGINE_CONCURRENCY) as pool:
            list(pool.map(get, ids))
        wall = time.perf_counter() - t0
    return {"wall": wall, "requests": api.controls().request_total()}


def refresh(sizes: list[int], latencies: list[float]) -> list[str]:
    problems: list[str] = []
    print(
        f"\nrefresh in a fresh provider process (real servicer, {ENGINE_CONCURRENCY} Reads at a time) vs one GET "
        f"per connector ({ENGINE_CONCURRENCY} at a time), latency added to every API request:"
    )
    print(
        "      N  latency   one GET each: requests   wall     provider: requests (listings)   wall   speed-up   target"
    )
    with tempfile.TemporaryDirectory(prefix="bench-provider-") as cwd:
        for n in sizes:
            with LocalServerProcess() as api:
                resources = deploy(api, n, cwd)
                ids = [r[0] for r in resources]
                for latency in latencies:
                    api.controls().set_latency(latency)
                    base = refresh_baseline(api, ids)
                    ours = refresh_provider(api, resources, cwd)
                    api.controls().set_latency(0)
                    speed = base["wall"] / ours["wall"]
                    bound = math.ceil(n / 1000) + 8
                    verdict = [f"requests <= {bound}: {'ok' if ours['requests'] <= bound else 'MISSED'}"]
                    if ours["requests"] > bound:
                        problems.append(f"N={n} at {latency:g} ms: {ours['requests']} requests > {bound}")
                    if n == 400 and latency == 50:
                        verdict.append(f">= 5x: {'ok' if speed >= 5 else 'MISSED'}")
                        if speed < 5:
                            problems.append(f"N=400 at 50 ms: speed-up {speed:.1f}x < 5x")
                    if ours["gone"]:
                        problems.append(f"N={n} at {latency:g} ms: {ours['gone']} connectors reported gone")
                    listings = "?" if ours["listings"] is None else str(ours["listings"])
                    print(
                        f"  {n:5d}  {latency:4g} ms   {base['requests']:20d} {base['wall']:6.2f} s   "
                        f"{ours['requests']:14d} ({listings:>2})          {ours['wall']:6.2f} s  "
                        f"{speed:6.1f}x    {'; '.join(verdict)}"
                    )
                print(
                    f"         (fresh provider process start + Configure: {ours['start']:.2f} s, not in the wall "
                    "time; connectors reported gone: 0 expected)"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, nargs="+", default=[400, 1000], metavar="N")
    parser.add_argument("--latency", type=float, nargs="+", default=[20, 50, 100], metavar="MS")
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args(argv)

    pickled, _ = _serialize(True, serialize_provider, ConnectorProvider())
    print(
        f"pickled __provider: {len(pickled)} base64 chars ({len(base64.b64decode(pickled))} bytes), "
        f"secret-wrapped: {ConnectorProvider.serialize_as_secret_always}"
    )
    with LocalServerProcess() as api:
        overhead(api, args.iterations)
    problems = refresh(args.connectors, args.latency)
    command = " ".join(["python bench/provider.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"\nreproduce: {command}")
    for problem in problems:
        print(f"target missed: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
