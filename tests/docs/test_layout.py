"""The layout is documented where people look: docs/architecture.md draws every module of the package, each
module opens with one line saying what it owns, and modules stay small unless one concern needs more."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "provider" / "pulumi_mistral"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"
MAX_LINES = 450
# Modules allowed to be longer, each for one reason (repeated in docs/architecture.md).
LONG_MODULES: dict[str, str] = {
    "testing/stack_runner.py": "its docstring lists every measured difference from the real engine",
    "local/mcp_forward.py": "one MCP session per connector, its bounds and error translation",
}


# Generated from schema.json by the pinned code generator (pulumi_mistral.plugin.sdkgen): drawn as one folder, and its
# modules open with the generator's own header, not ours.
GENERATED = "native/"


def _modules() -> set[str]:
    found = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    return {m for m in found if not m.startswith(GENERATED)}


def _drawn_tree() -> set[str]:
    """The module paths drawn under ``provider/pulumi_mistral/`` in the first code block of architecture.md."""
    block = ARCHITECTURE.read_text(encoding="utf-8").split("```", 2)[1]
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("provider/pulumi_mistral/"))
    drawn: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break  # the next top-level folder (engine/, examples/, ...)
        match = re.match(r"^( +)(\S+)", line)
        if not match:
            continue
        indent, name = len(match.group(1)), match.group(2)
        while parents and parents[-1][0] >= indent:
            parents.pop()
        prefix = "".join(p for _, p in parents)
        if name.endswith("/"):
            parents.append((indent, name))
        elif name.endswith(".py"):
            drawn.add(prefix + name)
    return drawn


def test_architecture_draws_every_module_and_only_those() -> None:
    drawn, actual = {m for m in _drawn_tree() if not m.startswith(GENERATED)}, _modules()
    assert sorted(actual - drawn) == [], "modules missing from docs/architecture.md"
    assert sorted(drawn - actual) == [], "docs/architecture.md draws modules that do not exist"


def test_every_module_opens_with_one_line_saying_what_it_owns() -> None:
    missing = []
    for rel in sorted(_modules()):
        doc = ast.get_docstring(ast.parse((PACKAGE / rel).read_text(encoding="utf-8")))
        if not doc or not doc.splitlines()[0].strip():
            missing.append(rel)
    assert missing == []


def test_modules_stay_small_unless_documented() -> None:
    long = {rel: n for rel in _modules()
            if (n := len((PACKAGE / rel).read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert sorted(set(long) - set(LONG_MODULES)) == [], long
    architecture = ARCHITECTURE.read_text(encoding="utf-8")
    section = architecture.split("### Modules longer than 450 lines", 1)[1].split("###", 1)[0]
    for rel in LONG_MODULES:
        assert f"`{rel}`" in section, rel


def test_readme_layout_names_every_package_folder() -> None:
    section = README.read_text(encoding="utf-8").split("## Layout", 1)[1]
    for folder in sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert f"{folder}/" in section, folder
