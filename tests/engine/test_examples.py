"""Every example project deployed by the real engine, and the ci-drift-check workflow's steps run as a script."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from mcp_servers.runner import start_oauth_servers
from pulumi_mistral.testing.pulumi_cli import EXIT_EXPECTED_NO_CHANGES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKFLOW = EXAMPLES / "ci-drift-check" / ".github" / "workflows" / "drift.yml"


def test_yaml_declared(make_stack, api) -> None:
    stack = make_stack(
        "yaml-declared",
        config={"docsApiKey": "docs-key-value"},
        secret_keys=("mistral:apiKey", "docsApiKey"),
        env={"TICKETS_TOKEN": "tickets-token-value"},
    )
    stack.up()
    assert sorted(stack.outputs()["connector_names"].values()) == ["calendar", "docs-search", "tickets"]
    with api.client() as client:
        tickets = client.get("tickets", fetch_connection_secrets=True)
        assert tickets.connection_config == {"timeout_seconds": 30, "project": "SUPPORT"}
        assert tickets.connection_secrets == {"token": "tickets-token-value"}
        assert client.get("docs-search", fetch_connection_secrets=True).headers == {"X-Api-Key": "docs-key-value"}
    assert stack.preview("--expect-no-changes").returncode == 0
    # A reviewed one-line change to the file is exactly one update, shown by property.
    declared = stack.project_dir / "connectors.yaml"
    declared.write_text(declared.read_text().replace("description: Team calendar", "description: Calendar"))
    preview = stack.preview("--diff", "--expect-no-changes", check=False)
    assert preview.returncode == EXIT_EXPECTED_NO_CHANGES
    assert "~ 1 to update" in preview.stdout
    assert re.search(r'~ description\s*: "Team calendar" => "Calendar"', preview.stdout), preview.stdout


def test_multi_env_deploys_two_stacks_into_two_workspaces(make_stack, api) -> None:
    secrets = ("mistral:apiKey", "docsApiKey", "ticketsApiKey")
    dev = make_stack(
        "multi-env", stack="dev", config={"docsApiKey": "docs-dev", "ticketsApiKey": "tickets-dev"}, secret_keys=secrets
    )
    prod = make_stack(
        dev.project_dir,
        stack="prod",
        api_key=api.api_keys[1],
        copy=False,
        workdir=dev.workdir,
        config={"docsApiKey": "docs-prod", "ticketsApiKey": "tickets-prod"},
        secret_keys=secrets,
    )
    dev.up()
    prod.up()
    assert dev.outputs()["environment"] == "dev" and prod.outputs()["environment"] == "prod"
    assert sorted(dev.outputs()["connectors"]) == ["debug-tools", "docs-search", "tickets"]
    assert prod.outputs()["connectors"] == {
        "docs-search": "https://docs.example.com/mcp",
        "tickets": "https://tickets.example.com/mcp",
    }
    with api.client() as client:
        assert {c.name for c in client.iter_connectors()} == {"debug-tools", "docs-search", "tickets"}
        assert client.get("docs-search", fetch_connection_secrets=True).headers == {"X-Api-Key": "docs-dev"}
    with api.client(api.api_keys[1]) as client:
        live = {c.name: c for c in client.iter_connectors(fetch_connection_secrets=True)}
    assert set(live) == {"docs-search", "tickets"}
    assert live["tickets"].headers == {"X-Api-Key": "tickets-prod"}
    assert {c.visibility for c in live.values()} == {"shared_workspace"}
    assert live["docs-search"].system_prompt == "Answer from the published documentation only."
    for stack in (dev, prod):
        assert stack.preview("--expect-no-changes").returncode == 0
    prod.destroy()
    dev.destroy()


def test_yaml_native(make_stack, api) -> None:
    """A Pulumi YAML program on the native plugin: two workspaces (the default provider and an explicit one), a
    secret header from config, and a `get:` of a connector the stack does not manage."""
    project = EXAMPLES / "yaml-native"
    meta = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert meta["name"] == "yaml-native" and meta["runtime"] == "yaml" and (project / "README.md").is_file()
    (plugin,) = meta["plugins"]["providers"]
    # The path the example's README documents: the repository's virtualenv, where `make install` puts the plugin.
    assert plugin["name"] == "mistral"
    assert os.path.normpath(project / plugin["path"]) == str(EXAMPLES.parent / ".venv" / "bin")
    with api.client() as client:
        shared = client.create(
            name="shared-docs", description="Made in the console", server="https://mcp.example.com/mcp"
        )
    docs_key = f"docs-key-{secrets.token_hex(6)}"
    stack = make_stack(
        "yaml-native",
        config={"docsApiKey": docs_key, "prodApiKey": api.api_keys[1], "sharedConnector": shared.id},
        secret_keys=("mistral:apiKey", "docsApiKey", "prodApiKey"),
    )
    up = stack.up()
    assert "arning" not in up.output, up.output  # the program and its config are clean
    outputs = stack.outputs()
    assert (outputs["sharedName"], outputs["sharedDescription"]) == ("shared-docs", "Made in the console")
    with api.client() as client:
        first = {c.name: c for c in client.iter_connectors(fetch_connection_secrets=True)}
    with api.client(api.api_keys[1]) as client:
        second = {c.name: c for c in client.iter_connectors(fetch_connection_secrets=True)}
    assert set(first) == {"docs-search", "shared-docs"} and set(second) == {"tickets"}
    assert first["docs-search"].id == outputs["docsConnectorId"] and first["docs-search"].visibility == "private"
    assert first["docs-search"].headers == {"X-Api-Key": docs_key}
    assert second["tickets"].id == outputs["ticketsConnectorId"]
    assert second["tickets"].visibility == "shared_workspace"
    assert stack.preview("--expect-no-changes").returncode == 0
    exported = json.dumps(stack.export())
    for value in (docs_key, *api.api_keys):
        assert value not in exported
    stack.destroy()
    assert [c.name for c in api.connectors()] == ["shared-docs"]  # read, not managed: left alone
    assert api.connectors(api.api_keys[1]) == []


def test_oauth_connector(make_stack, api) -> None:
    with start_oauth_servers() as oauth:
        stack = make_stack(
            "oauth-connector",
            config={
                "mcpUrl": oauth.url,
                "clientId": oauth.client_id,
                "clientSecret": oauth.client_secret,
            },
            secret_keys=("mistral:apiKey", "clientSecret"),
        )
        stack.up()
        outputs = stack.outputs()
        assert outputs["auth_type"] == "oauth2"
        assert outputs["auth_url"].startswith(f"{oauth.issuer}/authorize?")
        assert f"client_id={oauth.client_id}" in outputs["auth_url"]
        assert oauth.client_secret not in str(stack.export())
        assert stack.preview("--expect-no-changes").returncode == 0
        stack.destroy()


def workflow_step(name_starts: str) -> str:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["drift"]["steps"]
    return next(s["run"] for s in steps if s.get("name", "").startswith(name_starts))


def run_step(script: str, stack: Any, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One workflow step as GitHub runs it: `bash -e` with the job's environment."""
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_ci_drift_check_workflow_steps_run_as_a_script(make_stack, api, tmp_path) -> None:
    stack = make_stack(
        "ci-drift-check", stack="prod", config={"docsApiKey": "docs-key"}, secret_keys=("mistral:apiKey", "docsApiKey")
    )
    stack.up()
    summary = tmp_path / "summary.md"
    env = {
        **stack.env,
        "STACK": "prod",
        "MISTRAL_API_KEY": api.api_key,
        "MISTRAL_SERVER_URL": api.url,
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": os.pathsep.join([str(Path(sys.prefix) / "bin"), stack.env["PATH"]]),
    }
    preview, report = workflow_step("Preview with refresh"), workflow_step("Drift report")

    clean = run_step(preview, stack, stack.project_dir, env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    clean_report = run_step(report, stack, stack.project_dir, env)
    assert clean_report.returncode == 0, clean_report.stdout + clean_report.stderr

    with api.client() as client:
        client.update(client.get("tickets").id, description="Edited by hand")
    drift = run_step(preview, stack, stack.project_dir, env)
    assert drift.returncode == EXIT_EXPECTED_NO_CHANGES, drift.stdout + drift.stderr
    assert "description" in drift.stdout and "Edited by hand" in drift.stdout
    drift_report = run_step(report, stack, stack.project_dir, env)
    assert drift_report.returncode == 2, drift_report.stdout + drift_report.stderr
    text = summary.read_text()
    assert "tickets" in text and "description" in text
