"""Layer 2: the SDK's real dynamic-provider gRPC servicer, driven as the engine drives it.

In-process (fast) for the protocol cases, and once as a `python -u -m pulumi.dynamic` subprocess whose cwd is
the quickstart project directory, which proves the pickled provider imports in a fresh process.
"""

from __future__ import annotations

from typing import Any

import pytest
from provider_helpers import REPO, connector_inputs
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from pulumi_mistral.provider import ConnectorProvider
from pulumi_mistral.testing.controls import Controls
from pulumi_mistral.testing.engine import EngineClient, ProviderCallError
from pulumi_mistral.testing.fixtures import configured_engine
from pulumi_mistral.testing.provider_hosts import SubprocessProviderHost

URN = "urn:pulumi:dev::tests::pulumi-python:dynamic/connector:Connector::c1"
PICKLE = serialize_provider(ConnectorProvider())


@pytest.fixture
def engine(mistral_engine: EngineClient) -> EngineClient:
    """The plugin's ``mistral_engine``: the servicer in this process, configured for this test's local server."""
    return mistral_engine


def _news(**overrides: Any) -> dict[str, Any]:
    return {**connector_inputs(**overrides), "__provider": PICKLE}


def _create(engine: EngineClient, **overrides: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    checked, failures = engine.check(URN, {}, _news(**overrides))
    assert failures == []
    ident, outs = engine.create(URN, checked)
    return ident, outs, checked


def test_create_over_grpc(engine: EngineClient) -> None:
    ident, outs, checked = _create(engine, name="grpc-1", connection_config={"n": 2})
    assert outs["connector_id"] == ident and outs["__provider"] == PICKLE
    assert checked["__provider"] == PICKLE
    assert outs["connection_config"] == {"n": 2.0}  # a Struct: numbers are doubles on the wire


def test_secret_marker_survives_the_servicer(engine: EngineClient) -> None:
    _, outs, _ = _create(engine, name="grpc-sec", headers={"X-K": "hush-grpc"})
    assert rpc.is_rpc_secret(outs["headers"])
    assert rpc.unwrap_rpc_secret(outs["headers"]) == {"X-K": "hush-grpc"}


def test_no_change_is_diff_none(engine: EngineClient) -> None:
    ident, outs, checked = _create(engine, name="grpc-noop", connection_config={"retries": 3})
    answer = engine.diff(ident, URN, outs, checked, checked)
    assert answer.changes == "none"


def test_new_pickle_over_grpc_is_diff_none(engine: EngineClient) -> None:
    ident, outs, checked = _create(engine, name="grpc-pickle")
    # Another pickle of the same class (e.g. after a dill upgrade): must not become an update.
    other = serialize_provider(ConnectorProvider())
    altered = {**checked, "__provider": other + ""}
    assert engine.diff(ident, URN, {**outs, "__provider": "b2xk"}, altered, checked).changes == "none"


def test_update_over_grpc(engine: EngineClient, controls: Controls) -> None:
    ident, outs, checked = _create(engine, name="grpc-upd")
    news, _ = engine.check(URN, checked, _news(name="grpc-upd", description="new"))
    assert engine.diff(ident, URN, outs, news, checked).changes == "some"
    controls.clear_requests()
    updated = engine.update(ident, URN, outs, news, checked)
    assert controls.calls() == [f"PATCH /v1/connectors/{ident}"]
    assert updated["description"] == "new" and updated["connector_id"] == ident


def test_check_failures_over_grpc_make_no_request(engine: EngineClient, controls: Controls) -> None:
    controls.clear_requests()
    _, failures = engine.check(
        URN, {}, {"name": "no spaces!", "server": "nope", "visibilty": "private", "__provider": PICKLE}
    )
    props = {p for p, _ in failures}
    assert {"name", "server", "visibilty", "description"} <= props
    assert controls.calls() == []


def test_a_url_with_credentials_fails_check_with_no_property_over_grpc(engine: EngineClient) -> None:
    _, failures = engine.check(URN, {}, _news(name="cred", server="https://user:hush-grpc@mcp.example.com/mcp"))
    assert [p for p, _ in failures] == [""]  # the engine then prints no value
    assert failures[0][1].startswith("property server embeds credentials") and "hush-grpc" not in failures[0][1]


def test_unknowns_in_preview_over_grpc(engine: EngineClient) -> None:
    ident, outs, checked = _create(engine, name="grpc-unk")
    news = _news(name="grpc-unk", server=rpc.UNKNOWN, headers={"X-K": rpc.UNKNOWN})
    checked2, failures = engine.check(URN, checked, news)
    assert failures == []
    assert checked2["server"] == rpc.UNKNOWN
    assert engine.diff(ident, URN, outs, checked2, checked).changes == "some"


def test_read_gone_over_grpc(engine: EngineClient, mistral_client) -> None:
    ident, outs, checked = _create(engine, name="grpc-gone")
    new_id, _new_outs, new_inputs = engine.read(ident, URN, outs, checked)
    assert new_id == ident and new_inputs is not None and new_inputs["name"] == "grpc-gone"
    mistral_client.delete(ident)
    gone_id, _, _ = engine.read(ident, URN, outs, checked)
    assert gone_id == ""


def test_delete_over_grpc(engine: EngineClient, mistral_client) -> None:
    ident, outs, checked = _create(engine, name="grpc-del")
    engine.delete(ident, URN, outs, checked)
    assert list(mistral_client.iter_connectors()) == []


def test_subprocess_servicer_from_project_dir(local_server, mistral_client) -> None:
    project = REPO / "examples" / "quickstart"
    with SubprocessProviderHost(cwd=project, env={"PULUMI_PROJECT": "quickstart"}) as host:
        with configured_engine(local_server, host) as engine:
            ident, outs, checked = _create(engine, name="subproc", headers={"X-K": "hush-subprocess"})
            assert mistral_client.get(ident).name == "subproc"
            engine.delete(ident, URN, outs, checked)
        logs = host.logs()
    assert host.proc.poll() is not None  # stopped
    assert "hush-subprocess" not in logs and local_server.api_key not in logs


def test_subprocess_servicer_sends_our_errors_alone_and_bugs_with_their_traceback(local_server, mistral_client) -> None:
    """The real ``python -m pulumi.dynamic``: once our module is loaded, a MistralError reaches the engine as its
    message alone; an exception that is not one (a bug) keeps the servicer's traceback."""
    mistral_client.create(name="taken-sub", description="theirs", server="https://mcp.example.com/mcp")
    project = REPO / "examples" / "quickstart"
    with (
        SubprocessProviderHost(cwd=project, env={"PULUMI_PROJECT": "quickstart"}) as host,
        configured_engine(local_server, host) as engine,
    ):
        checked, _ = engine.check(URN, {}, _news(name="taken-sub"))
        with pytest.raises(ProviderCallError) as ours:
            engine.create(URN, checked)
        assert ours.value.details.startswith("a connector named 'taken-sub' already exists")
        assert "Traceback" not in ours.value.details and "\n" not in ours.value.details.strip()
        with pytest.raises(ProviderCallError) as bug:
            engine.create(URN, {"description": "no name: check was skipped", "__provider": PICKLE})
        assert bug.value.details.startswith("Traceback (most recent call last):")
        assert "KeyError: 'name'" in bug.value.details
