"""Benchmark of the real engine: `pulumi up`, `refresh` and `destroy` of N connectors against the engine's floor.

Run: `.venv/bin/python bench/engine.py [--sizes 1 50 200] [--latency-ms 0 20]`. Needs the Pulumi CLI that
`make install` builds. Each command is a fresh `pulumi` process, as a user runs it, against
`pulumi-mistral local` in its own process. In the same run the same stacks are deployed with a no-op dynamic
provider (create, read and delete return at once, nothing is sent anywhere): that is the engine's own floor
(program, plugin start, gRPC, state), so `ours / floor` is what our provider adds. `--latency-ms` adds that
much latency to every API request with the local server's latency rule (a loopback request costs about 1 ms;
no real API does). API requests are counted from the server's request log.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
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
NOOP_MODULE = '''\
"""A dynamic provider that does nothing: the engine's own cost of a dynamic resource."""

import uuid

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


class NoopProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props):
        return CreateResult(str(uuid.uuid4()), {k: v for k, v in props.items() if k != "__provider"})

    def diff(self, _id, olds, news):
        return DiffResult(changes=False, replaces=[], delete_before_replace=False)

    def read(self, id_, props):
        outs = {k: v for k, v in props.items() if k != "__provider"}
        return ReadResult(id_, outs, outs)

    def delete(self, id_, props):
        return None


class Noop(Resource, module="noop", name="Noop"):
    def __init__(self, resource_name, **props):
        super().__init__(NoopProvider(), resource_name, props)
'''


def project(root: Path, name: str, program: str, extra: dict[str, str] | None = None) -> Path:
    path = root / name
    path.mkdir()
    (path / "Pulumi.yaml").write_text(f"name: {name}\nruntime:\n  name: python\n  options:\n"
                                      f"    toolchain: pip\n    virtualenv: {sys.prefix}\n")
    (path / "__main__.py").write_text(program)
    for file, text in (extra or {}).items():
        (path / file).write_text(text)
    return path


def run_once(pulumi: Path, path: Path, api: LocalServerProcess, count: int) -> dict[str, tuple[float, int]]:
    """Wall seconds and API requests of up, refresh and destroy of one fresh stack."""
    results: dict[str, tuple[float, int]] = {}
    with CliStack(path, config={**api.config(), "bench:count": str(count)}, pulumi=pulumi, copy=False,
                  workdir=tempfile.mkdtemp(prefix="bench-engine-")) as stack:
        for op in OPS:
            api.clear_requests()
            started = time.perf_counter()
            {"up": stack.up, "refresh": stack.refresh, "destroy": stack.destroy}[op]()
            results[op] = (time.perf_counter() - started, len(api.requests()))
        stack.run("stack", "rm", "--yes")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--runs", type=int, default=3, help="runs per size (the median is shown)")
    args = parser.parse_args()
    pulumi = find_pulumi()
    if pulumi is None:
        print("the Pulumi CLI is not installed: run `make install` (it builds the pinned CLI when Go is there)")
        return 1

    cli_version = subprocess.run([str(pulumi), "version"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"pulumi {cli_version}; python {sys.version.split()[0]}; median of {args.runs} runs; "
          "each command a fresh process")
    with tempfile.TemporaryDirectory(prefix="bench-engine-projects-") as tmp, LocalServerProcess() as api:
        ours = project(Path(tmp), "connectors", CONNECTORS_PROGRAM)
        floor = project(Path(tmp), "floor", FLOOR_PROGRAM, {"noop.py": NOOP_MODULE})
        rows: list[dict[str, Any]] = []
        for latency in args.latency_ms:
            api.reset()
            if latency:
                api.set_latency(latency)
            for count in args.sizes:
                samples: dict[str, dict[str, list[tuple[float, int]]]] = {"ours": {}, "floor": {}}
                for _ in range(args.runs):
                    for label, path in (("floor", floor), ("ours", ours)):
                        for op, value in run_once(pulumi, path, api, count).items():
                            samples[label].setdefault(op, []).append(value)
                for op in OPS:
                    t_ours = statistics.median(s[0] for s in samples["ours"][op])
                    t_floor = statistics.median(s[0] for s in samples["floor"][op])
                    requests = max(s[1] for s in samples["ours"][op])
                    rows.append({"latency": latency, "n": count, "op": op, "ours": t_ours, "floor": t_floor,
                                 "requests": requests})
                    print(f"  latency {latency:>4.0f} ms  n={count:<4} {op:<8} ours {t_ours:6.2f} s   floor "
                          f"{t_floor:6.2f} s   ratio {t_ours / t_floor:4.2f}x (target <= {TARGETS[op]}x)   "
                          f"API requests {requests}", flush=True)
        print()
        print(textwrap.dedent("""\
            | API latency | connectors | command | ours | floor (no-op provider) | ours / floor | API requests |
            |---|---|---|---|---|---|---|"""))
        for r in rows:
            print(f"| {r['latency']:.0f} ms | {r['n']} | `pulumi {r['op']}` | {r['ours']:.2f} s | {r['floor']:.2f} s | "
                  f"{r['ours'] / r['floor']:.2f}x (target <= {TARGETS[r['op']]}x) | {r['requests']} |")
        big = [r for r in rows if r["op"] == "refresh" and r["n"] >= 200]
        for r in big:
            print(f"refresh of {r['n']} connectors at {r['latency']:.0f} ms: {r['requests']} API requests "
                  "(target <= 10)")
    print(f"\nreproduce: python bench/engine.py --sizes {' '.join(map(str, args.sizes))} "
          f"--latency-ms {' '.join(f'{v:g}' for v in args.latency_ms)} --runs {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
