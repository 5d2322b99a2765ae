"""Layer 1: ConnectorProvider's methods called directly against the real local server.

Pitfalls of the dynamic-provider notes (section 6) that apply to us, and the test that covers each:

 1 credentials captured in the pickle/state   -> test_pickle_holds_no_key_and_is_small
 2 secret __provider costs encryption          -> test_pickle_is_not_forced_secret
 3 config not available in the provider        -> test_configure_reads_stack_config_then_env
 4 provider class must import from the project -> test_grpc.py::test_subprocess_servicer_from_project_dir
 5 pickle change shows as an update            -> test_new_provider_pickle_is_not_an_update,
                                                  test_grpc.py::test_new_pickle_over_grpc_is_diff_none
 6 default update wipes outputs                -> test_update_patches_only_changed_fields_and_returns_full_outputs
 7 old pickled code runs refresh/destroy       -> test_pickle_is_by_reference
 8 import unsupported (use adopt)              -> test_adopt_takes_over_existing_connector
 9 returning secrets                           -> test_secret_outputs_are_wire_marked,
                                                  test_grpc.py::test_secret_marker_survives_the_servicer,
                                                  test_stack_runner.py::test_program_lifecycle (secret outputs)
10 bytecode tied to the Python version         -> test_pickle_is_by_reference
11 non-deterministic pickles                   -> test_pickle_is_deterministic
13 only 4 concurrent provider calls            -> test_concurrent_reads_share_one_listing (4 readers)
14 replace_on_changes ignored after DIFF_SOME  -> test_visibility_change_replaces (replaces set by diff)
15 replaces need changes=True; create-before-
   delete collides on unique names             -> test_stack_runner.py::test_replace_explicit_name_deletes_first,
                                                  test_stack_runner.py::test_replace_auto_name_creates_first
16 ReadResult(None) crashes the servicer       -> test_read_of_deleted_connector_is_gone,
                                                  test_grpc.py::test_read_gone_over_grpc
17 unknowns in check/diff during preview       -> test_check_and_diff_tolerate_unknowns,
                                                  test_stack_runner.py::test_preview_with_unknown_input
18 ints arrive as floats                       -> test_numbers_arriving_as_floats
19 dynamic.Resource must be subclassed         -> test_stack_runner.py::test_type_token_and_registration
20 bad outs types hang                         -> test_grpc.py::test_create_over_grpc (outs serialised)
12 (performance) is measured by bench/provider.py, not tested.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import dill
import pytest
from provider_helpers import SERVER_URL, connector_inputs
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime._serialization import _deserialize, _serialize

from pulumi_mistral import provider as provider_module
from pulumi_mistral.errors import MistralError
from pulumi_mistral.lifecycle.listing import Listing
from pulumi_mistral.provider import PROCESS, ConnectorProvider
from pulumi_mistral.testing.controls import Controls


def _create(provider: ConnectorProvider, **inputs: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    checked = provider.check({}, connector_inputs(**inputs))
    assert checked.failures == []
    created = provider.create(checked.inputs)
    return created.id, created.outs, checked.inputs


def _plain(v: Any) -> Any:
    return rpc.unwrap_rpc_secret(v)


# ---- pickle and configuration -------------------------------------------------------------------------------


def _provider_pickle() -> str:
    """``__provider`` exactly as Resource.__init__ builds it."""
    value, contains_secrets = _serialize(True, serialize_provider, ConnectorProvider())
    assert contains_secrets is False
    return value


def test_pickle_holds_no_key_and_is_small(provider: ConnectorProvider, local_server) -> None:
    pickled = _provider_pickle()
    raw = base64.b64decode(pickled)
    assert local_server.api_key.encode() not in raw
    assert local_server.url.encode() not in raw
    assert len(pickled) < 512, len(pickled)
    assert vars(provider) == {}  # configure() kept nothing on the object


def test_pickle_is_by_reference() -> None:
    raw = base64.b64decode(_provider_pickle())
    assert b"pulumi_mistral.provider" in raw and b"ConnectorProvider" in raw
    assert b"co_code" not in raw and b"_create_code" not in raw  # no bytecode: code comes from disk


def test_pickle_is_deterministic() -> None:
    assert _provider_pickle() == _provider_pickle()


def test_pickle_is_not_forced_secret() -> None:
    assert ConnectorProvider.serialize_as_secret_always is False


# ``__provider`` exactly as the previous release (the single-file provider.py layout) wrote it into every
# resource's state, by pulumi's own serializer.
OLD_RELEASE_PICKLE = "gASVNAAAAAAAAACMF3B1bHVtaV9taXN0cmFsLnByb3ZpZGVylIwRQ29ubmVjdG9yUHJvdmlkZXKUk5QpgZQu"


def test_an_old_release_pickle_still_loads_and_works(local_server) -> None:
    """Decoded as ``python -m pulumi.dynamic`` decodes ``__provider`` (its get_provider: base64, then dill, with
    serialization enabled), then configured: the provider of an existing state still validates and deploys."""
    loaded = _deserialize(lambda: dill.loads(base64.b64decode(OLD_RELEASE_PICKLE)))
    assert type(loaded) is ConnectorProvider
    assert _provider_pickle() == OLD_RELEASE_PICKLE  # and today's provider pickles to the very same bytes
    provider_module.reset_process_state()
    try:
        loaded.configure(ConfigureRequest(Config(local_server.config(), "p")))
        bad = loaded.check({}, {"name": "Bad Name!", "server": "ftp://x"})
        assert {"name", "server", "description"} <= {f.property for f in bad.failures}
        checked = loaded.check({}, connector_inputs(name="old-state"))
        assert checked.failures == [] and checked.inputs["name"] == "old-state"
        created = loaded.create(checked.inputs)
        assert loaded.read(created.id, created.outs).outs["description"] == "Docs search"
    finally:
        provider_module.reset_process_state()


def test_configure_reads_stack_config_then_env(local_server, monkeypatch: pytest.MonkeyPatch) -> None:
    provider_module.reset_process_state()
    try:
        ConnectorProvider().configure(ConfigureRequest(Config(local_server.config(), "p")))
        assert PROCESS.settings.server_url == local_server.url
        assert PROCESS.client().list().items == []  # configured from stack config: key and URL work
        monkeypatch.setenv("MISTRAL_API_KEY", "env-key-value")
        monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")
        ConnectorProvider().configure(ConfigureRequest(Config({}, "p")))
        assert PROCESS.settings.api_key == "env-key-value"
        assert PROCESS.settings.server_url == "http://127.0.0.1:9"
    finally:
        provider_module.reset_process_state()


# ---- check -----------------------------------------------------------------------------------------------------


def test_check_failures_name_each_property_and_make_no_request(provider, controls: Controls) -> None:
    controls.clear_requests()
    result = provider.check(
        {},
        {
            "name": "Bad Name!",
            "server": "ftp://x",
            "visibility": "public",
            "descripton": "typo",
            "headers": {"X-K": "a\nb"},
        },
    )
    props = {f.property for f in result.failures}
    assert {"name", "server", "visibility", "descripton", "description", "headers.X-K"} <= props
    assert any("did you mean 'description'" in f.reason for f in result.failures)
    assert all("fix" in f.reason or "did you mean" in f.reason or "must be one of" in f.reason for f in result.failures)
    assert controls.calls() == []


def test_check_fills_auto_name_and_keeps_it(provider) -> None:
    first = provider.check({}, connector_inputs(name_prefix="docs"))
    name = first.inputs["name"]
    assert name.startswith("docs-") and len(name) == len("docs-") + 7
    again = provider.check(first.inputs, connector_inputs(name_prefix="docs"))
    assert again.inputs["name"] == name
    fresh = provider.check({}, connector_inputs(name_prefix="docs"))  # a replacement: no olds
    assert fresh.inputs["name"] != name
    long = provider.check({}, connector_inputs(name_prefix="x" * 100)).inputs["name"]
    assert len(long) <= 64


def test_check_and_diff_tolerate_unknowns(provider) -> None:
    news = connector_inputs(name=Unknown(), server=Unknown(), headers={"X-K": Unknown()})
    result = provider.check({}, news)
    assert result.failures == []
    diff = provider.diff("id", {"name": "a", "description": "Docs search", "server": SERVER_URL}, news)
    assert diff.changes is True and diff.replaces == []
    vis = provider.diff(
        "id",
        {"name": "a", "description": "Docs search", "server": SERVER_URL},
        connector_inputs(name="a", visibility=rpc.UNKNOWN),
    )
    assert vis.changes is True and vis.replaces == ["visibility"]


def test_numbers_arriving_as_floats(provider) -> None:
    ident, outs, checked = _create(provider, name="floats", connection_config={"retries": 3.0, "ratio": 0.5})
    assert checked["connection_config"] == {"retries": 3, "ratio": 0.5}
    assert isinstance(checked["connection_config"]["retries"], int)
    assert outs["connection_config"] == {"retries": 3, "ratio": 0.5}
    as_wire = {**checked, "connection_config": {"retries": 3.0, "ratio": 0.5}}
    assert provider.diff(ident, outs, as_wire).changes is False


# ---- create / read / update / delete -------------------------------------------------------------------------


def test_create_returns_full_outputs(provider, controls: Controls) -> None:
    controls.clear_requests()
    ident, outs, _ = _create(
        provider,
        name="full",
        headers={"X-Key": "hush-1234"},
        icon_url="https://x.io/i.png",
        connection_config={"region": "eu"},
        connection_secrets={"token": "hush-5678"},
    )
    assert controls.calls() == ["POST /v1/connectors", f"PATCH /v1/connectors/{ident}"]
    assert outs["connector_id"] == ident and outs["name"] == "full"
    assert {"created_at", "modified_at", "auth_type", "tool_names"} <= set(outs)
    assert outs["tool_names"] == [] and outs["auth_type"] == "none"
    assert _plain(outs["headers"]) == {"X-Key": "hush-1234"}
    assert _plain(outs["connection_secrets"]) == {"token": "hush-5678"}


def test_secret_outputs_are_wire_marked(provider) -> None:
    _, outs, _ = _create(
        provider, name="sec", headers={"X-Key": "hush-1"}, auth_data={"client_id": "cid", "client_secret": "hush-2"}
    )
    for key in ("headers", "auth_data"):
        assert rpc.is_rpc_secret(outs[key]), key
    assert not rpc.is_rpc_secret(outs["description"])


def test_no_op_diff_and_new_pickle(provider) -> None:
    ident, outs, checked = _create(provider, name="noop")
    assert provider.diff(ident, outs, checked).changes is False


def test_new_provider_pickle_is_not_an_update(provider) -> None:
    ident, outs, checked = _create(provider, name="pickle")
    olds = {**outs, "__provider": "b2xkLXBpY2tsZQ=="}
    news = {**checked, "__provider": "bmV3LXBpY2tsZQ=="}
    result = provider.diff(ident, olds, news)
    assert result.changes is False  # DIFF_NONE, never None (DIFF_UNKNOWN)


def test_update_patches_only_changed_fields_and_returns_full_outputs(provider, controls: Controls) -> None:
    ident, outs, checked = _create(provider, name="upd", icon_url="https://x.io/i.png")
    news = {**checked, "description": "New words"}
    news.pop("icon_url")
    diff = provider.diff(ident, outs, news)
    assert diff.changes is True and diff.replaces == []
    controls.clear_requests()
    updated = provider.update(ident, outs, news)
    assert controls.calls() == [f"PATCH /v1/connectors/{ident}"]
    assert updated.outs["description"] == "New words" and "icon_url" not in updated.outs
    assert set(outs) - {"icon_url"} <= set(updated.outs)  # nothing else wiped
    live = provider.read(ident, updated.outs)
    assert live.outs["description"] == "New words" and "icon_url" not in live.outs


def test_visibility_change_replaces(provider) -> None:
    ident, outs, checked = _create(provider, name="vis", visibility="private")
    explicit = provider.diff(ident, outs, {**checked, "visibility": "shared_workspace"})
    assert explicit.changes is True and explicit.replaces == ["visibility"]
    assert explicit.delete_before_replace is True
    auto = provider.diff(
        ident, {**outs, "name_prefix": "vis"}, {**checked, "name_prefix": "vis", "visibility": "shared_workspace"}
    )
    assert auto.replaces == ["visibility"] and auto.delete_before_replace is False


def test_read_after_create_shows_no_drift(provider, controls: Controls) -> None:
    ident, outs, checked = _create(
        provider,
        name="nodrift",
        headers={"X-K": "hush-9"},
        connection_config={"n": 1},
        connection_secrets={"s": "hush-10"},
    )
    controls.clear_requests()
    read = provider.read(ident, outs)
    assert controls.calls() == [f"GET /v1/connectors/{ident}"]
    assert read.id == ident and read.outs == outs
    assert provider.diff(ident, read.outs, checked).changes is False


def test_drift_found_by_read(provider, mistral_client) -> None:
    ident, outs, checked = _create(provider, name="drift")
    mistral_client.update(ident, description="changed out of band")
    read = provider.read(ident, outs)
    assert read.inputs["description"] == "changed out of band"
    swapped = provider.diff(ident, read.outs, checked)  # the refresh diff: roles swapped
    assert swapped.changes is True


def test_read_of_deleted_connector_is_gone(provider, mistral_client) -> None:
    ident, outs, _ = _create(provider, name="gone")
    mistral_client.delete(ident)
    result = provider.read(ident, outs)
    assert result.id is None and result.outs == {}


def test_delete_is_idempotent(provider, controls: Controls) -> None:
    ident, outs, _ = _create(provider, name="del")
    provider.delete(ident, outs)
    provider.delete(ident, outs)  # 404 counts as done
    assert controls.calls()[-2:] == [f"DELETE /v1/connectors/{ident}"] * 2


# ---- create: conflicts, adoption, ambiguous failures, transactions -------------------------------------------


def test_conflict_with_exactly_the_declared_connector_is_recovered(provider, mistral_client, controls) -> None:
    """An earlier create landed but its answer and every look-up were lost: the next create must not fail
    forever on the name. A connector that is exactly what the stack declares is recovered, not duplicated."""
    checked = provider.check({}, connector_inputs(name="lost-answer", visibility="private"))
    landed = mistral_client.create(
        name="lost-answer",
        description=checked.inputs["description"],
        server=checked.inputs["server"],
        visibility="private",
    )
    created = provider.create(checked.inputs)
    assert created.id == landed.id
    assert [c.name for c in mistral_client.iter_connectors()].count("lost-answer") == 1


def test_conflict_that_cannot_be_looked_up_says_run_again(provider, local_server, mistral_client, controls) -> None:
    # One attempt per request keeps the bounded look-ups (4, with pauses) short here.
    provider.configure(
        ConfigureRequest(
            Config(
                {
                    "mistral:apiKey": local_server.api_key,
                    "mistral:serverUrl": local_server.url,
                    "mistral:maxAttempts": "1",
                },
                "tests",
            )
        )
    )
    mistral_client.create(name="unseen", description="d", server=SERVER_URL)
    controls.set_faults([{"method": "GET", "path": r"^/v1/connectors/unseen", "action": "status", "status": 503}])
    checked = provider.check({}, connector_inputs(name="unseen"))
    with pytest.raises(MistralError, match="run the deployment again"):
        provider.create(checked.inputs)


def test_a_refused_key_from_stack_config_is_named(local_server) -> None:
    provider_module.reset_process_state()
    try:
        provider = ConnectorProvider()
        provider.configure(
            ConfigureRequest(
                Config({"mistral:apiKey": "sk-wrong-0123456789", "mistral:serverUrl": local_server.url}, "p")
            )
        )
        checked = provider.check({}, connector_inputs(name="refused"))
        with pytest.raises(MistralError) as info:
            provider.create(checked.inputs)
        message = str(info.value)
        assert "the API key from stack config mistral:apiKey was refused" in message
        assert "pulumi config set --secret mistral:apiKey" in message and "sk-wrong" not in message
    finally:
        provider_module.reset_process_state()


def test_conflict_without_adopt_suggests_adopt(provider, mistral_client) -> None:
    mistral_client.create(name="taken", description="someone else's", server=SERVER_URL)
    checked = provider.check({}, connector_inputs(name="taken", headers={"X-K": "hush-conflict"}))
    with pytest.raises(MistralError) as info:
        provider.create(checked.inputs)
    assert "adopt=True" in str(info.value)
    assert "hush-conflict" not in str(info.value)


def test_adopt_takes_over_existing_connector(provider, mistral_client) -> None:
    existing = mistral_client.create(name="adoptme", description="old", server="https://old.example.com/mcp")
    ident, outs, _ = _create(provider, name="adoptme", adopt=True, connection_config={"k": "v"})
    assert ident == existing.id
    live = mistral_client.get(ident)
    assert live.description == "Docs search" and live.server == SERVER_URL
    assert live.connection_config == {"k": "v"}
    assert len(list(mistral_client.iter_connectors())) == 1
    assert outs["adopt"] is True


def test_adopt_without_existing_creates(provider, mistral_client) -> None:
    ident, _, _ = _create(provider, name="fresh-adopt", adopt=True)
    assert mistral_client.get(ident).name == "fresh-adopt"


def test_ambiguous_create_recovers_without_duplicate(provider, controls: Controls, mistral_client) -> None:
    controls.set_faults([{"method": "POST", "path": "^/v1/connectors$", "action": "drop_after_commit", "times": 1}])
    ident, outs, _ = _create(provider, name="ambiguous", connection_config={"a": 1})
    connectors = list(mistral_client.iter_connectors())
    assert [c.id for c in connectors] == [ident]
    assert connectors[0].connection_config == {"a": 1}
    assert outs["connector_id"] == ident


def test_create_is_transactional(provider, controls: Controls, mistral_client) -> None:
    controls.set_faults(
        [{"method": "PATCH", "path": "^/v1/connectors/", "action": "status", "status": 400, "times": 1}]
    )
    checked = provider.check({}, connector_inputs(name="half", connection_secrets={"tok": "hush-half"}))
    with pytest.raises(MistralError) as info:
        provider.create(checked.inputs)
    assert "nothing was left behind" in str(info.value)
    assert "hush-half" not in str(info.value)
    assert list(mistral_client.iter_connectors()) == []


# ---- refresh batching --------------------------------------------------------------------------------------------


def test_concurrent_reads_share_one_listing(provider, controls: Controls, mistral_client) -> None:
    created = [
        mistral_client.create(name=f"batch-{i}", description=f"n{i}", server=SERVER_URL, headers={"X-I": f"v{i}"})
        for i in range(24)
    ]
    expected = {c.id: provider.read(c.id, {"description": "x"}).outs for c in created[:2]}
    PROCESS.listing.invalidate()
    controls.clear_requests()
    results: dict[str, Any] = {}
    ids = [c.id for c in created]

    def reader(part: list[str]) -> None:
        for cid in part:
            results[cid] = provider.read(cid, {"description": "x"})

    threads = [threading.Thread(target=reader, args=(ids[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    calls = controls.calls()
    assert len(calls) < 24 and any(c == "GET /v1/connectors" for c in calls), calls
    assert all(results[cid].id == cid for cid in ids)
    for cid, outs in expected.items():
        assert results[cid].outs == outs  # same answer as a GET
    assert _plain(results[ids[5]].outs["headers"]) == {"X-I": "v5"}


def test_listing_never_serves_state_older_than_a_write(
    provider, mistral_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Listing, "BURST_DISTINCT", 1)
    ident, outs, checked = _create(provider, name="fresh")
    assert provider.read(ident, outs).outs["description"] == "Docs search"  # takes a snapshot
    updated = provider.update(ident, outs, {**checked, "description": "after write"})  # drops it
    assert provider.read(ident, updated.outs).outs["description"] == "after write"
    monkeypatch.setattr(Listing, "TTL_S", 0.0)
    mistral_client.update(ident, description="out of band")
    assert provider.read(ident, updated.outs).outs["description"] == "out of band"
    mistral_client.delete(ident)
    assert provider.read(ident, updated.outs).id is None  # a miss falls back to GET: gone


def _seed(mistral_client: Any, n: int, prefix: str) -> list[str]:
    return [
        mistral_client.create(name=f"{prefix}-{i}", description="Docs search", server=SERVER_URL).id for i in range(n)
    ]


def _listings(controls: Controls) -> int:
    return controls.calls().count("GET /v1/connectors")


def test_burst_threshold_is_8_distinct_reads_within_2_s(provider, controls: Controls, mistral_client) -> None:
    assert (Listing.BURST_DISTINCT, Listing.BURST_WINDOW_S) == (8, 2.0)
    ids = _seed(mistral_client, 9, "burst")
    controls.clear_requests()
    for _ in range(3):
        provider.read(ids[0], {"description": "x"})  # the same connector again and again is never a burst
    for cid in ids[1:7]:
        provider.read(cid, {"description": "x"})  # 7 distinct connectors: still one GET each
    assert _listings(controls) == 0 and len(controls.calls()) == 9
    provider.read(ids[7], {"description": "x"})  # the 8th distinct read within 2 s: one listing answers it
    assert _listings(controls) == 1 and len(controls.calls()) == 10
    provider.read(ids[8], {"description": "x"})  # served from that listing: no request
    assert len(controls.calls()) == 10

    PROCESS.listing.invalidate()
    time.sleep(2.1)  # a quiet 2 s: the reads above leave the window
    controls.clear_requests()
    for cid in ids[:7]:
        provider.read(cid, {"description": "x"})
    time.sleep(2.1)  # and so do these 7
    provider.read(ids[7], {"description": "x"})
    assert _listings(controls) == 0 and controls.calls()[-1] == f"GET /v1/connectors/{ids[7]}"
    assert len(controls.calls()) == 8


def test_a_fresh_process_state_has_no_recent_reads(provider, controls: Controls, mistral_client, local_server) -> None:
    """reset_process_state() stands for a fresh provider process (the in-process host calls it): reads made
    before it must not count toward a burst after it."""
    ids = _seed(mistral_client, 8, "fresh")
    for cid in ids[:7]:
        provider.read(cid, {"description": "x"})
    provider_module.reset_process_state()
    provider.configure(ConfigureRequest(Config(local_server.config(), "tests")))
    controls.clear_requests()
    provider.read(ids[7], {"description": "x"})
    assert controls.calls() == [f"GET /v1/connectors/{ids[7]}"]  # one GET: no burst carried over


def test_a_listing_is_used_for_at_most_3_s(provider, controls: Controls, mistral_client) -> None:
    assert Listing.TTL_S == 3.0
    ids = _seed(mistral_client, 8, "ttl")
    for cid in ids:
        provider.read(cid, {"description": "x"})  # the 8th read made the listing
    listed_at = time.monotonic()
    mistral_client.update(ids[0], description="changed elsewhere")  # not this process's write: not seen yet
    controls.clear_requests()
    time.sleep(max(0.0, 2.5 - (time.monotonic() - listed_at)))
    assert provider.read(ids[0], {"description": "x"}).outs["description"] == "Docs search"  # the listing
    assert controls.calls() == []
    time.sleep(max(0.0, 3.2 - (time.monotonic() - listed_at)))
    assert provider.read(ids[0], {"description": "x"}).outs["description"] == "changed elsewhere"
    assert controls.calls() == [f"GET /v1/connectors/{ids[0]}"]  # too old: a GET, not the listing


def test_a_listing_raced_by_a_write_is_discarded(
    provider, controls: Controls, mistral_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write of this process lands while a listing is in flight: the listing's copy of that connector may be
    older than the write, so the listing is not used; the read falls back to a GET."""
    ids = _seed(mistral_client, 8, "race")
    for cid in ids[:7]:
        provider.read(cid, {"description": "x"})
    outs = provider.read(ids[7], {"description": "x"}).outs  # lists (8th distinct read); any write drops it
    client = PROCESS.client()
    real_iter = client.iter_connectors

    def listing_then_a_write(**kwargs: Any) -> Any:
        items = list(real_iter(**kwargs))  # the answer is in: it holds the old description
        provider.update(
            ids[7], outs, {"name": "race-7", "description": "written during the listing", "server": SERVER_URL}
        )
        return iter(items)

    PROCESS.listing.invalidate()
    monkeypatch.setattr(client, "iter_connectors", listing_then_a_write)
    for cid in ids[:7]:
        provider.read(cid, {"description": "x"})
    controls.clear_requests()
    read = provider.read(ids[7], {"description": "x"})
    assert read.outs["description"] == "written during the listing"  # not the listing's stale copy
    assert controls.calls() == ["GET /v1/connectors", f"PATCH /v1/connectors/{ids[7]}", f"GET /v1/connectors/{ids[7]}"]
    monkeypatch.undo()
    controls.clear_requests()
    assert provider.read(ids[6], {"description": "x"}).id == ids[6]
    assert controls.calls() == ["GET /v1/connectors"]  # the discarded listing was not kept: a fresh one


def test_client_tuning_from_config_then_env() -> None:
    s = provider_module.settings_from_config(
        Config({"mistral:timeout": "2.5", "mistral:maxAttempts": "2"}, "p"),
        {"MISTRAL_MAX_RETRY_TIME": "7", "MISTRAL_MAX_ATTEMPTS": "9"},
    )
    assert (s.timeout, s.max_attempts, s.max_retry_time) == (2.5, 2, 7.0)
    defaults = provider_module.settings_from_config(Config({}, "p"), {})
    assert (defaults.api_key, defaults.server_url) == (None, None)
    assert (defaults.timeout, defaults.max_attempts, defaults.max_retry_time) == (30.0, 6, 60.0)  # as documented
    assert "sk-tuning" not in repr(provider_module.Settings(api_key="sk-tuning"))
    for key, bad in [
        ("mistral:timeout", "soon"),
        ("mistral:timeout", "-1"),
        ("mistral:maxAttempts", "1.5"),
        ("mistral:maxAttempts", "99"),
    ]:
        with pytest.raises(MistralError, match=key):
            provider_module.settings_from_config(Config({key: bad}, "p"), {})
