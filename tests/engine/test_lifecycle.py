"""The lifecycle through the real engine: up, no false drift, out-of-band changes and deletion, refresh, destroy."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral.core.spec import SECRET_FIELDS
from pulumi_mistral.testing.pulumi_cli import EXIT_EXPECTED_NO_CHANGES, CliStack

PROJECTS = Path(__file__).resolve().parent / "projects"
SECRET_KEYS = ("mistral:apiKey", "full:headerSecret", "full:clientSecret", "full:connectionSecret")


def canaries() -> dict[str, str]:
    return {key: f"canary-{key.split(':')[1]}-{secrets.token_hex(6)}" for key in SECRET_KEYS[1:]}


def full_stack(make_stack: Any, demo: Any, **config: Any) -> tuple[CliStack, dict[str, str]]:
    secret_values = canaries()
    stack = make_stack(PROJECTS / "full", config={"full:mcpUrl": demo.url, **secret_values, **config},
                       secret_keys=SECRET_KEYS)
    return stack, secret_values


def test_quickstart_up_then_preview_and_refresh_show_no_changes(make_stack, api, demo) -> None:
    stack = make_stack("quickstart", config={"quickstart:mcpUrl": demo.url})
    up = stack.up()
    assert "3 created" in up.stdout
    outputs = stack.outputs()
    live = {c.name: c for c in api.connectors()}
    assert set(live) == {outputs["tools_connector_name"], outputs["docs_connector_name"]}
    assert live[outputs["tools_connector_name"]].id == outputs["tools_connector_id"]

    api.clear_requests()
    preview = stack.preview("--expect-no-changes", "--diff")
    assert preview.returncode == 0 and "3 unchanged" in preview.stdout
    refresh = stack.refresh("--preview-only", "--expect-no-changes", "--diff")
    assert refresh.returncode == 0 and "3 unchanged" in refresh.stdout
    # A preview asks the API nothing (Check and Diff are local); the refresh reads each connector once.
    assert sorted(r["method"] for r in api.requests()) == ["GET", "GET"]


OUT_OF_BAND = [
    # (property, the change made in the console)
    ("description", {"description": "edited in the console"}),
    ("headers", {"headers": {"X-Team": "someone-else", "X-Api-Key": "rotated"}}),
    ("connection_secrets", {"connection_secrets": {"token": "rotated"}}),
    ("auth_data", {"auth_data": {"client_id": "console-client", "client_secret": "rotated"}}),
    ("connection_config", {"connection_config": {"region": "us"}}),
]


@pytest.mark.parametrize(("prop", "change"), OUT_OF_BAND, ids=[c[0] for c in OUT_OF_BAND])
def test_out_of_band_change_is_reported_by_refresh_and_undone_by_up(make_stack, api, demo, prop, change) -> None:
    stack, secret_values = full_stack(make_stack, demo)
    stack.up()
    connector_id = stack.outputs()["connector_id"]
    with api.client() as client:
        declared = client.get(connector_id, fetch_connection_secrets=True).model_dump(mode="json")
        client.update(connector_id, **change)

    drift = stack.refresh("--preview-only", "--expect-no-changes", "--diff", check=False)
    assert drift.returncode == EXIT_EXPECTED_NO_CHANGES, drift.output
    assert "1 to update" in drift.stdout
    # The provider names exactly the drifted property; the CLI's own diff can only for non-secrets (it shows
    # every secret as [secret], changed or not).
    named = re.findall(r"warning: connector 'engine-full': (.*) differs? from what this stack recorded", drift.output)
    assert named == [f"{prop} (secret)" if prop in SECRET_FIELDS else prop], drift.output
    if prop not in SECRET_FIELDS:
        assert re.search(rf"~ {prop}\s*:", drift.stdout), drift.stdout
    for value in secret_values.values():
        assert value not in drift.output
    preview = stack.preview("--refresh", "--expect-no-changes", check=False)
    assert preview.returncode == EXIT_EXPECTED_NO_CHANGES, preview.output

    stack.up("--refresh")
    with api.client() as client:
        restored = client.get(connector_id, fetch_connection_secrets=True).model_dump(mode="json")
    assert restored[prop] == declared[prop]
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


def test_out_of_band_deletion_is_forgotten_by_refresh_and_recreated_by_up(make_stack, api, demo) -> None:
    stack = make_stack("quickstart", config={"quickstart:mcpUrl": demo.url})
    stack.up()
    outputs = stack.outputs()
    with api.client() as client:
        client.delete(outputs["docs_connector_id"])

    drift = stack.refresh("--preview-only", "--expect-no-changes", check=False)
    assert drift.returncode == EXIT_EXPECTED_NO_CHANGES, drift.output
    refreshed = stack.refresh()
    assert "1 deleted" in refreshed.stdout, refreshed.stdout
    assert len(stack.resources()) == 1

    up = stack.up()
    assert "1 created" in up.stdout, up.stdout
    again = stack.outputs()
    # The state forgot the old connector, so the new one gets a fresh auto name with the same prefix.
    assert again["docs_connector_name"].startswith("quickstart-docs-")
    assert again["docs_connector_id"] != outputs["docs_connector_id"]
    assert {c.id for c in api.connectors()} == {again["tools_connector_id"], again["docs_connector_id"]}


def test_stack_export_holds_no_secret_value_and_a_small_provider(make_stack, api, demo) -> None:
    stack, secret_values = full_stack(make_stack, demo)
    stack.up()
    exported = json.dumps(stack.export())
    for value in [*secret_values.values(), api.api_key]:
        assert value not in exported
    for resource in stack.resources():
        provider = resource["outputs"]["__provider"]
        assert isinstance(provider, str) and len(provider) < 200, provider
        outputs = resource["outputs"]
        for key in ("headers", "auth_data", "connection_secrets"):
            assert "ciphertext" in json.dumps(outputs[key]), key
