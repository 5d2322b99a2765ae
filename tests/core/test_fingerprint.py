"""Tool fingerprints: stable across encodings (key order, unicode, number forms), sensitive to every defined field."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_mistral.client.models import MCPTool
from pulumi_mistral.core import spec
from pulumi_mistral.core.fingerprint import (
    DEFINITION_FIELDS,
    canonical_json,
    fingerprint,
    set_fingerprint,
    tool_definition,
    tool_outputs,
    tools_summary,
)

FP_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

SEARCH: dict[str, Any] = {
    "name": "search_docs",
    "title": "Search docs",
    "description": "Search the connector documentation. Returns matching documents.",
    "inputSchema": {
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1}, "limit": {"type": "integer", "default": 3}},
        "required": ["query"],
    },
    "outputSchema": {"type": "object", "properties": {"total": {"type": "integer"}}},
    "annotations": {"title": "Search docs", "readOnlyHint": True, "openWorldHint": False},
}


def test_format_is_what_spec_accepts_for_pins() -> None:
    fp = fingerprint(SEARCH)
    assert FP_RE.match(fp)
    assert spec.validate_inputs({"description": "d", "server": "https://x.example", "tool_pins": {"s": fp}}) == []


def test_hash_is_sha256_of_rfc8785_canonical_definition() -> None:
    expected = "sha256:" + hashlib.sha256(rfc8785.dumps(tool_definition(SEARCH))).hexdigest()
    assert fingerprint(SEARCH) == expected


def test_key_order_does_not_matter() -> None:
    reordered = json.loads(json.dumps(SEARCH, sort_keys=True))
    reordered["inputSchema"] = dict(reversed(list(reordered["inputSchema"].items())))
    assert fingerprint(reordered) == fingerprint(SEARCH)


def test_number_forms_are_one_number() -> None:
    a = {"name": "t", "inputSchema": {"type": "object", "maximum": 1, "x": 100}}
    b = {"name": "t", "inputSchema": {"type": "object", "maximum": 1.0, "x": 1e2}}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({"name": "t", "inputSchema": {"type": "object", "maximum": 1.5, "x": 100}})


def test_unicode_is_canonical_and_significant() -> None:
    a = {"name": "t", "description": "café ☕ \u2028"}
    # the same text decoded from escaped and raw JSON is the same string, so the same fingerprint
    assert fingerprint(json.loads(json.dumps(a, ensure_ascii=True))) == fingerprint(json.loads(json.dumps(a)))
    assert fingerprint(a) != fingerprint({"name": "t", "description": "cafe ☕ \u2028"})


def test_huge_integers_and_non_json_values() -> None:
    assert FP_RE.match(fingerprint({"name": "t", "inputSchema": {"maximum": 2**63}}))
    with pytest.raises(ValueError):
        fingerprint({"name": "t", "inputSchema": {"maximum": float("nan")}})
    with pytest.raises(ValueError):
        fingerprint({"description": "no name"})


@pytest.mark.parametrize("field", DEFINITION_FIELDS)
def test_each_defined_field_changes_the_fingerprint(field: str) -> None:
    changed = copy.deepcopy(SEARCH)
    if field in ("inputSchema", "outputSchema"):
        changed[field]["properties"]["extra"] = {"type": "string"}
    elif field == "annotations":
        changed[field]["readOnlyHint"] = False
    else:
        changed[field] = changed[field] + "!"
    assert fingerprint(changed) != fingerprint(SEARCH)
    removed = {k: v for k, v in SEARCH.items() if k != field}
    if field != "name":
        assert fingerprint(removed) != fingerprint(SEARCH)


@pytest.mark.parametrize(
    "extra",
    [
        {"_meta": {"ai.mistral/turbine": {"tool_type": "rag"}}},
        {"icons": [{"src": "https://example.com/i.png"}]},
        {"execution": {"taskSupport": "optional"}},
        {"id": "123", "created_at": "2025-01-01T00:00:00Z"},
    ],
)
def test_fields_outside_the_definition_do_not_count(extra: dict[str, Any]) -> None:
    assert fingerprint({**SEARCH, **extra}) == fingerprint(SEARCH)


def test_missing_none_and_empty_annotations_are_the_same() -> None:
    base = {"name": "t", "inputSchema": {"type": "object"}}
    same = [
        {**base, "title": None, "outputSchema": None},
        {**base, "annotations": None},
        {**base, "annotations": {}},
        {**base, "annotations": {"readOnlyHint": None}},
    ]
    assert {fingerprint(t) for t in same} == {fingerprint(base)}


def test_snake_case_and_models_match_wire_camel_case() -> None:
    snake = {
        "name": SEARCH["name"],
        "title": SEARCH["title"],
        "description": SEARCH["description"],
        "input_schema": SEARCH["inputSchema"],
        "output_schema": SEARCH["outputSchema"],
        "annotations": {"title": "Search docs", "read_only_hint": True, "open_world_hint": False},
    }
    assert fingerprint(snake) == fingerprint(SEARCH)
    model = MCPTool.model_validate({**SEARCH, "_meta": {"ui": {"resourceUri": "ui://x"}}})
    assert fingerprint(model) == fingerprint(SEARCH)


def test_summary_sorted_and_set_fingerprint_independent_of_order() -> None:
    echo = {"name": "echo", "inputSchema": {"type": "object"}}
    summary = tools_summary([SEARCH, echo])
    assert [r["name"] for r in summary] == ["echo", "search_docs"]
    assert summary[0]["fingerprint"] == fingerprint(echo)
    assert set_fingerprint([SEARCH, echo]) == set_fingerprint([echo, SEARCH])
    assert set_fingerprint([SEARCH, echo]) != set_fingerprint([SEARCH])
    assert FP_RE.match(set_fingerprint([]))
    # a name listed twice changes the set fingerprint, whatever the order
    dup = {"name": "echo", "inputSchema": {"type": "object"}, "description": "other"}
    assert set_fingerprint([echo, dup]) == set_fingerprint([dup, echo]) != set_fingerprint([echo])
    outs = tool_outputs([SEARCH, echo])
    assert outs == {"tools": summary, "tools_fingerprint": set_fingerprint([echo, SEARCH])}


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(schema=st.dictionaries(st.text(max_size=6), _json, max_size=4), desc=st.text(max_size=20))
def test_json_round_trip_never_changes_the_fingerprint(schema: dict[str, Any], desc: str) -> None:
    tool = {"name": "t", "description": desc, "inputSchema": schema}
    again = json.loads(json.dumps(tool, ensure_ascii=True, indent=2))
    assert fingerprint(again) == fingerprint(tool)
    assert canonical_json(again) == canonical_json(tool)
