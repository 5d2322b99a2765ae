"""The examples run: each project is deployed against the local server through the stack runner (real provider)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_mistral.cli import build_parser, main
from pulumi_mistral.client import ConnectorsClient
from pulumi_mistral.declarations import load_declarations
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunError, StackRunner

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def copy_example(name: str, tmp_path: Path) -> Path:
    """A copy, so edits and anything a run leaves behind stay out of the repository."""
    return Path(shutil.copytree(EXAMPLES / name, tmp_path / name))


def base_config(server: LocalServer, key: str | None = None) -> dict[str, Any]:
    return server.config(key)


@pytest.mark.parametrize("name", ["yaml-declared", "oauth-connector", "multi-env", "ci-drift-check"])
def test_examples_are_complete_projects(name: str) -> None:
    project = EXAMPLES / name
    for file in ("Pulumi.yaml", "__main__.py", "requirements.txt", "README.md"):
        assert (project / file).is_file(), f"{name}/{file} is missing"
    meta = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert meta["name"] == name and meta["runtime"]["name"] == "python"
    assert requirement_lines(project) == ["pulumi>=3.150,<4", "../.."]  # the package, from this clone
    compile((project / "__main__.py").read_text(), f"{name}/__main__.py", "exec")
    for declared in project.glob("connectors.yaml"):
        load_declarations(declared)  # valid for the default stack


def requirement_lines(project: Path) -> list[str]:
    return [
        line.strip()
        for line in (project / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


PYTHON_PROJECTS = sorted(p.parent.name for p in EXAMPLES.glob("*/requirements.txt"))


@pytest.mark.parametrize("name", PYTHON_PROJECTS)
def test_requirements_install_the_package_from_this_clone_and_say_so(name: str) -> None:
    """The package is on no index: each example's requirements.txt names this clone's root, run from its directory."""
    project = EXAMPLES / name
    (path,) = [line for line in requirement_lines(project) if not line.startswith("pulumi>")]
    assert (project / path.split("[", 1)[0]).resolve() == ROOT, path
    text = (project / "requirements.txt").read_text()
    assert "pulumi-mistral-connectors" in text and "no package index" in text and "run it here" in text


@pytest.mark.parametrize("name", ["quickstart", "policy-pack"])
def test_pip_resolves_the_requirements_to_this_clone(name: str, tmp_path: Path) -> None:
    """What `venv/bin/pip install -r requirements.txt` in the example's directory installs (resolved, not installed)."""
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--report",
            str(report),
            "-r",
            "requirements.txt",
        ],
        cwd=EXAMPLES / name,
        check=True,
        capture_output=True,
        timeout=300,
    )
    ours = [
        i for i in json.loads(report.read_text())["install"] if i["metadata"]["name"] == "pulumi-mistral-connectors"
    ]
    assert [i["download_info"]["url"] for i in ours] == [ROOT.as_uri()]
    assert ours[0].get("requested_extras", []) == (["policy"] if name == "policy-pack" else [])


def test_yaml_declared(server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example("yaml-declared", tmp_path)
    monkeypatch.setenv("TICKETS_TOKEN", "tickets-token-value")
    config = {**base_config(server), "docsApiKey": "docs-key-value"}
    # The provider in its own process, as `pulumi up` runs it: proves the pickled provider imports there.
    with StackRunner(project, config=config, secret_keys=["mistral:apiKey", "docsApiKey"]) as stack:
        up = stack.up()
        assert [s.op for s in up.steps] == ["create"] * 3
        assert sorted(up.outputs["connector_names"]) == ["calendar", "docs-search", "tickets"]
        with server.client() as client:
            tickets = client.get("tickets", fetch_connection_secrets=True)
            assert tickets.connection_config == {"timeout_seconds": 30, "project": "SUPPORT"}
            assert tickets.connection_secrets == {"token": "tickets-token-value"}
            assert tickets.visibility == "private"
            assert client.get("calendar").visibility == "shared_workspace"
            docs = client.get("docs-search", fetch_connection_secrets=True)
            assert docs.headers == {"X-Api-Key": "docs-key-value"}
        assert not stack.preview().changes
        # a reviewed one-line change to the file is exactly one update
        declared = project / "connectors.yaml"
        declared.write_text(declared.read_text().replace("description: Team calendar", "description: Calendar"))
        planned = [(s.op, s.name, s.detail) for s in stack.preview().steps if s.op != "same"]
        assert planned == [("update", "calendar", ("description",))]
        stack.destroy()


def test_multi_env(tmp_path: Path) -> None:
    project = copy_example("multi-env", tmp_path)
    with LocalServer(api_keys=["dev-workspace-key-0001", "prod-workspace-key-0001"]) as server:
        results: dict[str, Any] = {}
        live: dict[str, dict[str, Any]] = {}
        for stack_name, key in (("dev", server.api_keys[0]), ("prod", server.api_keys[1])):
            stack_config = yaml.safe_load((project / f"Pulumi.{stack_name}.yaml").read_text())["config"]
            config = {
                **stack_config,
                **base_config(server, key),
                "docsApiKey": f"docs-{stack_name}",
                "ticketsApiKey": f"tickets-{stack_name}",
            }
            with StackRunner(
                project,
                stack=stack_name,
                config=config,
                in_process=True,
                secret_keys=["mistral:apiKey", "docsApiKey", "ticketsApiKey"],
            ) as stack:
                results[stack_name] = stack.up().outputs
                assert not stack.preview().changes
                with ConnectorsClient(api_key=key, server_url=server.url) as client:
                    live[stack_name] = {c.name: c for c in client.iter_connectors(fetch_connection_secrets=True)}
                stack.destroy()
    dev, prod = results["dev"], results["prod"]
    assert (dev["environment"], prod["environment"]) == ("dev", "prod")
    assert dev["connectors"] == {
        "docs-search": "https://docs.staging.example.com/mcp",
        "tickets": "https://tickets.staging.example.com/mcp",
        "debug-tools": "https://debug.example.com/mcp",
    }
    assert prod["connectors"] == {
        "docs-search": "https://docs.example.com/mcp",
        "tickets": "https://tickets.example.com/mcp",
    }
    assert set(dev["visibility"].values()) == {"private"}
    assert set(prod["visibility"].values()) == {"shared_workspace"}
    assert live["dev"]["docs-search"].headers == {"X-Api-Key": "docs-dev"}
    assert live["prod"]["docs-search"].headers == {"X-Api-Key": "docs-prod"}
    assert live["dev"]["tickets"].header_names == []
    assert live["prod"]["tickets"].headers == {"X-Api-Key": "tickets-prod"}
    assert live["dev"]["docs-search"].system_prompt is None
    assert live["prod"]["docs-search"].system_prompt == "Answer from the published documentation only."


def test_oauth_connector(server: LocalServer, tmp_path: Path) -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from mcp_servers.runner import start_oauth_servers
    finally:
        sys.path.remove(str(EXAMPLES))
    project = copy_example("oauth-connector", tmp_path)
    with start_oauth_servers() as oauth:
        config = {
            **base_config(server),
            "mcpUrl": oauth.url,
            "clientId": oauth.client_id,
            "clientSecret": oauth.client_secret,
        }
        with StackRunner(
            project, config=config, secret_keys=["mistral:apiKey", "clientSecret"], in_process=True
        ) as stack:
            up = stack.up()
            assert up.outputs["auth_type"] == "oauth2"
            url = up.outputs["auth_url"]
            assert url.startswith(f"{oauth.issuer}/authorize?"), url
            assert f"client_id={oauth.client_id}" in url and "code_challenge_method=S256" in url
            assert "auth_url" not in up.secret_outputs
            assert oauth.client_secret not in url
            assert not stack.preview().changes
            stack.destroy()


# ---- ci-drift-check ------------------------------------------------------------------------------------------

WORKFLOW = EXAMPLES / "ci-drift-check" / ".github" / "workflows" / "drift.yml"


def workflow_commands() -> list[list[str]]:
    data = yaml.safe_load(WORKFLOW.read_text())
    commands = []
    for job in data["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = line.split(" #", 1)[0].strip()
                if line.startswith(("pulumi ", "pulumi-mistral ")):
                    commands.append(shlex.split(line.replace('"$STACK"', "prod")))
    return commands


def test_drift_workflow_is_valid_and_commented() -> None:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert data["name"] and data["jobs"]["drift"]["runs-on"] == "ubuntu-latest"
    assert True in data or "on" in data  # YAML 1.1 reads the `on:` key as True
    steps = data["jobs"]["drift"]["steps"]
    assert all("uses" in s or "run" in s for s in steps)
    text = WORKFLOW.read_text()
    # every exit code is explained next to the command that returns it
    for words in (
        "0      no changes",
        "7      changes are planned",
        "other  the preview itself failed",
        "0 clean, 2 drift found",
        "1 error",
    ):
        assert words in text, words
    commands = workflow_commands()
    previews = [c for c in commands if c[:2] == ["pulumi", "preview"]]
    assert previews and {"--refresh", "--expect-no-changes"} <= set(previews[0])
    assert any(c[:2] == ["pulumi-mistral", "drift"] for c in commands)


def test_workflow_uses_only_existing_cli_flags() -> None:
    for command in workflow_commands():
        if command[0] != "pulumi-mistral":
            continue
        args = command[1:]
        parsed = build_parser(args).parse_args(args)  # unknown subcommands or flags exit here
        assert parsed.command == "drift" and parsed.declared == "connectors.yaml" and parsed.format == "markdown"
        helptext = subprocess.run(
            [sys.executable, "-m", "pulumi_mistral.cli", args[0], "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for flag in (a for a in args if a.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", helptext), flag


def test_ci_drift_check_detects_drift(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_example("ci-drift-check", tmp_path)
    config = {**base_config(server), "docsApiKey": "docs-key"}
    monkeypatch.setenv("MISTRAL_API_KEY", server.api_key)
    monkeypatch.chdir(project)
    drift_cmd = ["drift", "--declared", "connectors.yaml", "--server-url", server.url, "--format", "markdown"]
    with StackRunner(project, config=config, secret_keys=["mistral:apiKey", "docsApiKey"], in_process=True) as stack:
        stack.up()
        # clean: the preview step passes (exit 0) and the report says so (exit 0)
        stack.preview(refresh=True, expect_no_changes=True)
        capsys.readouterr()
        assert main(drift_cmd) == 0, capsys.readouterr()
        # someone edits a connector in the console
        with server.client() as client:
            tickets = client.get("tickets")
            client.update(tickets.id, description="Edited by hand")
        with pytest.raises(StackRunError, match="no changes were expected"):
            stack.preview(refresh=True, expect_no_changes=True)  # the CLI exits non-zero here
        capsys.readouterr()
        assert main(drift_cmd) == 2
        report = capsys.readouterr().out
        assert "tickets" in report and "description" in report
        stack.destroy()
