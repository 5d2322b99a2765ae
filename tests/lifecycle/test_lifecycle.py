"""The engine-neutral lifecycle on plain values, against the real local server: what both doors rely on.

The dynamic door's behaviour is tested through it in tests/provider and tests/engine; here are the parts only a
lifecycle caller sees (the seed, autonaming, the detailed plan, import reads, the warning sink, threads), and
behaviour written once for both doors.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from pulumi_mistral.errors import AuthenticationError, ConfigurationError, ConflictError, NotFoundError
from pulumi_mistral.lifecycle import (
    UNKNOWN,
    Autonaming,
    ConnectorLifecycle,
    ProcessState,
    PropertyChange,
)

SERVER = "https://mcp.example.com/mcp"


def inputs(**overrides: Any) -> dict[str, Any]:
    return {"description": "Docs search", "server": SERVER, **overrides}


def create(life: ConnectorLifecycle, **overrides: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    checked = life.check({}, inputs(**overrides))
    assert checked.failures == []
    created = life.create(checked.inputs)
    return created.connector_id, created.outputs, checked.inputs


def test_the_lifecycle_imports_no_pulumi() -> None:
    code = (
        "import sys, pulumi_mistral.lifecycle; "
        "bad = sorted(m for m in sys.modules if m == 'pulumi' or m.startswith(('pulumi.', 'fastapi', 'mcp'))); "
        "assert bad == [], bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    "module",
    [
        "pulumi_mistral.lifecycle",
        "pulumi_mistral.provider",
        "pulumi_mistral.provider.resource",
        "pulumi_mistral.plugin.provider",
    ],
)
def test_the_client_comes_with_the_first_request_not_with_the_import(module: str) -> None:
    """A program declaring connectors and a provider answering check, diff or a preview never load the client's
    pydantic models and httpx; the first API request does (ProcessState.client, Listing.lookup)."""
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'httpx', 'httpcore') "
        "or m.startswith('pulumi_mistral.client')); "
        "assert bad == [], bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- check: the seed, autonaming, unknowns ----------------------------------------------------------------------


def test_an_auto_name_is_derived_from_the_seed_when_one_is_given(life: ConnectorLifecycle) -> None:
    seed = bytes(range(32))
    first = life.check({}, inputs(name_prefix="docs"), random_seed=seed).inputs["name"]
    again = life.check({}, inputs(name_prefix="docs"), random_seed=seed).inputs["name"]
    assert first == again and first.startswith("docs-") and len(first) == len("docs-") + 7  # preview == up
    other = life.check({}, inputs(name_prefix="docs"), random_seed=bytes(32)).inputs["name"]
    assert other != first
    unseeded = {life.check({}, inputs(name_prefix="docs")).inputs["name"] for _ in range(3)}
    assert len(unseeded) == 3  # no seed (the dynamic door): random, as before


def test_the_engines_autonaming_options_name_the_connector(life: ConnectorLifecycle) -> None:
    proposed = Autonaming("docs-abc1234")
    assert life.check({}, inputs(), autonaming=proposed).inputs["name"] == "docs-abc1234"
    assert life.check({}, inputs(name="mine"), autonaming=proposed).inputs["name"] == "mine"
    existing = {**inputs(), "name": "docs-old0000"}
    assert life.check(existing, inputs(), autonaming=proposed).inputs["name"] == "docs-old0000"  # kept
    enforced = Autonaming("docs-new1111", mode="enforce")
    assert life.check({}, inputs(), autonaming=enforced).inputs["name"] == "docs-new1111"
    # Kept under enforce too: the engine's proposal changes with every deployment's seed (a rename on every run).
    assert life.check(existing, inputs(), autonaming=enforced).inputs["name"] == "docs-old0000"
    (disabled,) = life.check({}, inputs(), autonaming=Autonaming("x", mode="disable")).failures
    assert disabled.property == "name" and "fix: set name" in disabled.reason
    (bad,) = life.check({}, inputs(), autonaming=Autonaming("has space")).failures
    assert bad.property == "name" and "proposed name" in bad.reason


def test_unknown_values_are_the_doors_to_name(life: ConnectorLifecycle) -> None:
    checked = life.check({}, inputs(name="u", server=UNKNOWN, headers={"X-K": UNKNOWN}))
    assert checked.failures == [] and checked.inputs["server"] is UNKNOWN
    door = ConnectorLifecycle(life.state, is_unknown=lambda v: v == "<computed>")
    assert door.check({}, inputs(name="u", server="<computed>")).failures == []
    assert {f.property for f in life.check({}, inputs(name="u", server="<computed>")).failures} == {"server"}


# ---- diff: a plan a native door can turn into a detailed diff ---------------------------------------------------


def test_the_plan_names_each_change_its_kind_and_why(life: ConnectorLifecycle) -> None:
    old = {
        "name": "p",
        "description": "Docs search",
        "server": SERVER,
        "icon_url": "https://x.io/i.png",
        "visibility": "private",
    }
    plan = life.diff("id", old, inputs(name="p", visibility="shared_workspace", system_prompt="Be brief."))
    assert plan.changed and plan.replaces == ["visibility"] and plan.delete_before_replace  # the name stays
    assert plan.changes == (
        PropertyChange("icon_url", "delete", False, "changed"),
        PropertyChange("system_prompt", "add", False, "changed"),
        PropertyChange("visibility", "update", True, "visibility cannot be changed in place"),
    )
    auto = life.diff("id", {**old, "name_prefix": "p"}, {**old, "name_prefix": "p", "visibility": "shared_org"})
    assert auto.replaces == ["visibility"] and not auto.delete_before_replace  # a fresh auto name: create first
    pending = life.diff("id", old, {**old, "description": UNKNOWN})
    assert pending.changes == (PropertyChange("description", "update", False, "not known until deployment"),)
    control = life.diff("id", old, {**old, "adopt": True})
    assert control.changes == (PropertyChange("adopt", "add", False, "changes only this stack's outputs"),)
    assert not life.diff("id", old, old).changed and life.diff("id", old, old).properties == []


# ---- read: refresh, import, get ----------------------------------------------------------------------------------


def test_an_import_read_of_a_missing_connector_raises_and_a_refresh_answers_gone(
    life: ConnectorLifecycle, mistral_client
) -> None:
    ident, outs, _ = create(
        life,
        name="imp",
        headers={"X-Key": "hush-import"},
        auth_data={"client_id": "cid", "client_secret": "hush-oauth"},
    )
    imported = life.read(ident, None)  # an import: no previous properties
    assert imported is not None and imported.outputs["headers"] == {"X-Key": "hush-import"}
    assert set(imported.inputs) >= {"headers", "auth_data"}
    safe = imported.inputs_without_secrets()
    assert {"headers", "auth_data", "connection_secrets"}.isdisjoint(safe) and safe["name"] == "imp"
    assert "hush" not in repr(safe)
    mistral_client.delete(ident)
    assert life.read(ident, outs) is None  # a refresh: gone
    with pytest.raises(NotFoundError) as missing:
        life.read(ident, None)
    assert ident in str(missing.value) and "\n" not in str(missing.value)
    with pytest.raises(NotFoundError):
        life.read(ident, {})


def test_warnings_go_to_the_states_sink(
    life: ConnectorLifecycle, warnings: list[str], mistral_client, capsys: pytest.CaptureFixture[str]
) -> None:
    ident, outs, _ = create(life, name="warned")
    mistral_client.update(ident, description="edited in the console")
    assert life.read(ident, outs) is not None
    assert warnings == ["connector 'warned': description differs from what this stack recorded (changed outside it)"]
    assert capsys.readouterr().err == ""


def test_one_lifecycle_serves_calls_from_many_threads(life: ConnectorLifecycle, mistral_client) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            ident, outs, checked = create(life, name=f"thread-{i}")
            life.update(ident, outs, {**checked, "description": f"v{i}"})
            life.delete(ident)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and list(mistral_client.iter_connectors()) == []


# ---- fix: two resources of one stack declaring the same name ---------------------------------------------------


def test_a_second_resource_with_the_same_name_is_told_to_rename(life: ConnectorLifecycle, mistral_client) -> None:
    first, _, _ = create(life, name="twice")
    for settings in ({"description": "Docs search"}, {"description": "the other resource"}):
        checked = life.check({}, inputs(name="twice", **settings))
        with pytest.raises(ConflictError) as info:
            life.create(checked.inputs)
        message = str(info.value)
        # Identical settings used to be "recovered": two resources then managed one connector.
        assert "two resources of this stack declare name='twice'" in message and "rename one" in message
    adopting = life.check({}, inputs(name="twice", adopt=True))
    with pytest.raises(ConflictError, match="rename one"):
        life.create(adopting.inputs)  # adopting the other resource's connector is the same mistake
    assert [c.id for c in mistral_client.iter_connectors()] == [first]


def test_a_conflict_with_a_connector_made_elsewhere_names_both_causes(life: ConnectorLifecycle, mistral_client) -> None:
    mistral_client.create(name="elsewhere", description="made in the console", server=SERVER)
    checked = life.check({}, inputs(name="elsewhere"))
    with pytest.raises(ConflictError) as info:
        life.create(checked.inputs)
    message = str(info.value)
    assert "another resource of this stack also declares name='elsewhere', rename one" in message
    assert "made elsewhere" in message and "adopt=True" in message


# ---- fix: key errors name the key's source ------------------------------------------------------------------------


def test_a_refused_key_names_its_source_and_the_stdin_fix(local_server) -> None:
    wrong = "wrong-key-0123456789"
    for config, environ, source in [
        ({"mistral:apiKey": wrong}, {"MISTRAL_API_KEY": local_server.api_key}, "stack config mistral:apiKey"),
        ({}, {"MISTRAL_API_KEY": wrong}, "the MISTRAL_API_KEY environment variable"),
    ]:
        life = ConnectorLifecycle(ProcessState())
        life.configure({**config, "mistral:serverUrl": local_server.url}, environ)
        checked = life.check({}, inputs(name="k"))
        with pytest.raises(AuthenticationError) as info:
            life.create(checked.inputs)
        message = str(info.value)
        assert f"the API key from {source} was refused by {local_server.url} (401)" in message, message
        assert "pulumi config set --secret mistral:apiKey" in message and "stdin" in message
        assert wrong not in message and "\n" not in message
        if source.startswith("stack config"):
            assert "MISTRAL_API_KEY" not in message  # the environment was not used: not named
        life.state.reset()


def test_a_missing_or_malformed_key_names_where_keys_are_read(local_server) -> None:
    life = ConnectorLifecycle(ProcessState())
    life.configure({"mistral:serverUrl": local_server.url}, {})
    with pytest.raises(ConfigurationError) as none:
        life.delete("any")
    assert "neither stack config mistral:apiKey nor the MISTRAL_API_KEY environment variable" in str(none.value)
    assert "pulumi config set --secret mistral:apiKey" in str(none.value)
    life.configure({"mistral:apiKey": "two words", "mistral:serverUrl": local_server.url}, {})
    with pytest.raises(ConfigurationError) as bad:
        life.delete("any")
    assert "from stack config mistral:apiKey contains spaces" in str(bad.value)
    assert "two words" not in str(bad.value)


# ---- fix: a credential in a URL is never shown by the engine ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://user:hush-cred@mcp.example.com/mcp",
        "https://user:hush-cred@mcp.example.com/m cp",  # also has whitespace: still reported for the credential
        "https://user:hush-cred@[::1/mcp",  # not even a valid URL
        "user:hush-cred@mcp.example.com/mcp",  # no scheme
    ],
)
@pytest.mark.parametrize("prop", ["server", "icon_url"])
def test_a_url_with_credentials_fails_with_no_property_path(life: ConnectorLifecycle, prop: str, value: str) -> None:
    (failure,) = life.check({}, inputs(name="cred", **{prop: value})).failures
    # The engine prints "property <p> value '<value>' has a problem" for a named property: none here.
    assert failure.property == ""
    assert failure.reason.startswith(f"property {prop} embeds credentials (user:password@)")
    assert "fix: remove them from the URL" in failure.reason and "hush-cred" not in failure.reason


def test_an_at_sign_after_the_host_is_not_a_credential(life: ConnectorLifecycle) -> None:
    checked = life.check({}, inputs(name="at", server="https://mcp.example.com/@team/mcp?x=a@b"))
    assert checked.failures == []


# ---- fix: tool_names after a create with tool tracking -----------------------------------------------------------


def test_tool_names_come_from_the_listing_on_create_update_and_read(
    life: ConnectorLifecycle, demo, mistral_client
) -> None:
    ident, outs, checked = create(life, name="named-tools", server=demo.url, tool_drift="audit")
    live = [t.name for t in mistral_client.get(ident).tools or []]
    assert live and outs["tool_names"] == live  # the listing's order, which the API's `tools` field keeps
    assert sorted(live) == [t["name"] for t in outs["tools"]]  # `tools` is sorted by name
    updated = life.update(ident, outs, {**checked, "description": "v2"})
    assert updated["tool_names"] == live
    refreshed = life.read(ident, updated)
    assert refreshed is not None and refreshed.outputs["tool_names"] == live
    _, plain, _ = create(life, name="untracked-tools", server=demo.url)
    assert plain["tool_names"] == [] and "tools" not in plain  # without tracking nothing is listed
