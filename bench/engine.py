"""Benchmark of the real engine, both doors: `pulumi up`, `refresh` and `destroy` of N connectors against a floor.

Run: `.venv/bin/python bench/engine.py [--sizes 1 50 200] [--latency-ms 20] [--runs 5] [--doors dynamic native]`.
Needs the Pulumi CLI that `make install` builds. Each command is a fresh `pulumi` process, as a user runs it,
against `pulumi-mistral local` in its own process, with `--latency-ms` added to every API request by the local
server's latency rule (a loopback request costs about 1 ms; no real API does). API requests are counted by the
server. Targets at 200 connectors, each door against its own floor: `up`, `refresh` and `destroy` within 1.2x,
and a refresh in at most 10 API requests.

The doors and their floors (each floor measured in the same run, back to back with what it is the floor of,
alternating which goes first):

* dynamic: `pulumi_mistral.Connector`, served by `python -m pulumi.dynamic`, which imports our package when it
  unpickles the first `__provider`. Its floor is the same program on a no-op dynamic provider
  (`bench/noop_dynamic.py`, next to the program): same properties, same state size, nothing sent anywhere. That
  is the engine's own cost of a dynamic resource (program, plugin start, gRPC, state).
* native: `pulumi_mistral.native.Connector` (`mistral:index:Connector`), served by the `pulumi-resource-mistral`
  that the project's `plugins.providers` entry finds in the virtualenv's bin directory. Its floor is the SAME
  program, SDK and token, the entry pointing instead at a directory holding a `pulumi-resource-mistral` that is
  `bench/noop_native.py`: a no-op `pulumi.provider.experimental` provider on the SDK's stock servicer, run by the
  same interpreter. Why this floor: with the same token and SDK, the program, its registrations, the default
  provider resource and the state are identical, so the plugin process is the only difference; and the floor's
  plugin pays what any Python native plugin pays (the interpreter, the SDK's servicer, gRPC) and none of ours
  (no lifecycle, no client, no API). A floor under another package name would need a second SDK and another
  program; a floor written in Go would hide the cost of Python itself, which no Python plugin avoids.

What a user pays: the programs and plugins run in a virtualenv holding only the package's runtime dependencies,
built once per run from a copy of the sources (`--virtualenv` uses an existing one), with bytecode caching on
(`PYTHONDONTWRITEBYTECODE` is dropped for the commands). One untimed deployment of one connector per project
warms the caches first. `ours / floor` is the median of the per-run ratios. Each command's CPU time is shown
too: its process tree's (CLI, language host, program, plugins), and the local API server's, which a real API
would not take from the user's machine. CPU time moves far less than wall time on a busy machine, so it tells
what our provider costs when the wall times are noisy. "The API alone" is the API's own time for the same
requests (raw httpx, 4 at a time, same server) in the same run: where it overlaps the engine's own work,
`added` can be smaller than it.

Everything runs in one temporary directory, removed at the end; every command runs in a process group of its
own, stopped with it; the local server is stopped at the end; SIGTERM unwinds like Ctrl-C; and any process still
running below this one at the end is listed and killed, and the run fails.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_mistral._version import __version__
from pulumi_mistral.testing.local_process import LocalServerProcess
from pulumi_mistral.testing.processes import adopt_orphans, end_processes, leftover_processes
from pulumi_mistral.testing.pulumi_cli import CliStack, find_pulumi

OPS = ("up", "refresh", "destroy")
TARGET_RATIO = 1.2  # every command, both doors, at TARGET_SIZE connectors
TARGET_SIZE = 200
TARGET_REFRESH_REQUESTS = 10
DOORS = ("dynamic", "native")
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKERS = 4  # the dynamic provider's gRPC server runs at most 4 calls at once
# Python caches bytecode as a user's does (the floor's noop.py and the programs too), whatever this shell says.
USER_ENV: dict[str, str | None] = {"PYTHONDONTWRITEBYTECODE": None}

DYNAMIC_PROGRAM = """\
import pulumi
from pulumi_mistral import Connector

count = pulumi.Config("bench").require_int("count")
for i in range(count):
    Connector(f"c{i}", name=f"bench-{i}", description=f"Connector {i}", server="https://mcp.example.com/mcp")
"""

DYNAMIC_FLOOR_PROGRAM = """\
import pulumi
from noop import Noop

count = pulumi.Config("bench").require_int("count")
for i in range(count):
    Noop(f"c{i}", name=f"bench-{i}", description=f"Connector {i}", server="https://mcp.example.com/mcp")
"""

# The native door's program, for ours and for its floor alike (only the plugin's directory differs).
NATIVE_PROGRAM = """\
import pulumi
from pulumi_mistral import native as mistral

count = pulumi.Config("bench").require_int("count")
for i in range(count):
    mistral.Connector(f"c{i}", name=f"bench-{i}", description=f"Connector {i}", server="https://mcp.example.com/mcp")
"""


@dataclass(frozen=True)
class Project:
    door: str
    label: str  # "ours" or "floor"
    path: Path


def user_virtualenv(root: Path) -> Path:
    """A virtualenv with the package and its runtime dependencies only, as `pip install` gives a user.

    It is installed from a copy of the sources, so the build writes nothing into the repository."""
    print("building a virtualenv with the runtime dependencies only (what a user installs) ...", flush=True)
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "provider", source / "provider", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    )
    venv = root / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(source)], check=True)
    shutil.rmtree(source)
    return venv


def floor_plugin(root: Path, venv: Path) -> Path:
    """A directory holding the native floor's `pulumi-resource-mistral`: `bench/noop_native.py` as a script run
    by the virtualenv's interpreter, as the console script of ours is."""
    directory = root / "floor-plugin"
    directory.mkdir()
    text = (BENCH / "noop_native.py").read_text()
    versioned = text.replace('VERSION = "0.0.0"', f'VERSION = "{__version__}"', 1)
    if versioned == text:
        raise RuntimeError('bench/noop_native.py no longer sets VERSION = "0.0.0"')
    script = directory / "pulumi-resource-mistral"
    script.write_text(f"#!{venv / 'bin' / 'python'}\n{versioned}")
    script.chmod(0o755)
    return directory


def project(
    root: Path,
    name: str,
    program: str,
    venv: Path,
    *,
    plugin_dir: Path | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    path = root / name
    path.mkdir()
    yaml = f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {venv}\n"
    if plugin_dir is not None:
        yaml += f"plugins:\n  providers:\n    - name: mistral\n      path: {plugin_dir}\n"
    (path / "Pulumi.yaml").write_text(yaml)
    (path / "__main__.py").write_text(program)
    for file, text in (extra or {}).items():
        (path / file).write_text(text)
    return path


def projects(root: Path, venv: Path, doors: list[str]) -> list[Project]:
    found: list[Project] = []
    if "dynamic" in doors:
        noop = (BENCH / "noop_dynamic.py").read_text()
        found += [
            Project(
                "dynamic", "floor", project(root, "floor-dynamic", DYNAMIC_FLOOR_PROGRAM, venv, extra={"noop.py": noop})
            ),
            Project("dynamic", "ours", project(root, "connectors-dynamic", DYNAMIC_PROGRAM, venv)),
        ]
    if "native" in doors:
        found += [
            Project(
                "native",
                "floor",
                project(root, "floor-native", NATIVE_PROGRAM, venv, plugin_dir=floor_plugin(root, venv)),
            ),
            Project(
                "native", "ours", project(root, "connectors-native", NATIVE_PROGRAM, venv, plugin_dir=venv / "bin")
            ),
        ]
    return found


@dataclass(frozen=True)
class Sample:
    """One command: wall seconds, CPU seconds of its process tree (CLI, language host, program, plugins) and of
    the local API server, and the API requests it made."""

    wall: float
    cpu: float
    server_cpu: float
    requests: int


def children_cpu() -> float:
    """CPU seconds of the waited-for children of this process (a command's whole tree, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds of a running process (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(pulumi: Path, path: Path, api: LocalServerProcess, count: int) -> dict[str, Sample]:
    """Up, refresh and destroy of one fresh stack."""
    results: dict[str, Sample] = {}
    # The stack's own workspace (backend, PULUMI_HOME) is removed when it closes; the project is shared, so the
    # stack's Pulumi.<stack>.yaml is removed with `stack rm`.
    with CliStack(
        path, config={**api.config(), "bench:count": str(count)}, pulumi=pulumi, copy=False, env=USER_ENV
    ) as stack:
        commands: dict[str, Callable[[], Any]] = {"up": stack.up, "refresh": stack.refresh, "destroy": stack.destroy}
        for op in OPS:
            api.controls().clear_requests()
            cpu, server_cpu = children_cpu(), process_cpu(api.proc.pid)
            started = time.perf_counter()
            commands[op]()
            wall = time.perf_counter() - started
            results[op] = Sample(
                wall, children_cpu() - cpu, process_cpu(api.proc.pid) - server_cpu, api.controls().request_total()
            )
        stack.run("stack", "rm", "--yes")
    return results


def api_seconds(api: LocalServerProcess, count: int) -> dict[str, float]:
    """The API's own time for the requests each command makes: raw httpx, 4 at a time, same server."""
    import httpx

    with httpx.Client(base_url=api.url, headers=api.headers(), timeout=60) as http, ThreadPoolExecutor(WORKERS) as pool:

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


def verdict(row: dict[str, Any]) -> str:
    if row["n"] < TARGET_SIZE:
        return "(no target)"
    ok = row["ratio"] <= TARGET_RATIO
    return f"(target <= {TARGET_RATIO}x: {'met' if ok else 'MISSED'})"


def measure(
    pulumi: Path, api: LocalServerProcess, found: list[Project], latency: float, count: int, runs: int
) -> list[dict[str, Any]]:
    """Every project `runs` times (ours and its floor back to back, alternating which goes first)."""
    samples: dict[tuple[str, str, str], list[Sample]] = {}
    raw: dict[str, list[float]] = {}
    for run in range(runs):
        for door in dict.fromkeys(p.door for p in found):
            pair = [p for p in found if p.door == door]
            for item in pair if run % 2 == 0 else pair[::-1]:
                for op, value in run_once(pulumi, item.path, api, count).items():
                    samples.setdefault((door, item.label, op), []).append(value)
        for op, seconds in api_seconds(api, count).items():
            raw.setdefault(op, []).append(seconds)
    rows: list[dict[str, Any]] = []
    for door in dict.fromkeys(p.door for p in found):
        for op in OPS:
            ours, floor = samples[(door, "ours", op)], samples[(door, "floor", op)]
            row = {
                "door": door,
                "latency": latency,
                "n": count,
                "op": op,
                "ours": statistics.median(s.wall for s in ours),
                "floor": statistics.median(s.wall for s in floor),
                "ratio": statistics.median(o.wall / f.wall for o, f in zip(ours, floor, strict=True)),
                "cpu": statistics.median(s.cpu for s in ours),
                "floor_cpu": statistics.median(s.cpu for s in floor),
                "server_cpu": statistics.median(s.server_cpu for s in ours),
                "api": statistics.median(raw[op]),
                "requests": max(s.requests for s in ours),
                "floor_requests": max(s.requests for s in floor),
            }
            rows.append(row)
            print(
                f"  {door:<7}  latency {latency:>4.0f} ms  n={count:<4} {op:<8} ours {row['ours']:6.2f} s   "
                f"floor {row['floor']:6.2f} s   ratio {row['ratio']:4.2f}x {verdict(row)}   "
                f"added {row['ours'] - row['floor']:5.2f} s   the API alone {row['api']:5.2f} s   "
                f"API requests {row['requests']}   CPU ours {row['cpu']:5.2f} s floor {row['floor_cpu']:5.2f} s "
                f"(the local API server {row['server_cpu']:4.2f} s)",
                flush=True,
            )
            if row["floor_requests"]:
                print(f"  the {door} floor sent {row['floor_requests']} API requests: it must send none", flush=True)
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """The Markdown table, and the refresh request counts against their target."""
    print(
        "\n| door | API latency | connectors | command | ours | floor | ours / floor | added | the API alone | "
        "API requests | CPU ours / floor (the local API) |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['door']} | {r['latency']:.0f} ms | {r['n']} | `pulumi {r['op']}` | {r['ours']:.2f} s | "
            f"{r['floor']:.2f} s | {r['ratio']:.2f}x {verdict(r)} | {r['ours'] - r['floor']:.2f} s | "
            f"{r['api']:.2f} s | {r['requests']} | {r['cpu']:.2f} s / {r['floor_cpu']:.2f} s "
            f"({r['server_cpu']:.2f} s) |"
        )
    for r in rows:
        if r["n"] >= TARGET_SIZE and r["op"] == "refresh":
            ok = r["requests"] <= TARGET_REFRESH_REQUESTS
            print(
                f"{r['door']}: refresh of {r['n']} connectors at {r['latency']:.0f} ms: {r['requests']} API "
                f"requests (target <= {TARGET_REFRESH_REQUESTS}: {'met' if ok else 'MISSED'})"
            )
    print(
        f"\nreproduce: python bench/engine.py --sizes {' '.join(map(str, args.sizes))} "
        f"--latency-ms {' '.join(f'{v:g}' for v in args.latency_ms)} --runs {args.runs} "
        f"--doors {' '.join(args.doors)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[20.0])
    parser.add_argument("--runs", type=int, default=5, help="runs per size (medians are shown)")
    parser.add_argument("--doors", nargs="+", choices=DOORS, default=list(DOORS))
    parser.add_argument(
        "--virtualenv",
        type=Path,
        default=None,
        help="the virtualenv for the programs and providers (default: a fresh one with the runtime dependencies only)",
    )
    args = parser.parse_args()
    pulumi = find_pulumi()
    if pulumi is None:
        print("the Pulumi CLI is not installed: run `make install` (it builds the pinned CLI when Go is there)")
        return 1
    # SIGTERM unwinds like Ctrl-C, so every `with` below still stops its processes and removes its directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    adopt_orphans()  # a plugin whose parent died stays below us, where the check at the end finds it
    cli_version = subprocess.run([str(pulumi), "version"], capture_output=True, text=True, check=True).stdout.strip()
    print(
        f"pulumi {cli_version}; python {sys.version.split()[0]}; median of {args.runs} runs; "
        "each command a fresh process"
    )
    valid = False
    try:
        with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp, LocalServerProcess() as api:
            venv = args.virtualenv or user_virtualenv(Path(tmp))
            found = projects(Path(tmp), venv, args.doors)
            print("warming up (one untimed deployment of one connector per project) ...", flush=True)
            for item in found:  # compiles each project's modules and fills the OS caches, for ours and floors alike
                run_once(pulumi, item.path, api, 1)
            rows: list[dict[str, Any]] = []
            for latency in args.latency_ms:
                api.controls().reset()
                api.controls().set_latency(latency)
                for count in args.sizes:
                    rows += measure(pulumi, api, found, latency, count, args.runs)
            report(rows, args)
            valid = not any(r["floor_requests"] for r in rows)
    finally:
        leftovers = leftover_processes()
        if leftovers:
            print(f"{len(leftovers)} process(es) left running by the benchmark, now killed:", file=sys.stderr)
            for leftover in leftovers:
                print(f"  pid {leftover.pid}: {leftover.command}", file=sys.stderr)
            end_processes(p.pid for p in leftovers)
            valid = False
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
