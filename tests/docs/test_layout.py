"""The layout is documented where people look: docs/architecture.md draws every module of the package and every
folder of the repository, each module opens with one line saying what it owns, and modules stay small unless one
concern needs more."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "provider" / "pulumi_mistral"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LINES = 450
MAX_LONG_LINES = 600  # not even a documented long module grows past this
# Modules allowed to be longer, each for one reason (repeated in docs/architecture.md).
LONG_MODULES: dict[str, str] = {
    "testing/stack_runner.py": "one concern: running a program's steps the way the engine does",
    "local/mcp_forward.py": "one MCP session per connector, its bounds and error translation",
}


def _modules() -> set[str]:
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}


def _drawn_tree() -> set[str]:
    """The module paths drawn under ``provider/pulumi_mistral/`` in the first code block of architecture.md."""
    block = ARCHITECTURE.read_text(encoding="utf-8").split("```", 2)[1]
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("provider/pulumi_mistral/"))
    drawn: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in lines[start + 1 :]:
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
    drawn, actual = _drawn_tree(), _modules()
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
    long = {
        rel: n for rel in _modules() if (n := len((PACKAGE / rel).read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert sorted(set(long) - set(LONG_MODULES)) == [], long
    assert sorted(set(LONG_MODULES) - set(long)) == [], "short now: drop them from LONG_MODULES and architecture.md"
    assert {rel: n for rel, n in long.items() if n > MAX_LONG_LINES} == {}
    architecture = ARCHITECTURE.read_text(encoding="utf-8")
    section = architecture.split("### Modules longer than 450 lines", 1)[1].split("###", 1)[0]
    for rel in LONG_MODULES:
        assert f"`{rel}`" in section, rel


def _ignored(path: Path) -> bool:
    """A folder git ignores (a build's leftovers, a virtualenv): not part of the repository's layout."""
    done = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT, capture_output=True, check=False)
    return done.returncode == 0


def test_architecture_names_every_folder_of_the_repository() -> None:
    """Each top-level folder (and schema.json) is a top-level line of the drawing; each package folder is drawn."""
    block = ARCHITECTURE.read_text(encoding="utf-8").split("```", 2)[1]
    top = {line.split()[0] for line in block.splitlines() if line and not line.startswith(" ")}
    folders = {
        f"{p.name}/" for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and not _ignored(p)
    } - {"provider/"}
    assert sorted((folders | {"schema.json", "provider/pulumi_mistral/"}) - top) == []
    section = block.split("provider/pulumi_mistral/", 1)[1]
    for folder in sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert f"  {folder}/" in section, folder
