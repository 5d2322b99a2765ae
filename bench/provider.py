"""Benchmark of the Connector provider: pickle size, overhead vs raw HTTP, requests per operation, bulk refresh.

Run: `.venv/bin/python bench/provider.py [--connectors 1000] [--iterations 100]`. Everything runs against the
local server on 127.0.0.1; ratios are measured in the same run, so they hold on any machine.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime._serialization import _serialize

from pulumi_mistral import provider as provider_module
from pulumi_mistral.provider import ConnectorProvider
from pulumi_mistral.testing.local_server import LocalServer

SERVER = "https://mcp.example.com/mcp"
READERS = 4  # the engine runs at most 4 provider calls at once


def timed(fn: Callable[[], Any], n: int) -> float:
    """Median seconds per call over ``n`` calls."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


class Log:
    def __init__(self, server: LocalServer) -> None:
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"})

    def clear(self) -> None:
        self.http.delete("/_local/requests").raise_for_status()

    def count(self) -> int:
        return len(self.http.get("/_local/requests").raise_for_status().json()["requests"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connectors", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()

    pickled, _ = _serialize(True, serialize_provider, ConnectorProvider())
    print(f"pickled __provider: {len(pickled)} base64 chars ({len(base64.b64decode(pickled))} bytes), "
          f"secret-wrapped: {ConnectorProvider.serialize_as_secret_always}")

    with LocalServer() as server:
        log = Log(server)
        provider = ConnectorProvider()
        provider.configure(ConfigureRequest(Config(
            {"mistral:apiKey": server.api_key, "mistral:serverUrl": server.url}, "bench")))
        raw = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"})

        # -- requests per operation ---------------------------------------------------------------------
        counts: dict[str, int] = {}
        checked = provider.check({}, {"name": "count", "description": "d", "server": SERVER}).inputs
        log.clear()
        created = provider.create(checked)
        counts["create"] = log.count()
        log.clear()
        provider.diff(created.id, created.outs, {**checked, "description": "e"})
        counts["diff"] = log.count()
        log.clear()
        provider.read(created.id, created.outs)
        counts["read"] = log.count()
        log.clear()
        updated = provider.update(created.id, created.outs, {**checked, "description": "e"})
        counts["update"] = log.count()
        log.clear()
        provider.delete(created.id, updated.outs)
        counts["delete"] = log.count()
        print("HTTP requests per operation: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

        # -- overhead vs raw HTTP -----------------------------------------------------------------------
        n = args.iterations
        seq = iter(range(10**9))

        def p_cycle() -> dict[str, float]:
            t: dict[str, float] = {}
            inputs = provider.check({}, {"name": f"p-{next(seq)}", "description": "d", "server": SERVER}).inputs
            t0 = time.perf_counter()
            c = provider.create(inputs)
            t["create"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            provider.read(c.id, c.outs)
            t["read"] = time.perf_counter() - t0
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
            raw.get(f"/v1/connectors/{cid}", params={"fetch_connection_secrets": "true"}).raise_for_status()
            t["read"] = time.perf_counter() - t0
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
        for _ in range(n):  # interleaved so both see the same machine load
            p_samples.append(p_cycle())
            r_samples.append(r_cycle())
        print(f"provider vs raw httpx, median of {n} (target ratio <= 1.15x):")
        for op in ("create", "read", "update", "delete"):
            p = statistics.median(s[op] for s in p_samples)
            r = statistics.median(s[op] for s in r_samples)
            print(f"  {op:<7} provider {p * 1000:6.2f} ms   raw {r * 1000:6.2f} ms   ratio {p / r:4.2f}x")

        # -- refresh of many connectors -----------------------------------------------------------------
        total = args.connectors
        ids = []
        for i in range(total):
            resp = raw.post("/v1/connectors", json={"name": f"bulk-{i}", "description": f"n{i}", "server": SERVER,
                                                    "headers": {"X-I": str(i)}})
            resp.raise_for_status()
            ids.append(resp.json()["id"])
        state = {"description": "x"}

        def refresh() -> tuple[float, int, int]:
            provider_module._LISTING.invalidate()
            log.clear()
            parts = [ids[i::READERS] for i in range(READERS)]
            gone = [0]

            def reader(part: list[str]) -> None:
                for cid in part:
                    if provider.read(cid, state).id is None:
                        gone[0] += 1

            threads = [threading.Thread(target=reader, args=(p,)) for p in parts]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join(600)
            return time.perf_counter() - t0, log.count(), gone[0]

        saved = provider_module._Listing.BURST_DISTINCT
        provider_module._Listing.BURST_DISTINCT = 10**9  # before: one GET per read
        before_s, before_n, _ = refresh()
        provider_module._Listing.BURST_DISTINCT = saved  # after: shared listing
        after_s, after_n, gone = refresh()
        note = " (the request log keeps at most 1000 entries)" if before_n >= 1000 else ""
        print(f"refresh of {total} connectors with {READERS} concurrent readers:")
        print(f"  before (GET per read): {before_n:5d} requests{note}, {before_s:6.2f} s")
        print(f"  after (shared listing): {after_n:4d} requests, {after_s:6.2f} s, gone reported: {gone}")
        print(f"  requests ratio {before_n / max(after_n, 1):.0f}x fewer, speed-up {before_s / after_s:.1f}x")
        raw.close()
        log.http.close()
        provider_module.reset_process_state()


if __name__ == "__main__":
    main()
