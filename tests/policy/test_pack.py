"""The pulumi_policy adapter: in-process on pulumi_policy's own objects, and the example pack served over gRPC.

The gRPC tests start ``examples/policy-pack`` exactly as the language host does (``python -u -m pulumi.policy
<engine> <pack>/__main__.py`` in the pack's directory) and call it as the engine does, with the wire form of
both Connector types: snake_case for the dynamic one, camelCase for the native ``mistral:index:Connector``,
secrets as secret markers and computed values as unknown sentinels.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from pulumi_mistral.core.secret_markers import SECRET_SIG, SIG_KEY
from pulumi_mistral.policy.pack import PACK_NAME, PolicyConfigError, params_of, plain, policies
from pulumi_mistral.policy.rules import RULES
from pulumi_mistral.policy.view import DYNAMIC_TYPE, NATIVE_TYPE, UNKNOWN

PACK = Path(__file__).resolve().parents[2] / "examples" / "policy-pack"
PIN = "sha256:" + "b" * 64


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


# -- in process ---------------------------------------------------------------------------------------------------


def test_plain_turns_proxies_into_values_with_unknown() -> None:
    props = unknown_checking_proxy(
        {
            "server": UNKNOWN_STRING_VALUE,
            "toolPins": {"a": UNKNOWN_STRING_VALUE, "b": PIN},
            "list": ["x", UNKNOWN_STRING_VALUE],
        }
    )
    assert plain(props) == {"server": UNKNOWN, "toolPins": {"a": UNKNOWN, "b": PIN}, "list": ["x", UNKNOWN]}


def test_params_fill_defaults_and_turn_doubles_into_whole_numbers() -> None:
    assert params_of("connector-shared-org-limit", {"maxSharedOrg": 3.0}) == {"maxSharedOrg": 3}
    assert params_of("connector-visibility", None) == {"maxVisibility": "shared_workspace", "sharedOrgNames": []}
    with pytest.raises(PolicyConfigError, match="unknown parameter 'sharedOrgNamez'"):
        params_of("connector-visibility", {"sharedOrgNamez": ["a"]})


def test_one_policy_per_rule_with_its_schema() -> None:
    made = policies()
    assert [p.name for p in made] == [r.id for r in RULES]
    assert {p.enforcement_level for p in made} == {EnforcementLevel.MANDATORY}
    assert [type(p) is StackValidationPolicy for p in made] == [r.scope == "stack" for r in RULES]
    by_name = {p.name: p for p in made}
    assert by_name["connector-visibility"].config_schema.properties["maxVisibility"]["default"] == "shared_workspace"


def test_other_resource_types_are_left_alone() -> None:
    (https,) = [p for p in policies() if p.name == "connector-server-https"]
    found: list[str] = []
    args = ResourceValidationArgs(
        "aws:s3/bucket:Bucket",
        unknown_checking_proxy({"server": "http://x.example.com"}),
        "urn:b",
        "b",
        None,
        None,
        None,
        {},
    )  # type: ignore[arg-type]
    https.validate(args, lambda message, urn=None: found.append(message))  # type: ignore[attr-defined]
    assert found == []


# -- the example pack over gRPC -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK / "__main__.py")],
        cwd=PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read() if proc.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(props)
    return out


def configure(stub: analyzer_pb2_grpc.AnalyzerStub, **levels: tuple[str, dict[str, Any]]) -> None:
    """Every rule mandatory with its defaults, except the ones given: ``rule_id=(level, params)``."""
    wire = {
        "advisory": analyzer_pb2.ADVISORY,
        "mandatory": analyzer_pb2.MANDATORY,
        "disabled": analyzer_pb2.DISABLED,
        "remediate": analyzer_pb2.REMEDIATE,
    }
    config = {}
    for rule in RULES:
        level, params = levels.get(rule.id.replace("-", "_"), ("mandatory", {}))
        config[rule.id] = analyzer_pb2.PolicyConfig(enforcementLevel=wire[level], properties=struct(params))
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config))


def analyze(
    stub: analyzer_pb2_grpc.AnalyzerStub, type_: str, name: str, props: dict[str, Any]
) -> list[tuple[str, str]]:
    request = analyzer_pb2.AnalyzeRequest(
        type=type_, name=name, urn=f"urn:pulumi:dev::p::{type_}::{name}", properties=struct(props)
    )
    response = stub.Analyze(request)
    return sorted((d.policyName, d.message) for d in response.diagnostics)


NATIVE_BAD = {
    "name": "docs",
    "description": " ",
    "server": "http://mcp.example.com/mcp",
    "visibility": "shared_org",
    "headers": secret({"X-Api-Key": "header-value"}),
    "authData": secret({"clientId": "c", "clientSecret": "client-secret-value"}),
    "toolDrift": "warn",
}
DYNAMIC_BAD = {
    "name": "docs",
    "description": "",
    "server": "http://mcp.example.com/mcp",
    "visibility": "shared_org",
    "headers": secret({"X-Api-Key": "header-value"}),
    "tool_drift": "warn",
    "__provider": "gASV",
}


def test_the_pack_describes_every_rule(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME and info.supportsConfig
    assert [p.name for p in info.policies] == [r.id for r in RULES]
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}
    visibility = next(p for p in info.policies if p.name == "connector-visibility")
    assert json_format.MessageToDict(visibility.configSchema.properties)["maxVisibility"]["enum"][0] == "private"


@pytest.mark.parametrize(("type_", "props"), [(NATIVE_TYPE, NATIVE_BAD), (DYNAMIC_TYPE, DYNAMIC_BAD)])
def test_both_types_and_spellings_fail_the_same_rules(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, type_: str, props: dict[str, Any]
) -> None:
    configure(analyzer)
    found = analyze(analyzer, type_, "docs", props)
    assert [policy for policy, _ in found] == [
        "connector-description",
        "connector-server-https",
        "connector-shared-tools-tracked",
        "connector-visibility",
    ]
    text = " ".join(message for _, message in found)
    assert "header-value" not in text and "client-secret-value" not in text


def test_a_compliant_native_connector_passes(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    configure(analyzer)
    ok = {
        "name": "docs",
        "description": "Docs",
        "server": "https://mcp.example.com/mcp",
        "visibility": "shared_workspace",
        "toolPins": {"search": PIN},
        "headers": secret({"X-Api-Key": "k"}),
    }
    assert analyze(analyzer, NATIVE_TYPE, "docs", ok) == []


def test_unknown_values_during_preview_are_not_violations(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    configure(analyzer)
    computed = {
        "name": UNKNOWN_STRING_VALUE,
        "description": UNKNOWN_STRING_VALUE,
        "server": UNKNOWN_STRING_VALUE,
        "visibility": UNKNOWN_STRING_VALUE,
        "toolPins": UNKNOWN_STRING_VALUE,
    }
    request = analyzer_pb2.AnalyzeRequest(type=NATIVE_TYPE, name="c", urn="urn:c", properties=struct(computed))
    response = analyzer.Analyze(request)
    assert list(response.diagnostics) == []  # not even "can't run policy during preview"


def test_levels_and_parameters_from_the_config(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    configure(
        analyzer,
        connector_visibility=("advisory", {"sharedOrgNames": ["docs"]}),
        connector_description=("disabled", {}),
        connector_server_https=("advisory", {}),
        connector_shared_tools_tracked=("mandatory", {}),
    )
    request = analyzer_pb2.AnalyzeRequest(type=NATIVE_TYPE, name="docs", urn="urn:docs", properties=struct(NATIVE_BAD))
    levels = sorted((d.policyName, d.enforcementLevel) for d in analyzer.Analyze(request).diagnostics)
    assert levels == [
        ("connector-server-https", analyzer_pb2.ADVISORY),
        ("connector-shared-tools-tracked", analyzer_pb2.MANDATORY),
    ]


def test_stack_rules_see_both_types(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    configure(analyzer)
    resources = [
        analyzer_pb2.AnalyzerResource(
            type=NATIVE_TYPE,
            name="a",
            urn="urn:a",
            properties=struct({"name": "docs", "server": "https://mcp.example.com/mcp", "visibility": "shared_org"}),
        ),
        analyzer_pb2.AnalyzerResource(
            type=DYNAMIC_TYPE,
            name="b",
            urn="urn:b",
            properties=struct(
                {
                    "name": "docs",
                    "server": "https://mcp.example.com/mcp",
                    "tool_drift": "block",
                    "visibility": "shared_org",
                    "connector_id": "1",
                }
            ),
        ),
        analyzer_pb2.AnalyzerResource(
            type="random:index:RandomString", name="r", urn="urn:r", properties=struct({"name": "docs"})
        ),
    ]
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
    found = sorted((d.policyName, d.urn) for d in response.diagnostics)
    assert found == [
        ("connector-names-unique", "urn:a"),
        ("connector-names-unique", "urn:b"),
        ("connector-server-tool-policy", "urn:a"),
        ("connector-server-tool-policy", "urn:b"),
        ("connector-shared-org-limit", ""),
    ]


def test_stack_rules_read_the_inputs_the_resource_validations_saw(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """The engine gives a stack validation the planned outputs; the native plugin's plan of an update keeps an
    old toolDrift the program removed (seen on the real engine: tests/engine/test_policy_pack.py)."""
    configure(analyzer)
    server = "https://mcp.example.com/mcp"
    tracked = {"name": "a", "description": "A", "server": server, "visibility": "private", "toolDrift": "audit"}
    now = {**tracked, "name": "b"}
    del now["toolDrift"]
    urns = {n: f"urn:pulumi:dev::p::mistral:index:Connector::seen-{n}" for n in ("a", "b")}
    for name, props in (("a", tracked), ("b", now)):
        request = analyzer_pb2.AnalyzeRequest(type=NATIVE_TYPE, name=name, urn=urns[name], properties=struct(props))
        assert list(analyzer.Analyze(request).diagnostics) == []
    planned = {"a": {**tracked, "connectorId": "1"}, "b": {**now, "toolDrift": "audit", "connectorId": "2"}}
    resources = [
        analyzer_pb2.AnalyzerResource(type=NATIVE_TYPE, name=n, urn=urns[n], properties=struct(planned[n]))
        for n in ("a", "b")
    ]
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
    assert sorted((d.policyName, d.urn) for d in response.diagnostics) == [
        ("connector-server-tool-policy", urns["a"]),
        ("connector-server-tool-policy", urns["b"]),
    ]


def test_remediation_sets_private_and_keeps_secrets_secret(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    configure(analyzer, connector_visibility=("remediate", {}))
    props = {
        "description": "Docs",
        "server": "https://mcp.example.com/mcp",
        "authData": secret({"clientId": "c", "clientSecret": "s"}),
    }
    request = analyzer_pb2.AnalyzeRequest(type=NATIVE_TYPE, name="docs", urn="urn:docs", properties=struct(props))
    (remediation,) = analyzer.Remediate(request).remediations
    assert remediation.policyName == "connector-visibility"
    assert json_format.MessageToDict(remediation.properties) == {**props, "visibility": "private"}
    already = {**props, "visibility": "shared_workspace"}
    request = analyzer_pb2.AnalyzeRequest(type=NATIVE_TYPE, name="docs", urn="urn:docs", properties=struct(already))
    assert list(analyzer.Remediate(request).remediations) == []
    unknown = {**props, "visibility": UNKNOWN_STRING_VALUE}
    request = analyzer_pb2.AnalyzeRequest(type=DYNAMIC_TYPE, name="docs", urn="urn:docs", properties=struct(unknown))
    assert list(analyzer.Remediate(request).remediations) == []


def test_the_policy_api_shows_secrets_as_plain_values(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """Why there is no "secrets are secret" rule: a validation sees a secret and a plain value alike."""
    from pulumi_policy import ResourceValidationPolicy  # a probe policy, run in process on the same deserialiser
    from pulumi_policy.deserialize import deserialize_properties

    seen: list[Any] = []
    probe = ResourceValidationPolicy("probe", "probe", validate=lambda args, report: seen.append(dict(args.props)))
    for value in ("plain-value", secret("plain-value")):
        props = unknown_checking_proxy(deserialize_properties({"headers": {"X-Api-Key": value}}))
        probe.validate(
            ResourceValidationArgs(NATIVE_TYPE, props, "urn", "n", None, None, None, {}),  # type: ignore[arg-type]
            lambda message, urn=None: None,
        )
    assert plain(seen[0]) == plain(seen[1]) == {"headers": {"X-Api-Key": "plain-value"}}
