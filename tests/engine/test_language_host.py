"""Our Python language host under the real CLI: interrupts, plugins from source, policy packs, import code and SDKs.

The host is the one part of the engine this project writes (engine/cmd/pulumi-language-python); each RPC it
implements is driven here the way the CLI drives it. ``plugins/testres`` is a small resource plugin run from
source (PulumiPlugin.yaml), ``plugins/policy-pack`` a small policy pack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_doors import pip_install_target

from pulumi_mistral.testing.interrupt import Interruption
from pulumi_mistral.testing.processes import session_processes
from pulumi_mistral.testing.projects import point_at_virtualenv
from pulumi_mistral.testing.pulumi_cli import CliStack

HERE = Path(__file__).resolve().parent
PLUGINS = HERE / "plugins"
VENV = Path(sys.prefix)


def copy_plugin(name: str, into: Path) -> Path:
    """A copy of ``plugins/NAME`` whose runtime options name this virtualenv."""
    target = into / name
    shutil.copytree(PLUGINS / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = next(target.glob("Pulumi*.yaml"))
    point_at_virtualenv(manifest, VENV)
    return target


# -- interrupts --------------------------------------------------------------------------------------------------

SLOW_PROGRAM = """\
import pulumi
from pulumi_mistral import Connector

for i in range(12):
    Connector(f"slow-{i}", description="Slow to create", server="https://mcp.example.com/mcp")
"""


def test_ctrl_c_during_up_stops_the_program_quietly_and_the_next_up_converges(make_stack, api, tmp_path) -> None:
    project = tmp_path / "slow"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "slow", "runtime": "python"}))
    (project / "__main__.py").write_text(SLOW_PROGRAM)
    stack = make_stack(project)
    # each create takes a while, so the interrupt lands while the program is registering
    api.controls().set_latency(700)
    with Interruption(stack, "up", "--yes", "--skip-preview") as up:
        up.wait_for(lambda: bool(api.connectors()), what="the first create")
        returncode = up.ctrl_c()  # what a terminal sends the foreground process group on Ctrl-C
        api.controls().set_latency(0)
        assert returncode != 0
        assert "update canceled" in up.output, up.output
        for noise in ("Traceback", "KeyboardInterrupt", "Resource monitor has terminated"):
            assert noise not in up.output, up.output
        assert session_processes(up.proc.pid) == []  # the host, the program and the provider are all gone

    stack.up()
    assert len(api.connectors()) == 12
    assert stack.preview("--expect-no-changes").returncode == 0


# -- plugins from source, import code, SDKs ------------------------------------------------------------------------

THINGS_PROGRAM = """\
import pulumi

thing = pulumi.CustomResource("testres:index:Thing", "one", {"value": "hello", "token": pulumi.Output.secret("t0k")})
pulumi.export("id", thing.id)
"""


@pytest.fixture
def things(tmp_path: Path, pulumi_bin: Path) -> Iterator[tuple[CliStack, Path]]:
    """A Python project using the ``testres`` plugin from source (Pulumi.yaml ``plugins.providers``)."""
    plugin = copy_plugin("testres", tmp_path)
    project = tmp_path / "things"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "things",
                "runtime": {"name": "python", "options": {"virtualenv": str(VENV)}},
                "plugins": {"providers": [{"name": "testres", "path": "../testres"}]},
            }
        )
    )
    (project / "__main__.py").write_text(THINGS_PROGRAM)
    store = tmp_path / "things.json"
    stack = CliStack(
        project,
        copy=False,
        pulumi=pulumi_bin,
        workdir=tmp_path / "workspace",
        config={},
        secret_keys=(),
        env={"TESTRES_STATE": str(store)},
    )
    assert plugin.is_dir()
    yield stack, store
    stack.destroy("--remove", check=False)
    stack.close()


def test_a_resource_plugin_runs_from_source(things) -> None:
    stack, store = things
    up = stack.up()
    assert "created" in up.stdout, up.output
    thing_id = stack.outputs()["id"]
    assert json.loads(store.read_text()) == {thing_id: {"value": "hello", "token": "t0k"}}
    assert stack.preview("--expect-no-changes").returncode == 0
    stack.destroy()
    assert json.loads(store.read_text()) == {}


def test_pulumi_import_in_a_python_project_prints_python_code_without_secrets(things) -> None:
    stack, store = things
    stack.up()
    store.write_text(
        json.dumps(
            {**json.loads(store.read_text()), "made-elsewhere": {"value": "console", "token": "elsewhere-t0ken"}}
        )
    )
    imported = stack.run("import", "testres:index:Thing", "adopted", "made-elsewhere", "--yes", "--protect=false")
    assert imported.returncode == 0
    assert "import pulumi_testres as testres" in imported.stdout, imported.output
    assert 'adopted = testres.Thing("adopted", value="console")' in imported.stdout, imported.output
    assert "elsewhere-t0ken" not in imported.output
    assert any(r["id"] == "made-elsewhere" for r in stack.resources("testres:"))


def test_pulumi_import_of_a_missing_id_records_nothing(things) -> None:
    stack, _ = things
    stack.up()
    imported = stack.run("import", "testres:index:Thing", "ghost", "does-not-exist", "--yes", check=False)
    assert imported.returncode != 0
    assert "does-not-exist" in imported.output
    assert [r["id"] for r in stack.resources("testres:")] == [stack.outputs()["id"]]


def test_gen_sdk_writes_a_python_sdk_that_imports(things, tmp_path) -> None:
    stack, _ = things
    schema = tmp_path / "schema.json"
    # The schema the plugin serves, read without starting it: `get-schema DIR` would run `pulumi install` on the
    # plugin's directory, which reinstalls packages into the virtualenv it names.
    source = (PLUGINS / "testres" / "__main__.py").read_text()
    namespace: dict[str, Any] = {}
    exec(compile(source.split("def _store", 1)[0], "testres", "exec"), namespace)  # the imports and SCHEMA
    schema.write_text(json.dumps(namespace["SCHEMA"]))
    generated = stack.run(
        "package", "gen-sdk", str(schema), "--language", "python", "--out", str(tmp_path / "sdk"), select_stack=False
    )
    assert generated.returncode == 0, generated.output
    sdk = tmp_path / "sdk" / "python"
    assert json.loads((sdk / "pulumi_testres" / "pulumi-plugin.json").read_text())["name"] == "testres"
    site = tmp_path / "site"
    pip_install_target(sdk, site)
    probe = subprocess.run(
        [sys.executable, "-c", "import pulumi_testres as t; print(t.Thing.__name__, t.Provider.__name__)"],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.stdout.split() == ["Thing", "Provider"], probe.stderr


def test_required_packages_come_from_installed_pulumi_plugin_json(things, tmp_path) -> None:
    """A package that ships pulumi-plugin.json declares its plugin and version: the engine's default provider
    for that package then carries the version (default_0_0_1); without it, the default provider has none."""
    stack, _ = things
    stack.up()
    assert {r["urn"].rsplit("::", 1)[1] for r in stack.resources("pulumi:providers:testres")} == {"default"}
    stack.destroy()

    dist = tmp_path / "declaring"
    (dist / "testres_sdk").mkdir(parents=True)
    (dist / "testres_sdk" / "__init__.py").write_text("")
    (dist / "testres_sdk" / "pulumi-plugin.json").write_text(
        json.dumps({"resource": True, "name": "testres", "version": "0.0.1"})
    )
    (dist / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "testres-sdk"\nversion = "0.0.1"\n'
        '[tool.setuptools.package-data]\ntestres_sdk = ["pulumi-plugin.json"]\n'
    )
    site = tmp_path / "declared-site"
    pip_install_target(dist, site)
    stack.env["PYTHONPATH"] = str(site)  # the program's environment now holds the declaring package
    stack.up()
    providers = {r["urn"].rsplit("::", 1)[1] for r in stack.resources("pulumi:providers:testres")}
    assert providers == {"default_0_0_1"}


# -- policy packs ----------------------------------------------------------------------------------------------------


def test_a_policy_pack_directory_runs_through_the_host_and_sees_stack_config(make_stack, api, tmp_path) -> None:
    pack = copy_plugin("policy-pack", tmp_path)
    stack = make_stack(
        "quickstart",
        config={
            "quickstart:mcpUrl": "https://mcp.example.com/mcp",
            "hostpack:forbidden": "Documentation search over MCP",
        },
    )
    api.controls().clear_requests()
    preview = stack.preview("--policy-pack", str(pack), check=False)
    assert preview.returncode != 0, preview.output
    assert "no-forbidden-description" in preview.output and "mandatory" in preview.output, preview.output
    assert "forbidden by the stack's hostpack:forbidden" in preview.output, preview.output

    stack.set_config("hostpack:forbidden", "nothing like it")
    compliant = stack.preview("--policy-pack", str(pack), check=False)
    assert compliant.returncode == 0, compliant.output
    assert "host-test-pack" in compliant.output
    assert [r for r in api.controls().requests(api_only=True) if r["method"] != "GET"] == []


def test_a_policy_pack_that_ignores_sigint_is_not_left_running(make_stack, api, tmp_path) -> None:
    """The engine ends a policy pack by cancelling its RunPlugin call, then shuts the host down. A pack slow to
    end on SIGINT (here: one that ignores it) is killed before the host exits, not left behind when it does."""
    pack = copy_plugin("policy-pack", tmp_path)
    main = pack / "__main__.py"
    main.write_text("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + main.read_text())
    stack = make_stack("quickstart", config={"quickstart:mcpUrl": "https://mcp.example.com/mcp"})
    with Interruption(stack, "preview", "--policy-pack", str(pack)) as preview:
        assert preview.wait(timeout=180) == 0, preview.output
        assert "host-test-pack" in preview.output, preview.output
        # the CLI has exited: nothing of its session may remain (what does is killed on leaving the block)
        assert session_processes(preview.proc.pid) == []
