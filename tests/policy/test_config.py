"""The config file: defaults, levels, `all`, parameters, and every problem named (the same schemas the CLI checks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pulumi_mistral.errors import InputError
from pulumi_mistral.policy.config import LEVELS, SCHEMAS, defaults, load_config, parameter_problems, parse_config
from pulumi_mistral.policy.rules import RULES


def test_defaults_are_safe_and_every_rule_is_mandatory() -> None:
    config = parse_config(None)
    assert list(config) == [r.id for r in RULES]
    assert {c.level for c in config.values()} == {"mandatory"}
    assert config["connector-server-https"].params == {"allowLoopbackHttp": True}
    assert config["connector-visibility"].params == {"maxVisibility": "shared_workspace", "sharedOrgNames": []}
    assert config["connector-server-host"].params == {"allowedHosts": ["*"], "deniedHosts": []}
    assert config["connector-shared-org-limit"].params == {"maxSharedOrg": 1}
    for rule in RULES:  # every parameter has a default, a type and a description
        for name, schema in SCHEMAS[rule.id].items():
            assert {"type", "default", "description"} <= set(schema), (rule.id, name)


def test_levels_all_and_per_rule() -> None:
    config = parse_config(
        {
            "all": "advisory",
            "connector-visibility": {"enforcementLevel": "remediate", "sharedOrgNames": ["docs"]},
            "connector-description": "disabled",
        }
    )
    assert config["connector-server-https"].level == "advisory"
    assert config["connector-visibility"].level == "remediate"
    assert config["connector-visibility"].params["sharedOrgNames"] == ["docs"]
    assert config["connector-description"].level == "disabled"
    assert parse_config({"all": {"enforcementLevel": "disabled"}})["connector-names-unique"].level == "disabled"


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "expected a JSON object of rule ids, got list"),
        (
            {"connector-visiblity": "advisory"},
            "unknown rule 'connector-visiblity' (did you mean 'connector-visibility'?)",
        ),
        ({"all": "warn"}, 'all: enforcement level "warn" is not one of advisory, mandatory, remediate, disabled'),
        (
            {"connector-visibility": {"maxVisibility": "sharedorg"}},
            "connector-visibility: maxVisibility must be one of private, shared_workspace, shared_org, "
            'shared_global, got "sharedorg"',
        ),
        (
            {"connector-visibility": {"sharedOrgNamez": []}},
            "unknown parameter 'sharedOrgNamez' (did you mean 'sharedOrgNames'?) (its parameters: maxVisibility, "
            "sharedOrgNames)",
        ),
        ({"connector-names-unique": {"x": 1}}, "unknown parameter 'x' (it has no parameters)"),
        ({"connector-server-host": {"allowedHosts": "*.example.com"}}, "allowedHosts must be an array"),
        ({"connector-server-host": {"allowedHosts": ["*.example.com", 3]}}, "allowedHosts[1] must be a string, got 3"),
        ({"connector-server-https": {"allowLoopbackHttp": "yes"}}, "allowLoopbackHttp must be a boolean"),
        ({"connector-shared-org-limit": {"maxSharedOrg": -1}}, "maxSharedOrg must be a whole number of at least 0"),
        ({"connector-shared-org-limit": {"maxSharedOrg": True}}, "maxSharedOrg must be an integer, got true"),
        ({"connector-name-pattern": {"pattern": "(["}}, "pattern is not a regular expression"),
        ({"connector-description": 3}, "connector-description: expected a level or an object, got 3"),
    ],
)
def test_every_problem_is_named(doc: Any, words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_config(doc, source="policy.json")
    assert words in caught.value.message and caught.value.message.startswith(("policy.json", "2 problems"))


def test_several_problems_at_once_on_one_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_config({"nope": "advisory", "all": "warn"})
    assert caught.value.message.startswith("2 problems: ") and "\n" not in caught.value.message


EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("connector-server-https", {"allowLoopbackHttp": False}),
    ("connector-server-https", {"allowLoopbackHttp": 1}),
    ("connector-server-host", {"allowedHosts": ["*.example.com"], "deniedHosts": []}),
    ("connector-server-host", {"allowedHosts": [""]}),
    ("connector-server-host", {"deniedHosts": "x"}),
    ("connector-visibility", {"maxVisibility": "private", "sharedOrgNames": ["a"]}),
    ("connector-visibility", {"maxVisibility": "public"}),
    ("connector-name-pattern", {"pattern": "^a"}),
    ("connector-name-pattern", {"pattern": ""}),
    ("connector-description", {"minLength": 3}),
    ("connector-description", {"minLength": 0}),
    ("connector-description", {"minLength": 2.5}),
    ("connector-shared-org-limit", {"maxSharedOrg": 0}),
    ("connector-shared-org-limit", {"maxSharedOrg": "1"}),
]


@pytest.mark.parametrize(("rule_id", "params"), EXAMPLES)
def test_the_checks_here_agree_with_the_json_schema_the_cli_applies(rule_id: str, params: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": SCHEMAS[rule_id]}
    valid = jsonschema.Draft7Validator(schema).is_valid(params)
    assert (parameter_problems(rule_id, params) == []) == valid


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"connector-server-host": {"allowedHosts": ["*.example.com"]}}))
    assert load_config(str(path))["connector-server-host"].params["allowedHosts"] == ["*.example.com"]
    assert load_config(None)["connector-visibility"].params == defaults("connector-visibility")
    path.write_text("{")
    with pytest.raises(InputError, match="is not JSON"):
        load_config(str(path))
    with pytest.raises(InputError, match="cannot read"):
        load_config(str(tmp_path / "missing.json"))
    assert set(LEVELS) == {"advisory", "mandatory", "remediate", "disabled"}
