"""Benchmark of the real engine: `pulumi up`, `refresh` and `destroy` of N connectors against the engine's floor.

Run: `.venv/bin/python bench/engine.py [--sizes 1 50 200] [--latency-ms 0 20]`. Needs the Pulumi CLI that
`make install` builds. Each command is a fresh `pulumi` process, as a user runs it, against
`pulumi-mistral local` in its own process. In the same run the same stacks are deployed with a no-op dynamic
provider (create, read and delete return at once, nothing is sent anywhere; same properties, same state
size): that is the engine's own floor (program, plugin start, gRPC, state), so `ours / floor` is what our
provider adds. `--latency-ms` adds that much latency to every API request with the local server's latency
rule (a loopback request costs about 1 ms; no real API does). API requests are counted by the server.

What a user pays: the program and the provider run in a virtualenv holding only the package's runtime
dependencies (built once per run; `--virtualenv` uses an existing one), not the test tools of `.venv`. The API's
own time for the same requests (raw httpx, 4 at a time like the engine's dynamic provider) is measured in the
same run: `ours - floor` is everything our provider adds, and the part of it that is not waiting for the API is
the provider's own work (where the API's time overlaps the engine's own, `ours - floor` can be the smaller).
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pulumi_mistral.testing.local_process import LocalServerProcess
from pulumi_mistral.testing.pulumi_cli import CliStack, find_pulumi

OPS = ("up", "refresh", "destroy")
TARGETS = {"up": 1.3, "refresh": 1.2, "destroy": 1.3}

CONNECTORS_PROGRAM = """\
import pulumi
from pulumi_mistral import Connector

count = pulumi.Config("bench").require_int("count")
for i in range(count):
    Connector(f"c{i}", name=f"bench-{i}", description=f"Connector {i}", server="https://mcp.example.com/mcp")
"""

FLOOR_PROGRAM = """\
import pulumi
from noop import Noop

count = pulumi.Config("bench").require_int("count")
for i in range(count):
    Noop(f"c{i}", name=f"bench-{i}", description=f"Connector {i}", server="https://mcp.example.com/mcp")
"""

# The floor's provider: a module next to the program, so it is pickled by reference (as ConnectorProvider is).
# Its resource registers the same properties as a Connector, and its create and read return outputs of the same
# shape (the output-only fields with fixed values), so both stacks hold state of the same size: the ratio is then
# what our provider does (HTTP, the client, validation, diff), not how much state the engine moves.
NOOP_MODULE = '''\
"""A dynamic provider that does nothing: the engine's own cost of a Connector-shaped dynamic resource."""

import uuid

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

INPUTS = ("name", "description", "server", "icon_url", "visibility", "headers", "auth_data", "system_prompt",
          "connection_config", "connection_secrets", "adopt", "tool_pins", "tool_drift")
OUTPUT_ONLY = ("connector_id", "created_at", "modified_at", "auth_type", "tool_names", "tools", "tools_fingerprint",
               "tool_definitions")
STAMP = "2026-01-01T00:00:00.000000Z"


def _outputs(id_, props):
    outs = {k: v for k, v in props.items() if k != "__provider" and v is not None}
    outs.update(connector_id=id_, created_at=STAMP, modified_at=STAMP, auth_type="none", tool_names=[],
                visibility=outs.get("visibility") or "shared_workspace")
    return outs


class NoopProvider(ResourceProvider):
    serialize_as_secret_always = False

    def check(self, olds, news):
        return CheckResult(news, [])

    def create(self, props):
        id_ = str(uuid.uuid4())
        return CreateResult(id_, _outputs(id_, props))

    def diff(self, _id, olds, news):
        return DiffResult(changes=False, replaces=[], delete_before_replace=False)

    def read(self, id_, props):
        outs = _outputs(id_, props)
        return ReadResult(id_, outs, {k: v for k, v in outs.items() if k in INPUTS})

    def delete(self, id_, props):
        return None


class Noop(Resource, module="noop", name="Noop"):
    def __init__(self, resource_name, **given):
        props = dict.fromkeys(INPUTS + OUTPUT_ONLY)
        props.update(given)
        super().__init__(NoopProvider(), resource_name, props)
'''


REPO = Path(__file__).resolve().parents[1]
WORKERS = 4  # the dynamic provider's gRPC server runs at most 4 calls at once


def user_virtualenv(root: Path) -> Path:
    """A virtualenv with the package and its runtime dependencies only, as `pip install` gives a user."""
    venv = root / "user-venv"
    print("building a virtualenv with the runtime dependencies only (what a user installs) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(REPO)], check=True)
    return venv


def project(root: Path, name: str, program: str, venv: Path, extra: dict[str, str] | None = None) -> Path:
    path = root / name
    path.mkdir()
    (path / "Pulumi.yaml").write_text(f"name: {name}\nruntime:\n  name: python\n  options:\n"
                                      f"    toolchain: pip\n    virtualenv: {venv}\n")
    (path / "__main__.py").write_text(program)
    for file, text in (extra or {}).items():
        (path / file).write_text(text)
    return path


def run_once(pulumi: Path, path: Path, api: LocalServerProcess, count: int) -> dict[str, tuple[float, int]]:
    """Wall seconds and API requests of up, refresh and destroy of one fresh stack."""
    results: dict[str, tuple[float, int]] = {}
    # The stack's own workspace (backend, PULUMI_HOME) is removed when it closes; the project is shared, so the
    # stack's Pulumi.<stack>.yaml is removed with `stack rm`.
    with CliStack(path, config={**api.config(), "bench:count": str(count)}, pulumi=pulumi, copy=False) as stack:
        for op in OPS:
            api.clear_requests()
            started = time.perf_counter()
            {"up": stack.up, "refresh": stack.refresh, "destroy": stack.destroy}[op]()
            results[op] = (time.perf_counter() - started, api.request_total())
        stack.run("stack", "rm", "--yes")
    return results


def api_seconds(api: LocalServerProcess, count: int) -> dict[str, float]:
    """The API's own time for the requests each command makes: raw httpx, 4 at a time, same server."""
    import httpx

    with httpx.Client(base_url=api.url, headers=api.headers(), timeout=60) as http, \
            ThreadPoolExecutor(WORKERS) as pool:
        def create(i: int) -> str:
            body = {"name": f"raw-{i}", "description": f"Connector {i}", "server": "https://mcp.example.com/mcp"}
            return str(http.post("/v1/connectors", json=body).raise_for_status().json()["id"])

        started = time.perf_counter()
        ids = list(pool.map(create, range(count)))
        up = time.perf_counter() - started
        # A refresh reads one by one until 8 distinct reads make a burst, then lists (page size 1000).
        singles = ids if count < 8 else ids[:7]
        started = time.perf_counter()
        list(pool.map(lambda i: http.get(f"/v1/connectors/{i}").raise_for_status(), singles))
        if count >= 8:
            for _page in range(math.ceil(count / 1000)):
                http.get("/v1/connectors", params={"page_size": 1000}).raise_for_status()
        refresh = time.perf_counter() - started
        started = time.perf_counter()
        list(pool.map(lambda i: http.delete(f"/v1/connectors/{i}").raise_for_status(), ids))
        destroy = time.perf_counter() - started
    return {"up": up, "refresh": refresh, "destroy": destroy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--runs", type=int, default=3, help="runs per size (the median is shown)")
    parser.add_argument("--virtualenv", type=Path, default=None,
                        help="the virtualenv for the programs and providers (default: a fresh one with the runtime "
                             "dependencies only)")
    args = parser.parse_args()
    pulumi = find_pulumi()
    if pulumi is None:
        print("the Pulumi CLI is not installed: run `make install` (it builds the pinned CLI when Go is there)")
        return 1

    cli_version = subprocess.run([str(pulumi), "version"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"pulumi {cli_version}; python {sys.version.split()[0]}; median of {args.runs} runs; "
          "each command a fresh process")
    with tempfile.TemporaryDirectory(prefix="bench-engine-projects-") as tmp, LocalServerProcess() as api:
        venv = args.virtualenv or user_virtualenv(Path(tmp))
        ours = project(Path(tmp), "connectors", CONNECTORS_PROGRAM, venv)
        floor = project(Path(tmp), "floor", FLOOR_PROGRAM, venv, {"noop.py": NOOP_MODULE})
        rows: list[dict[str, Any]] = []
        for latency in args.latency_ms:
            api.reset()
            if latency:
                api.set_latency(latency)
            for count in args.sizes:
                samples: dict[str, dict[str, list[tuple[float, int]]]] = {"ours": {}, "floor": {}}
                raw: dict[str, list[float]] = {}
                for _ in range(args.runs):
                    for label, path in (("floor", floor), ("ours", ours)):
                        for op, value in run_once(pulumi, path, api, count).items():
                            samples[label].setdefault(op, []).append(value)
                    for op, seconds in api_seconds(api, count).items():
                        raw.setdefault(op, []).append(seconds)
                for op in OPS:
                    t_ours = statistics.median(s[0] for s in samples["ours"][op])
                    t_floor = statistics.median(s[0] for s in samples["floor"][op])
                    t_api = statistics.median(raw[op])
                    requests = max(s[1] for s in samples["ours"][op])
                    rows.append({"latency": latency, "n": count, "op": op, "ours": t_ours, "floor": t_floor,
                                 "api": t_api, "requests": requests})
                    print(f"  latency {latency:>4.0f} ms  n={count:<4} {op:<8} ours {t_ours:6.2f} s   floor "
                          f"{t_floor:6.2f} s   ratio {t_ours / t_floor:4.2f}x (target <= {TARGETS[op]}x)   "
                          f"added {t_ours - t_floor:5.2f} s   the API alone {t_api:5.2f} s   "
                          f"API requests {requests}", flush=True)
        print()
        print(textwrap.dedent("""\
            | API latency | connectors | command | ours | floor (no-op provider) | ours / floor | added | \
the API alone | API requests |
            |---|---|---|---|---|---|---|---|---|"""))
        for r in rows:
            print(f"| {r['latency']:.0f} ms | {r['n']} | `pulumi {r['op']}` | {r['ours']:.2f} s | {r['floor']:.2f} s | "
                  f"{r['ours'] / r['floor']:.2f}x (target <= {TARGETS[r['op']]}x) | {r['ours'] - r['floor']:.2f} s | "
                  f"{r['api']:.2f} s | {r['requests']} |")
        big = [r for r in rows if r["op"] == "refresh" and r["n"] >= 200]
        for r in big:
            print(f"refresh of {r['n']} connectors at {r['latency']:.0f} ms: {r['requests']} API requests "
                  "(target <= 10)")
    print(f"\nreproduce: python bench/engine.py --sizes {' '.join(map(str, args.sizes))} "
          f"--latency-ms {' '.join(f'{v:g}' for v in args.latency_ms)} --runs {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
