"""`pulumi-mistral export`: all pages, canonical declarations, secrets only as references, and the adopt round trip."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral.cli import main
from pulumi_mistral.cli.export import Export, config_key, connector_declaration, render_yaml
from pulumi_mistral.declarations import load_declarations, secret_references
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunner

SECRET_MARK = "s3cr3t-canary"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def populate(server: LocalServer, count: int) -> dict[str, dict[str, Any]]:
    """``count`` connectors with every kind of field; returns the secret values by connector name."""
    secrets: dict[str, dict[str, Any]] = {}
    with server.client() as client:
        for i in range(count):
            name = f"conn-{i:03d}"
            kwargs: dict[str, Any] = {
                "name": name,
                "description": f"Connector {i}",
                "server": f"https://mcp{i % 7}.example.com/mcp",
            }
            kept: dict[str, Any] = {}
            if i % 2 == 0:
                kwargs["headers"] = {"X-Api-Key": f"{SECRET_MARK}-h{i}", "X-Team": f"{SECRET_MARK}-t{i}"}
                kept["headers"] = kwargs["headers"]
            if i % 3 == 0:
                kwargs["auth_data"] = {"client_id": f"app-{i}", "client_secret": f"{SECRET_MARK}-cs{i}"}
                kept["auth_data"] = kwargs["auth_data"]
            if i % 4 == 0:
                kwargs["visibility"] = "private"
            if i % 5 == 0:
                kwargs["system_prompt"] = f"You are connector {i}.\nBe brief."
                kwargs["icon_url"] = f"https://icons.example.com/{i}.png"
            created = client.create(**kwargs)
            patch: dict[str, Any] = {}
            if i % 3 == 1:
                patch["connection_config"] = {"region": "eu", "retries": i % 4, "tags": ["a", "b"]}
            if i % 6 == 1:
                patch["connection_secrets"] = {"token": f"{SECRET_MARK}-cs{i}"}
                kept["connection_secrets"] = patch["connection_secrets"]
            if patch:
                client.update(created.id, **patch)
            secrets[name] = kept
    return secrets


def run_export(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("MISTRAL_API_KEY", server.api_key)
    monkeypatch.delenv("MISTRAL_SERVER_URL", raising=False)
    code = main(["export", "--server-url", server.url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_config_keys_are_plain_and_unique() -> None:
    assert config_key("docs-search", "header", "X-Api-Key") == "docsSearchHeaderXApiKey"
    assert config_key("9lives", "secret", "t") == "c9livesSecretT"
    export = Export()
    first = export.secret_ref("a", "a-b", "secret", "x")
    second = export.secret_ref("b", "a_b", "secret", "x")
    assert first != second and all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", r["secret"]) for r in (first, second))


def test_declaration_never_holds_secret_values() -> None:
    live = {
        "id": "x",
        "name": "docs",
        "description": "Docs",
        "server": "https://mcp.example.com/mcp",
        "created_at": "2025-01-01T00:00:00Z",
        "modified_at": "2025-01-01T00:00:00Z",
        "visibility": None,
        "connection_config": {},
        "headers": {"X-Api-Key": SECRET_MARK},
        "auth_data": {"client_id": "app", "client_secret": SECRET_MARK},
        "connection_secrets": {"tok": SECRET_MARK},
    }
    export = Export()
    decl = connector_declaration(live, export)
    assert decl == {
        "description": "Docs",
        "server": "https://mcp.example.com/mcp",
        "headers": {"X-Api-Key": {"secret": "docsHeaderXApiKey"}},
        "auth_data": {"client_id": "app", "client_secret": {"secret": "docsClientSecret"}},
        "connection_secrets": {"tok": {"secret": "docsSecretTok"}},
    }
    export.connectors["docs"] = decl
    assert SECRET_MARK not in render_yaml(export)
    header = render_yaml(export, source=f"https://user:{SECRET_MARK}@api.example.com:8443/v1?key={SECRET_MARK}")
    assert SECRET_MARK not in header and "from https://api.example.com:8443/v1:" in header


def test_missing_header_names_warn_instead_of_guessing() -> None:
    export = Export()
    decl = connector_declaration({"name": "old", "description": "Old", "server": "https://o.example.com"}, export)
    assert "headers" not in decl
    assert any("did not list its header names" in w for w in export.warnings)


def test_export_reads_every_page_and_round_trips(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(server, 13)
    out_file = tmp_path / "connectors.yaml"
    code, out, err = run_export(
        server,
        monkeypatch,
        capsys,
        "--output",
        str(out_file),
        "--page-size",
        "5",
        "--python",
        str(tmp_path / "__main__.py"),
    )
    assert code == 0, err
    text = out_file.read_text()
    assert SECRET_MARK not in text + out + err
    decls = load_declarations(out_file)
    assert sorted(decls) == [f"conn-{i:03d}" for i in range(13)]
    assert all(d["adopt"] is True for d in decls.values())
    assert decls["conn-000"]["system_prompt"] == "You are connector 0.\nBe brief."
    assert decls["conn-001"]["connection_config"] == {"region": "eu", "retries": 1, "tags": ["a", "b"]}
    # three pages of 5: the request log shows the listing followed the cursor
    lists = [r for r in server.controls().requests() if r["method"] == "GET" and r["path"] == "/v1/connectors"]
    assert len(lists) == 3
    # one `pulumi config set --secret` line per referenced key, and the keys are the ones in the file
    keys = {ref.key for _, _, ref in secret_references(decls)}
    printed = set(re.findall(r"pulumi config set --secret (\S+) ", out))
    assert printed == keys and len(keys) == 7 * 2 + 5 + 2
    program = (tmp_path / "__main__.py").read_text()
    assert "declare_connectors('connectors.yaml')" in program
    compile(program, "__main__.py", "exec")


def test_import_file_names_every_connector_by_id_and_holds_no_secret(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(server, 7)
    target = tmp_path / "import.json"
    code, out, err = run_export(server, monkeypatch, capsys, "--import-file", str(target), "--page-size", "3")
    assert code == 0, err
    written = json.loads(target.read_text())
    with server.client() as client:
        live = {c.name: c.id for c in client.iter_connectors()}
    assert written == {
        "resources": [{"type": "mistral:index:Connector", "name": name, "id": live[name]} for name in sorted(live)]
    }
    assert SECRET_MARK not in target.read_text() + out + err
    assert f"pulumi import --file {target}" in out
    assert "connectors.yaml" not in out and not (tmp_path / "connectors.yaml").exists()
    # the secret inputs are listed for the program to supply, by key, never by value
    assert "secret inputs are not imported" in out and "conn000HeaderXApiKey" in out
    assert main(["export", "--server-url", server.url, "--import-file", str(target)]) == 1  # no overwrite


def test_export_to_stdout_and_errors(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(server, 2)
    code, out, err = run_export(server, monkeypatch, capsys, "--output", "-")
    assert code == 0 and out.startswith("# Exported by pulumi-mistral") and "wrote 2 connectors" in err
    monkeypatch.setenv("MISTRAL_API_KEY", "wrong-key")
    assert main(["export", "--server-url", server.url, "--output", "-"]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("pulumi-mistral export: ") and "wrong-key" not in err


def test_existing_files_are_not_overwritten_without_force(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(server, 1)
    mine = tmp_path / "connectors.yaml"
    mine.write_text("# hand-written\n")
    code, _, err = run_export(server, monkeypatch, capsys, "--output", str(mine))
    assert code == 1 and "already exists" in err and "--force" in err
    assert mine.read_text() == "# hand-written\n"
    code, _, _ = run_export(server, monkeypatch, capsys, "--output", str(mine), "--force")
    assert code == 0 and "conn-000" in mine.read_text()


def test_progress_on_stderr_for_large_workspaces(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(server, 205)
    code, _, err = run_export(server, monkeypatch, capsys, "--output", str(tmp_path / "c.yaml"))
    assert code == 0
    assert "read 100 connectors" in err and "read 200 connectors" in err


def test_export_module_stays_lean() -> None:
    code = (
        "import sys, pulumi_mistral.cli.export; "
        "print([m for m in ('pulumi', 'fastapi', 'starlette', 'uvicorn', 'mcp') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


# ---- the bulk-import story: export, then deploy the export with adopt ---------------------------------------


def adopt_round_trip(
    server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    count: int,
    style: str = "declare",
) -> None:
    secrets = populate(server, count)
    project = tmp_path / "imported"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: imported\nruntime: python\n")
    code, _, err = run_export(
        server,
        monkeypatch,
        capsys,
        "--output",
        str(project / "connectors.yaml"),
        "--python",
        str(project / "__main__.py"),
        "--python-style",
        style,
    )
    assert code == 0, err
    decls = load_declarations(project / "connectors.yaml")
    assert len(decls) == count
    # The operator sets each referenced secret to its live value (here: the values the test created).
    config: dict[str, Any] = server.config()
    for resource, prop, ref in secret_references(decls):
        value: Any = secrets[resource]
        for part in prop.split("."):
            value = value[part]
        config[ref.key] = value
    secret_keys = [k for k in config if k != "mistral:serverUrl"]
    controls = server.controls()
    controls.clear_requests()
    with StackRunner(project, config=config, secret_keys=secret_keys, in_process=True) as stack:
        result = stack.up()
        assert [s.op for s in result.steps] == ["create"] * count  # creates in the state, adopted in the API
        log = controls.requests()
        assert count <= len(log) < 1000  # the adoption's lookups, and the bounded log did not overflow
        writes = [f"{r['method']} {r['path']}" for r in log if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]
        assert writes == [], writes[:5]
        assert len(result.outputs["connector_ids"]) == count
        assert stack.preview().changes is False
        refreshed = stack.refresh()
        assert refreshed.drift == {} and refreshed.gone == []
        assert stack.preview(refresh=True, expect_no_changes=True).changes is False
        for res in stack.state().values():  # adopt is recorded, the state knows every connector's id
            assert res["outputs"]["adopt"] is True and res["id"]


@pytest.mark.parametrize("style", ["declare", "explicit"])
def test_export_then_adopt_gives_no_changes(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], style: str
) -> None:
    adopt_round_trip(server, tmp_path, monkeypatch, capsys, count=24, style=style)


@pytest.mark.slow
def test_export_then_adopt_200_connectors_gives_no_changes(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    adopt_round_trip(server, tmp_path, monkeypatch, capsys, count=200)
