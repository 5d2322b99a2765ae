"""declare_connectors in a real program: resources keyed by name, secrets resolved from config/env as secrets,
per-stack overrides, and every missing reference reported at once with its line."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunError, StackRunner

SECRET_MARK = "decl-canary"
PROGRAM = """\
import pulumi
import pulumi_mistral

connectors = pulumi_mistral.declare_connectors("connectors.yaml")
pulumi.export("names", sorted(connectors))
pulumi.export("servers", {k: c.server for k, c in connectors.items()})
pulumi.export("docs_headers", connectors["docs"].headers)
"""
CONNECTORS = """\
defaults:
  visibility: private
connectors:
  docs:
    description: Docs search
    server: https://mcp.example.com/mcp
    headers:
      X-Api-Key: {secret: docsApiKey}
    auth_data:
      client_id: docs-app
      client_secret: {env: DECL_TEST_CLIENT_SECRET}
  tickets:
    description: Tickets
    server: https://tickets.example.com/mcp
    connection_secrets:
      token: {secret: "mistral:ticketsToken"}
stacks:
  prod:
    connectors:
      docs:
        name: docs-prod
        server: https://mcp.prod.example.com/mcp
      tickets: null
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def project(tmp_path: Path, connectors: str = CONNECTORS) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: decl-test\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PROGRAM)
    (tmp_path / "connectors.yaml").write_text(textwrap.dedent(connectors))
    return tmp_path


def config(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {**server.config(), **extra}


def test_declared_connectors_are_created_with_secrets(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECL_TEST_CLIENT_SECRET", f"{SECRET_MARK}-cs")
    cfg = config(server, docsApiKey=f"{SECRET_MARK}-key", **{"mistral:ticketsToken": f"{SECRET_MARK}-tok"})
    with StackRunner(
        project(tmp_path),
        config=cfg,
        secret_keys=["mistral:apiKey", "docsApiKey", "mistral:ticketsToken"],
        in_process=True,
    ) as stack:
        up = stack.up()
        assert [s.op for s in up.steps] == ["create", "create"]
        assert up.outputs["names"] == ["docs", "tickets"]
        assert "docs_headers" in up.secret_outputs  # resolved references stay secret in the program
        with server.client() as client:
            docs = client.get("docs", fetch_connection_secrets=True)
            assert docs.headers == {"X-Api-Key": f"{SECRET_MARK}-key"}
            assert docs.auth_data is not None and docs.auth_data.client_id == "docs-app"
            assert docs.visibility == "private"
            tickets = client.get("tickets", fetch_connection_secrets=True)
            assert tickets.connection_secrets == {"token": f"{SECRET_MARK}-tok"}
        state = stack.state()
        for res in state.values():  # secrets are marked secret in the state's inputs and outputs
            for bag in (res["inputs"], res["outputs"]):
                for key in ("headers", "auth_data", "connection_secrets"):
                    if key in bag:
                        assert "4dabf18193072939515e22adb298388d" in bag[key], key
        assert not stack.preview().changes
        stack.destroy()


def test_stack_overrides_change_what_is_declared(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECL_TEST_CLIENT_SECRET", "cs")
    cfg = config(server, docsApiKey="k")
    with StackRunner(project(tmp_path), stack="prod", config=cfg, in_process=True) as stack:
        up = stack.up()
        assert up.outputs["names"] == ["docs"]
        assert up.outputs["servers"] == {"docs": "https://mcp.prod.example.com/mcp"}
        with server.client() as client:
            assert client.get("docs-prod").server == "https://mcp.prod.example.com/mcp"
        stack.destroy()


def test_missing_references_are_reported_together(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DECL_TEST_CLIENT_SECRET", raising=False)
    with (
        StackRunner(project(tmp_path), config=config(server), in_process=True) as stack,
        pytest.raises(StackRunError) as info,
    ):
        stack.up()
    text = str(info.value)
    assert "connectors.yaml:8:18: connectors.docs.headers.X-Api-Key: stack config docsApiKey is not set" in text
    assert "pulumi config set --secret docsApiKey <value>" in text
    assert (
        "connectors.yaml:11:22: connectors.docs.auth_data.client_secret: environment variable "
        "DECL_TEST_CLIENT_SECRET is not set" in text
    )
    assert "mistral:ticketsToken is not set" in text
    with server.client() as client:
        assert [c.name for c in client.iter_connectors()] == []  # nothing was created


def test_invalid_file_fails_the_program_before_any_resource(server: LocalServer, tmp_path: Path) -> None:
    bad = CONNECTORS.replace("client_id: docs-app", "client_id: docs-app\n      clientsecret: x")
    with (
        StackRunner(project(tmp_path, bad), config=config(server), in_process=True) as stack,
        pytest.raises(StackRunError) as info,
    ):
        stack.up()
    assert "connectors.docs.auth_data.clientsecret" in str(info.value)
    assert "did you mean 'client_secret'" in str(info.value)


def test_config_namespace_stack_and_options(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config` picks the namespace of {secret: key}, `stack` overrides the current stack, `opts` reaches every
    resource."""
    import pulumi

    import pulumi_mistral

    path = project(tmp_path) / "connectors.yaml"
    seen: dict[str, Any] = {}

    def program() -> None:
        parent = pulumi.ComponentResource("team:index:Connectors", "team")
        connectors = pulumi_mistral.declare_connectors(
            path, stack="prod", config="team", opts=pulumi.ResourceOptions(parent=parent)
        )
        seen.update(connectors)
        seen["__children__"] = set(parent._childResources)
        pulumi.export("names", sorted(connectors))

    monkeypatch.setenv("DECL_TEST_CLIENT_SECRET", "cs")
    cfg = config(server, **{"team:docsApiKey": "team-key"})
    with StackRunner(program, project="decl", stack="dev", config=cfg, in_process=True) as stack:
        up = stack.up()
        assert up.outputs["names"] == ["docs"]  # the prod overrides, although the stack is dev
        children = seen.pop("__children__")
        assert set(seen.values()) <= children  # opts (here: the parent) reached every connector
        with server.client() as client:
            assert client.get("docs-prod", fetch_connection_secrets=True).headers == {"X-Api-Key": "team-key"}
        stack.destroy()
