"""A whole workspace into a stack: `pulumi-mistral export --import-file`, then `pulumi import --file` (native door)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

CANARY = "export-import-canary-9c41"


def test_export_import_file_then_pulumi_import_takes_the_whole_workspace(make_stack, api, tmp_path) -> None:
    with api.client() as client:
        client.create(
            name="made-by-hand",
            description="Made in the console",
            server="https://a.example.com/mcp",
            headers={"X-Api-Key": CANARY},
            visibility="private",
        )
        client.create(name="made-by-script", description="Made by a script", server="https://b.example.com/mcp")
        live = {c.name: c.id for c in client.iter_connectors()}

    import_file = tmp_path / "import.json"
    env = {**os.environ, "MISTRAL_API_KEY": api.api_key, "MISTRAL_SERVER_URL": api.url}
    exported = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "pulumi-mistral"), "export", "--import-file", str(import_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert CANARY not in exported.stdout + exported.stderr + import_file.read_text()

    project = tmp_path / "workspace"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "workspace",
                "runtime": "python",
                "plugins": {"providers": [{"name": "mistral", "path": str(Path(sys.prefix) / "bin")}]},
            }
        )
    )
    (project / "__main__.py").write_text("import pulumi\n")
    stack = make_stack(project)
    api.controls().clear_requests()
    imported = stack.run("import", "--file", str(import_file), "--yes", "--protect=false")
    assert "= 2 imported" in imported.stdout, imported.output
    assert CANARY not in imported.output
    assert "import pulumi_mistral_native as mistral" in imported.stdout  # the SDK this distribution installs
    assert {r["id"] for r in stack.resources("mistral:index:Connector")} == set(live.values())
    assert [r for r in api.controls().requests(api_only=True) if r["method"] != "GET"] == []
