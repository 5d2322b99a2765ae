"""Benchmark of what each door's provider process pays before it can answer: start-up and first-call imports.

Run: `.venv/bin/python bench/imports.py [--runs 15] [--virtualenv DIR]`. Fresh processes of a virtualenv holding
only the package's runtime dependencies (built once per run from a copy of the sources, as in
`bench/engine.py`; `--virtualenv` uses an existing one), as a user's is. Medians of `--runs` processes each.

* Start to port: wall time from starting the plugin until it prints its port (the engine waits for that line);
  the bytecode of every module is cached, as in a user's virtualenv. The dynamic door's plugin is
  `python -u -m pulumi.dynamic`, for ours and its floor alike; the native door's is `pulumi-resource-mistral`
  (ours) against the no-op plugin of `bench/noop_native.py` (the floor).
* First call: CPU time a provider process spends on its first calls beyond serving them, in a process that has
  already imported what its servicer imports. Dynamic: unpickling the first `__provider` imports its module
  (`pulumi_mistral.provider`; the floor's no-op module); the first API call builds the client (importing its
  pydantic models and httpx); the first answer is parsed (pydantic builds the models' validators). Native: the
  plugin imports its provider before serving (so that is in "start to port"); its first API call builds the
  client and parses the first answer. The floors make no API call.

The biggest imports of the first call are listed from `python -X importtime` (inclusive microseconds; the
profiler inflates them). CPU time is measured in the child (`time.process_time`), so a busy machine moves it
far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from engine import BENCH, floor_plugin, user_virtualenv
from pulumi_mistral.testing.processes import spawn, stop_process

DUMMY_ENGINE = "127.0.0.1:1"  # neither servicer contacts the engine before its first call

# What `python -m pulumi.dynamic` imports, without serving: its module's source minus the final `main()` call.
SERVICER_IMPORTS = """\
import importlib.util
_spec = importlib.util.find_spec("pulumi.dynamic.__main__")
_source = _spec.loader.get_source(_spec.name)
assert _source.rstrip().endswith("main()"), "the dynamic servicer no longer ends with main()"
exec(compile(_source.rstrip()[: -len("main()")], _spec.origin, "exec"), {"__name__": "servicer"})
"""
NATIVE_IMPORTS = """\
from pulumi_mistral.plugin.provider import MistralProvider
from pulumi_mistral.plugin.server import EngineLog, engine_address, serve
"""
# Each step is timed in CPU milliseconds after the previous one; the steps run in order in one process.
TIMER = """\
import time as _time
_marks = []
def _mark(label, _last=[_time.process_time()]):
    now = _time.process_time()
    _marks.append((label, (now - _last[0]) * 1000))
    _last[0] = now
"""
CLIENT_STEPS = """\
from pulumi_mistral.lifecycle import ProcessState, Settings
_state = ProcessState()
_state.configure(Settings(api_key="k" * 32, server_url="http://127.0.0.1:9"))
_state.client()
_mark("the client built (its pydantic models, httpx)")
from pulumi_mistral.client.models import PaginatedConnectors
_page = {"items": [{"id": "c", "name": "n", "description": "d", "created_at": "2026-01-01T00:00:00.000001Z",
                    "modified_at": "2026-01-01T00:00:00.000001Z", "server": "https://mcp.example.com/mcp"}],
         "pagination": {"page_size": 1000, "next_cursor": None}}
PaginatedConnectors.model_validate(_page).items[0].model_dump(mode="json")
_mark("the first answer parsed (pydantic models built)")
"""
# (what the process has imported before, the timed steps)
DYNAMIC_OURS = (
    SERVICER_IMPORTS,
    """\
import pulumi_mistral.provider
_mark("import pulumi_mistral.provider (the first unpickle)")
"""
    + CLIENT_STEPS,
)
DYNAMIC_FLOOR = (
    SERVICER_IMPORTS,
    """\
import noop_dynamic
_mark("import the no-op provider's module (the first unpickle)")
""",
)
NATIVE_OURS = (NATIVE_IMPORTS, CLIENT_STEPS)
REPORT = "\nimport json as _json\nprint(_json.dumps(_marks))\n"
MARKER = "import sys as _sys\nprint('--- first call ---', file=_sys.stderr)\n"


def child_env() -> dict[str, str]:
    """This environment, but with bytecode caching on (as a user has it): PYTHONDONTWRITEBYTECODE removed."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def start_to_port(argv: list[str], cwd: Path) -> float:
    """Wall seconds from starting a plugin until its port line."""
    started = time.perf_counter()
    proc = spawn(argv, cwd=cwd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        if not line.strip().isdigit():
            raise RuntimeError(f"{argv[0]} printed {line!r}, not a port")
    finally:
        stop_process(proc)
    return elapsed


def first_call(python: Path, code: tuple[str, str], cwd: Path) -> list[tuple[str, float]]:
    """The CPU milliseconds of each timed step, in one fresh process."""
    setup, steps = code
    out = subprocess.run(
        [str(python), "-c", setup + TIMER + steps + REPORT],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [(str(label), float(ms)) for label, ms in json.loads(out.stdout.strip().splitlines()[-1])]


def medians(samples: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
    return [(label, statistics.median(run[i][1] for run in samples)) for i, (label, _) in enumerate(samples[0])]


def top_imports(python: Path, code: tuple[str, str], cwd: Path, count: int = 12) -> list[tuple[int, str]]:
    """The largest inclusive import times of the timed steps (python -X importtime), after the setup's."""
    setup, steps = code
    out = subprocess.run(
        [str(python), "-X", "importtime", "-c", setup + MARKER + TIMER + steps],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = out.stderr.split("--- first call ---", 1)[1].splitlines()
    rows = [
        (int(parts[1]), parts[2].rstrip())
        for line in lines
        if line.startswith("import time:") and (parts := line.split("|"))[1].strip().isdigit()
    ]
    return sorted(rows, reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="processes per measurement (the median is shown)")
    parser.add_argument(
        "--virtualenv",
        type=Path,
        default=None,
        help="the virtualenv to measure (default: a fresh one with the runtime dependencies only)",
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; fresh processes; median of {args.runs}")
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        root = Path(tmp)
        venv = args.virtualenv or user_virtualenv(root)
        python = venv / "bin" / "python"
        work = root / "work"
        work.mkdir()
        (work / "noop_dynamic.py").write_text((BENCH / "noop_dynamic.py").read_text())
        floor = floor_plugin(root, venv) / "pulumi-resource-mistral"
        ours = venv / "bin" / "pulumi-resource-mistral"
        dynamic = [str(python), "-u", "-m", "pulumi.dynamic", DUMMY_ENGINE]
        starts: dict[str, list[float]] = {"dynamic": [], "native floor": [], "native ours": []}
        calls: dict[str, list[list[tuple[str, float]]]] = {"dynamic floor": [], "dynamic ours": [], "native ours": []}
        for _ in range(args.runs):
            starts["dynamic"].append(start_to_port(dynamic, work))
            starts["native floor"].append(start_to_port([str(floor), DUMMY_ENGINE], work))
            starts["native ours"].append(start_to_port([str(ours), DUMMY_ENGINE], work))
            calls["dynamic floor"].append(first_call(python, DYNAMIC_FLOOR, work))
            calls["dynamic ours"].append(first_call(python, DYNAMIC_OURS, work))
            calls["native ours"].append(first_call(python, NATIVE_OURS, work))
        start = {k: statistics.median(v) * 1000 for k, v in starts.items()}
        first = {k: medians(v) for k, v in calls.items()}
        total = {k: sum(ms for _, ms in v) for k, v in first.items()}

        print("\ndynamic door (python -m pulumi.dynamic)")
        print(f"  start to port, ours and floor alike                          wall {start['dynamic']:6.1f} ms")
        for label, ms in first["dynamic floor"]:
            print(f"  floor, first call: {label:<58} CPU {ms:6.1f} ms")
        for label, ms in first["dynamic ours"]:
            print(f"  ours, first calls: {label:<58} CPU {ms:6.1f} ms")
        print(
            f"  ours, first calls in all: CPU {total['dynamic ours']:.1f} ms, against the floor's "
            f"{total['dynamic floor']:.1f} ms; with the start: ours / floor "
            f"{(start['dynamic'] + total['dynamic ours']) / (start['dynamic'] + total['dynamic floor']):.2f}x"
        )
        print("\nnative door (pulumi-resource-mistral)")
        print(f"  floor plugin (bench/noop_native.py), start to port             wall {start['native floor']:6.1f} ms")
        print(
            f"  ours, start to port                                            wall {start['native ours']:6.1f} ms"
            f"   ours / floor {start['native ours'] / start['native floor']:.2f}x"
        )
        for label, ms in first["native ours"]:
            print(f"  ours, first API call: {label:<55} CPU {ms:6.1f} ms")
        print(
            f"  ours, start to port + first API call: about "
            f"{start['native ours'] + total['native ours']:.0f} ms against the floor's {start['native floor']:.0f} ms"
            f": {(start['native ours'] + total['native ours']) / start['native floor']:.2f}x"
        )
        for title, code in (
            ("dynamic, ours: the first calls", DYNAMIC_OURS),
            ("native, ours: the first API call", NATIVE_OURS),
        ):
            print(f"\nlargest imports of {title} (python -X importtime, inclusive us):")
            for micros, name in top_imports(python, code, work):
                print(f"  {micros:>8}  {name}")
    print(
        textwrap.dedent(f"""
        reproduce: python bench/imports.py --runs {args.runs}""")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
