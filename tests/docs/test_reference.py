"""docs/reference.md is what refdoc renders from the committed schema.json, so the reference cannot drift from it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from pulumi_mistral.provider import refdoc, schema_gen

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference.md"
SCHEMA: dict[str, Any] = json.loads((ROOT / "schema.json").read_text(encoding="utf-8"))


def test_committed_reference_is_the_rendered_schema() -> None:
    assert PAGE.read_text(encoding="utf-8") == refdoc.render(SCHEMA), (
        f"docs/reference.md is stale: regenerate it with `{refdoc.COMMAND}`"
    )


def test_the_command_renders_the_generated_schema_and_a_given_file() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pulumi_mistral.provider.refdoc"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout == refdoc.render(schema_gen.generate()) == PAGE.read_text(encoding="utf-8")
    given = subprocess.run(
        [sys.executable, "-m", "pulumi_mistral.provider.refdoc", str(ROOT / "schema.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert given.stdout == out.stdout


def test_every_name_type_secret_and_description_of_the_schema_is_on_the_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    resource = SCHEMA["resources"][schema_gen.RESOURCE_TOKEN]
    inputs = page.split("### Inputs", 1)[1].split("### Outputs", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in inputs.splitlines() if line.startswith("| `")}
    assert list(rows) == list(resource["inputProperties"])
    for name, prop in resource["inputProperties"].items():
        secret = "| yes | " if prop.get("secret") else "|  | "
        assert rows[name].endswith(secret + prop["description"] + " |"), name
        assert (rows[name].split("|")[4].strip() == "yes") == (name in resource["requiredInputs"]), name
    for name in SCHEMA["config"]["variables"]:
        assert f"`mistral:{name}`" in page, name
    for token in SCHEMA["functions"]:
        assert f"### `{token}`" in page, token
    for token in SCHEMA["types"]:
        assert f"### {refdoc.short(token)}" in page, token


def test_a_changed_schema_changes_the_page() -> None:
    changed = copy.deepcopy(SCHEMA)
    inputs = changed["resources"][schema_gen.RESOURCE_TOKEN]["inputProperties"]
    inputs["iconUrl"]["description"] = "A new description."
    inputs["iconUrl"]["secret"] = True
    page = refdoc.render(changed)
    assert page != refdoc.render(SCHEMA)
    assert "| `iconUrl` | `icon_url` | string |  | yes | A new description. |" in page


def test_types_read_as_words_with_links() -> None:
    assert refdoc.type_of({"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}}) == "map of any"
    assert (
        refdoc.type_of({"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}})
        == "list of map of string"
    )
    assert refdoc.type_of({"$ref": "#/types/mistral:index:AuthData"}) == "[AuthData](#authdata)"
    assert refdoc.snake("maxRetryTime") == "max_retry_time"
    assert refdoc.cell("a | b\nc") == "a \\| b c"
