"""Interrupted deployments on the real engine: what a kill or a Ctrl-C leaves behind, and `recover` resolving it.

A SIGKILL reaches every process of the `pulumi` session (the CLI, the language host, the program in its own
process group, the provider) at a moment read from the file backend's checkpoint; the local server's latency
fault holds the requests of that moment open. Every connector of the project is created by a POST and a PATCH
(it sets connection_config), so a kill while the PATCHes wait leaves connectors that exist but that the state
records only as pending creates. The documented recovery is `pulumi cancel` (the killed run's lock), then
`pulumi-mistral recover --stack S --yes`, then the interrupted command again; docs/interrupted.md has the table
these tests measure.

The tests take the door as a parameter: `projects/interrupted` declares the dynamic `Connector`,
`projects/interrupted-native` the same connectors as the native `mistral:index:Connector` (the plugin found
through Pulumi.yaml `plugins.providers`, which the test writes: the virtualenv's `bin`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_mistral.core.spec import is_auto_name
from pulumi_mistral.testing.interrupt import Interruption, pending_operations
from pulumi_mistral.testing.local_process import LocalServerProcess
from pulumi_mistral.testing.pulumi_cli import CliStack

PROJECTS = Path(__file__).resolve().parent / "projects"
LATENCY_MS = 4000  # long enough for the kill to land while the requests of the moment wait
TOKEN = "canary-header-3f9e0c2d7a"  # a secret header value that no output may show
NEW_DESCRIPTION = "Changed while interrupted"


@dataclass(frozen=True)
class Door:
    """One way to declare connectors: its project, its connector type and its stack config."""

    project: Path
    connector_type: str
    namespace: str
    plugin: bool = False  # the project needs the native plugin (pulumi-resource-mistral) beside this Python

    def config(self, *, named: int, auto: int) -> dict[str, Any]:
        ns = self.namespace
        return {f"{ns}:named": str(named), f"{ns}:auto": str(auto), f"{ns}:token": TOKEN}

    @property
    def secret_keys(self) -> tuple[str, ...]:
        return ("mistral:apiKey", f"{self.namespace}:token")


DYNAMIC = Door(PROJECTS / "interrupted", "pulumi-python:dynamic/connector:Connector", "interrupted")
NATIVE = Door(PROJECTS / "interrupted-native", "mistral:index:Connector", "interrupted", plugin=True)
DOORS = [pytest.param(DYNAMIC, id="dynamic"), pytest.param(NATIVE, id="native")]


# -- helpers ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def deploy(make_stack: Any, api: LocalServerProcess) -> Callable[..., CliStack]:
    def make(door: Door, *, named: int, auto: int, **config: str) -> CliStack:
        stack: CliStack = make_stack(
            door.project,
            config={**door.config(named=named, auto=auto), **config},
            secret_keys=(*door.secret_keys, *(k for k in config if k.endswith("Key"))),
        )
        if door.plugin:
            use_the_plugin(stack.project_dir)
        return stack

    return make


def use_the_plugin(project: Path) -> None:
    """Point the project at the native plugin installed beside this Python (as a user's Pulumi.yaml would)."""
    manifest = yaml.safe_load((project / "Pulumi.yaml").read_text())
    manifest["plugins"] = {"providers": [{"name": "mistral", "path": str(Path(sys.prefix) / "bin")}]}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


@pytest.fixture
def interrupted(api: LocalServerProcess) -> Iterator[Callable[..., Interruption]]:
    """``interrupted(stack, command, method, until)``: run ``pulumi COMMAND`` with ``method`` requests held open,
    and hand it back once ``until()`` holds (the caller kills it or presses Ctrl-C)."""
    runs: list[Interruption] = []

    def start(stack: CliStack, command: str, method: str, until: Callable[[], bool], what: str) -> Interruption:
        api.controls().set_faults([{"method": method, "path": "^/v1/", "action": "latency", "latency_ms": LATENCY_MS}])
        run = Interruption(stack, command, "--yes", "--skip-preview")
        runs.append(run)
        run.wait_for(until, what=what)
        return run

    yield start
    for run in runs:
        run.__exit__(None, None, None)
    api.controls().set_latency(0)


def live_ids(api: LocalServerProcess, api_key: str | None = None) -> dict[str, str]:
    return {c.id: c.name for c in api.connectors(api_key)}


def state_ids(stack: CliStack, door: Door) -> dict[str, str]:
    return {r["id"]: (r.get("outputs") or {}).get("name") for r in stack.resources(door.connector_type)}


def pending(stack: CliStack) -> list[tuple[str, str]]:
    ops = stack.export()["deployment"].get("pending_operations") or []
    return sorted((op["type"], op["resource"]["urn"].rsplit("::", 1)[-1]) for op in ops)


def recover(stack: CliStack, *args: str) -> subprocess.CompletedProcess[str]:
    """`pulumi-mistral recover` in the project, as a person runs it; the key comes only from the state."""
    env = {k: v for k, v in stack.env.items() if k not in ("MISTRAL_API_KEY", "MISTRAL_SERVER_URL")}
    return subprocess.run(
        [str(Path(sys.prefix) / "bin" / "pulumi-mistral"), "recover", "--stack", stack.stack, *args],
        cwd=stack.project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_no_secret(result: subprocess.CompletedProcess[str], api: LocalServerProcess) -> None:
    for secret in (*api.api_keys, TOKEN):
        assert secret not in result.stdout + result.stderr


def assert_converged(
    stack: CliStack, door: Door, api: LocalServerProcess, expected: int, api_key: str | None = None
) -> None:
    """No duplicate, no orphan: the live connectors (of ``api_key``'s workspace) are exactly the state's, as many
    as declared."""
    live, state = live_ids(api, api_key), state_ids(stack, door)
    assert sorted(live.values()) == sorted(state.values())
    assert set(live) == set(state) and len(state) == expected, (live, state)
    assert pending(stack) == []
    if expected:
        assert stack.preview("--expect-no-changes", check=False).returncode == 0


def kill_mid(
    stack: CliStack,
    api: LocalServerProcess,
    interrupted: Callable[..., Interruption],
    command: str,
    method: str,
    kind: str,
) -> None:
    """``pulumi COMMAND`` SIGKILLed once 4 operations of ``kind`` are pending; the API answers at full speed again."""
    run = interrupted(
        stack, command, method, lambda: len(pending_operations(stack, kind)) >= 4, what=f"4 operations {kind}"
    )
    run.kill()
    api.controls().set_latency(0)


def kill_during_creates(
    stack: CliStack,
    api: LocalServerProcess,
    interrupted: Callable[..., Interruption],
    *,
    total: int,
    landed: int,
    api_key: str | None = None,
) -> dict[str, str]:
    """``pulumi up`` killed while ``landed`` connectors exist (in the workspace of ``api_key``) and all ``total``
    creates are pending; what exists."""
    run = interrupted(
        stack,
        "up",
        "PATCH",
        lambda: len(pending_operations(stack, "creating")) >= total and len(api.connectors(api_key)) >= landed,
        what=f"{total} pending creates, {landed} of them landed",
    )
    run.kill()
    api.controls().set_latency(0)
    assert run.leftovers() == []
    return live_ids(api, api_key)


# -- SIGKILL during creates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
def test_a_kill_during_creates_is_recovered_with_no_orphan_and_no_duplicate(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    stack = deploy(door, named=2, auto=3)
    at_kill = kill_during_creates(stack, api, interrupted, total=5, landed=4)  # the provider runs 4 calls at once
    assert sum(1 for name in at_kill.values() if name.startswith("auto-")) >= 2  # the orphans in the making
    left = pending(stack)
    assert [kind for kind, _ in left] == ["creating"] * 5 and state_ids(stack, door) == {}

    locked = recover(stack, "--yes")  # the killed run still holds the lock: nothing happens, the fix is named
    assert locked.returncode == 1, locked.stdout + locked.stderr
    assert "pulumi cancel --yes --stack dev" in locked.stderr and len(locked.stderr.strip().splitlines()) == 1
    assert_no_secret(locked, api)
    assert live_ids(api) == at_kill and pending(stack) == left
    stack.run("cancel", "--yes")

    before = stack.export()["deployment"]
    plan = recover(stack)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "Nothing was changed" in plan.stdout and "delete it and clear the pending create" in plan.stdout
    assert stack.export()["deployment"] == before and live_ids(api) == at_kill
    assert_no_secret(plan, api)

    done = recover(stack, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_no_secret(done, api)
    assert pending(stack) == []
    auto_at_kill = {i for i, name in at_kill.items() if name.startswith("auto-")}
    assert not auto_at_kill & set(live_ids(api))  # the auto-named ones the killed run made are gone

    stack.up()
    assert_converged(stack, door, api, expected=5)
    assert {i for i, name in at_kill.items() if name.startswith("named-")} <= set(live_ids(api))  # taken over
    again = recover(stack)
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_a_kill_behind_an_explicit_provider_is_recovered_in_the_workspace_of_that_provider(
    deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    """Native door: the connectors go through an explicit `pulumi:providers:mistral` on the second workspace's key,
    while the stack config's `mistral:apiKey` is the first one's. recover must look them up where the recorded
    provider says (its apiKey and serverUrl), not in the stack config's workspace, which holds nothing."""
    other = api.api_keys[1]
    stack = deploy(NATIVE, named=1, auto=2, **{"interrupted:providerKey": other, "interrupted:providerUrl": api.url})
    at_kill = kill_during_creates(stack, api, interrupted, total=3, landed=3, api_key=other)
    assert live_ids(api) == {}  # the stack config's workspace
    stack.run("cancel", "--yes")

    done = recover(stack, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("delete it and clear the pending create") == 2, done.stdout
    assert_no_secret(done, api)
    auto_at_kill = {i for i, name in at_kill.items() if name.startswith("auto-")}
    assert len(auto_at_kill) == 2 and not auto_at_kill & set(live_ids(api, other))

    stack.up()
    assert_converged(stack, NATIVE, api, expected=3, api_key=other)
    assert {i for i, name in at_kill.items() if name.startswith("named-")} <= set(live_ids(api, other))
    assert live_ids(api) == {}


@pytest.mark.parametrize(
    ("pattern", "comes_back"), [("${name}-${hex(6)}", False), ("${stack}-${name}", True)], ids=["random", "fixed"]
)
def test_native_names_from_the_stacks_autonaming_pattern_are_deleted_only_when_drawn_at_random(
    pattern: str, comes_back: bool, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    """Native door: with `pulumi:autonaming` set, the engine proposes the name and the plugin takes it, so an
    auto-named connector's name need not have the `<resource>-<7 characters>` shape. A pattern with a random
    part draws another name after a kill (the killed run's connector would be an orphan: recover deletes it);
    a pattern without one proposes the same name again (the next up takes the connector over: recover leaves
    it)."""
    stack = deploy(NATIVE, named=0, auto=2)
    stack.run("config", "set", "--path", "pulumi:autonaming.pattern", "--", pattern)
    at_kill = kill_during_creates(stack, api, interrupted, total=2, landed=2)
    shape = r"dev-auto-[01]" if comes_back else r"auto-[01]-[0-9a-f]{6}"  # the engine's names, not the provider's
    assert len(at_kill) == 2 and all(re.fullmatch(shape, name) for name in at_kill.values()), at_kill
    assert not any(is_auto_name(name, prefix) for name in at_kill.values() for prefix in ("auto-0", "auto-1"))
    stack.run("cancel", "--yes")

    done = recover(stack, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    if comes_back:
        assert done.stdout.count("takes it over") == 2, done.stdout
        assert set(at_kill) <= set(live_ids(api))
    else:
        assert done.stdout.count("delete it and clear the pending create") == 2, done.stdout
        assert not set(at_kill) & set(live_ids(api))
    stack.up()
    assert_converged(stack, NATIVE, api, expected=2)
    assert (set(live_ids(api)) == set(at_kill)) is comes_back


@pytest.mark.parametrize("door", DOORS)
def test_without_recover_the_cli_recovery_leaves_the_auto_named_connectors_orphaned(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    """The "before": the recovery the CLI itself suggests converges the named connectors (their create's 409
    takes over what the killed run made) but never the auto-named ones, and destroy leaves them too."""
    stack = deploy(door, named=1, auto=2)
    at_kill = kill_during_creates(stack, api, interrupted, total=3, landed=3)
    stack.run("cancel", "--yes")
    warned = stack.up()
    assert "interrupted while creating" in warned.stdout
    assert len(pending(stack)) == 3  # a successful up keeps pending creates: they wait for a person
    stack.refresh("--clear-pending-creates")
    stack.up()
    orphans = {i: n for i, n in live_ids(api).items() if i not in state_ids(stack, door)}
    assert orphans == {i: n for i, n in at_kill.items() if n.startswith("auto-")} and len(orphans) == 2
    stack.destroy()
    assert live_ids(api) == orphans
    for connector_id in orphans:  # what `recover` would have done
        with api.client() as client:
            client.delete(connector_id)


@pytest.mark.parametrize("door", DOORS)
def test_recover_after_an_up_already_ran_deletes_the_orphans_and_keeps_what_the_state_records(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    """The run the CLI suggests first (`up` after `cancel`) keeps the pending creates and has already made the
    orphans: recover still finds them, and leaves alone every connector the state records."""
    stack = deploy(door, named=1, auto=2)
    at_kill = kill_during_creates(stack, api, interrupted, total=3, landed=3)
    stack.run("cancel", "--yes")
    stack.up()
    recorded = state_ids(stack, door)
    assert len(live_ids(api)) == 5 and len(recorded) == 3  # two orphans

    result = recover(stack, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the state records it already" in result.stdout  # the named one, taken over by that up
    assert set(live_ids(api)) == set(recorded)
    assert not {i for i, n in at_kill.items() if n.startswith("auto-")} & set(live_ids(api))
    assert_converged(stack, door, api, expected=3)


@pytest.mark.parametrize("door", DOORS)
def test_import_pending_creates_drops_the_pending_create_and_imports_nothing(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    """Why `recover` does not use it: on the pinned CLI the flag turns the pending create into an `importing`
    operation that the refresh then drops; no Read is sent and nothing enters the state (any resource type)."""
    stack = deploy(door, named=0, auto=1)
    at_kill = kill_during_creates(stack, api, interrupted, total=1, landed=1)
    stack.run("cancel", "--yes")
    urn = stack.export()["deployment"]["pending_operations"][0]["resource"]["urn"]
    (connector_id,) = at_kill
    result = stack.refresh("--import-pending-creates", urn, "--import-pending-creates", connector_id)
    assert result.returncode == 0
    assert pending(stack) == [] and state_ids(stack, door) == {}
    assert live_ids(api) == at_kill  # the connector is an orphan now
    with api.client() as client:
        client.delete(connector_id)


@pytest.mark.parametrize("door", DOORS)
def test_a_connector_that_differs_is_left_to_a_person(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    stack = deploy(door, named=1, auto=1)
    at_kill = kill_during_creates(stack, api, interrupted, total=2, landed=2)
    stack.run("cancel", "--yes")
    (auto_id,) = [i for i, n in at_kill.items() if n.startswith("auto-")]
    with api.client() as client:
        client.update(auto_id, description="Changed by someone else")

    result = recover(stack, "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "differs from what was declared (description): not touched" in result.stdout
    assert "--clear-pending-creates" in result.stdout
    assert auto_id in live_ids(api) and len(pending(stack)) == 2  # untouched; pending creates kept
    assert_no_secret(result, api)

    with api.client() as client:  # the person decides it was this stack's after all
        client.delete(auto_id)
    assert recover(stack, "--yes").returncode == 0
    stack.up()
    assert_converged(stack, door, api, expected=2)


# -- SIGKILL during updates and during a destroy ---------------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
def test_a_kill_during_updates_is_recovered(door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any) -> None:
    stack = deploy(door, named=2, auto=2)
    stack.up()
    ids = live_ids(api)
    stack.set_config(f"{door.namespace}:description", NEW_DESCRIPTION)
    kill_mid(stack, api, interrupted, "up", "PATCH", "updating")
    assert [kind for kind, _ in pending(stack)] == ["updating"] * 4
    stack.run("cancel", "--yes")

    result = recover(stack, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("interrupted while updating") == 4 and "pulumi preview --diff" in result.stdout
    assert_no_secret(result, api)
    assert pending(stack) == []

    stack.up()
    assert_converged(stack, door, api, expected=4)
    assert set(live_ids(api)) == set(ids)  # updated in place, nothing replaced
    assert {c.description for c in api.connectors()} == {NEW_DESCRIPTION}


@pytest.mark.parametrize("door", DOORS)
def test_a_kill_during_a_destroy_is_recovered(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    stack = deploy(door, named=2, auto=2)
    stack.up()
    kill_mid(stack, api, interrupted, "destroy", "DELETE", "deleting")
    assert [kind for kind, _ in pending(stack)] == ["deleting"] * 4
    stack.run("cancel", "--yes")

    result = recover(stack, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("interrupted while deleting") == 4
    assert pending(stack) == []

    stack.destroy()
    assert_converged(stack, door, api, expected=0)


@pytest.mark.parametrize("door", DOORS)
def test_deletes_that_landed_before_the_kill_are_forgotten_and_the_next_up_recreates_them(
    door: Door, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    """A real API may finish a DELETE whose client was killed (the local server drops it; the test deletes two
    connectors itself). The state still records them, and a preview finds nothing to do: an `up` would leave
    two declared connectors missing. recover refreshes them, so the next `up` creates them again."""
    stack = deploy(door, named=2, auto=2)
    stack.up()
    kill_mid(stack, api, interrupted, "destroy", "DELETE", "deleting")
    gone = sorted(live_ids(api))[:2]
    with api.client() as client:
        for connector_id in gone:
            client.delete(connector_id)
    stack.run("cancel", "--yes")
    assert stack.preview("--expect-no-changes", check=False).returncode == 0  # the false all-clear

    result = recover(stack, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("is gone (the delete landed)") == 2
    assert not set(gone) & set(state_ids(stack, door))

    stack.up()
    assert_converged(stack, door, api, expected=4)


# -- Ctrl-C ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("phase", ["create", "update", "delete"])
def test_ctrl_c_leaves_nothing_pending_and_the_command_run_again_converges(
    door: Door, phase: str, deploy: Any, api: LocalServerProcess, interrupted: Any
) -> None:
    stack = deploy(door, named=2, auto=2)
    if phase != "create":
        stack.up()
    if phase == "update":
        stack.set_config(f"{door.namespace}:description", NEW_DESCRIPTION)
    command, method, kind = {
        "create": ("up", "PATCH", "creating"),
        "update": ("up", "PATCH", "updating"),
        "delete": ("destroy", "DELETE", "deleting"),
    }[phase]
    run = interrupted(
        stack, command, method, lambda: len(pending_operations(stack, kind)) >= 4, what=f"4 operations {kind}"
    )
    run.ctrl_c()  # the CLI lets the steps in flight finish, then stops
    api.controls().set_latency(0)
    assert run.leftovers() == []
    assert pending(stack) == []
    nothing = recover(stack, "--yes")
    assert nothing.returncode == 0 and "nothing to do" in nothing.stdout

    stack.run(command, "--yes", "--skip-preview")
    assert_converged(stack, door, api, expected=0 if phase == "delete" else 4)


# -- errors ----------------------------------------------------------------------------------------------------------


def test_recover_errors_are_one_line_naming_the_fix(pulumi_bin: Path, tmp_path: Path) -> None:
    command = [str(Path(sys.prefix) / "bin" / "pulumi-mistral"), "recover", "--stack", "dev"]
    cli_path = f"{pulumi_bin.resolve().parent}:/usr/bin:/bin"
    env = {
        "PATH": cli_path,
        "HOME": str(tmp_path),
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_BACKEND_URL": (tmp_path / "backend").as_uri(),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    (tmp_path / "backend").mkdir()
    cases = [
        (tmp_path, env, "no Pulumi project here: run recover in the project's directory"),
        (PROJECTS / "interrupted", env, "no stack named 'dev' in this project: check --stack"),
        (tmp_path, {**env, "PATH": "/usr/bin:/bin"}, "the Pulumi CLI was not found on PATH"),
    ]
    for cwd, environ, words in cases:
        result = subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.startswith("pulumi-mistral recover: ") and words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
