"""`pulumi-mistral local` stops on SIGINT and SIGTERM at any moment of its life, and a second signal ends it at once.

Real processes. Each trial starts the command and sends one signal after a random delay: from the first
milliseconds (the interpreter starting) through the imports, the app's construction, uvicorn's start-up and
lifespan, to serving. Whether the command's own handler was installed when the signal left is read from
/proc/PID/status (only that handler catches SIGTERM), so each trial knows what to expect:

* handler installed: exit 0 within a few seconds, and a server that had started went through its lifespan
  shutdown (the store closed);
* not yet (the interpreter's own start-up, before ``run``): the default action, promptly: killed by the signal;
  for SIGINT a KeyboardInterrupt (killed by SIGINT too, or exit 1 when CPython's own start-up is interrupted:
  its initialisation, or the import of runpy for ``-m``). A KeyboardInterrupt that CPython reports as
  "Exception ignored" (raised inside a weakref callback or a finalizer) is lost by the interpreter before any of
  our code runs: such a trial is stopped and counted, not failed, as it is outside what the command can see
  (see the docstring of pulumi_mistral/local/server.py).
"""

from __future__ import annotations

import os
import random
import re
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pulumi_mistral.local.server import _uvicorn_server
from pulumi_mistral.testing.local_process import LocalServerProcess, local_command
from pulumi_mistral.testing.processes import has_exited, spawn, stop_process

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status (Linux)")

EXIT_BOUND_S = 5.0  # from the signal to the exit, plus 3x a plain stop measured at the start (the load)
MIN_SPREAD_S = 2.0  # delays are spread over at least 0-2 s, more if the start-up takes longer
PARALLEL = 3
SIGNALS = (signal.SIGINT, signal.SIGTERM)
CPYTHON_START_UP_FAILURES = ("Fatal Python error", "Could not import runpy")  # exit 1 on a KeyboardInterrupt


def _catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (the SigCgt mask of /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    match = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)
    return bool(match and int(match.group(1), 16) & (1 << (signum - 1)))


def _command(db: Path) -> list[str]:
    return local_command(0, db, log_level="info")


def _env(key: str) -> dict[str, str]:
    return {**os.environ, "PULUMI_MISTRAL_LOCAL_API_KEYS": key}


@dataclass
class Trial:
    signum: int
    delay: float
    installed: bool  # the command's handler was there when the signal was sent
    code: int | None  # None: still running `bound` s after the signal (then stopped)
    bound: float
    elapsed: float
    out: str
    err: str

    @property
    def serving(self) -> bool:
        return "Uvicorn running on" in self.err

    def problem(self) -> str | None:
        """What is wrong with this trial, or None."""
        name = signal.Signals(self.signum).name
        where = f"{name} after {self.delay:.3f}s (handler {'installed' if self.installed else 'not yet'})"
        tail = f"\nstdout: {self.out[-600:]}\nstderr: {self.err[-1500:]}"
        if self.code is None:
            if self.lost_by_the_interpreter:
                return None
            return f"{where}: still running {self.bound:.1f}s later{tail}"
        if self.installed or "pulumi-mistral local:" in self.out:
            if self.code != 0:
                return f"{where}: exit code {self.code}, expected 0{tail}"
            if "Traceback" in self.err or "Exception ignored" in self.err:
                return f"{where}: exit 0, but an exception was reported{tail}"
            if "Application startup complete" in self.err and "Application shutdown complete" not in self.err:
                return f"{where}: the server started and did not shut down cleanly{tail}"
            return None
        allowed = {0, -self.signum}
        if self.signum == signal.SIGINT and any(m in self.err for m in CPYTHON_START_UP_FAILURES):
            allowed.add(1)  # CPython's own start-up interrupted (its initialisation, or `-m`'s runpy)
        if self.code not in allowed:
            return f"{where}: exit code {self.code}, expected one of {sorted(allowed)}{tail}"
        return None

    @property
    def lost_by_the_interpreter(self) -> bool:
        return (
            not self.installed
            and self.signum == signal.SIGINT
            and "Exception ignored" in self.err
            and "KeyboardInterrupt" in self.err
        )


def _trial(db: Path, signum: int, delay: float, bound: float) -> Trial:
    proc = spawn(
        _command(db), env=_env(secrets.token_urlsafe(16)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(delay)
        installed = _catches(proc.pid, signal.SIGTERM)  # never the default: only the command's handler sets it
        sent = time.monotonic()
        os.kill(proc.pid, signum)
        try:
            out, err = proc.communicate(timeout=bound)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            stop_process(proc)
            out, err = proc.communicate(timeout=10)
            code = None
        return Trial(signum, delay, installed, code, bound, time.monotonic() - sent, out, err)
    finally:
        stop_process(proc)  # nothing outlives a trial, whatever happened


def _plain_start_and_stop(tmp_path: Path) -> tuple[float, float]:
    """Seconds from spawn to "Uvicorn running", and from SIGINT to the exit, for one plain run (under the
    machine's present load)."""
    proc = spawn(
        _command(tmp_path / "warm.db"),
        env=_env("warm-up-key-1234"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # ends at EOF if the process dies
            if "Uvicorn running on" in line:
                up = time.monotonic() - started
                assert stop_process(proc, signal.SIGINT) == 0
                return up, time.monotonic() - started - up
        raise AssertionError("the server exited during its start-up")
    finally:
        stop_process(proc)


def _run_trials(tmp_path: Path, count: int, seed: int) -> list[Trial]:
    up, down = _plain_start_and_stop(tmp_path)
    spread, bound = max(MIN_SPREAD_S, 1.3 * up), EXIT_BOUND_S + 3 * down
    rng = random.Random(seed)
    # stratified: one delay in each of `count` equal slices of [0, spread], so the first milliseconds are hit too
    plan = [(i, SIGNALS[i % 2], (i + rng.random()) * spread / count) for i in range(count)]
    rng.shuffle(plan)
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda p: _trial(tmp_path / f"t{p[0]}.db", p[1], p[2], bound), plan))


def _check(trials: list[Trial]) -> None:
    problems = [p for t in trials if (p := t.problem())]
    phases = Counter("not installed" if not t.installed else "serving" if t.serving else "starting" for t in trials)
    lost = sum(t.lost_by_the_interpreter for t in trials)
    slowest = max(t.elapsed for t in trials if t.code is not None)
    summary = (
        f"{len(trials)} trials, phases {dict(phases)}, slowest exit {slowest:.2f}s (bound "
        f"{trials[0].bound:.1f}s), lost by CPython {lost}"
    )
    assert not problems, summary + "\n\n" + "\n\n".join(problems)
    assert phases["starting"] and phases["serving"], f"the delays missed a phase: {summary}"
    print(summary)  # shown with -s: what the trials covered


def test_a_signal_at_any_moment_of_start_up_or_serving_stops_the_server(tmp_path: Path) -> None:
    _check(_run_trials(tmp_path, 32, seed=random.randrange(1 << 30)))


@pytest.mark.slow
def test_many_signals_at_random_moments(tmp_path: Path) -> None:
    _check(_run_trials(tmp_path, 200, seed=random.randrange(1 << 30)))


# ---- during shutdown ------------------------------------------------------------------------------------------


def _in_flight(api: LocalServerProcess, latency_ms: float) -> tuple[threading.Thread, list[object]]:
    """A request that takes ``latency_ms`` (a latency fault), sent from a thread; its answer (or error) lands in
    the list. Returns once the server is holding it."""
    api.controls().set_latency(latency_ms)
    answers: list[object] = []

    def call() -> None:
        try:
            with httpx.Client(base_url=api.url, headers=api.headers(), timeout=30) as http:
                answers.append(http.get("/v1/connectors").status_code)
        except httpx.HTTPError as exc:
            answers.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    time.sleep(0.5)  # loopback: the request is in the server by now, sleeping in the fault rule
    assert not answers, answers
    return thread, answers


def test_one_signal_lets_the_request_in_flight_finish_then_exits_0() -> None:
    with LocalServerProcess(log_level="info") as api:
        thread, answers = _in_flight(api, 1500)
        api.proc.send_signal(signal.SIGTERM)
        thread.join(10)
        assert answers == [200]  # finished, after the signal
        assert api.proc.wait(10) == 0  # no second signal: close() stops it if this times out
        log = api.log_path.read_text()
    assert "Application shutdown complete" in log  # the store closed


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)],
)
def test_a_second_signal_ends_a_slow_shutdown_at_once(first: int, second: int) -> None:
    with LocalServerProcess(log_level="info") as api:
        _in_flight(api, 30_000)  # the graceful shutdown would wait for it (up to 5 s)
        api.proc.send_signal(first)
        time.sleep(0.5)
        assert not has_exited(api.proc), "the shutdown was not slow: nothing is tested"
        sent = time.monotonic()
        api.proc.send_signal(second)
        code = api.proc.wait(2)  # no third signal: close() stops it if this times out
        assert time.monotonic() - sent < 2
        assert code == -second, api.log_path.read_text()


def test_uvicorn_still_lets_the_server_keep_its_signal_handlers() -> None:
    import uvicorn

    # the server overrides this method of uvicorn.Server: if uvicorn renames it, uvicorn's handlers come back
    assert callable(vars(uvicorn.Server).get("capture_signals"))
    server = _uvicorn_server(uvicorn.Config(app=lambda scope, receive, send: None))
    before = {sig: signal.getsignal(sig) for sig in SIGNALS}
    with server.capture_signals():
        assert {sig: signal.getsignal(sig) for sig in SIGNALS} == before
