"""Benchmark: cold import time and per-call latency of ConnectorsClient vs the official mistralai SDK client.

Run from the repository root:

    python bench/client.py            # or: python bench/client.py --runs 7 --calls 300

(a) import: median of N fresh interpreters timing the import statement only (interpreter start excluded);
(b) latency: get and list against one local threaded HTTP server serving canned Connector JSON, keep-alive
    connections, after a warm-up; both clients hit the same server in alternating blocks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

IMPORTS = {
    "pulumi_mistral.client": "import pulumi_mistral.client",
    "mistralai (official)": "from mistralai.client import Mistral",
    "httpx+pydantic (baseline)": "import httpx, pydantic",
}
# ours defers the httpx import to the first client, so also time import + building a client, for honesty
CONSTRUCT = {
    "pulumi_mistral.client": "from pulumi_mistral.client import ConnectorsClient; "
                             "ConnectorsClient(api_key='k', server_url='http://127.0.0.1:9')",
    "mistralai (official)": "from mistralai.client import Mistral; "
                            "Mistral(api_key='k', server_url='http://127.0.0.1:9')",
}

CONNECTOR = {
    "id": "0b6f7a4e-6a55-4d0c-9a1e-2f5c8c1f9a10",
    "name": "docs",
    "description": "Docs search",
    "created_at": "2025-01-02T03:04:05.123456Z",
    "modified_at": "2025-01-02T03:04:05.123456Z",
    "server": "https://mcp.example.com/mcp",
    "auth_type": "none",
    "tools": None,
    "visibility": "private",
    "icon_url": None,
    "system_prompt": None,
    "connection_config": None,
    "header_names": ["X-Org"],
    "auth_data": None,
    "connection_secret_names": [],
}
GET_BODY = json.dumps(CONNECTOR).encode()
LIST_BODY = json.dumps({
    "items": [dict(CONNECTOR, id=f"id-{i}", name=f"c{i}") for i in range(10)],
    "pagination": {"page_size": 100, "next_cursor": None},
}).encode()


def import_seconds(statements: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall time of each statement over ``runs`` fresh interpreters (startup excluded).

    The statements are run round-robin so background load on the machine affects each of them alike.
    """
    samples: dict[str, list[float]] = {label: [] for label in statements}
    for _ in range(runs):
        for label, statement in statements.items():
            code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 timeout=120)
            samples[label].append(float(out.stdout.strip()))
    return {label: statistics.median(values) for label, values in samples.items()}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one buffered write per response and no Nagle: otherwise delayed ACKs add ~40 ms per keep-alive call
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = LIST_BODY if self.path.startswith("/v1/connectors?") else GET_BODY
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def measure(call: Callable[[], Any], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import measurement")
    parser.add_argument("--calls", type=int, default=300, help="measured calls per operation and client")
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}; import: median of {args.runs} runs; latency: {args.calls} calls")
    imports = import_seconds({**IMPORTS, **{f"{k} +client": v for k, v in CONSTRUCT.items()}}, args.runs)
    ours, official, base, ours_built, official_built = imports.values()
    print("\n(a) cold import                           median ms")
    for label, seconds in imports.items():
        print(f"    {label:<36} {seconds * 1000:9.1f}")
    print(f"    import ratio ours/official: {ours / official:.2f}x (target <= 0.5x); ours/baseline: {ours / base:.2f}x")
    print(f"    import + build a client, ours/official: {ours_built / official_built:.2f}x")

    from mistralai.client import Mistral

    from pulumi_mistral.client import ConnectorsClient

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    key = "sk-bench"
    results: dict[tuple[str, str], list[float]] = {}
    try:
        ours_client = ConnectorsClient(api_key=key, server_url=url)
        sdk = Mistral(api_key=key, server_url=url)
        calls: dict[tuple[str, str], Callable[[], Any]] = {
            ("get", "ours"): lambda: ours_client.get("docs"),
            ("get", "official"): lambda: sdk.beta.connectors.get(connector_id_or_name="docs"),
            ("list", "ours"): lambda: ours_client.list(),
            ("list", "official"): lambda: sdk.beta.connectors.list(),
        }
        for call in calls.values():
            measure(call, args.warmup)
        blocks = 3  # alternate clients in blocks so drift (other load on the machine) hits both equally
        for _ in range(blocks):
            for key_, call in calls.items():
                results.setdefault(key_, []).extend(measure(call, args.calls // blocks))
        ours_client.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

    print("\n(b) latency per call (local server)   mean us    p50 us")
    for (op, who), samples in results.items():
        print(f"    {op:<5} {who:<28} {statistics.mean(samples) * 1e6:8.0f}  {statistics.median(samples) * 1e6:8.0f}")
    for op in ("get", "list"):
        mine, theirs = results[(op, "ours")], results[(op, "official")]
        print(f"    {op}: ratio ours/official mean {statistics.mean(mine) / statistics.mean(theirs):.2f}x, "
              f"p50 {statistics.median(mine) / statistics.median(theirs):.2f}x (target <= 1.0x)")
    print(f"\nreproduce: python bench/client.py --runs {args.runs} --calls {args.calls}")


if __name__ == "__main__":
    main()
