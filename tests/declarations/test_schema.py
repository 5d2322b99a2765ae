"""schema.json: generated from the Python resource, a valid Pulumi package schema, and property-by-property in
agreement with the resource, its provider and the declaration format."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pulumi_mistral import declarations
from pulumi_mistral.core import spec
from pulumi_mistral.provider import OUTPUT_ONLY_FIELDS, ConnectorProvider, schema_gen
from pulumi_mistral.provider.resource import SECRET_OUTPUTS, Connector, ConnectorArgs
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.stack_runner import StackRunner

ROOT = Path(__file__).resolve().parents[2]
SCHEMA: dict[str, Any] = json.loads((ROOT / "schema.json").read_text())
RESOURCE = SCHEMA["resources"][schema_gen.RESOURCE_TOKEN]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


# The essential structure of a Pulumi package schema (after the package metaschema, pkg/codegen/schema/pulumi.json
# in pulumi/pulumi): known top-level keys only, tokens pkg:module:Name, every type reference one of primitive /
# array / map / named, object and enum type definitions, resources with inputs, outputs and required lists.
_TOKEN = r"^[a-zA-Z][-a-zA-Z0-9_]*:([^0-9][a-zA-Z0-9._/-]*)?:[^0-9][a-zA-Z0-9._/-]*$"
_PRIMITIVES = ["boolean", "integer", "number", "string"]
METASCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-zA-Z][-a-zA-Z0-9_]*$"},
        **{
            k: {"type": "string"}
            for k in (
                "displayName",
                "description",
                "homepage",
                "license",
                "repository",
                "logoUrl",
                "publisher",
                "pluginDownloadURL",
                "version",
            )
        },
        "keywords": {"type": "array", "items": {"type": "string"}},
        "meta": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"moduleFormat": {"type": "string"}, "supportPack": {"type": "boolean"}},
        },
        "config": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "variables": {"type": "object", "additionalProperties": {"$ref": "#/$defs/property"}},
                "defaults": {"type": "array", "items": {"type": "string"}},
            },
        },
        "types": {
            "type": "object",
            "propertyNames": {"pattern": _TOKEN},
            "additionalProperties": {"$ref": "#/$defs/complexType"},
        },
        "resources": {
            "type": "object",
            "propertyNames": {"pattern": _TOKEN},
            "additionalProperties": {"$ref": "#/$defs/resource"},
        },
        "functions": {"type": "object", "propertyNames": {"pattern": _TOKEN}},
        "language": {"type": "object"},
        "provider": {"$ref": "#/$defs/resource"},  # the provider resource's inputs (the native plugin's config)
    },
    "$defs": {
        "typeRef": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": _PRIMITIVES}},
                    "not": {
                        "anyOf": [
                            {"required": ["items"]},
                            {"required": ["additionalProperties"]},
                            {"required": ["$ref"]},
                        ]
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "items"],
                    "properties": {"type": {"const": "array"}, "items": {"$ref": "#/$defs/typeRef"}},
                    "not": {"anyOf": [{"required": ["additionalProperties"]}, {"required": ["$ref"]}]},
                },
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"const": "object"}, "additionalProperties": {"$ref": "#/$defs/typeRef"}},
                    "not": {"anyOf": [{"required": ["items"]}, {"required": ["$ref"]}]},
                },
                {
                    "type": "object",
                    "required": ["$ref"],
                    "properties": {
                        "$ref": {"type": "string", "pattern": r"^(pulumi\.json#/(Any|Archive|Asset|Json)|#/types/.+)$"}
                    },
                    "not": {"anyOf": [{"required": ["items"]}, {"required": ["additionalProperties"]}]},
                },
            ]
        },
        "property": {
            "allOf": [{"$ref": "#/$defs/typeRef"}],
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "secret": {"type": "boolean"},
                "replaceOnChanges": {"type": "boolean"},
                "default": {"type": ["boolean", "number", "string"]},
                "defaultInfo": {
                    "type": "object",
                    "required": ["environment"],
                    "properties": {"environment": {"type": "array", "items": {"type": "string"}}},
                },
            },
        },
        "properties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/property"}},
        "complexType": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"const": "object"},
                        "description": {"type": "string"},
                        "properties": {"$ref": "#/$defs/properties"},
                        "required": {"type": "array", "items": {"type": "string"}},
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "enum"],
                    "properties": {
                        "type": {"enum": _PRIMITIVES},
                        "description": {"type": "string"},
                        "enum": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["value"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "value": {"type": ["boolean", "number", "string"]},
                                    "description": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            ]
        },
        "resource": {
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "inputProperties": {"$ref": "#/$defs/properties"},
                "requiredInputs": {"type": "array", "items": {"type": "string"}},
                "properties": {"$ref": "#/$defs/properties"},
                "required": {"type": "array", "items": {"type": "string"}},
                "isComponent": {"type": "boolean"},
            },
        },
    },
}


def test_committed_schema_is_the_generated_one() -> None:
    assert (ROOT / "schema.json").read_text() == schema_gen.render(), (
        "schema.json is stale: regenerate it with `python -m pulumi_mistral.provider.schema_gen > schema.json`"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pulumi_mistral.provider.schema_gen"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout == schema_gen.render()


def test_schema_is_a_valid_package_schema() -> None:
    jsonschema.Draft202012Validator(METASCHEMA).validate(SCHEMA)
    # every named reference resolves, every required name exists
    refs = re.findall(r'"\$ref": "#/types/([^"]+)"', json.dumps(SCHEMA))
    assert refs and all(ref in SCHEMA["types"] for ref in refs)
    for res in SCHEMA["resources"].values():
        assert set(res["requiredInputs"]) <= set(res["inputProperties"])
        assert set(res["required"]) <= set(res["properties"])
    for typ in SCHEMA["types"].values():
        assert set(typ.get("required", [])) <= set(typ.get("properties", {}))
        assert all(p.get("description") for p in typ.get("properties", {}).values())
    assert all(p.get("description") for p in [*RESOURCE["inputProperties"].values(), *RESOURCE["properties"].values()])


def test_the_structural_check_rejects_broken_schemas() -> None:
    validator = jsonschema.Draft202012Validator(METASCHEMA)
    broken = json.loads(json.dumps(SCHEMA))
    broken["resources"]["Connector"] = broken["resources"].pop(schema_gen.RESOURCE_TOKEN)
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(SCHEMA))
    broken["resources"][schema_gen.RESOURCE_TOKEN]["properties"]["name"] = {"type": "text"}
    assert not validator.is_valid(broken)
    assert not validator.is_valid({**SCHEMA, "resourcez": {}})


def test_inputs_agree_with_the_resource() -> None:
    schema_inputs = {snake(k): v for k, v in RESOURCE["inputProperties"].items()}
    args_fields = {f.name for f in dataclasses.fields(ConnectorArgs)}
    params = set(inspect.signature(Connector.__init__).parameters) - {"self", "resource_name", "args", "opts"}
    assert set(schema_inputs) == args_fields == params
    assert set(spec.INPUT_FIELDS) <= set(schema_inputs)
    assert set(schema_inputs) <= set(spec.ALL_FIELDS)  # and the provider's check accepts every one of them
    assert [snake(k) for k in RESOURCE["requiredInputs"]] == list(spec.REQUIRED_FIELDS)
    required_args = {f.name for f in dataclasses.fields(ConnectorArgs) if f.default is dataclasses.MISSING}
    assert required_args == set(spec.REQUIRED_FIELDS)
    for name, prop in schema_inputs.items():
        assert prop.get("secret", False) is (name in SECRET_OUTPUTS), name
        assert prop.get("secret", False) is (name in spec.SECRET_FIELDS), name
        assert prop.get("replaceOnChanges", False) is (name in spec.REPLACE_FIELDS), name


def test_outputs_agree_with_the_resource() -> None:
    schema_props = {snake(k): v for k, v in RESOURCE["properties"].items()}
    annotated = set(Connector.__annotations__)
    assert set(schema_props) == annotated
    assert set(OUTPUT_ONLY_FIELDS) <= set(schema_props)
    assert {snake(k) for k in RESOURCE["inputProperties"]} <= set(schema_props)
    for name, prop in schema_props.items():
        assert prop.get("secret", False) is (name in SECRET_OUTPUTS), name
        assert prop.get("replaceOnChanges", False) is (name in spec.REPLACE_FIELDS), name
    required = {snake(k) for k in RESOURCE["required"]}
    assert set(OUTPUT_ONLY_FIELDS) <= required
    assert required == {n for n, t in Connector.__annotations__.items() if "None" not in str(t)}


def test_types_and_config_agree_with_spec_and_provider() -> None:
    auth = SCHEMA["types"][schema_gen.AUTH_DATA_TOKEN]
    assert [snake(k) for k in auth["properties"]] == list(spec.AUTH_DATA_FIELDS)
    assert {snake(k) for k, v in auth["properties"].items() if v.get("secret")} == {"client_secret"}
    visibility = SCHEMA["types"][schema_gen.VISIBILITY_TOKEN]
    assert [e["value"] for e in visibility["enum"]] == list(spec.VISIBILITIES)
    if "tool_drift" in {snake(k) for k in RESOURCE["inputProperties"]}:
        policy = SCHEMA["types"][schema_gen.TOOL_DRIFT_TOKEN]
        assert [e["value"] for e in policy["enum"]] == list(spec.TOOL_DRIFT_POLICIES)
    variables = SCHEMA["config"]["variables"]
    assert {"apiKey", "serverUrl"} <= set(variables) and variables["apiKey"]["secret"] is True
    assert [k for k, v in variables.items() if v.get("secret")] == ["apiKey"]
    package = Path(inspect.getfile(sys.modules[ConnectorProvider.__module__])).parent
    modules = sorted([*package.glob("*.py"), *(package.parent / "lifecycle").glob("*.py")])
    source = "\n".join(p.read_text(encoding="utf-8") for p in modules)  # every provider and lifecycle module
    # every `mistral:<key>` the provider reads is documented, and nothing else
    assert set(re.findall(r'"mistral:(\w+)"', source)) == set(variables)
    for variable in variables.values():  # the documented environment fallbacks are the ones the provider reads
        assert all(f'"{env}"' in source for env in variable["defaultInfo"]["environment"])


def test_declaration_format_accepts_exactly_the_schema_inputs() -> None:
    schema_inputs = {snake(k) for k in RESOURCE["inputProperties"]}
    declarable = set(declarations.DECLARABLE_FIELDS)
    # tool pinning is declarable ahead of the resource accepting it (declare_connectors reports it then)
    assert schema_inputs <= declarable and declarable - schema_inputs <= {"tool_pins", "tool_drift"}
    for name in declarations.SECRET_MAPS:
        assert RESOURCE["inputProperties"][schema_gen.camel(name)]["secret"] is True


@pytest.fixture
def server() -> Any:
    with LocalServer() as srv:
        yield srv


def test_live_outputs_match_the_schema(server: LocalServer) -> None:
    """A deployed connector's outputs use only schema properties, all required ones, with the same secrets."""
    import pulumi

    def program() -> None:
        c = Connector(
            "full",
            name="full",
            description="All fields",
            server="https://mcp.example.com/mcp",
            icon_url="https://icons.example.com/a.png",
            visibility="private",
            headers={"X-Key": "k"},
            auth_data={"client_id": "app", "client_secret": "cs"},
            system_prompt="Be brief.",
            connection_config={"n": 1},
            connection_secrets={"tok": "t"},
        )
        pulumi.export("outputs", c.connector_id)

    config = server.config()
    with StackRunner(program, project="schema", config=config, in_process=True) as stack:
        stack.up()
        ((_, res),) = stack.state().items()
        outs = {k: v for k, v in res["outputs"].items() if k != "__provider"}
        schema_props = {snake(k): v for k, v in RESOURCE["properties"].items()}
        assert set(outs) <= set(schema_props)
        assert {snake(k) for k in RESOURCE["required"]} <= set(outs)
        secret_outs = {k for k, v in outs.items() if isinstance(v, dict) and "4dabf18193072939515e22adb298388d" in v}
        assert secret_outs == {k for k, v in schema_props.items() if v.get("secret")}
        stack.destroy()
