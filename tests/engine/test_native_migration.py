"""Moving a stack of dynamic connectors to the native door: zero API writes, no downtime, nothing renamed.

The documented sequence (docs/native.md, "Moving a stack from the dynamic door"): the project finds the plugin
(Pulumi.yaml ``plugins.providers``), the program imports ``Connector`` from ``pulumi_mistral.native`` and gives
each one an alias of the dynamic type, and one ``pulumi up`` moves every connector. Tested on examples/quickstart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

DYNAMIC_TYPE = "pulumi-python:dynamic/connector:Connector"
NATIVE_TYPE = "mistral:index:Connector"
ALIAS = 'opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="pulumi-python:dynamic/connector:Connector")]),\n)'


def to_native(project: Path) -> None:
    """The migration as a user makes it: the plugin in Pulumi.yaml, the native import, an alias per connector."""
    manifest = yaml.safe_load((project / "Pulumi.yaml").read_text())
    manifest["plugins"] = {"providers": [{"name": "mistral", "path": str(Path(sys.prefix) / "bin")}]}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    program = (project / "__main__.py").read_text()
    assert program.count("\n)\n") == 2  # the quickstart's two connectors, each closed on a line of its own
    program = program.replace("from pulumi_mistral import Connector", "from pulumi_mistral.native import Connector")
    (project / "__main__.py").write_text(program.replace("\n)\n", f"\n    {ALIAS}\n", 2))


def test_a_dynamic_stack_moves_to_the_native_door_with_no_api_write(make_stack, api, demo) -> None:
    stack = make_stack("quickstart", config={"quickstart:mcpUrl": demo.url})
    stack.up()
    before = stack.outputs()
    assert {r["type"] for r in stack.resources("")} >= {DYNAMIC_TYPE}

    to_native(stack.project_dir)
    api.controls().clear_requests()
    moved = stack.up()
    assert "2 updated" in moved.stdout, moved.output
    # zero writes: nothing recreated or renamed
    assert [r for r in api.controls().requests(api_only=True) if r["method"] != "GET"] == []
    assert stack.outputs() == before
    connectors = stack.resources(NATIVE_TYPE)
    assert sorted(r["id"] for r in connectors) == sorted([before["tools_connector_id"], before["docs_connector_id"]])
    assert stack.resources(DYNAMIC_TYPE) == []
    state: Any = json.dumps(connectors)
    assert "__provider" not in state and "connector_id" not in state  # the native door's shape, camelCase

    api.controls().clear_requests()
    assert stack.preview("--expect-no-changes").returncode == 0
    assert stack.refresh("--preview-only", "--expect-no-changes").returncode == 0
    assert [r for r in api.controls().requests(api_only=True) if r["method"] != "GET"] == []
    assert {c.id for c in api.connectors()} == {before["tools_connector_id"], before["docs_connector_id"]}
