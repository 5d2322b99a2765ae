"""Fixtures shared by every test folder: the package's pytest plugin (local servers, their test controls, a
configured provider and engine), the example MCP servers on the import path, running instances, and the guard that
fails the session when a process a test started outlives the suite."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_mistral.testing.processes import Leftover, adopt_orphans, end_processes, leftover_processes

# examples/mcp_servers is a package of real MCP servers used by tests, the demo and the benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from mcp_servers.runner import DemoServer, OAuthServers, start_demo_server, start_oauth_servers

# The fixtures users get (local_server, controls, mistral_client, mistral_provider, mistral_engine...), here for
# every folder, so each is written once: pulumi_mistral.testing.fixtures.
pytest_plugins = ["pulumi_mistral.testing.fixtures"]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    """The demo MCP server on 127.0.0.1 (tools can be changed while it runs through ``demo.admin``)."""
    with start_demo_server() as server:
        yield server


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthServers]:
    """The OAuth-protected demo MCP server and its local authorization server on 127.0.0.1."""
    with start_oauth_servers() as servers:
        yield servers


# ---- no process outlives the suite ---------------------------------------------------------------------------

# Helpers that may legitimately live as long as the test process, by a fragment of their command line
# (multiprocessing starts them once and they exit with their parent). None should be there today.
LONG_LIVED_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
EXIT_GRACE_S = 1.0  # for a process found exiting at the end, before it counts as left behind
_LEFTOVERS = pytest.StashKey[list[Leftover]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    # An orphaned grandchild (its parent died first) becomes our child, not init's: the guard still finds it.
    adopt_orphans()


@pytest.hookimpl(trylast=True)  # after the runner's own sessionfinish has torn down every fixture
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = leftover_processes(ignore=LONG_LIVED_HELPERS)
    deadline = time.monotonic() + EXIT_GRACE_S
    while leftovers and time.monotonic() < deadline:  # one that is exiting anyway is not left behind
        time.sleep(0.05)
        leftovers = leftover_processes(ignore=LONG_LIVED_HELPERS)
    session.config.stash[_LEFTOVERS] = leftovers
    if not leftovers:
        return
    end_processes(p.pid for p in leftovers)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    leftovers = terminalreporter.config.stash.get(_LEFTOVERS, [])
    if leftovers:
        terminalreporter.section("processes left behind", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(leftovers)} process(es) started by the tests were still running after "
            "the suite (now killed); the session fails. Command lines, redacted:"
        )
        for leftover in leftovers:
            terminalreporter.write_line(f"  pid {leftover.pid}: {leftover.command}")
