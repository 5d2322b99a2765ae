"""recover's pure parts: reading pending operations from a stack export, finding their API, deciding each case."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from pulumi_mistral.cli.recover.decide import CREATE_FIELDS, Plan, decide, differing_fields
from pulumi_mistral.cli.recover.pending import (
    UNREADABLE,
    api_settings,
    engine_naming,
    pending_operations,
    recorded_ids,
    secret_values,
)
from pulumi_mistral.core.secret_markers import SECRET_SIG, SIG_KEY

PROJECT = "urn:pulumi:dev::proj::"
DYNAMIC = "pulumi-python:dynamic/connector:Connector"
NATIVE = "mistral:index:Connector"
DYNAMIC_PROVIDER = f"{PROJECT}pulumi:providers:pulumi-python::default"
NATIVE_PROVIDER = f"{PROJECT}pulumi:providers:mistral::eu"
KEY = "key-canary-0d9f1c"  # a secret: never in any line the command prints
TOKEN = "header-canary-77ab2e"


def secret(value: Any) -> dict[str, Any]:
    """A value as `pulumi stack export --show-secrets` prints it."""
    return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(value)}


def encrypted() -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "ciphertext": "v1:abc"}


def export(*ops: dict[str, Any], resources: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    providers = [
        {
            "urn": DYNAMIC_PROVIDER,
            "id": "p1",
            "type": "pulumi:providers:pulumi-python",
            "inputs": {"mistral:apiKey": secret(KEY), "mistral:serverUrl": "http://127.0.0.1:1", "proj:x": "1"},
        },
        {
            "urn": NATIVE_PROVIDER,
            "id": "p2",
            "type": "pulumi:providers:mistral",
            "inputs": {"apiKey": secret("native-key-5e1"), "serverUrl": "https://eu.example.com"},
        },
    ]
    return {"deployment": {"resources": [*providers, *resources], "pending_operations": list(ops)}}


def op(
    kind: str,
    name: str,
    inputs: dict[str, Any],
    *,
    type_: str = DYNAMIC,
    id_: str | None = None,
    provider: str = f"{DYNAMIC_PROVIDER}::p1",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "urn": f"{PROJECT}{type_}::{name}",
        "type": type_,
        "inputs": inputs,
        "provider": provider,
    }
    if id_:
        resource["id"] = id_
    return {"type": kind, "resource": resource}


DECLARED = {
    "__provider": "gASV",
    "description": "Docs",
    "server": "https://mcp.example.com/mcp",
    "headers": secret({"X-Token": TOKEN}),
    "connection_config": {"index": 1},
}
AUTO = {**DECLARED, "name": "auto-0-abc1234", "name_prefix": "auto-0"}
NAMED = {**DECLARED, "name": "docs"}


def live(name: str, **changes: Any) -> dict[str, Any]:
    """A connector as the API returns it (model_dump), as the recorded create would have made it."""
    return {
        "id": f"id-{name}",
        "name": name,
        "description": "Docs",
        "server": "https://mcp.example.com/mcp",
        "headers": {"X-Token": TOKEN},
        "header_names": ["X-Token"],
        "auth_data": None,
        **changes,
    }


def one(*ops: dict[str, Any], **kwargs: Any) -> Any:
    return pending_operations(export(*ops, **kwargs))[0]


# -- reading the export ---------------------------------------------------------------------------------------------


def test_pending_operations_reveal_secrets_drop_the_provider_pickle_and_know_their_door() -> None:
    found = one(op("creating", "auto-0", AUTO))
    assert found.kind == "creating" and found.door == "dynamic" and found.resource == "auto-0"
    assert found.inputs["headers"] == {"X-Token": TOKEN}
    assert "__provider" not in found.inputs
    assert found.name == "auto-0-abc1234" and found.auto_named
    assert not one(op("creating", "docs", NAMED)).auto_named


def test_native_inputs_are_read_in_camel_case_and_an_auto_name_is_the_recorded_prefix_plus_a_suffix() -> None:
    # As the native door records an auto-named connector (seen in the engine tier): the hidden input namePrefix.
    inputs = {
        "name": "search-x1y2z3a",
        "namePrefix": "search",
        "description": "Search",
        "server": "https://s.example.com/mcp",
        "iconUrl": "https://s.example.com/i.png",
        "authData": secret({"clientId": "c", "clientSecret": "s"}),
    }
    found = one(op("creating", "search", inputs, type_=NATIVE, provider=f"{NATIVE_PROVIDER}::p2"))
    assert found.door == "native" and found.auto_named and found.name_origin == "drawn"
    assert found.inputs["icon_url"] == "https://s.example.com/i.png"
    assert found.inputs["auth_data"] == {"client_id": "c", "client_secret": "s"}
    declared = {k: v for k, v in inputs.items() if k != "namePrefix"}
    named = one(op("creating", "search", {**declared, "name": "search"}, type_=NATIVE))
    assert not named.auto_named and named.name_origin == "declared"
    # A declared name that merely looks drawn is declared: it may be another stack's, so it is never deleted.
    lookalike = one(op("creating", "search", declared, type_=NATIVE))
    assert not lookalike.auto_named and lookalike.name_origin == "declared"
    step = decide(
        lookalike,
        live(
            "search-x1y2z3a",
            description="Search",
            server="https://s.example.com/mcp",
            icon_url="https://s.example.com/i.png",
            headers=None,
            header_names=[],
            auth_data={"client_id": "c", "client_secret": "s"},
        ),
    )
    assert step.delete_id is None and not step.needs_person and "takes it over" in step.line


@pytest.mark.parametrize(
    ("config", "naming"),
    [
        (None, "provider"),
        ({}, "provider"),
        ({"pulumi:autonaming": {"mode": "default"}}, "provider"),
        ({"pulumi:autonaming": {"pattern": "${name}-${hex(6)}"}}, "random"),
        ({"pulumi:autonaming": {"pattern": "${project}-${name}-${alphanum(4)}"}}, "random"),
        ({"pulumi:autonaming": {"pattern": "${name}-${uuid}"}}, "random"),
        ({"pulumi:autonaming": {"pattern": "${stack}-${name}"}}, "fixed"),
        ({"pulumi:autonaming": {"mode": "verbatim"}}, "fixed"),
        ({"pulumi:autonaming": {"mode": "disabled"}}, "disabled"),
        ({"pulumi:autonaming": {"mode": "sideways"}}, "unknown"),
        ({"pulumi:autonaming": "not an object"}, "unknown"),
        # the type's entry under its package's provider wins, then the provider's, then the root's
        ({"pulumi:autonaming": {"mode": "verbatim", "providers": {"aws": {"pattern": "${name}-${hex(8)}"}}}}, "fixed"),
        (
            {"pulumi:autonaming": {"mode": "verbatim", "providers": {"mistral": {"pattern": "${name}-${num(3)}"}}}},
            "random",
        ),
        (
            {"pulumi:autonaming": {"pattern": "${name}-${hex(8)}", "providers": {"mistral": {"mode": "default"}}}},
            "provider",
        ),
        (
            {
                "pulumi:autonaming": {
                    "pattern": "${name}-${hex(8)}",
                    "providers": {"mistral": {"resources": {"mistral:index:Connector": {"mode": "verbatim"}}}},
                }
            },
            "fixed",
        ),
        (
            {
                "pulumi:autonaming": {
                    "mode": "verbatim",
                    "providers": {
                        "mistral": {
                            "pattern": "${name}-${hex(2)}",
                            "resources": {"mistral:index:getConnector": {"mode": "default"}},
                        }
                    },
                }
            },
            "random",
        ),
    ],
)
def test_engine_naming_resolves_the_stack_autonaming_config_as_the_cli_does(config: Any, naming: str) -> None:
    assert engine_naming(config, NATIVE) == naming


@pytest.mark.parametrize(
    ("naming", "origin", "deletes", "person", "words"),
    [
        ("random", "drawn", True, False, "delete it and clear the pending create"),
        ("fixed", "pattern", False, False, "the name the stack's autonaming pattern gives it again"),
        ("provider", "unknown", False, True, "does not say whether the next `pulumi up` proposes it again"),
        ("disabled", "unknown", False, True, "not touched"),
    ],
)
def test_a_native_name_proposed_by_the_engine_is_deleted_only_when_its_pattern_is_random(
    naming: str, origin: str, deletes: bool, person: bool, words: str
) -> None:
    """Under `pulumi:autonaming` the native door takes the engine's proposal (`auto-0-3fa2b1`), not the
    provider's `<resource name>-<7 characters>`: the pattern says whether the next `up` proposes it again."""
    inputs = {
        "name": "auto-0-3fa2b1",
        "namePrefix": "auto-0",
        "description": "Docs",
        "server": "https://mcp.example.com/mcp",
        "headers": secret({"X-Token": TOKEN}),
    }
    found = dataclasses.replace(one(op("creating", "auto-0", inputs, type_=NATIVE)), naming=naming)
    assert found.name_origin == origin
    step = decide(found, live("auto-0-3fa2b1"))
    assert bool(step.delete_id) is deletes and step.needs_person is person and words in step.line
    dynamic = one(op("creating", "auto-0", {**AUTO, "name": "auto-0-3fa2b1"}))
    assert dataclasses.replace(dynamic, naming="random").name_origin == "unknown"  # the dynamic door draws itself


def test_an_encrypted_input_is_unreadable_and_another_type_has_no_door() -> None:
    found = one(op("creating", "docs", {**NAMED, "headers": encrypted()}))
    assert found.inputs["headers"] is UNREADABLE and found.unreadable == ["headers"]
    other = one(op("creating", "bucket", {"acl": "private"}, type_="aws:s3/bucket:Bucket"))
    assert other.door is None and other.inputs == {}


def test_a_pending_update_recorded_without_its_id_takes_the_id_of_its_resource_in_the_state() -> None:
    # Seen on the real engine: the checkpoint can be written before the step fills the id in.
    urn = f"{PROJECT}{DYNAMIC}::auto-1"
    state = ({"urn": urn, "id": "c-1", "type": DYNAMIC}, {"urn": urn, "id": "c-old", "type": DYNAMIC, "delete": True})
    found = one(op("updating", "auto-1", AUTO), resources=state)
    assert found.connector_id == "c-1"
    assert one(op("creating", "auto-1", AUTO), resources=state).connector_id is None
    assert recorded_ids(export(resources=state))[urn] == "c-1"


# -- where each connector lives -------------------------------------------------------------------------------------


def test_dynamic_settings_come_from_the_recorded_stack_config_else_the_environment() -> None:
    data = export(op("creating", "docs", NAMED))
    first = pending_operations(data)[0]
    settings = api_settings(data, first, {"MISTRAL_API_KEY": "env-key", "MISTRAL_SERVER_URL": "https://env"})
    assert (settings.api_key, settings.server_url) == (KEY, "http://127.0.0.1:1")
    assert KEY not in repr(settings)
    orphaned = export(op("creating", "docs", NAMED, provider=f"{DYNAMIC_PROVIDER}::gone"))
    settings = api_settings(orphaned, pending_operations(orphaned)[0], {"MISTRAL_API_KEY": "env-key"})
    assert (settings.api_key, settings.server_url, settings.source) == ("env-key", None, "MISTRAL_API_KEY")


def test_native_settings_come_from_the_recorded_provider_else_the_stack_config_else_the_environment() -> None:
    data = export(op("creating", "search", NAMED, type_=NATIVE, provider=f"{NATIVE_PROVIDER}::p2"))
    settings = api_settings(data, pending_operations(data)[0], {"MISTRAL_API_KEY": "env-key"})
    assert (settings.api_key, settings.server_url) == ("native-key-5e1", "https://eu.example.com")
    bare = export(op("creating", "search", NAMED, type_=NATIVE, provider=f"{PROJECT}pulumi:providers:mistral::x::y"))
    config = {"mistral:apiKey": "config-key", "mistral:serverUrl": "https://config"}
    settings = api_settings(bare, pending_operations(bare)[0], {"MISTRAL_API_KEY": "env-key"}, config)
    assert (settings.api_key, settings.server_url) == ("config-key", "https://config")
    settings = api_settings(bare, pending_operations(bare)[0], {"MISTRAL_API_KEY": "env-key"})
    assert settings.api_key == "env-key"


def test_secret_values_are_every_value_under_a_marker() -> None:
    assert secret_values(export(op("creating", "docs", NAMED))) >= {KEY, TOKEN, "native-key-5e1"}
    assert "Docs" not in secret_values(export(op("creating", "docs", NAMED)))


# -- deciding -------------------------------------------------------------------------------------------------------


def test_create_fields_are_what_the_create_sends_and_not_what_its_patch_sets() -> None:
    assert "connection_config" not in CREATE_FIELDS and "connection_secrets" not in CREATE_FIELDS
    assert {"name", "description", "server", "headers", "auth_data", "visibility"} <= set(CREATE_FIELDS)
    recorded = one(op("creating", "docs", NAMED)).inputs
    assert differing_fields(recorded, live("docs")) == []  # connection_config set by the PATCH: not compared
    assert differing_fields(recorded, live("docs", description="Other")) == ["description"]
    assert differing_fields(recorded, live("docs", headers={"X-Token": "other"})) == ["headers"]
    assert differing_fields(recorded, live("docs", server="https://MCP.example.com:443/mcp")) == []


@pytest.mark.parametrize(
    ("pending", "found", "deletes", "person", "words"),
    [
        (AUTO, None, False, False, "the create did not land"),
        (AUTO, live("auto-0-abc1234"), True, False, "delete it and clear the pending create"),
        (NAMED, None, False, False, "the create did not land"),
        (NAMED, live("docs"), False, False, "finds it by name and takes it over"),
        (
            NAMED,
            live("docs", description="Someone else's"),
            False,
            True,
            "differs from what was declared (description)",
        ),
        (AUTO, live("auto-0-abc1234", server="https://elsewhere"), False, True, "not touched"),
        ({**NAMED, "headers": encrypted()}, live("docs"), False, True, "cannot be read"),
    ],
    ids=["auto-gone", "auto-ours", "named-gone", "named-ours", "named-differs", "auto-differs", "unreadable"],
)
def test_each_pending_create(
    pending: dict[str, Any], found: dict[str, Any] | None, deletes: bool, person: bool, words: str
) -> None:
    name = "auto-0" if "name_prefix" in pending else "docs"
    step = decide(one(op("creating", name, pending)), found)
    assert bool(step.delete_id) is deletes and step.needs_person is person
    assert words in step.line
    assert TOKEN not in step.line and KEY not in step.line


def test_a_connector_the_state_records_already_is_never_deleted() -> None:
    step = decide(one(op("creating", "auto-0", AUTO)), live("auto-0-abc1234"), {"id-auto-0-abc1234": "auto-0"})
    assert step.delete_id is None and not step.needs_person and "records it already" in step.line


def test_pending_updates_and_deletes_are_refreshed_and_say_what_to_check() -> None:
    update = one(op("updating", "docs", {**NAMED, "description": "New"}, id_="id-docs"))
    assert "does not have the new settings yet (description)" in decide(update, live("docs")).line
    assert decide(update, live("docs", description="New")).line.count("has the new settings") == 1
    assert "no longer exists" in decide(update, None).line
    delete = one(op("deleting", "docs", NAMED, id_="id-docs"))
    assert "still exists (the delete did not land)" in decide(delete, live("docs")).line
    assert "the delete landed" in decide(delete, None).line
    assert all(decide(o, None).refresh for o in (update, delete))


def test_another_type_waits_for_a_person_when_created_and_is_refreshed_otherwise() -> None:
    create = decide(one(op("creating", "b", {}, type_="aws:s3/bucket:Bucket")), None)
    assert create.needs_person and "not a connector" in create.line
    assert decide(one(op("updating", "b", {}, type_="aws:s3/bucket:Bucket", id_="b1")), None).refresh


def test_pending_creates_are_cleared_only_when_none_waits_for_a_person() -> None:
    ours = decide(one(op("creating", "auto-0", AUTO)), live("auto-0-abc1234"))
    theirs = decide(one(op("creating", "docs", NAMED)), live("docs", description="x"))
    assert Plan("dev", [ours]).clears and [s.delete_id for s in Plan("dev", [ours]).deletes] == ["id-auto-0-abc1234"]
    mixed = Plan("dev", [ours, theirs])
    assert not mixed.clears and mixed.needs_person and mixed.deletes == [ours]
    assert "--clear-pending-creates --stack dev" in mixed.summary(carried_out=True)
    assert "recover --stack dev --yes" in mixed.summary(carried_out=False)
    assert "nothing to do" in Plan("dev").summary(carried_out=False)


# -- the Pulumi CLI's failures, as one line naming the fix --------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "words"),
    [
        (
            "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete "
            "the lock file with `pulumi cancel`.\n  file:///backend/.pulumi/locks/x.json: created by me",
            "stack dev is locked: a deployment is running, or one was killed. If none is running, run "
            "`pulumi cancel --yes --stack dev`, then run recover again",
        ),
        (
            "error: [409] Conflict: Another update is currently in progress.\nTo learn more ...update-conflicts/",
            "`pulumi cancel --yes --stack dev`",
        ),
        (
            "error: no Pulumi.yaml project file found (searching upwards from /x)",
            "run recover in the project's directory",
        ),
        ("error: no stack named 'dev' found", "check --stack (`pulumi stack ls`)"),
        ("error: getting secrets manager: incorrect passphrase", "set PULUMI_CONFIG_PASSPHRASE"),
    ],
)
def test_known_cli_failures_become_one_line_naming_the_fix(output: str, words: str) -> None:
    from pulumi_mistral.cli.recover.stack import failure_message

    message = failure_message("dev", "refresh", 255, output)
    assert words in message and "\n" not in message and "/backend/" not in message


def test_another_cli_failure_shows_its_first_error_line_without_secrets() -> None:
    from pulumi_mistral.cli.recover.stack import failure_message

    output = f"Refreshing (dev):\nerror: something about {KEY} went wrong\nerror: more\n"
    message = failure_message("dev", "stack export", 1, output, {KEY})
    assert message == "`pulumi stack export` failed (exit 1): error: something about [redacted] went wrong"
