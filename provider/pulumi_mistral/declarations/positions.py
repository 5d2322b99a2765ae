"""YAML with positions: a declaration file parsed into plain values, with the file:line:column of every key and value.

Duplicate keys, non-string keys, invalid scalars and nesting beyond a bound are recorded as :class:`Issue`
objects (never raised here), so the loader can report every problem in every file at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Document", "Issue", "Location", "PropertyPath", "parse_file"]

MAX_DEPTH = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml parses about ten times faster (exports of thousands of connectors); same nodes, same marks.
_COMPOSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PropertyPath = tuple[str, ...]


@dataclass(frozen=True)
class Location:
    """Where a value was written: ``file:line:column`` (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Issue:
    """One problem in a declaration file: where, which property (dotted path), and what to do."""

    location: Location
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.path}: {self.reason}" if self.path else f"{self.location}: {self.reason}"


class Document:
    """One parsed YAML file: plain data plus where every value and key was written."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[PropertyPath, Location] = {}
        self.keys: dict[PropertyPath, Location] = {}
        self.issues: list[Issue] = []
        self.data: Any = None

    def loc(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def value_at(self, path: PropertyPath) -> Location:
        """The location of the value at ``path``, else of its nearest written ancestor."""
        for cut in range(len(path), -1, -1):
            found = self.values.get(path[:cut])
            if found is not None:
                return found
        return Location(self.file, 1, 1)

    def key_at(self, path: PropertyPath) -> Location:
        return self.keys.get(path) or self.value_at(path)

    def issue(self, path: PropertyPath, reason: str, *, key: bool = False) -> None:
        where = self.key_at(path) if key else self.value_at(path)
        self.issues.append(Issue(where, ".".join(path), reason))


def _scalar_loader() -> yaml.SafeLoader:
    return yaml.SafeLoader("")


def parse_file(path: Path) -> Document:
    doc = Document(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        doc.issues.append(Issue(Location(doc.file, 1, 1), "", f"cannot read the file ({exc.strerror})"))
        return doc
    try:
        root = yaml.compose(text, Loader=_COMPOSER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = doc.loc(mark) if mark is not None else Location(doc.file, 1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        doc.issues.append(Issue(where, "", f"is not valid YAML: {problem}"))
        return doc
    if root is None:
        doc.data = {}
        return doc
    doc.data = _Walker(doc).walk(root, ())
    return doc


class _Walker:
    """Turns a composed YAML node tree into plain values, recording marks; rejects duplicate keys."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.loader = _scalar_loader()

    def walk(self, node: yaml.Node, path: PropertyPath, depth: int = 0) -> Any:
        self.doc.values.setdefault(path, self.doc.loc(node.start_mark))
        if depth > MAX_DEPTH:
            self.doc.issue(path, f"is nested more than {MAX_DEPTH} levels deep")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, str(i)), depth + 1) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.doc.issue(path, f"is not a valid value ({getattr(exc, 'problem', None) or exc})")
            return None

    def _key(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            return None

    def _entries(self, node: yaml.MappingNode, depth: int) -> Iterator[tuple[yaml.Node, yaml.Node, bool]]:
        """(key, value, explicit) pairs; `<<` merge keys are expanded after the explicit ones."""
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for knode, vnode in node.value:
            if knode.tag == _MERGE_TAG:
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in sources:
                    if isinstance(src, yaml.MappingNode) and depth < MAX_DEPTH:
                        merged.extend((k, v, False) for k, v, _ in self._entries(src, depth + 1))
                continue
            yield knode, vnode, True
        yield from merged

    def _mapping(self, node: yaml.MappingNode, path: PropertyPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for knode, vnode, explicit in self._entries(node, depth):
            key = self._key(knode)
            if not isinstance(key, str):
                where = self.doc.loc(knode.start_mark)
                self.doc.issues.append(
                    Issue(where, ".".join(path), f"keys must be strings (got {key!r}); fix: quote the key")
                )
                continue
            here = (*path, key)
            if key in out:
                if explicit:
                    first = self.doc.keys[here]
                    self.doc.issues.append(
                        Issue(
                            self.doc.loc(knode.start_mark),
                            ".".join(here),
                            f"is written twice (first at line {first.line}); fix: keep one",
                        )
                    )
                continue
            self.doc.keys[here] = self.doc.loc(knode.start_mark)
            out[key] = self.walk(vnode, here, depth + 1)
        return out
