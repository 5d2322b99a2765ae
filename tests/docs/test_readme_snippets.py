"""The documentation's copy-paste snippets run, so they cannot go stale.

Markers (an HTML comment on the line before a fenced block; invisible when rendered):

* ``<!-- snippet: NAME -->`` before a ```python block: run as a script; before a ```sh block: run with bash
  (``set -euo pipefail``; ``pulumi-mistral`` and ``python`` are this environment's);
* ``<!-- snippet: NAME program -->`` before a ```python block: a Pulumi program (``__main__.py``), deployed
  with the stack runner, then previewed (it must show no changes); every ``{secret: key}`` and ``{env: VAR}``
  its declarations reference is given a test value;
* ``<!-- snippet: NAME cli -->`` before a ```python block: run as a script that needs the Pulumi CLI (built by
  ``make install`` wherever Go is installed); without the CLI and without Go it is left out, with Go it fails;
* ``<!-- file: PATH -->`` before any fenced block: written to PATH for the snippets after it.

The snippets of one document run in order, in one temporary directory, against one local server
(``MISTRAL_SERVER_URL`` / ``MISTRAL_API_KEY`` set). Snippets are read from README.md and docs/*.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_mistral.declarations import DeclarationError, load_declarations, secret_references
from pulumi_mistral.testing.local_server import LocalServer
from pulumi_mistral.testing.pulumi_cli import find_pulumi
from pulumi_mistral.testing.stack_runner import StackRunner

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_MARKER = re.compile(r"^<!--\s*(snippet|file):\s*(\S+)(?:\s+(\w+))?\s*-->\s*$")
_FENCE = re.compile(r"^(`{3,})(\w*)\s*$")
SNIPPET_TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    """One marked fenced block: a snippet to run or a file to write."""

    doc: Path
    line: int
    kind: str  # "snippet" or "file"
    name: str
    mode: str  # "", "program"
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
            raise AssertionError(f"{doc.relative_to(ROOT)}:{i}: marker '{lines[i - 1].strip()}' must be followed "
                                 "directly by a fenced code block")
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
        assert (b.lang, b.mode) in {("python", ""), ("python", "program"), ("python", "cli"), ("sh", ""),
                                    ("bash", "")}, b.where


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
            with StackRunner(workdir, config=full, secret_keys=["mistral:apiKey", *config],
                             state_path=workdir / ".state" / f"{block.name}.json", in_process=True) as stack:
                stack.up()
                stack.preview(expect_no_changes=True)
        finally:
            for key, value in old_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return
    if block.mode == "cli" and find_pulumi() is None:
        if shutil.which("go"):
            raise AssertionError("Go is installed but the Pulumi CLI was not built: run `make install`")
        return  # no CLI and no way to build one here: the snippet cannot run on this machine
    if block.lang == "python":
        command = [sys.executable, "-c", block.text]
    else:
        command = ["bash", "-c", "set -euo pipefail\n" + block.text]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\nstdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}")


def run_document(doc_blocks: list[Block], workdir: Path) -> None:
    """Write the files and run the snippets of one document, in order; the first failure names its snippet."""
    with LocalServer() as server:
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "MISTRAL_SERVER_URL": server.url, "MISTRAL_API_KEY": server.api_key,
               "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        for block in doc_blocks:
            if block.kind == "file":
                target = workdir / block.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text)
                continue
            try:
                _run(block, workdir, server, env)
            except Exception as exc:
                raise AssertionError(f"snippet {block.where} failed: {exc}") from exc


@pytest.mark.parametrize("doc", [d for d, bs in ALL_BLOCKS.items() if any(b.kind == "snippet" for b in bs)],
                         ids=lambda d: str(d.relative_to(ROOT)))
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
