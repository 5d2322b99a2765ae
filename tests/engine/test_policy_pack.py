"""The connector policy pack through the real CLI: `pulumi preview --policy-pack examples/policy-pack`.

The CLI starts a directory pack through the language host's ``RunPlugin``. These tests use the committed pack
directory when they run in the repository's own ``.venv`` (the pack's ``PulumiPolicy.yaml`` points there), and
otherwise a copy whose ``PulumiPolicy.yaml`` points at the running interpreter's virtualenv. A pack that does
not start fails the test (it must never look like a failed policy).

The tests taking a ``door`` run for both resource types: ``projects/policy`` declares the dynamic ``Connector``,
``projects/policy-native`` the same connectors as the native ``mistral:index:Connector`` (the plugin found
through Pulumi.yaml ``plugins.providers``, which the test writes: the virtualenv's ``bin``).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_mistral.testing.projects import point_at_virtualenv

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "examples" / "policy-pack"
PROJECTS = Path(__file__).resolve().parent / "projects"
PROJECT = PROJECTS / "policy"
PIN = "sha256:" + "c" * 64


@dataclass(frozen=True)
class Door:
    """One resource type: its project, its type token in the state, how the CLI names it under ``Policies:``."""

    project: Path
    type: str
    shown: str
    plugin: bool = False


DYNAMIC = Door(PROJECT, "pulumi-python:dynamic/connector:Connector", "pulumi-python:dynamic:Connector")
NATIVE = Door(PROJECTS / "policy-native", "mistral:index:Connector", "mistral:index:Connector", plugin=True)
DOORS = [pytest.param(DYNAMIC, id="dynamic"), pytest.param(NATIVE, id="native")]

COMPLIANT = {
    "docs": {
        "name": "engine-docs",
        "description": "Docs search",
        "server": "https://docs.example.com/mcp",
        "visibility": "shared_workspace",
        "tool_pins": {"search_docs": PIN},
    },
    "local": {
        "name": "engine-local",
        "description": "A server on this machine",
        "server": "http://127.0.0.1:9/mcp",
        "visibility": "private",
    },
}
VIOLATING = {
    "docs": {
        "name": "engine-docs",
        "description": "Docs search",
        "server": "http://docs.example.com/mcp",
        "visibility": "shared_org",
    },
}


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if Path(sys.prefix).resolve() == (REPO / ".venv").resolve():
        yield PACK
        return
    copy = Path(shutil.copytree(PACK, tmp_path_factory.mktemp("pack") / "policy-pack"))
    point_at_virtualenv(copy / "PulumiPolicy.yaml", Path(sys.prefix))
    yield copy


def started(result: Any) -> Any:
    """``result``, once the pack is known to have started (a pack that cannot start is a test failure)."""
    assert "failed to start" not in result.output and "not implemented" not in result.output, result.output
    return result


def policy_stack(make_stack: Any, connectors: dict[str, Any], door: Door = DYNAMIC, **config: Any) -> Any:
    stack = make_stack(door.project, config={"policy:connectors": json.dumps(connectors), **config})
    if door.plugin:  # as a user's Pulumi.yaml finds the plugin: the directory holding pulumi-resource-mistral
        manifest = yaml.safe_load((stack.project_dir / "Pulumi.yaml").read_text())
        manifest["plugins"] = {"providers": [{"name": "mistral", "path": str(Path(sys.prefix) / "bin")}]}
        (stack.project_dir / "Pulumi.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return stack


def preview(stack: Any, pack: Path, tmp_path: Path, config: dict[str, Any] | None = None, *args: str) -> Any:
    extra: tuple[str, ...] = ()
    if config is not None:
        path = tmp_path / "policy-config.json"
        path.write_text(json.dumps(config))
        extra = ("--policy-pack-config", str(path))
    return started(stack.preview("--policy-pack", str(pack), *extra, *args, check=False))


def writes(api: Any) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in api.controls().requests(api_only=True) if r["method"] != "GET"]


@pytest.mark.parametrize("door", DOORS)
def test_a_violating_connector_fails_preview_naming_rule_and_resource(door, make_stack, api, pack, tmp_path) -> None:
    stack = policy_stack(make_stack, VIOLATING, door)
    api.controls().clear_requests()
    result = preview(stack, pack, tmp_path)
    assert result.returncode != 0, result.output
    for rule in ("connector-server-https", "connector-visibility", "connector-shared-tools-tracked"):
        assert f"[mandatory]  {rule}  ({door.shown}: docs)" in result.output, result.output
    assert "server http://docs.example.com/mcp uses plain http to docs.example.com: use https://" in result.output
    assert writes(api) == []


@pytest.mark.parametrize("door", DOORS)
def test_a_compliant_stack_passes(door, make_stack, api, pack, tmp_path) -> None:
    stack = policy_stack(make_stack, COMPLIANT, door, **{"policy:computed": "true"})
    result = preview(stack, pack, tmp_path)
    assert result.returncode == 0, result.output
    assert "mistral-connectors@v0.1.0" in result.output
    assert "[mandatory]" not in result.output and "can't run policy" not in result.output  # the computed server
    assert "+ 4 to create" in result.output  # every connector was previewed (and the computed one checked)
    assert writes(api) == []


def test_advisory_rules_warn_without_failing(make_stack, api, pack, tmp_path) -> None:
    stack = policy_stack(make_stack, VIOLATING)
    result = preview(stack, pack, tmp_path, {"all": "advisory"})
    assert result.returncode == 0, result.output
    assert "[advisory]  connector-server-https  (pulumi-python:dynamic:Connector: docs)" in result.output


def test_the_config_changes_the_outcome(make_stack, api, pack, tmp_path) -> None:
    shared_org = {"docs": {**COMPLIANT["docs"], "visibility": "shared_org"}}
    stack = policy_stack(make_stack, shared_org)
    assert preview(stack, pack, tmp_path).returncode != 0
    listed = preview(stack, pack, tmp_path, {"connector-visibility": {"sharedOrgNames": ["engine-docs"]}})
    assert listed.returncode == 0, listed.output
    narrowed = preview(
        stack,
        pack,
        tmp_path,
        {"connector-server-host": {"allowedHosts": ["*.internal.example"]}, "connector-visibility": "disabled"},
    )
    assert narrowed.returncode != 0
    assert "server host docs.example.com is not allowed (allowedHosts: *.internal.example)" in narrowed.output


def test_a_wrong_config_is_a_clear_error(make_stack, api, pack, tmp_path) -> None:
    stack = policy_stack(make_stack, COMPLIANT)
    wrong = preview(stack, pack, tmp_path, {"connector-visibility": {"maxVisibility": "everyone"}})
    assert wrong.returncode != 0 and "validating policy config" in wrong.output, wrong.output
    typo = preview(stack, pack, tmp_path, {"connector-visibility": {"sharedOrgNamez": ["engine-docs"]}})
    assert typo.returncode != 0
    assert "unknown parameter 'sharedOrgNamez' (did you mean 'sharedOrgNames'?)" in typo.output, typo.output


@pytest.mark.parametrize("door", DOORS)
def test_stack_rules_see_every_connector(door, make_stack, api, pack, tmp_path) -> None:
    twice = {"a": COMPLIANT["local"], "b": COMPLIANT["local"]}
    result = preview(policy_stack(make_stack, twice, door), pack, tmp_path)
    assert result.returncode != 0
    assert "connector name 'engine-local' is declared by 2 resources of this stack (a, b)" in result.output
    assert f"connector-names-unique  ({door.shown}: a)" in result.output, result.output
    assert writes(api) == []


@pytest.mark.parametrize("door", DOORS)
def test_the_remediation_makes_an_unset_visibility_private(door, make_stack, api, pack, tmp_path) -> None:
    local = {k: v for k, v in COMPLIANT["local"].items() if k != "visibility"}
    unset = {"local": {**local, "headers": {"X-Api-Key": "engine-header-value"}}}
    stack = policy_stack(make_stack, unset, door)
    # unset, the server's default (shared_workspace) applies: a shared connector without tool tracking
    refused = preview(stack, pack, tmp_path)
    assert refused.returncode != 0 and "unset visibility (the server's default: shared_workspace)" in refused.output
    path = tmp_path / "remediate.json"
    path.write_text(json.dumps({"connector-visibility": "remediate"}))
    up = started(stack.up("--policy-pack", str(pack), "--policy-pack-config", str(path), check=False))
    assert up.returncode == 0, up.output
    (connector,) = api.connectors()  # the validations ran on the remediated inputs: up passed
    assert connector.visibility == "private"
    (state,) = stack.resources(door.type)
    assert state["inputs"]["visibility"] == "private"
    # what the pack sent back kept the headers secret (encrypted in the state, not plain)
    assert "ciphertext" in state["inputs"]["headers"] and "engine-header-value" not in json.dumps(state)


@pytest.mark.parametrize("door", DOORS)
def test_stack_rules_see_a_property_removed_from_the_program(door, make_stack, api, demo, pack, tmp_path) -> None:
    """Two connectors of one server under one tool policy, then the policy removed from one: the stack rule must
    see the new inputs. (A stack validation gets the provider's planned outputs; the native plugin's plan of an
    update keeps every old output the new inputs do not override, so the removed tool_drift would still show.)"""
    tracked = {
        "name": "engine-a",
        "description": "A server on this machine",
        "server": demo.url,
        "visibility": "private",
        "tool_drift": "audit",
    }
    stack = policy_stack(make_stack, {"a": tracked, "b": {**tracked, "name": "engine-b"}}, door)
    stack.up()
    untracked = {k: v for k, v in tracked.items() if k != "tool_drift"}
    stack.set_config("policy:connectors", json.dumps({"a": tracked, "b": {**untracked, "name": "engine-b"}}))
    api.controls().clear_requests()
    result = preview(stack, pack, tmp_path)
    assert result.returncode != 0, result.output
    assert f"connector-server-tool-policy  ({door.shown}: b)" in result.output, result.output
    assert writes(api) == []
