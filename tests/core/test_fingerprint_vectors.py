"""Known-answer vectors for tool fingerprints: the committed canonical JSON and fingerprint of each vector, byte
for byte. The format is a compatibility promise (every pin depends on it); see the file's header."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_mistral.core.fingerprint import canonical_json, fingerprint, set_fingerprint, tool_definition, tool_outputs

VECTORS_FILE = Path(__file__).with_name("fingerprint_vectors.txt")


def _blocks() -> list[tuple[str, dict[str, str]]]:
    """``[(id, {"tool" | "tools", "canonical", "fingerprint"})]`` in file order. Splits on "\\n" only: a
    canonical line is exact bytes and may hold characters that ``str.splitlines`` would treat as breaks."""
    text = VECTORS_FILE.read_bytes().decode("utf-8")
    lines = [ln for ln in text.split("\n") if not ln.startswith("#")]
    blocks: list[tuple[str, dict[str, str]]] = []
    for chunk in "\n".join(lines).strip().split("\n\n"):
        head, *rest = chunk.split("\n")
        assert head.startswith("[") and head.endswith("]"), head
        fields = dict(line.split(": ", 1) for line in rest)
        blocks.append((head[1:-1], fields))
    return blocks


BLOCKS = _blocks()
TOOLS: dict[str, dict[str, Any]] = {vid: json.loads(f["tool"]) for vid, f in BLOCKS if "tool" in f}
TOOL_VECTORS = [(vid, f) for vid, f in BLOCKS if "tool" in f]
SET_VECTORS = [(vid, f) for vid, f in BLOCKS if "tools" in f]


def test_the_file_holds_every_vector() -> None:
    assert [vid for vid, _ in TOOL_VECTORS] == [
        "minimal",
        "echo-described",
        "key-order",
        "left-out-and-null-fields",
        "snake-case-names",
        "jsonschema-stands-in-for-inputSchema",
        "numbers",
        "unicode-and-escapes",
        "key-order-by-utf16-code-units",
        "nesting",
    ]
    assert len(SET_VECTORS) == 2
    for _, fields in BLOCKS:
        assert set(fields) in ({"tool", "canonical", "fingerprint"}, {"tools", "canonical", "fingerprint"})
        # the file is self-consistent: each fingerprint is the SHA-256 of its canonical line
        assert fields["fingerprint"] == "sha256:" + hashlib.sha256(fields["canonical"].encode("utf-8")).hexdigest()


@pytest.mark.parametrize(("vid", "fields"), TOOL_VECTORS, ids=[v for v, _ in TOOL_VECTORS])
def test_tool_vector(vid: str, fields: dict[str, str]) -> None:
    tool = TOOLS[vid]
    assert canonical_json(tool_definition(tool)) == fields["canonical"].encode("utf-8")
    assert fingerprint(tool) == fields["fingerprint"]


@pytest.mark.parametrize(("vid", "fields"), SET_VECTORS, ids=[v for v, _ in SET_VECTORS])
def test_set_vector(vid: str, fields: dict[str, str]) -> None:
    tools = [TOOLS[name.strip()] for name in fields["tools"].split(",")]
    assert set_fingerprint(tools) == fields["fingerprint"]
    assert set_fingerprint(list(reversed(tools))) == fields["fingerprint"]
    assert tool_outputs(tools)["tools_fingerprint"] == fields["fingerprint"]
    # the canonical line is what the set fingerprint hashes: the name -> fingerprint map of these tools
    flat = json.loads(fields["canonical"])
    assert {name: value if isinstance(value, list) else [value] for name, value in flat.items()} == {
        name: sorted(fingerprint(t) for t in tools if t["name"] == name) for name in {t["name"] for t in tools}
    }
    assert canonical_json(flat) == fields["canonical"].encode("utf-8")
