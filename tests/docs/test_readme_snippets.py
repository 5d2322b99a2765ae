"""The documentation's copy-paste snippets run, so they cannot go stale.

Markers (an HTML comment on the line before a fenced block; invisible when rendered):

* ``<!-- snippet: NAME -->`` before a ```python block: run as a script; before a ```sh block: run with bash
  (``set -euo pipefail``; ``pulumi-mistral`` and ``python`` are this environment's);
* ``<!-- snippet: NAME program -->`` before a ```python block: a Pulumi program (``__main__.py``), deployed
  with the stack runner, then previewed (it must show no changes); every ``{secret: key}`` and ``{env: VAR}``
  its declarations reference is given a test value;
* ``<!-- snippet: NAME cli -->`` before a ```python block: run as a script that needs the Pulumi CLI (built by
  ``make install`` wherever Go is installed); without the CLI and without Go it is left out, with Go it fails;
  before a ```sh block: the same, in a shell of a user of their own project: ``pulumi`` on ``PATH``, ``HOME``
  and ``PULUMI_HOME`` in the temporary directory (so ``pulumi login`` and its state stay there), a
  ``PULUMI_CONFIG_PASSPHRASE``, no update check and no plugin download. The one step such a shell cannot take
  here, installing the package into the project's virtualenv (``python -m venv venv && venv/bin/pip install
  ...``: the network), is taken for it: a virtualenv that a ``Pulumi.yaml`` written by a ``file`` block names
  (its Python ``virtualenv``, or the directory above a plugin's ``path: DIR/bin``), and that does not exist, is
  linked to this environment's virtualenv;
* ``<!-- file: PATH -->`` before any fenced block: written to PATH for the snippets after it;
* ``<!-- excerpt: PATH -->`` before any fenced block: a part of the repository file PATH, shown as it is there
  (every non-blank line of the block is a line of the file, in the file's order; checked, not run).

The snippets of one document run in order, in one temporary directory, against one local server
(``MISTRAL_SERVER_URL`` / ``MISTRAL_API_KEY`` set). Snippets are read from README.md and docs/*.md; every
```python and ```sh block there is marked (``test_every_python_and_shell_block_is_marked``), but for the
exceptions listed there with their reasons.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_mistral.declarations import DeclarationError, load_declarations, secret_references
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.pulumi_cli import find_pulumi
from pulumi_mistral.testing.stack_runner import StackRunner

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_MARKER = re.compile(r"^<!--\s*(snippet|file|excerpt):\s*(\S+)(?:\s+(\w+))?\s*-->\s*$")
_FENCE = re.compile(r"^(`{3,})(\w*)\s*$")
SNIPPET_TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    """One marked fenced block: a snippet to run or a file to write."""

    doc: Path
    line: int
    kind: str  # "snippet", "file" or "excerpt"
    name: str
    mode: str  # "", "program", "cli"
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line} ({self.kind} {self.name})"


def blocks(doc: Path) -> list[Block]:
    """Every marked block of ``doc``, in order; a marker not followed by a fenced block is an error."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        marker = _MARKER.match(lines[i].strip())
        i += 1
        if not marker:
            continue
        kind, name, mode = marker.group(1), marker.group(2), marker.group(3) or ""
        fence = _FENCE.match(lines[i].strip()) if i < len(lines) else None
        if not fence:
            raise AssertionError(
                f"{doc.relative_to(ROOT)}:{i}: marker '{lines[i - 1].strip()}' must be followed "
                "directly by a fenced code block"
            )
        start, body = i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != fence.group(1):
            body.append(lines[i])
            i += 1
        found.append(Block(doc, start, kind, name, mode, fence.group(2), "\n".join(body) + "\n"))
        i += 1
    return found


ALL_BLOCKS = {doc: blocks(doc) for doc in DOCS if doc.is_file()}


def test_snippets_exist_and_are_well_formed() -> None:
    snippets = [b for bs in ALL_BLOCKS.values() for b in bs if b.kind == "snippet"]
    assert snippets, "no marked snippets (<!-- snippet: NAME -->) in README.md or docs/*.md"
    names = [b.name for b in snippets]
    assert len(names) == len(set(names)), f"snippet names must be unique: {sorted(names)}"
    for b in snippets:
        assert (b.lang, b.mode) in {
            ("python", ""),
            ("python", "program"),
            ("python", "cli"),
            ("sh", ""),
            ("bash", ""),
            ("sh", "cli"),
            ("bash", "cli"),
        }, b.where


def _secret_values(workdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Test values for every reference of every declaration file present (config keys, environment)."""
    config: dict[str, str] = {}
    env: dict[str, str] = {}
    for path in workdir.glob("*.yaml"):
        if path.name.startswith("Pulumi"):
            continue
        try:
            decls = load_declarations(path)
        except DeclarationError:
            continue  # an overlay or a deliberately broken example: the snippet using it says what it expects
        for _, _, ref in secret_references(decls):
            (env if ref.kind == "env" else config)[ref.key] = f"test-value-for-{ref.key}"
    return config, env


def _run(block: Block, workdir: Path, server: LocalServer, env: dict[str, str]) -> None:
    if block.mode == "program":
        (workdir / "__main__.py").write_text(block.text)
        if not (workdir / "Pulumi.yaml").exists():
            (workdir / "Pulumi.yaml").write_text("name: snippets\nruntime: python\n")
        config, env_refs = _secret_values(workdir)
        old_env = {k: os.environ.get(k) for k in env_refs}
        os.environ.update(env_refs)
        try:
            full = {**server.config(), **config}
            with StackRunner(
                workdir,
                config=full,
                secret_keys=["mistral:apiKey", *config],
                state_path=workdir / ".state" / f"{block.name}.json",
                in_process=True,
            ) as stack:
                stack.up()
                stack.preview(expect_no_changes=True)
        finally:
            for key, value in old_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return
    if block.mode == "cli":
        cli = find_pulumi()
        if cli is None:
            if shutil.which("go"):
                raise AssertionError("Go is installed but the Pulumi CLI was not built: run `make install`")
            return  # no CLI and no way to build one here: the snippet cannot run on this machine
        if block.lang != "python":
            env = _user_shell(env, workdir, cli)
    if block.lang == "python":
        command = [sys.executable, "-c", block.text]
    else:
        command = ["bash", "-c", "set -euo pipefail\n" + block.text]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\nstdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}")


# What a user's own Pulumi settings could point elsewhere (a Pulumi Cloud login, another passphrase source).
_USER_PULUMI_VARIABLES = (
    "PULUMI_HOME",
    "PULUMI_BACKEND_URL",
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "VIRTUAL_ENV",
)


def _virtualenvs(project: dict[str, Any]) -> set[str]:
    """The virtualenvs a Pulumi.yaml names: the Python runtime's, and those holding a plugin (``.../bin``)."""
    runtime = project.get("runtime")
    options = (runtime.get("options") or {}) if isinstance(runtime, dict) else {}
    found = {options["virtualenv"]} if options.get("virtualenv") else set()
    for plugin in (project.get("plugins") or {}).get("providers") or []:
        path = Path(str(plugin.get("path", "")))
        if path.name == "bin" and str(path.parent) not in ("", "."):
            found.add(str(path.parent))
    return found


def _user_shell(env: dict[str, str], workdir: Path, cli: Path) -> dict[str, str]:
    """The environment of a ``cli`` shell snippet: a user's shell whose home is in ``workdir``; see the docstring."""
    home = workdir / ".home"
    (home / ".pulumi").mkdir(parents=True, exist_ok=True)
    for project in workdir.rglob("Pulumi.yaml"):
        for venv in _virtualenvs(yaml.safe_load(project.read_text()) or {}):
            if not Path(venv).is_absolute() and not (project.parent / venv).exists():
                (project.parent / venv).symlink_to(Path(sys.prefix), target_is_directory=True)
    shell = {k: v for k, v in env.items() if k not in _USER_PULUMI_VARIABLES}
    return {
        **shell,
        "HOME": str(home),
        "PULUMI_HOME": str(home / ".pulumi"),
        "PATH": str(cli.resolve().parent) + os.pathsep + shell["PATH"],
        "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(24),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }


def run_document(doc_blocks: list[Block], workdir: Path) -> None:
    """Write the files and run the snippets of one document, in order; the first failure names its snippet."""
    with LocalServer() as server:
        bin_dir = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "MISTRAL_SERVER_URL": server.url,
            "MISTRAL_API_KEY": server.api_key,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }
        for block in doc_blocks:
            if block.kind == "excerpt":
                continue  # checked against its file by test_excerpts_are_in_their_files
            if block.kind == "file":
                target = workdir / block.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text)
                continue
            try:
                _run(block, workdir, server, env)
            except Exception as exc:
                raise AssertionError(f"snippet {block.where} failed: {exc}") from exc


@pytest.mark.parametrize(
    "doc",
    [d for d, bs in ALL_BLOCKS.items() if any(b.kind == "snippet" for b in bs)],
    ids=lambda d: str(d.relative_to(ROOT)),
)
def test_snippets_run(doc: Path, tmp_path: Path) -> None:
    run_document(ALL_BLOCKS[doc], tmp_path)


def test_a_failing_snippet_fails_the_test(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "selftest.md"  # never written: blocks are built by hand
    good = Block(doc, 3, "file", "data.txt", "", "text", "hello\n")
    runs = Block(doc, 7, "snippet", "reads-file", "", "python", "assert open('data.txt').read() == 'hello\\n'\n")
    fails = Block(doc, 9, "snippet", "fails", "", "sh", "pulumi-mistral export --no-such-flag\n")
    run_document([good, runs], tmp_path / "ok")
    # a usage error exits 1 (never 2, which the drift command's contract keeps for "drift found")
    with pytest.raises(AssertionError, match=r"snippet docs/selftest.md:9 \(snippet fails\) failed: exit 1"):
        run_document([good, runs, fails], tmp_path / "bad")


def _excerpt_mismatch(block: Block) -> str | None:
    """None when every non-blank line of ``block`` is a line of its file, in order; else the first line that is not."""
    source = ROOT / block.name
    if not source.is_file():
        return f"{block.name} does not exist"
    lines = iter(line.strip() for line in source.read_text(encoding="utf-8").splitlines())
    for wanted in (line.strip() for line in block.text.splitlines() if line.strip()):
        if not any(line == wanted for line in lines):
            return wanted
    return None


@pytest.mark.parametrize(
    "block", [b for bs in ALL_BLOCKS.values() for b in bs if b.kind == "excerpt"], ids=lambda b: b.where
)
def test_excerpts_are_in_their_files(block: Block) -> None:
    assert _excerpt_mismatch(block) is None, f"{block.where}: not in {block.name}: {_excerpt_mismatch(block)!r}"


def test_an_excerpt_that_left_its_file_fails() -> None:
    doc = ROOT / "docs" / "selftest.md"
    shown = "from pulumi_mistral.policy.pack import serve\nserve()\n"
    assert _excerpt_mismatch(Block(doc, 1, "excerpt", "examples/policy-pack/__main__.py", "", "python", shown)) is None
    swapped = "serve()\nfrom pulumi_mistral.policy.pack import serve\n"
    assert (
        _excerpt_mismatch(Block(doc, 1, "excerpt", "examples/policy-pack/__main__.py", "", "python", swapped))
        == "from pulumi_mistral.policy.pack import serve"
    )


# ---- every code block is run, checked, or named here -----------------------------------------------------------

CODE_LANGUAGES = frozenset({"python", "py", "sh", "bash", "shell", "zsh"})
_INSTALLS = (
    "installs from a package index into a fresh virtualenv (the network); the same install, a wheel built "
    "with `pip wheel --no-deps` into a project's virtualenv, is run by tests/engine/test_project_shapes.py"
    "::test_a_fresh_project_with_requirements_after_pulumi_install"
)
# (document, how the block's first line starts) -> why the block cannot run here as it is written.
UNMARKED: dict[tuple[str, str], str] = {
    ("README.md", "pip install /path/to/pulumi-mistral "): _INSTALLS,
    ("docs/installation-configuration.md", "python -m venv venv"): _INSTALLS,
    (
        "README.md",
        "make demo ",
    ): "the repository's own entry points (`make test` would run this test); the demo is run by "
    "tests/provider/test_demo.py",
    (
        "docs/architecture.md",
        "client = ConnectorsClient(api_key=None, ",
    ): "signatures, not a program; tests/client/test_public_api.py pins the client's surface",
    (
        "docs/architecture.md",
        "state = ProcessState(warn=sink) ",
    ): "signatures, not a program; tests/lifecycle/test_lifecycle.py drives these calls",
    (
        "docs/interrupted.md",
        "pulumi cancel --yes --stack dev ",
    ): "needs a stack that a killed deployment left locked with pending operations; tests/engine/test_interrupted.py "
    "kills deployments and runs this sequence",
    (
        "docs/native.md",
        "import pulumi",
    ): "step 2 of moving an existing dynamic stack; tests/engine/test_native_migration.py moves examples/quickstart "
    "this way through the real engine",
    (
        "docs/native.md",
        "python -m pulumi_mistral.plugin.sdkgen ",
    ): "rewrites provider/pulumi_mistral/native in the clone; tests/engine/test_native.py regenerates it and "
    "compares (test_the_committed_sdk_is_what_the_generator_writes_from_schema_json)",
    (
        "docs/policy.md",
        "pulumi preview --policy-pack /path/to/pulumi-mistral/",
    ): "paths of a clone and of a stack; tests/engine/test_policy_pack.py runs the pack on real stacks",
    (
        "docs/policy.md",
        "cp -r examples/policy-pack ~/policy/",
    ): "copies out of a clone and installs from a package index (the network)",
    (
        "docs/tool-drift.md",
        "from pulumi_mistral import Connector, pins_for",
    ): "the pins are elided (`sha256:67e13f80…`) and need an MCP server that answers; "
    "tests/provider/test_tool_pins.py and tests/engine/test_tool_pins.py deploy pins written by pins_for",
    (
        "docs/tool-drift.md",
        "from pulumi_mistral import pins_for",
    ): "needs a connector whose MCP server answers; tests/provider/test_tool_pins.py calls pins_for on one",
}


def code_blocks(doc: Path) -> list[tuple[int, str, str, str]]:
    """Every fenced block of ``doc`` in a language we run: (line, language, its marker line or "", first line)."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[tuple[int, str, str, str]] = []
    fence: str | None = None
    for i, line in enumerate(lines):
        match = _FENCE.match(line.strip())
        if fence is None and match:
            fence = match.group(1)
            if match.group(2) in CODE_LANGUAGES:
                before = lines[i - 1].strip() if i else ""
                first = lines[i + 1].strip() if i + 1 < len(lines) else ""
                found.append((i + 1, match.group(2), before if _MARKER.match(before) else "", first))
        elif fence is not None and line.strip() == fence:
            fence = None
    return found


def test_every_python_and_shell_block_is_marked() -> None:
    """A ```python or ```sh block is a snippet, a file a snippet uses, or an excerpt; else UNMARKED says why."""
    unmarked, seen = [], set()
    for doc in DOCS:
        rel = str(doc.relative_to(ROOT))
        for line, lang, marker, first in code_blocks(doc):
            if marker:
                continue
            named = [key for key in UNMARKED if key[0] == rel and first.startswith(key[1])]
            seen.update(named)
            if len(named) != 1:
                unmarked.append(f"{rel}:{line} ```{lang}: {first}")
    assert unmarked == [], (
        "mark these blocks (<!-- snippet: NAME -->, <!-- file: PATH -->, <!-- excerpt: PATH -->), "
        "or name them in UNMARKED with the reason they cannot run"
    )
    assert sorted(set(UNMARKED) - seen) == [], "UNMARKED names blocks that are no longer there (or are marked now)"


def test_files_are_used_by_a_later_snippet() -> None:
    """A ``file`` block is written for the snippets after it: one with no snippet after it checks nothing."""
    for doc_blocks in ALL_BLOCKS.values():
        last_snippet = max((i for i, b in enumerate(doc_blocks) if b.kind == "snippet"), default=-1)
        orphans = [b.where for i, b in enumerate(doc_blocks) if b.kind == "file" and i > last_snippet]
        assert orphans == [], orphans
