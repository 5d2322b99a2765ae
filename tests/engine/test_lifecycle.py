"""The lifecycle through the real engine: up, no false drift, out-of-band changes and deletion, refresh, destroy.

Each scenario runs through both doors (``engine_doors``): the dynamic ``Connector`` and the native plugin, each on
its own project (``projects/native-*`` are the native twins); where the native door differs, the test says how.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from engine_doors import DOORS, DYNAMIC, NATIVE, Door

from pulumi_mistral.core.spec import SECRET_FIELDS
from pulumi_mistral.testing.pulumi_cli import EXIT_EXPECTED_NO_CHANGES, CliStack

SECRET_KEYS = ("mistral:apiKey", "full:headerSecret", "full:clientSecret", "full:connectionSecret")


def canaries() -> dict[str, str]:
    return {key: f"canary-{key.split(':')[1]}-{secrets.token_hex(6)}" for key in SECRET_KEYS[1:]}


def full_stack(make_stack: Any, demo: Any, door: Door = DYNAMIC, **config: Any) -> tuple[CliStack, dict[str, str]]:
    secret_values = canaries()
    stack = make_stack(
        door.project("full"), config={"full:mcpUrl": demo.url, **secret_values, **config}, secret_keys=SECRET_KEYS
    )
    return stack, secret_values


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_quickstart_up_then_preview_and_refresh_show_no_changes(make_stack, api, demo, door) -> None:
    stack = make_stack(door.project("quickstart"), config={"quickstart:mcpUrl": demo.url})
    up = stack.up()
    assert "3 created" in up.stdout
    outputs = stack.outputs()
    live = {c.name: c for c in api.connectors()}
    assert set(live) == {outputs["tools_connector_name"], outputs["docs_connector_name"]}
    assert live[outputs["tools_connector_name"]].id == outputs["tools_connector_id"]

    api.controls().clear_requests()
    preview = stack.preview("--expect-no-changes", "--diff")
    assert preview.returncode == 0 and "3 unchanged" in preview.stdout
    refresh = stack.refresh("--preview-only", "--expect-no-changes", "--diff")
    assert refresh.returncode == 0 and "3 unchanged" in refresh.stdout
    # A preview asks the API nothing (Check and Diff are local; on the native door Create and Update are called
    # in a preview too, and send nothing); the refresh reads each connector once.
    assert sorted(r["method"] for r in api.controls().requests(api_only=True)) == ["GET", "GET"]


OUT_OF_BAND = [
    # (property, the change made in the console)
    ("description", {"description": "edited in the console"}),
    ("headers", {"headers": {"X-Team": "someone-else", "X-Api-Key": "rotated"}}),
    ("connection_secrets", {"connection_secrets": {"token": "rotated"}}),
    ("auth_data", {"auth_data": {"client_id": "console-client", "client_secret": "rotated"}}),
    ("connection_config", {"connection_config": {"region": "us"}}),
]


# The dynamic door gets one kind of property per stack; the native door gets every kind at once, on one stack: its
# detailed diff must then mark each of them, and only them (one round instead of five keeps the tier's time down).
OUT_OF_BAND_CASES = [
    *(pytest.param(DYNAMIC, [case], id=f"dynamic-{case[0]}") for case in OUT_OF_BAND),
    pytest.param(NATIVE, OUT_OF_BAND, id="native-every-kind-at-once"),
]


def drift_names(props: list[str]) -> str:
    """The properties the provider's refresh warning names, as it words them."""
    return ", ".join(f"{p} (secret)" if p in SECRET_FIELDS else p for p in sorted(props))


def top_level_diff(output: str) -> list[str]:
    """The properties of the CLI's detailed diff display (nested keys left out: they are indented deeper)."""
    lines = re.findall(r"^( +)[-+~] (\w+)\s*: ", output, re.MULTILINE)
    top = min((len(indent) for indent, _ in lines), default=0)
    return sorted(name for indent, name in lines if len(indent) == top)


@pytest.mark.parametrize(("door", "cases"), OUT_OF_BAND_CASES)
def test_out_of_band_change_is_reported_by_refresh_and_undone_by_up(make_stack, api, demo, door, cases) -> None:
    stack, secret_values = full_stack(make_stack, demo, door)
    stack.up()
    connector_id = stack.outputs()["connector_id"]
    props = [prop for prop, _ in cases]
    with api.client() as client:
        declared = client.get(connector_id, fetch_connection_secrets=True).model_dump(mode="json")
        client.update(connector_id, **{k: v for _, change in cases for k, v in change.items()})

    drift = stack.refresh("--preview-only", "--expect-no-changes", "--diff", check=False)
    assert drift.returncode == EXIT_EXPECTED_NO_CHANGES, drift.output
    assert "1 to update" in drift.stdout
    # The provider names exactly the drifted properties; the CLI's own diff can only for non-secrets on the dynamic
    # door (it shows every secret as [secret], changed or not). The native door answers a detailed diff, so the
    # CLI marks a changed secret too (`~ headers: [secret] => [secret]`), and shows nothing else.
    named = re.findall(r"warning: connector 'engine-full': (.*) differs? from what this stack recorded", drift.output)
    assert named == [drift_names(props)], drift.output
    for prop in props:
        shown = re.search(rf"~ {door.prop(prop)}\s*:", drift.stdout)
        if door.native:
            assert shown, drift.stdout
            if prop in SECRET_FIELDS:
                assert re.search(rf"~ {door.prop(prop)}\s*: \[secret\] => \[secret\]", drift.stdout), drift.stdout
        elif prop not in SECRET_FIELDS:
            assert shown, drift.stdout
        else:
            assert not shown, drift.stdout  # the dynamic door: the CLI does not mark a changed secret
    if door.native:
        assert top_level_diff(drift.stdout) == sorted(door.prop(p) for p in props), drift.stdout
    for value in secret_values.values():
        assert value not in drift.output
    preview = stack.preview("--refresh", "--expect-no-changes", check=False)
    assert preview.returncode == EXIT_EXPECTED_NO_CHANGES, preview.output

    stack.up("--refresh")
    with api.client() as client:
        restored = client.get(connector_id, fetch_connection_secrets=True).model_dump(mode="json")
    for prop in props:
        assert restored[prop] == declared[prop], prop
    assert stack.preview("--refresh", "--expect-no-changes").returncode == 0


def test_an_unset_visibility_recorded_by_refresh_is_not_shown_as_removed(make_stack, api, demo) -> None:
    stack = make_stack("quickstart", config={"quickstart:mcpUrl": demo.url})
    stack.up()
    stack.refresh()  # records the live state in the inputs, visibility included (the program leaves it unset)
    stack.set_config("quickstart:mcpUrl", demo.url.replace("/mcp", "/mcp/"))
    preview = stack.preview("--diff")
    assert re.search(r"~ server\s*:", preview.stdout), preview.stdout
    block = preview.stdout.split("quickstart-tools]", 1)[1].split("Resources:")[0]
    assert re.search(r"^\s+visibility\s*: \"shared_workspace\"$", block, re.MULTILINE), block  # unchanged
    assert "- visibility" not in block, block


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_out_of_band_deletion_is_forgotten_by_refresh_and_recreated_by_up(make_stack, api, demo, door) -> None:
    stack = make_stack(door.project("quickstart"), config={"quickstart:mcpUrl": demo.url})
    stack.up()
    outputs = stack.outputs()
    with api.client() as client:
        client.delete(outputs["docs_connector_id"])

    drift = stack.refresh("--preview-only", "--expect-no-changes", check=False)
    assert drift.returncode == EXIT_EXPECTED_NO_CHANGES, drift.output
    refreshed = stack.refresh()
    assert "1 deleted" in refreshed.stdout, refreshed.stdout
    assert len(door.connectors(stack)) == 1

    up = stack.up()
    assert "1 created" in up.stdout, up.stdout
    again = stack.outputs()
    # The state forgot the old connector, so the new one gets a fresh auto name with the same prefix.
    assert again["docs_connector_name"].startswith("quickstart-docs-")
    assert again["docs_connector_id"] != outputs["docs_connector_id"]
    assert {c.id for c in api.connectors()} == {again["tools_connector_id"], again["docs_connector_id"]}


@pytest.mark.parametrize("door", DOORS, ids=str)
def test_stack_export_holds_no_secret_value_and_a_small_provider(make_stack, api, demo, door) -> None:
    stack, secret_values = full_stack(make_stack, demo, door)
    stack.up()
    exported = json.dumps(stack.export())
    for value in [*secret_values.values(), api.api_key]:
        assert value not in exported
    connectors = door.connectors(stack)
    assert len(connectors) == 1
    for resource in connectors:
        outputs = resource["outputs"]
        if door.native:  # no pickled provider: the provider is a resource of its own (below)
            assert "__provider" not in outputs and "__provider" not in resource["inputs"]
        else:
            provider = resource["outputs"]["__provider"]
            assert isinstance(provider, str) and len(provider) < 200, provider
        for key in ("headers", "auth_data", "connection_secrets"):
            assert "ciphertext" in json.dumps(outputs[door.prop(key)]), key
            if door.native:
                assert "ciphertext" in json.dumps(resource["inputs"][door.prop(key)]), key
    if door.native:
        (provider,) = stack.resources(door.provider_type)
        assert "ciphertext" in json.dumps(provider["inputs"]["apiKey"])
        assert provider["inputs"]["serverUrl"] == api.url
