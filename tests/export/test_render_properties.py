"""Property tests: whatever the live values, the exported YAML loads back to exactly those values."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pulumi_mistral.cli.export import Export, connector_declaration, render_yaml
from pulumi_mistral.core import diff, spec
from pulumi_mistral.declarations import SecretRef, load_declarations

# Strings YAML likes to reinterpret (booleans, nulls, numbers, dates, comments, anchors, tabs, unicode, ...).
TRICKY = st.sampled_from(
    [
        "yes",
        "no",
        "null",
        "~",
        "1.0",
        "0x1F",
        "2025-01-01",
        "# not a comment",
        "&anchor",
        "*alias",
        "key: value",
        "- item",
        "  padded  ",
        "tab\there",
        "line\nbreak",
        "trailing \n",
        "émoji ✓",
        "'quoted'",
        '"double"',
        "{secret: x}",
        "@at",
        "%percent",
        "",
    ]
)
TEXT = st.one_of(
    TRICKY, st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30)
)
NAME = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        TEXT,
        st.floats(allow_nan=False, allow_infinity=False, width=32),
    ),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(NAME, children, max_size=3)),
    max_leaves=8,
)


@st.composite
def live_connectors(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(NAME, min_size=1, max_size=4, unique=True))
    out = []
    for name in names:
        out.append(
            {
                "id": name,
                "name": name,
                "created_at": "2025-01-01T00:00:00Z",
                "modified_at": "2025-01-01T00:00:00Z",
                "description": draw(TEXT.filter(lambda s: bool(s.strip()))),
                "server": f"https://{draw(NAME).lower()}.example.com/{draw(NAME)}",
                "visibility": draw(st.sampled_from([None, *spec.VISIBILITIES])),
                "system_prompt": draw(st.one_of(st.none(), TEXT)),
                "connection_config": draw(st.dictionaries(NAME, JSON, max_size=3)),
                "header_names": draw(
                    st.lists(st.from_regex(r"X-[A-Za-z0-9-]{1,10}", fullmatch=True), max_size=3, unique=True)
                ),
                "connection_secret_names": draw(st.lists(NAME, max_size=2, unique=True)),
                "auth_data": draw(st.one_of(st.none(), st.fixed_dictionaries({"client_id": NAME}))),
            }
        )
    return out


NEL_PROMPT = [
    {
        "id": "a",
        "name": "a",
        "created_at": "2025-01-01T00:00:00Z",
        "modified_at": "2025-01-01T00:00:00Z",
        "description": "d",
        "server": "https://a.example.com/",
        "visibility": None,
        "system_prompt": "one\x85two\u2028three",
        "connection_config": {},
        "header_names": [],
        "connection_secret_names": [],
        "auth_data": None,
    }
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_connectors())
@example(NEL_PROMPT)  # unicode line breaks were folded into spaces by single-quoted scalars
def test_exported_yaml_loads_back_to_the_live_values(connectors: list[dict[str, Any]]) -> None:
    export = Export()
    for data in connectors:
        export.connectors[data["name"]] = connector_declaration(data, export)
    text = render_yaml(export)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "connectors.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = load_declarations(path)
    assert set(loaded) == {c["name"] for c in connectors}
    for data in connectors:
        decl = loaded[data["name"]]
        assert decl["adopt"] is True
        # what adopt compares: no managed field differs from the live connector
        live = diff.live_state(data, None)
        wanted = {k: v for k, v in decl.items() if k not in spec.SECRET_FIELDS}
        assert [f for f in diff.changed_fields(live, wanted) if f not in spec.SECRET_FIELDS] == []
        assert sorted(decl.get("headers", {})) == sorted(data["header_names"])
        assert all(isinstance(v, SecretRef) for v in decl.get("headers", {}).values())
        assert sorted(decl.get("connection_secrets", {})) == sorted(data["connection_secret_names"])
        if data["auth_data"]:
            assert decl["auth_data"]["client_id"] == data["auth_data"]["client_id"]
            assert isinstance(decl["auth_data"]["client_secret"], SecretRef)
