"""The drift report and the scan that makes it: declared connectors against the live workspace and live tools.

``scan`` lists the workspace once (pages of 1,000, with secrets), compares each declared connector's settings
(:func:`pulumi_mistral.core.compare.compare_settings`), lists the live tools of each pinned (or recorded)
connector in parallel and turns the differences into :class:`Finding` values, sorted by class, connector and
item. :class:`RequestCounter` counts the client's requests by kind (the ``-v`` line and the JSON summary).
"""

from __future__ import annotations

import fnmatch
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi_mistral.cli.drift.load import DeclaredConnector
from pulumi_mistral.cli.drift.progress import Progress
from pulumi_mistral.cli.pins import live_tools
from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.core import pinning
from pulumi_mistral.core.compare import compare_settings
from pulumi_mistral.errors import MistralError

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = [
    "CLASSES",
    "DEFAULT_CONCURRENCY",
    "EXIT_CLEAN",
    "EXIT_DRIFT",
    "EXIT_ERROR",
    "Finding",
    "Report",
    "RequestCounter",
    "scan",
]

CLASSES: tuple[str, ...] = ("settings", "tools", "deleted", "unmanaged")
EXIT_CLEAN, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2
DEFAULT_CONCURRENCY = 4


@dataclass(kw_only=True)
class Finding:
    """One line of the report. ``item`` is a property (settings) or a tool name (tools). Keyword arguments only."""

    cls: str
    connector: str
    connector_id: str | None = None
    resource: str | None = None
    item: str | None = None
    declared: Any = None
    live: Any = None
    details: tuple[str, ...] = ()
    level: str = "warning"  # SARIF level: error, warning, note
    policy: str | None = None
    change: str | None = None  # tools: changed/added/removed
    aspects: tuple[str, ...] = ()
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "class": self.cls,
            "connector": self.connector,
            "connector_id": self.connector_id,
            "resource": self.resource,
        }
        if self.cls == "settings":
            out.update(property=self.item, declared=self.declared, live=self.live, secret=self.declared == "(secret)")
        elif self.cls == "tools":
            out.update(
                tool=self.item,
                change=self.change,
                aspects=list(self.aspects),
                policy=self.policy,
                declared=self.declared,
                live=self.live,
            )
        out["details"] = list(self.details)
        out["level"] = self.level
        return out


@dataclass
class Report:
    """Everything one scan found; ``exit_code`` is 1 on errors, else 2 on findings, else 0."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    declared: int = 0
    live: int = 0
    ignored: int = 0
    tools_checked: int = 0
    unknown: dict[str, list[str]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_ERROR
        return EXIT_DRIFT if self.findings else EXIT_CLEAN

    def counts(self) -> dict[str, int]:
        return {c: sum(1 for f in self.findings if f.cls == c) for c in CLASSES}


class RequestCounter:
    """Counts the client's HTTP requests by operation (thread-safe); ``add`` is the client's ``on_request`` hook."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_kind: dict[str, int] = {}

    def add(self, method: str, path: str) -> None:
        kind = (
            "list_tools"
            if path.endswith("/tools")
            else "list"
            if path.rstrip("/").endswith("/v1/connectors") and method == "GET"
            else "other"
        )
        with self._lock:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self.by_kind)
        return {
            "total": sum(counts.values()),
            "settings": counts.get("list", 0),
            "tools": counts.get("list_tools", 0),
            "other": counts.get("other", 0),
        }


def _short(fp: Any) -> str:
    return f"{fp[:15]}…" if isinstance(fp, str) and len(fp) > 15 else str(fp)


def _tool_findings(
    decl: DeclaredConnector, connector_id: str, tools: list[Any], known: Sequence[Mapping[str, Any]] | None = None
) -> list[Finding]:
    pins = decl.inputs.get("tool_pins") if isinstance(decl.inputs.get("tool_pins"), Mapping) else None
    policy = decl.inputs.get("tool_drift") if decl.inputs.get("tool_drift") in pinning.POLICIES else None
    outcome = pinning.assess(tools, pins=pins, recorded=decl.recorded_tools, policy=policy, known_definitions=known)
    base = "pinned" if pins else "recorded"
    level = {"block": "error", "warn": "warning", "audit": "note"}.get(outcome.level, "note")
    found = []
    for change in outcome.changes:
        declared = f"{base} {_short(change.old_fingerprint)}" if change.old_fingerprint else f"not {base}"
        live = {"changed": "changed: " + ", ".join(change.aspects), "added": "added", "removed": "removed"}[change.kind]
        found.append(
            Finding(
                cls="tools",
                connector=str(decl.name),
                connector_id=connector_id,
                resource=decl.resource,
                item=change.name,
                declared=declared,
                live=live,
                details=change.details,
                level=level,
                policy=outcome.level,
                change=change.kind,
                aspects=change.aspects,
                line=decl.line,
            )
        )
    return found


@dataclass
class _Workspace:
    """The listed workspace by id and by name, and the connectors declarations have matched so far."""

    by_id: dict[str, dict[str, Any]]
    by_name: dict[str, dict[str, Any]] = field(init=False)
    matched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_name = {c["name"]: c for c in self.by_id.values()}

    @classmethod
    def listed(cls, client: ConnectorsClient, bar: Progress) -> _Workspace:
        """One paged listing, with secrets (the settings compare header and secret values)."""
        by_id: dict[str, dict[str, Any]] = {}
        for listed in client.iter_connectors(page_size=MAX_PAGE_SIZE, fetch_connection_secrets=True):
            by_id[listed.id] = listed.model_dump(mode="json")
            bar.update("drift: listing connectors", len(by_id))
        return cls(by_id)

    def match(self, decl: DeclaredConnector) -> tuple[dict[str, Any] | None, bool]:
        """The live connector of ``decl`` (by id, else by name; None when gone or matched already), and whether
        the recorded id is gone while a connector of its name exists (re-created outside the stack)."""
        live = self.by_id.get(decl.connector_id) if decl.connector_id else None
        recreated = live is None and decl.connector_id is not None and decl.name in self.by_name
        if live is None and decl.name is not None:
            live = self.by_name.get(decl.name)
        if live is None or live["id"] in self.matched:
            return None, recreated
        self.matched.add(live["id"])
        return live, recreated


def _compare_declared(decl: DeclaredConnector, workspace: _Workspace, report: Report) -> str | None:
    """Add one declared connector's deleted or settings findings; the live id when its tools are to be checked."""
    name = decl.name or decl.resource
    live, recreated = workspace.match(decl)
    if live is None:
        report.findings.append(
            Finding(
                cls="deleted",
                connector=name,
                connector_id=decl.connector_id,
                resource=decl.resource,
                declared="declared",
                live="missing",
                level="error",
                line=decl.line,
                details=("not in the workspace: deleted outside this stack, or never deployed",),
            )
        )
        return None

    def setting(item: str, declared: Any, live_value: Any, details: tuple[str, ...]) -> Finding:
        return Finding(
            cls="settings",
            connector=name,
            connector_id=live["id"],
            resource=decl.resource,
            item=item,
            declared=declared,
            live=live_value,
            details=details,
            line=decl.line,
        )

    if recreated:
        details = ("a connector of this name was re-created outside the stack",)
        report.findings.append(setting("connector_id", decl.connector_id, live["id"], details))
    drifted, unknown = compare_settings(decl.inputs, live)
    report.findings += [setting(d.property, d.declared, d.live, d.details) for d in drifted]
    if unknown:
        report.unknown[name] = unknown
    live_id: str = live["id"]
    return live_id if decl.inputs.get("tool_pins") or decl.recorded_tools is not None else None


def _add_unmanaged(report: Report, workspace: _Workspace, ignore: Sequence[str], line: int | None) -> None:
    """A finding for each live connector no declaration matched, unless its name matches an ``ignore`` pattern."""
    for connector in workspace.by_id.values():
        if connector["id"] in workspace.matched:
            continue
        if any(fnmatch.fnmatchcase(connector["name"], pattern) for pattern in ignore):
            report.ignored += 1
            continue
        report.findings.append(
            Finding(
                cls="unmanaged",
                connector=connector["name"],
                connector_id=connector["id"],
                declared="not declared",
                live="exists",
                level="note",
                line=line,
                details=("in the workspace but declared nowhere",),
            )
        )


def _check_tools(
    client: ConnectorsClient,
    jobs: Sequence[tuple[DeclaredConnector, str]],
    report: Report,
    *,
    concurrency: int,
    bar: Progress,
    on_error: Callable[[str], None] | None,
    known_definitions: Sequence[Mapping[str, Any]] | None,
) -> None:
    """List the live tools of each job in parallel; add their findings, or an error for each that cannot list."""
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs)))) as pool:
        futures = {pool.submit(live_tools, client, cid): (decl, cid) for decl, cid in jobs}
        for done, future in enumerate(as_completed(futures), start=1):
            decl, cid = futures[future]
            bar.update("drift: checking tools", done, len(jobs))
            try:
                tools = future.result()
            except MistralError as exc:
                message = f"connector '{decl.name}': cannot list its tools: {exc.message}"
                report.errors.append(message)
                if on_error:
                    on_error(message)
                continue
            report.tools_checked += 1
            report.findings.extend(_tool_findings(decl, cid, tools, known_definitions))


def scan(
    client: ConnectorsClient,
    declared: Sequence[DeclaredConnector],
    *,
    source: str,
    ignore: Sequence[str] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    on_error: Callable[[str], None] | None = None,
    known_definitions: Sequence[Mapping[str, Any]] | None = None,
    unmanaged: bool = True,
    source_line: int | None = None,
) -> Report:
    """Compare ``declared`` with the live workspace (one paged listing) and the live tools of pinned ones.

    ``known_definitions`` (a tools lock) let tool findings say which aspects of a pinned tool changed.
    ``unmanaged=False`` reports only the declared connectors (``--connector``): a live connector outside
    them says nothing about them. ``source_line`` is where unmanaged findings point in the source file.
    """
    bar = progress or Progress(sys.stderr, False)
    report = Report(source=source, declared=len(declared))
    workspace = _Workspace.listed(client, bar)
    report.live = len(workspace.by_id)
    tool_jobs: list[tuple[DeclaredConnector, str]] = []
    for decl in declared:
        connector_id = _compare_declared(decl, workspace, report)
        if connector_id is not None:
            tool_jobs.append((decl, connector_id))
    if unmanaged:
        _add_unmanaged(report, workspace, ignore, source_line)
    if tool_jobs:
        _check_tools(
            client,
            tool_jobs,
            report,
            concurrency=concurrency,
            bar=bar,
            on_error=on_error,
            known_definitions=known_definitions,
        )
    bar.done()
    order = {c: i for i, c in enumerate(CLASSES)}
    report.findings.sort(key=lambda f: (order[f.cls], f.connector, f.item or ""))
    return report
