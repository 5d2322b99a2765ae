"""Benchmark: what a user pays for ConnectorsClient, against the official mistralai SDK and a bare-httpx floor.

Run from the repository root:

    python bench/client.py                       # or: python bench/client.py --runs 15 --calls 300

(a) whole cost in a fresh process (the headline): import, build a client, and one ``get`` of a connector
    from the local Connectors API server (``pulumi-mistral local``, its own process on 127.0.0.1), timed
    inside a fresh interpreter from before the first import to the parsed answer (interpreter start is the
    same for everyone and excluded). Three contenders do the same work in the same run, round-robin:
      * ours: ``ConnectorsClient(...).get(name)`` (a typed ``Connector``);
      * the official SDK: ``Mistral(...).beta.connectors.get(...)``;
      * the floor: ``import httpx, pydantic``, then the same GET through a bare ``httpx.Client``, JSON
        decoded (no models): what any httpx + pydantic client must pay at least.
    Target: ours at most 1.25x the floor. Each row also shows where the time goes (import / build / get).
    The measured processes see only what an install of the client has (see NOT_INSTALLED_FOR_USERS).
(b) latency per call against the same local server, keep-alive, after a warm-up; clients alternate in blocks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from pulumi_mistral.testing.local_process import LocalServerProcess

NAME = "docs"
# Each program reads the URL and key from the environment, then prints the time after import, after building
# the client and after the get (perf_counter, seconds), as one JSON list.
PROGRAMS = {
    "pulumi_mistral.client": """
from pulumi_mistral.client import ConnectorsClient
t1 = time.perf_counter()
client = ConnectorsClient(api_key=os.environ["BENCH_KEY"], server_url=os.environ["BENCH_URL"])
t2 = time.perf_counter()
assert client.get("docs").name == "docs"
""",
    "mistralai 2.4.0 (official)": """
from mistralai.client import Mistral
t1 = time.perf_counter()
client = Mistral(api_key=os.environ["BENCH_KEY"], server_url=os.environ["BENCH_URL"])
t2 = time.perf_counter()
assert client.beta.connectors.get(connector_id_or_name="docs").name == "docs"
""",
    "floor: httpx + pydantic, bare GET": """
import httpx, pydantic
t1 = time.perf_counter()
client = httpx.Client(base_url=os.environ["BENCH_URL"], headers={"Authorization": "Bearer " + os.environ["BENCH_KEY"]})
t2 = time.perf_counter()
response = client.get("/v1/connectors/docs")
response.raise_for_status()
assert response.json()["name"] == "docs"
""",
    # informational: the floor plus one pydantic model: what using pydantic's BaseModel costs by itself
    # (its machinery, the plugin scan on the first validator, one schema build)
    "floor + one pydantic model": """
import httpx, pydantic
class Named(pydantic.BaseModel):
    name: str
t1 = time.perf_counter()
client = httpx.Client(base_url=os.environ["BENCH_URL"], headers={"Authorization": "Bearer " + os.environ["BENCH_KEY"]})
t2 = time.perf_counter()
response = client.get("/v1/connectors/docs")
response.raise_for_status()
assert Named.model_validate(response.json()).name == "docs"
""",
}
# (a2) the same import + build for an https server URL (no request: there is no TLS server here). A plain-http
# (loopback) URL lets our client skip loading the CA bundle it could never use; against the real API it is paid.
HTTPS_PROGRAMS = {
    "pulumi_mistral.client, https URL": """
from pulumi_mistral.client import ConnectorsClient
t1 = time.perf_counter()
client = ConnectorsClient(api_key=os.environ["BENCH_KEY"], server_url="https://api.mistral.ai")
t2 = time.perf_counter()
""",
    "floor, https URL": """
import httpx, pydantic
t1 = time.perf_counter()
client = httpx.Client(base_url="https://api.mistral.ai", headers={"Authorization": "Bearer " + os.environ["BENCH_KEY"]})
t2 = time.perf_counter()
""",
}
WRAPPER = (
    "import os, sys, time, json\n{hide}t0 = time.perf_counter()\n{body}t3 = time.perf_counter()\n"
    "print(json.dumps([t1 - t0, t2 - t0, t3 - t0]))\n"
)
# `import httpx` also imports httpx's command-line interface when click, pygments and rich are installed. They are
# here (test and server tools bring them) but not in an install of the client: installing the package alone
# brings none of them. So the measured processes see them as absent, which is what `import` then finds (a None in
# sys.modules makes an import fail like a missing package). --with-dev-packages measures this environment as is.
NOT_INSTALLED_FOR_USERS = ("click", "pygments", "rich")


def fresh_process_costs(
    api: LocalServerProcess, runs: int, programs: dict[str, str], hidden: tuple[str, ...]
) -> dict[str, list[list[float]]]:
    """Per program, ``runs`` samples of [import, +build, +get] seconds, each in a fresh interpreter."""
    env = {**os.environ, "BENCH_URL": api.url, "BENCH_KEY": api.api_key}
    hide = "".join(f"sys.modules[{name!r}] = None\n" for name in hidden)
    samples: dict[str, list[list[float]]] = {label: [] for label in programs}
    for _ in range(runs):  # round-robin, so background load on the machine hits each program alike
        for label, body in programs.items():
            out = subprocess.run(
                [sys.executable, "-c", WRAPPER.format(hide=hide, body=body.lstrip("\n"))],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if out.returncode != 0:
                raise SystemExit(f"{label} failed: {out.stderr.strip()[-500:]}")
            samples[label].append(json.loads(out.stdout))
    return samples


def measure(call: Callable[[], Any], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def latency(api: LocalServerProcess, calls: int, warmup: int) -> dict[tuple[str, str], list[float]]:
    from mistralai.client import Mistral

    from pulumi_mistral.client import ConnectorsClient

    ours = ConnectorsClient(api_key=api.api_key, server_url=api.url)
    sdk = Mistral(api_key=api.api_key, server_url=api.url)
    operations: dict[tuple[str, str], Callable[[], Any]] = {
        ("get", "ours"): lambda: ours.get(NAME),
        ("get", "official"): lambda: sdk.beta.connectors.get(connector_id_or_name=NAME),
        ("list", "ours"): lambda: ours.list(),
        ("list", "official"): lambda: sdk.beta.connectors.list(),
    }
    results: dict[tuple[str, str], list[float]] = {}
    try:
        for call in operations.values():
            measure(call, warmup)
        blocks = 3  # alternate clients in blocks so drift (other load on the machine) hits both equally
        for _ in range(blocks):
            for key, call in operations.items():
                results.setdefault(key, []).extend(measure(call, calls // blocks))
    finally:
        ours.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per program")
    parser.add_argument("--calls", type=int, default=300, help="measured calls per operation and client")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument(
        "--with-dev-packages",
        action="store_true",
        help="let httpx import click, pygments and rich (installed here, not for users)",
    )
    args = parser.parse_args()
    hidden = () if args.with_dev_packages else NOT_INSTALLED_FOR_USERS

    with LocalServerProcess() as api:
        import httpx

        with httpx.Client(base_url=api.url, headers=api.headers()) as http:
            for i in range(10):  # a workspace with a few connectors, like a real one
                http.post(
                    "/v1/connectors",
                    json={
                        "name": NAME if i == 0 else f"c{i}",
                        "description": "Docs search",
                        "server": "https://mcp.example.com/mcp",
                        "headers": {"X-Org": "acme"},
                        "visibility": "private",
                    },
                ).raise_for_status()
        print(
            f"python {sys.version.split()[0]}; server: the local Connectors API (pulumi-mistral local, its own "
            f"process on 127.0.0.1)"
        )
        print(
            "fresh processes: "
            + (
                f"{', '.join(hidden)} hidden (not installed for users)"
                if hidden
                else "every package of this environment importable"
            )
        )
        costs = fresh_process_costs(api, args.runs, PROGRAMS, hidden)
        print(f"\n(a) whole cost in a fresh process: import + build a client + one get, {args.runs} runs")
        print(f"    {'':<36} {'median ms':>9} {'min ms':>7}   median of: {'import':>6} {'build':>6} {'get':>6}")
        medians: dict[str, float] = {}
        minima: dict[str, float] = {}
        for label, rows in costs.items():
            medians[label] = statistics.median(r[2] for r in rows)
            minima[label] = min(r[2] for r in rows)
            imp = statistics.median(r[0] for r in rows)
            build = statistics.median(r[1] - r[0] for r in rows)
            get = statistics.median(r[2] - r[1] for r in rows)
            print(
                f"    {label:<36} {medians[label] * 1000:9.1f} {minima[label] * 1000:7.1f}   "
                f"{'':>10} {imp * 1000:6.1f} {build * 1000:6.1f} {get * 1000:6.1f}"
            )
        ours, official, floor, floor_model = medians.values()
        ours_min, _, floor_min, _ = minima.values()
        verdict = "ok" if ours / floor <= 1.25 else "MISSED"
        print(
            f"    ours / floor: {ours / floor:.2f}x (target <= 1.25x: {verdict}; fastest runs: "
            f"{ours_min / floor_min:.2f}x); official / floor: {official / floor:.2f}x; "
            f"ours / official: {ours / official:.2f}x"
        )
        print(
            f"    floor + one pydantic model / floor: {floor_model / floor:.2f}x (what pydantic's BaseModel costs "
            "by itself)"
        )
        https = fresh_process_costs(api, args.runs, HTTPS_PROGRAMS, hidden)
        print(f"\n(a2) import + build a client for an https server URL (no request), median of {args.runs} runs")
        built = {}
        for label, rows in https.items():
            built[label] = statistics.median(r[1] for r in rows)
            print(f"    {label:<36} {built[label] * 1000:9.1f}")
        ours_tls, floor_tls = built.values()
        print(f"    ours / floor: {ours_tls / floor_tls:.2f}x (the CA bundle is loaded by both)")

        results = latency(api, args.calls, args.warmup)
    print(f"\n(b) latency per call against the local Connectors API server, {args.calls} calls")
    print(f"    {'':<32} {'mean us':>8} {'p50 us':>8}")
    for (op, who), samples in results.items():
        print(f"    {op:<5} {who:<26} {statistics.mean(samples) * 1e6:8.0f} {statistics.median(samples) * 1e6:8.0f}")
    for op in ("get", "list"):
        mine, theirs = results[(op, "ours")], results[(op, "official")]
        print(
            f"    {op}: ratio ours/official mean {statistics.mean(mine) / statistics.mean(theirs):.2f}x, "
            f"p50 {statistics.median(mine) / statistics.median(theirs):.2f}x (target <= 1.0x)"
        )
    extra = " --with-dev-packages" if args.with_dev_packages else ""
    print(f"\nreproduce: python bench/client.py --runs {args.runs} --calls {args.calls}{extra}")


if __name__ == "__main__":
    main()
