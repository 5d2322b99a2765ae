"""Benchmark of the local Connectors API server: CRUD throughput, deep-page latency, MCP forwarding overhead.

Run from the repository root:

    python bench/local_server.py [--rows 100000] [--samples 300]

Every number comes from one run on this machine (real uvicorn on 127.0.0.1, a real SQLite file):
  * create / get / list throughput, one keep-alive client, sequential requests;
  * median latency of list page 1 vs a page ~99% deep into ``--rows`` connectors (keyset: target <= 1.2x);
  * a tool call through the server vs the same call on a reused MCP session to the example MCP server
    (target <= 2x).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))  # the example MCP servers package

from pulumi_mistral.local.backend import Backend  # noqa: E402
from pulumi_mistral.local.store import Store  # noqa: E402
from pulumi_mistral.testing.local_server import LocalServer  # noqa: E402


def rate(n: int, fn: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def bench_crud(tmp: Path, n: int) -> list[tuple[str, str, str]]:
    with (
        LocalServer(db_path=tmp / "crud.db") as server,
        httpx.Client(base_url=server.url, headers=server.headers(), timeout=30) as http,
    ):

        def create(i: int) -> None:
            r = http.post("/v1/connectors", json={"name": f"b{i}", "description": "d", "server": "https://x.example"})
            assert r.status_code == 201

        def get(i: int) -> None:
            assert http.get(f"/v1/connectors/b{i % n}").status_code == 200

        def list_(i: int) -> None:
            assert http.get("/v1/connectors", params={"page_size": 100}).status_code == 200

        return [
            ("create (POST, 201)", f"{rate(n, create):,.0f} req/s", f"{n} sequential"),
            ("get by name", f"{rate(2 * n, get):,.0f} req/s", f"{2 * n} sequential"),
            ("list page_size=100", f"{rate(n // 2, list_):,.0f} req/s", f"{n // 2} sequential"),
        ]


def bench_deep_page(tmp: Path, rows: int, samples: int) -> list[tuple[str, str, str]]:
    db = tmp / "deep.db"
    key = "bench-key-deep-pages"
    store = Store(db)
    backend = Backend(store, [key])
    ws = backend.keys.authenticate(f"Bearer {key}")
    started = time.perf_counter()
    made = []
    for start in range(0, rows, 10_000):
        batch = [
            backend.new_row(ws, {"name": f"n{i}", "description": "d", "server": "https://x.example"})
            for i in range(start, min(rows, start + 10_000))
        ]
        store.insert_connectors(batch)
        made += [(r["created_at"], r["id"]) for r in batch]
    insert_s = time.perf_counter() - started
    made.sort()
    deep_at = int(rows * 0.99)
    cursor = backend.cursors.encode(ws, *made[deep_at - 1])
    store.close()
    with (
        LocalServer(db_path=db, api_keys=[key]) as server,
        httpx.Client(base_url=server.url, headers=server.headers(), timeout=30) as http,
    ):
        first = {"page_size": 100}
        deep = {"page_size": 100, "cursor": cursor}
        assert http.get("/v1/connectors", params=deep).json()["items"][0]["id"] == made[deep_at][1]
        for _ in range(20):  # warm up both paths
            http.get("/v1/connectors", params=first)
            http.get("/v1/connectors", params=deep)
        t_first, t_deep = [], []
        for _ in range(samples):  # interleaved, so drift in machine load hits both alike
            t_first.append(timed(lambda: http.get("/v1/connectors", params=first)))
            t_deep.append(timed(lambda: http.get("/v1/connectors", params=deep)))
    m_first, m_deep = statistics.median(t_first), statistics.median(t_deep)
    ratio = m_deep / m_first
    return [
        (f"seed {rows:,} rows via the store", f"{rows / insert_s:,.0f} rows/s", f"{insert_s:.1f} s"),
        ("list page 1 (100 items), median", f"{m_first:.2f} ms", f"{samples} samples"),
        (f"list page at row {deep_at:,}, median", f"{m_deep:.2f} ms", f"{samples} samples"),
        ("deep / first page", f"{ratio:.2f}x", "target <= 1.2x: " + ("ok" if ratio <= 1.2 else "MISSED")),
    ]


def bench_mcp(samples: int) -> list[tuple[str, str, str]]:
    try:
        import httpx2
        from mcp import Client, ClientSession
        from mcp.client.streamable_http import streamable_http_client

        from mcp_servers.runner import start_demo_server
    except ImportError as exc:
        return [("tool call", "skipped", f"example MCP server unavailable: {exc.name}")]
    with (
        start_demo_server() as demo,
        LocalServer() as server,
        httpx.Client(base_url=server.url, headers=server.headers(), timeout=30) as http,
    ):
        http.post("/v1/connectors", json={"name": "demo", "description": "d", "server": demo.url})
        body = {"arguments": {"text": "hello"}}
        for _ in range(20):
            assert http.post("/v1/connectors/demo/tools/echo/call", json=body).status_code == 200
        via = [timed(lambda: http.post("/v1/connectors/demo/tools/echo/call", json=body)) for _ in range(samples)]

        async def calls(call: Callable[[], object]) -> list[float]:
            out = []
            for _ in range(20):
                await call()  # type: ignore[misc]
            for _ in range(samples):
                started = time.perf_counter()
                await call()  # type: ignore[misc]
                out.append((time.perf_counter() - started) * 1000)
            return out

        async def direct_session() -> list[float]:
            # the kind of session the forwarder keeps: legacy handshake once, one HTTP client, reused
            async with (
                httpx2.AsyncClient() as client,
                streamable_http_client(demo.url, http_client=client) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return await calls(lambda: session.call_tool("echo", {"text": "hello"}))

        async def direct_client() -> list[float]:
            async with Client(demo.url) as client:  # high-level client, default (auto) mode
                return await calls(lambda: client.call_tool("echo", {"text": "hello"}))

        direct_ms = asyncio.run(direct_session())
        auto_ms = asyncio.run(direct_client())
    m_via, m_direct, m_auto = statistics.median(via), statistics.median(direct_ms), statistics.median(auto_ms)
    ratio = m_via / m_direct
    return [
        ("tool call via local server, median", f"{m_via:.2f} ms", f"{samples} samples"),
        ("tool call direct, reused ClientSession", f"{m_direct:.2f} ms", f"{samples} samples"),
        ("tool call direct, mcp.Client (auto mode)", f"{m_auto:.2f} ms", "informational"),
        ("via server / direct session", f"{ratio:.2f}x", "target <= 2x: " + ("ok" if ratio <= 2 else "MISSED")),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="connectors for the deep-page test")
    parser.add_argument("--samples", type=int, default=300, help="timed requests per latency measurement")
    parser.add_argument("--crud", type=int, default=1000, help="creates for the throughput test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-local-") as tmp:
        results = bench_crud(Path(tmp), args.crud)
        results += bench_deep_page(Path(tmp), args.rows, args.samples)
        results += bench_mcp(args.samples)
    width = max(len(r[0]) for r in results)
    print(f"{'measurement':<{width}}  {'result':>14}  notes")
    for name, value, note in results:
        print(f"{name:<{width}}  {value:>14}  {note}")
    print(f"\nreproduce: python bench/local_server.py --rows {args.rows} --samples {args.samples} --crud {args.crud}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
