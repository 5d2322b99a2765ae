"""What the engine itself does with our provider: replacement order, check failures, errors, import, parallelism.

The scenarios that apply to both doors run through both (``engine_doors``: the native door on ``native-many``);
what only the native door has (import, functions, explicit providers, autonaming...) is in ``test_native.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_doors import DOORS, DYNAMIC, PROJECTS, Door

from pulumi_mistral.testing.pulumi_cli import CliStack


def many(make_stack: Any, door: Door = DYNAMIC, **config: Any) -> CliStack:
    return make_stack(door.project("many"), config={f"many:{k}": v for k, v in config.items()})


def writes(api: Any) -> list[tuple[str, str]]:
    """The API's write requests since the last clear: (method, path), ids kept."""
    return [(r["method"], r["path"]) for r in api.controls().requests(api_only=True) if r["method"] != "GET"]


REPLACED = "visibility cannot be changed in place, so the connector is replaced"


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_visibility_change_of_a_named_connector_deletes_first_and_leaves_no_orphan(make_stack, api, door) -> None:
    stack = many(make_stack, door)
    stack.up()
    old_named, old_auto = stack.outputs()["ids"]
    api.controls().clear_requests()
    up = stack.up("--config", "many:named_visibility=shared_workspace")
    new_named, new_auto = stack.outputs()["ids"]
    assert new_auto == old_auto and new_named != old_named
    # The name stays, and names are unique: the old connector must go before the new one can take the name.
    assert writes(api) == [("DELETE", f"/v1/connectors/{old_named}"), ("POST", "/v1/connectors")]
    assert {c.id for c in api.connectors()} == {new_named, new_auto}
    if door.native:  # the native door says why, and in which order
        assert f"{REPLACED} (the old one is deleted first: the name stays and names are unique)" in up.stdout, up.stdout


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_visibility_change_of_an_auto_named_connector_creates_first_and_leaves_no_orphan(make_stack, api, door) -> None:
    stack = many(make_stack, door)
    stack.up()
    old_named, old_auto = stack.outputs()["ids"]
    old_auto_name = stack.outputs()["names"][1]
    api.controls().clear_requests()
    up = stack.up("--config", "many:auto_visibility=shared_workspace")
    new_named, new_auto = stack.outputs()["ids"]
    assert new_named == old_named and new_auto != old_auto
    assert stack.outputs()["names"][1] != old_auto_name  # the replacement got a fresh auto name
    assert writes(api) == [("POST", "/v1/connectors"), ("DELETE", f"/v1/connectors/{old_auto}")]
    assert {c.id for c in api.connectors()} == {new_named, new_auto}
    if door.native:
        assert f"{REPLACED} (the new one, with a new name, is created first)" in up.stdout, up.stdout


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_check_failures_are_preview_errors_naming_the_property_with_no_api_request(make_stack, api, door) -> None:
    stack = many(make_stack, door, server="ftp://mcp.example.com/mcp", visibility="everyone")
    api.controls().clear_requests()
    preview = stack.preview(check=False)
    assert preview.returncode != 0
    assert "property server value" in preview.output and "has a problem" in preview.output, preview.output
    assert "property visibility value" in preview.output, preview.output
    assert "must be one of" in preview.output  # the fix is named
    assert api.controls().requests(api_only=True) == []
    up = stack.up(check=False)
    assert up.returncode != 0 and api.controls().requests(api_only=True) == []


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_a_url_with_credentials_fails_check_without_the_engine_showing_it(make_stack, api, door) -> None:
    stack = many(make_stack, door, server="https://user:hush-engine@mcp.example.com/mcp")
    api.controls().clear_requests()
    preview = stack.preview(check=False)
    assert preview.returncode != 0
    # No property path, so the engine prints no value: the reason names the property and the fix.
    assert "has a problem: property server embeds credentials (user:password@)" in preview.output, preview.output
    assert "fix: remove them from the URL" in preview.output
    assert "hush-engine" not in preview.output and "property server value" not in preview.output
    assert api.controls().requests(api_only=True) == []


def test_our_errors_are_one_line_each_and_a_bug_keeps_its_traceback(make_stack, api) -> None:
    stack = many(make_stack, count=3)
    stack.set_config("mistral:apiKey", "wrong-key-0123456789", secret=True)
    up = stack.up(check=False)
    assert up.returncode != 0
    refused = "error: the API key from stack config mistral:apiKey was refused by"
    assert up.output.count(refused) >= 3 and "pulumi config set --secret mistral:apiKey" in up.output, up.output
    assert "Traceback" not in up.output and "wrong-key-0123456789" not in up.output
    assert len(up.output.splitlines()) < 50, up.output  # 104 lines with the servicer's tracebacks

    stack.run("config", "rm", "mistral:apiKey")
    stack.env["MISTRAL_API_KEY"] = "wrong-key-from-the-environment"
    up = stack.up(check=False)
    assert "the API key from the MISTRAL_API_KEY environment variable was refused" in up.output, up.output
    assert "Traceback" not in up.output
    stack.env["MISTRAL_API_KEY"] = api.api_key  # so the fixture's destroy can clean up

    buggy = make_stack(PROJECTS / "buggy")  # its provider extends ConnectorProvider: our module is loaded
    failed = buggy.up(check=False)
    assert failed.returncode != 0
    assert "Traceback (most recent call last)" in failed.output, failed.output
    assert "RuntimeError: a bug in a provider method" in failed.output


def test_two_resources_declaring_one_name_are_told_to_rename_one(make_stack, api) -> None:
    stack = many(make_stack, name="dup")
    up = stack.up(check=False)
    assert up.returncode != 0
    assert "name='dup'" in up.output and "rename one of them" in up.output, up.output
    assert [c.name for c in api.connectors()] == ["dup"]


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_parallel_up_of_50_connectors_leaves_no_duplicate_and_no_orphan(make_stack, api, door) -> None:
    stack = many(make_stack, door, count=50)
    up = stack.up()
    assert "51 created" in up.stdout, up.stdout[-500:]
    ids, names = stack.outputs()["ids"], stack.outputs()["names"]
    live = api.connectors()
    assert sorted(c.id for c in live) == sorted(ids) and len(set(names)) == 50
    creates = [w for w in writes(api) if w[0] == "POST"]
    assert len(creates) == 50
    stack.destroy()
    assert api.connectors() == []


def test_pulumi_import_of_a_connector_fails_and_adopt_is_the_way(make_stack, api) -> None:
    with api.client() as client:
        existing = client.create(
            name="many-0", description="Made in the console", server="https://mcp.example.com/mcp", visibility="private"
        )
    stack = many(make_stack, count=0)
    stack.up()
    api.controls().clear_requests()
    imported = stack.run(
        "import", "pulumi-python:dynamic/connector:Connector", "console", existing.id, "--yes", check=False
    )
    # The engine's import sends Read with no properties, so the dynamic provider cannot be found (upstream
    # issue pulumi/pulumi#16175): record what really happens, so docs/engine.md's answer stays true.
    assert imported.returncode != 0
    assert "KeyError: '__provider'" in imported.output, imported.output
    assert writes(api) == [] and len(stack.resources()) == 0

    # adopt=True takes the existing connector over: no create, one update to the declared description.
    stack.set_config("many:count", "1")
    stack.set_config("many:adopt", "true")
    api.controls().clear_requests()
    stack.up()
    assert stack.outputs()["ids"] == [existing.id]
    assert writes(api) == [("PATCH", f"/v1/connectors/{existing.id}")]
    with api.client() as client:
        assert client.get(existing.id).description == "Connector 0 of 1"
    assert stack.preview("--expect-no-changes").returncode == 0
