"""The README is the front door: it links every page of docs/, every relative link of the docs leads somewhere
(heading anchors included), and every command synopsis uses only flags the command has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pulumi_mistral.cli import SUBCOMMANDS, build_parser
from pulumi_mistral.provider.refdoc import anchor

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCS = [README, *PAGES]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _outside_code(text: str, *, spans: bool = False) -> str:
    """``text`` without its fenced blocks, and without its inline code spans unless ``spans`` (links there are
    not links; a heading keeps its spans, they are part of its anchor)."""
    kept, fence = [], None
    for line in text.splitlines():
        match = re.match(r"^\s*(`{3,})", line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            kept.append(line if spans else re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def anchors(page: Path) -> set[str]:
    text = _outside_code(page.read_text(encoding="utf-8"), spans=True)
    return {anchor(m.group(1).strip()) for m in re.finditer(r"^#{1,6} (.+)$", text, flags=re.M)}


def links(doc: Path) -> list[str]:
    return [m.group(1) for m in _LINK.finditer(_outside_code(doc.read_text(encoding="utf-8")))]


def test_the_readme_links_every_page_of_docs() -> None:
    linked = {(README.parent / target.split("#", 1)[0]).resolve() for target in links(README)}
    missing = [str(page.relative_to(ROOT)) for page in PAGES if page.resolve() not in linked]
    assert missing == [], "add these pages to the README's table of the docs"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_relative_links_and_their_anchors_exist(doc: Path) -> None:
    broken = []
    for target in links(doc):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path, _, fragment = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc.resolve()
        if not dest.exists():
            broken.append(target)
            continue
        if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(target)
    assert broken == []


def _command(segment: str) -> list[str] | None:
    """The arguments of ``pulumi-mistral COMMAND ...`` in one pipeline segment, else None."""
    words = segment.split()
    while words and ("=" in words[0] or words[0] == "$"):
        words.pop(0)  # MISTRAL_API_KEY=..., a prompt
    if words[:1] == ["pulumi-mistral"] and words[1:2] and words[1] in SUBCOMMANDS:
        return words[1:]
    return None


def _synopses() -> list[tuple[str, list[str]]]:
    """Every ``pulumi-mistral`` command in a plain (no language) fenced block, continuation lines included."""
    found: list[tuple[str, list[str]]] = []
    for doc in DOCS:
        fence, lang, continues = None, "", False
        for line in doc.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s*(`{3,})(\w*)\s*$", line)
            if fence is None and match:
                fence, lang, continues = match.group(1), match.group(2), False
            elif fence is not None and line.strip() == fence:
                fence = None
            elif fence is not None and not lang:
                code = line.split(" #", 1)[0]
                if continues and line.startswith(" "):
                    found[-1][1].extend(code.split())  # the synopsis goes on on this line
                    continue
                continues = False
                for segment in code.split(" | "):
                    args = _command(segment)
                    if args:
                        found.append((f"{doc.relative_to(ROOT)}: {segment.strip()}", args))
                        continues = True
    return found


@pytest.mark.parametrize(("where", "args"), _synopses(), ids=[w for w, _ in _synopses()])
def test_command_synopses_use_only_existing_flags(where: str, args: list[str]) -> None:
    parser = build_parser(args)
    sub = next(a for a in parser._subparsers._group_actions if a.choices)  # the COMMAND action
    command = sub.choices[args[0]]
    known = {option for action in command._actions for option in action.option_strings}
    flags = {
        re.sub(r"[\[\]|.]", "", word).split("=")[0]
        for word in shlex.split(" ".join(args).replace("|", " "))
        if word.lstrip("[").startswith("--")
    }
    assert sorted(flags - known) == [], where
