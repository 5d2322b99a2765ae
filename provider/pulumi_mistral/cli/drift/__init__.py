"""`pulumi-mistral drift`: declared connectors against the live workspace and live tool lists, as a CI report.

    MISTRAL_API_KEY=... pulumi-mistral drift --declared connectors.yaml --stack prod --format markdown
    pulumi stack export --show-secrets | pulumi-mistral drift --stack-export - --format sarif -o drift.sarif
    pulumi-mistral drift --declared connectors.yaml --stack prod --write-pins --tools-lock tools.lock.json \
        > connectors.prod.yaml          # pins as a per-stack overlay; the lock keeps the full definitions

Four classes of findings, per connector and property:

``settings``   a declared property differs from the live one (the provider's own diff rules, so no false drift);
               secret properties (headers, auth_data, connection_secrets) only say changed/unchanged;
``tools``      a declared connector with ``tool_pins`` (or recorded ``tools`` in a stack export) whose live
               MCP tools differ: each changed, added and removed tool, and what changed in it (precisely
               with ``--tools-lock``, whose definitions count only where their fingerprint equals the pin);
``deleted``    declared (and, for a stack export, deployed) but not in the workspace;
``unmanaged``  in the workspace but declared nowhere (``--ignore GLOB`` skips names).

A property whose declared value cannot be read here (a ``{secret: key}`` reference, an encrypted value in a
stack export) is "not compared", in every format; it is never reported as a changed value.

Exit 0 when clean, 2 on drift, 1 on any error (one line on stderr), usage errors included: an unknown flag or
format, an unreadable file, a JSON that is not a stack export, ``--concurrency`` below 1, an unknown
``--stack`` or ``--connector``. The settings part lists the whole workspace in pages of 1,000 with secrets
(1,000 connectors: 2 requests); tools cost one request per pinned connector, each bounded by ``--timeout``.
The API key is read only from ``MISTRAL_API_KEY``, never from an argument (it would land in shell history).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pulumi_mistral._version import __version__
from pulumi_mistral.cli import Parser, positive_float, positive_int, require_api_key
from pulumi_mistral.cli.files import write_atomic
from pulumi_mistral.cli.pins import live_tools, load_tools_lock, render_pins, render_tools_lock
from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.core import pinning, spec
from pulumi_mistral.core.compare import UNKNOWN, compare_settings
from pulumi_mistral.errors import InputError, MistralError

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = [
    "CLASSES",
    "UNKNOWN",
    "Declared",
    "Finding",
    "Report",
    "RequestCounter",
    "add_arguments",
    "compare_settings",
    "load_declared_yaml",
    "load_stack_export",
    "render",
    "run",
    "scan",
]

CLASSES: tuple[str, ...] = ("settings", "tools", "deleted", "unmanaged")
CLASS_TITLES: dict[str, str] = {"settings": "Settings drift", "tools": "Tool drift", "deleted": "Deleted",
                                "unmanaged": "Unmanaged"}
RULES: dict[str, tuple[str, str]] = {  # class -> (SARIF rule id, short description)
    "settings": ("settings-drift", "A declared connector property differs from the live connector."),
    "tools": ("tool-drift", "The MCP tools of a connector differ from its pinned or recorded tools."),
    "deleted": ("deleted", "A declared connector no longer exists in the workspace."),
    "unmanaged": ("unmanaged", "A connector exists in the workspace but is declared nowhere."),
}
FORMATS: tuple[str, ...] = ("table", "json", "markdown", "sarif")
EXIT_CLEAN, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2
CONNECTOR_TYPE = "pulumi-python:dynamic/connector:Connector"
DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT = 30.0  # seconds per connector's tool listing (and per request); MISTRAL_TIMEOUT or --timeout
ENV_TIMEOUT = "MISTRAL_TIMEOUT"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Pulumi's secret wire marker (state files and stack exports): {SIG_KEY: SECRET_SIG, "ciphertext"|"plaintext"|"value"}
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_CELL_MAX = 44
NOT_COMPARED = "the declared value cannot be read here: a {secret:} reference or an encrypted stack-export value"


# ---- declared connectors --------------------------------------------------------------------------------------


@dataclass
class Declared:
    """One declared connector: its desired inputs, and what a stack export adds (id, recorded tools)."""

    resource: str
    inputs: dict[str, Any]
    connector_id: str | None = None
    recorded_tools: list[Mapping[str, Any]] | None = None
    line: int | None = None

    @property
    def name(self) -> str | None:
        value = self.inputs.get("name")
        return value if isinstance(value, str) else None


def _reveal(value: Any) -> Any:
    """A state value without Pulumi's secret markers: plaintext decoded, ciphertext UNKNOWN."""
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            if "plaintext" in value:
                text = value["plaintext"]
                try:
                    return _reveal(json.loads(text)) if isinstance(text, str) else _reveal(text)
                except json.JSONDecodeError:
                    return text
            if "value" in value:
                return _reveal(value["value"])
            return UNKNOWN
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


def load_stack_export(text: str, *, source: str = "state.json") -> list[Declared]:
    """The Connector resources of a ``pulumi stack export`` (or a stack-runner state file) as declarations.

    ``inputs`` are the desired state, ``outputs.connector_id`` the id, ``outputs.tools`` the recorded tools.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not JSON (line {exc.lineno}): expected the output of `pulumi stack export`"
                         ) from None
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: expected a JSON object from `pulumi stack export`")
    deployment = data.get("deployment")
    if not isinstance(deployment, Mapping):
        if "resources" not in data:  # neither `pulumi stack export` nor a stack-runner state file
            raise InputError(f"{source}: not a stack export: expected a `deployment` object (the output of "
                             "`pulumi stack export`) or a stack-runner state with `resources`")
        deployment = data
    resources = deployment.get("resources") or []
    if isinstance(resources, Mapping):  # the stack runner's state: urn -> resource
        resources = [{"urn": urn, **res} for urn, res in resources.items() if isinstance(res, Mapping)]
    if not isinstance(resources, list):
        raise InputError(f"{source}: `deployment.resources` must be a list")
    found: list[Declared] = []
    for res in resources:
        if not isinstance(res, Mapping) or res.get("type") != CONNECTOR_TYPE or res.get("delete"):
            continue
        inputs = _reveal(res.get("inputs") or {})
        outputs = _reveal(res.get("outputs") or {})
        desired = {k: v for k, v in inputs.items() if not str(k).startswith("__")}
        if desired.get("name") is None and isinstance(outputs.get("name"), str):
            desired["name"] = outputs["name"]  # auto-named: the deployed name is the one to compare
        urn = str(res.get("urn") or "")
        recorded = outputs.get("tools")
        connector_id = outputs.get("connector_id") or res.get("id")
        found.append(Declared(
            resource=urn.rsplit("::", 1)[-1] or str(desired.get("name")),
            inputs=spec.normalize_inputs(desired),
            connector_id=connector_id if isinstance(connector_id, str) else None,
            recorded_tools=[t for t in recorded if isinstance(t, Mapping)] if isinstance(recorded, list) else None,
            line=_line_of(text, json.dumps(urn)) if urn else None,
        ))
    return found


def _line_of(text: str, needle: str) -> int | None:
    """The 1-based line where ``needle`` first appears in ``text`` (for SARIF regions), or None."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _resolve_ref(ref: Any) -> Any:
    # {env: VAR} is readable here (CI has the variable); {secret: key} lives in encrypted stack config.
    if getattr(ref, "kind", None) == "env":
        return os.environ.get(ref.key, UNKNOWN)
    return UNKNOWN


def load_declared_yaml(path: str, stack: str | None = None) -> list[Declared]:
    """The connectors of a ``connectors.yaml`` for ``stack`` (the declarations module's rules and errors)."""
    from pulumi_mistral.declarations import load_declarations, resolve_secrets

    declarations = load_declarations(path, stack)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    found = []
    for resource, props in declarations.items():
        pattern = re.compile(rf"^\s+['\"]?{re.escape(resource)}['\"]?\s*:")
        line = next((i for i, text in enumerate(lines, start=1) if pattern.match(text)), None)
        found.append(Declared(resource=resource, inputs=resolve_secrets(props, _resolve_ref), line=line))
    return found


# ---- the report -----------------------------------------------------------------------------------------------


@dataclass
class Finding:
    """One line of the report. ``item`` is a property (settings) or a tool name (tools)."""

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
        out: dict[str, Any] = {"class": self.cls, "connector": self.connector, "connector_id": self.connector_id,
                               "resource": self.resource}
        if self.cls == "settings":
            out.update(property=self.item, declared=self.declared, live=self.live,
                       secret=self.declared == "(secret)")
        elif self.cls == "tools":
            out.update(tool=self.item, change=self.change, aspects=list(self.aspects), policy=self.policy,
                       declared=self.declared, live=self.live)
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
        kind = "list_tools" if path.endswith("/tools") else "list" if path.rstrip("/").endswith(
            "/v1/connectors") and method == "GET" else "other"
        with self._lock:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self.by_kind)
        return {"total": sum(counts.values()), "settings": counts.get("list", 0),
                "tools": counts.get("list_tools", 0), "other": counts.get("other", 0)}


class Progress:
    """A one-line progress bar on stderr (only when enabled: a TTY, or --progress); never on stdout."""

    def __init__(self, stream: TextIO, enabled: bool, *, interval: float = 0.1) -> None:
        self.stream, self.enabled, self.interval = stream, enabled, interval
        self._last = 0.0
        self._label = ""
        self._shown = False

    def update(self, label: str, done: int, total: int | None = None, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        # Throttled, except the first update of a phase and its last one, which must always show.
        first = label != self._label
        if not (force or first or (total and done >= total)) and now - self._last < self.interval:
            return
        self._last, self._label = now, label
        if total:
            width = 24
            filled = min(width, int(width * done / total))
            text = f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        else:
            text = f"{label} {done}"
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()
        self._shown = True

    def done(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _short(fp: Any) -> str:
    return f"{fp[:15]}…" if isinstance(fp, str) and len(fp) > 15 else str(fp)


def _tool_findings(decl: Declared, connector_id: str, tools: list[Any],
                   known: Sequence[Mapping[str, Any]] | None = None) -> list[Finding]:
    pins = decl.inputs.get("tool_pins") if isinstance(decl.inputs.get("tool_pins"), Mapping) else None
    policy = decl.inputs.get("tool_drift") if decl.inputs.get("tool_drift") in pinning.POLICIES else None
    outcome = pinning.assess(tools, pins=pins, recorded=decl.recorded_tools, policy=policy, known_definitions=known)
    base = "pinned" if pins else "recorded"
    level = {"block": "error", "warn": "warning", "audit": "note"}.get(outcome.level, "note")
    found = []
    for change in outcome.changes:
        declared = f"{base} {_short(change.old_fingerprint)}" if change.old_fingerprint else f"not {base}"
        live = {"changed": "changed: " + ", ".join(change.aspects), "added": "added",
                "removed": "removed"}[change.kind]
        found.append(Finding("tools", str(decl.name), connector_id, decl.resource, change.name, declared, live,
                             change.details, level, outcome.level, change.kind, change.aspects, decl.line))
    return found


def scan(
    client: ConnectorsClient,
    declared: Sequence[Declared],
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
    live_by_id: dict[str, dict[str, Any]] = {}
    for listed in client.iter_connectors(page_size=MAX_PAGE_SIZE, fetch_connection_secrets=True):
        live_by_id[listed.id] = listed.model_dump(mode="json")
        bar.update("drift: listing connectors", len(live_by_id))
    report.live = len(live_by_id)
    live_by_name = {c["name"]: c for c in live_by_id.values()}
    matched: set[str] = set()
    tool_jobs: list[tuple[Declared, str]] = []

    for decl in declared:
        name = decl.name or decl.resource
        live = live_by_id.get(decl.connector_id) if decl.connector_id else None
        recreated = live is None and decl.connector_id is not None and decl.name in live_by_name
        if live is None and decl.name is not None:
            live = live_by_name.get(decl.name)
        if live is None or live["id"] in matched:
            report.findings.append(Finding("deleted", name, decl.connector_id, decl.resource, declared="declared",
                                           live="missing", level="error", line=decl.line,
                                           details=("not in the workspace: deleted outside this stack, or never "
                                                    "deployed",)))
            continue
        matched.add(live["id"])
        if recreated:
            report.findings.append(Finding("settings", name, live["id"], decl.resource, "connector_id",
                                           decl.connector_id, live["id"], line=decl.line,
                                           details=("a connector of this name was re-created outside the stack",)))
        drifted, unknown = compare_settings(decl.inputs, live)
        for d in drifted:
            report.findings.append(Finding("settings", name, live["id"], decl.resource, d.property, d.declared,
                                           d.live, d.details, line=decl.line))
        if unknown:
            report.unknown[name] = unknown
        if decl.inputs.get("tool_pins") or decl.recorded_tools is not None:
            tool_jobs.append((decl, live["id"]))

    for connector in live_by_id.values():
        if connector["id"] in matched or not unmanaged:
            continue
        if any(fnmatch.fnmatchcase(connector["name"], pattern) for pattern in ignore):
            report.ignored += 1
            continue
        report.findings.append(Finding("unmanaged", connector["name"], connector["id"], declared="not declared",
                                       live="exists", level="note", line=source_line,
                                       details=("in the workspace but declared nowhere",)))

    if tool_jobs:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(tool_jobs)))) as pool:
            futures = {pool.submit(live_tools, client, cid): (decl, cid) for decl, cid in tool_jobs}
            for done, future in enumerate(as_completed(futures), start=1):
                decl, cid = futures[future]
                bar.update("drift: checking tools", done, len(tool_jobs))
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
    bar.done()
    order = {c: i for i, c in enumerate(CLASSES)}
    report.findings.sort(key=lambda f: (order[f.cls], f.connector, f.item or ""))
    return report


# ---- rendering --------------------------------------------------------------------------------------------------


def _display(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _cell(value: Any, limit: int = _CELL_MAX) -> str:
    text = " ".join(_display(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(report: Report) -> str:
    counts = report.counts()
    total = len(report.findings)
    scope = f"{report.declared} declared, {report.live} live" + (f", {report.ignored} ignored" if report.ignored
                                                                  else "")
    if not total and not report.errors:
        return f"No drift: the declared connectors match the workspace ({scope})."
    parts = ", ".join(f"{CLASS_TITLES[c].lower()} {counts[c]}" for c in CLASSES if counts[c])
    errors = f"; {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}" if report.errors else ""
    return f"Drift: {total} finding{'s' if total != 1 else ''} ({parts or 'none'}{errors}) ({scope})."


def render_table(report: Report) -> str:
    lines = [_headline(report)]
    if report.findings:
        header = ("CONNECTOR", "CLASS", "PROPERTY/TOOL", "DECLARED", "LIVE")
        rows = [(f.connector, f.cls, f.item or "-", _cell(f.declared), _cell(f.live)) for f in report.findings]
        widths = [max(len(header[i]), *(len(_cell(r[i])) for r in rows)) for i in range(5)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines += ["", fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
        for finding, row in zip(report.findings, rows, strict=True):
            lines.append(fmt.format(*(_cell(c) for c in row)).rstrip())
            if finding.cls in ("settings", "tools"):
                lines.extend(f"    {' '.join(d.split())}" for d in finding.details)
    if report.unknown:
        lines += ["", f"Not compared ({NOT_COMPARED}):"]
        lines += [f"  {name}: {', '.join(props)}" for name, props in sorted(report.unknown.items())]
    for error in report.errors:
        lines.append(f"error: {error}")
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    doc = {
        "version": 1,
        "tool": f"pulumi-mistral {__version__}",
        "source": report.source,
        "exit_code": report.exit_code,
        "summary": {"declared": report.declared, "live": report.live, "ignored": report.ignored,
                    "tools_checked": report.tools_checked, "findings": len(report.findings), **report.counts(),
                    "errors": len(report.errors), "requests": report.requests},
        "findings": [f.to_dict() for f in report.findings],
        "unknown": report.unknown,
        "errors": report.errors,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def _md(value: Any, *, code: bool = False) -> str:
    text = " ".join(_display(value).split())
    if code:  # tool texts are hostile input: a code span keeps links, images and HTML from rendering
        return "`" + text.replace("`", "'").replace("|", "\\|") + "`" if text else ""
    return re.sub(r"([\\|*_<>\[\]`#])", r"\\\1", text)


def render_markdown(report: Report) -> str:
    counts = report.counts()
    lines = [f"### Connector drift: {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}",
             "", _md(_headline(report)), ""]
    if report.findings:
        lines += ["| Class | Findings |", "| --- | ---: |"]
        lines += [f"| {CLASS_TITLES[c]} | {counts[c]} |" for c in CLASSES]
        lines.append("")
    sections: dict[str, tuple[tuple[str, ...], Callable[[Finding], tuple[str, ...]]]] = {
        "tools": (("Connector", "Tool", "Change", "Details", "Policy"),
                  lambda f: (_md(f.connector), _md(f.item, code=True), _md(f.live),
                             "<br>".join(_md(d, code=True) for d in f.details), _md(f.policy))),
        "settings": (("Connector", "Property", "Declared", "Live"),
                     lambda f: (_md(f.connector), _md(f.item), _md(_cell(f.declared, 80), code=True),
                                _md(_cell(f.live, 80), code=True) + "".join(
                                    f"<br>{_md(d)}" for d in f.details))),
        "deleted": (("Connector", "Connector id"), lambda f: (_md(f.connector), _md(f.connector_id or "-"))),
        "unmanaged": (("Connector", "Connector id"), lambda f: (_md(f.connector), _md(f.connector_id or "-"))),
    }
    for cls in ("tools", "settings", "deleted", "unmanaged"):
        items = [f for f in report.findings if f.cls == cls]
        if not items:
            continue
        header, row = sections[cls]
        lines += [f"#### {CLASS_TITLES[cls]}", "", "| " + " | ".join(header) + " |",
                  "| " + " | ".join("---" for _ in header) + " |"]
        lines += ["| " + " | ".join(row(f)) + " |" for f in items]
        lines.append("")
    if report.unknown:
        lines += ["#### Not compared", "", _md(NOT_COMPARED[:1].upper() + NOT_COMPARED[1:] + "."), "",
                  "| Connector | Properties |", "| --- | --- |"]
        lines += [f"| {_md(name)} | {_md(', '.join(props))} |" for name, props in sorted(report.unknown.items())]
        lines.append("")
    if report.errors:
        lines += ["#### Errors", ""] + [f"- {_md(e)}" for e in report.errors] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _sarif_message(f: Finding) -> str:
    if f.cls == "settings":
        what = (f"{f.item} changed" if f.declared == "(secret)"
                else f"{f.item}: declared {_cell(f.declared, 120)}, live {_cell(f.live, 120)}")
        text = f"Connector '{f.connector}': settings drift: {what}."
    elif f.cls == "tools":
        text = f"Connector '{f.connector}': tool '{f.item}' {f.live} (tool_drift={f.policy})."
    elif f.cls == "deleted":
        text = f"Connector '{f.connector}' is declared but not in the workspace."
    else:
        text = f"Connector '{f.connector}' is in the workspace but declared nowhere."
    return " ".join([text, *(f"{d}." for d in f.details if f.cls in ("settings", "tools"))])


def render_sarif(report: Report) -> str:
    rule_ids = [RULES[c][0] for c in CLASSES]
    results = []
    for f in report.findings:
        # GitHub code scanning needs a file and a line for every result: a declared connector points at its
        # declaration, an unmanaged one at the declarations (or stack) file's connectors.
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": report.source}, "region": {"startLine": f.line or 1}},
            "logicalLocations": [{"name": f.connector, "kind": "resource",
                                  "fullyQualifiedName": "/".join(p for p in ("connector", f.connector, f.item) if p)}],
        }
        results.append({
            "ruleId": RULES[f.cls][0],
            "ruleIndex": rule_ids.index(RULES[f.cls][0]),
            "level": f.level,
            "message": {"text": _sarif_message(f)},
            "locations": [location],
            "partialFingerprints": {"connectorItem/v1": f"{f.cls}:{f.connector}:{f.item or ''}"},
        })
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pulumi-mistral drift",
                "version": __version__,
                "rules": [{"id": RULES[c][0], "name": CLASS_TITLES[c].replace(" ", ""),
                           "shortDescription": {"text": RULES[c][1]}} for c in CLASSES],
            }},
            "invocations": [{
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": [
                    *({"level": "error", "message": {"text": e}} for e in report.errors),
                    *({"level": "note", "message": {"text": f"Connector '{name}': not compared: {', '.join(props)} "
                                                            f"({NOT_COMPARED})."}}
                      for name, props in sorted(report.unknown.items())),
                ],
            }],
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": render_table, "json": render_json, "markdown": render_markdown, "sarif": render_sarif,
}


def render(report: Report, fmt: str = "table") -> str:
    """The report in one of :data:`FORMATS`."""
    return RENDERERS[fmt](report)


# ---- the command ----------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = ("The API key is read only from the MISTRAL_API_KEY environment variable (never an argument, "
                     "so it stays out of shell history).\nExit status: 0 clean, 2 drift, 1 error (usage errors "
                     "included).")
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--declared", metavar="FILE", help="connectors.yaml with the declared connectors")
    src.add_argument("--stack-export", metavar="FILE",
                     help="JSON of `pulumi stack export` ('-' reads stdin); encrypted secrets compare as unknown")
    parser.add_argument("--stack", metavar="NAME", help="with --declared: apply this stack's overrides")
    parser.add_argument("--server-url", metavar="URL",
                        help="Connectors API base URL (default: MISTRAL_SERVER_URL, else https://api.mistral.ai)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--ignore", metavar="GLOB", action="append", default=[],
                        help="do not report unmanaged connectors whose name matches GLOB (repeatable)")
    parser.add_argument("--connector", metavar="NAME", action="append", default=[],
                        help="only these declared connectors (repeatable); with --write-pins, live names work too")
    parser.add_argument("--write-pins", action="store_true",
                        help="print tool_pins for the live tools of the declared (or --connector) connectors as a "
                             "connectors.yaml overlay, instead of the drift report")
    parser.add_argument("--tools-lock", metavar="FILE",
                        help="with --write-pins: also write the full tool definitions to FILE; otherwise: read them "
                             "from FILE, so a changed pinned tool says what changed (description, schema, ...)")
    parser.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N",
                        help=f"parallel tool listings, at least 1 (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                        help=f"the most one connector's tool listing (or one listing page) may take, retries "
                             f"included (default: {ENV_TIMEOUT}, else {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a TTY")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the API request count to stderr")


def _load(args: argparse.Namespace) -> tuple[list[Declared], str, int | None]:
    """The declared connectors, the source's name and the line unmanaged findings point at."""
    if args.stack and not args.declared:
        raise InputError("--stack applies to --declared connectors.yaml only (a stack export is one stack)")
    if args.declared:
        if args.stack and not args.write_pins:  # --write-pins may be what writes the stack's overlay
            _check_stack(args.declared, args.stack)
        declared = load_declared_yaml(args.declared, args.stack)
        return declared, args.declared, _connectors_line(args.declared)
    if args.stack_export:
        if args.stack_export == "-":
            return load_stack_export(sys.stdin.read(), source="stack-export"), "stack-export", None
        try:
            text = Path(args.stack_export).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {args.stack_export}: {getattr(exc, 'strerror', None) or exc}") from None
        return load_stack_export(text, source=args.stack_export), args.stack_export, None
    if args.write_pins and args.connector:
        return [], "workspace", None
    raise InputError("give the declared connectors: --declared connectors.yaml or --stack-export state.json")


def _connectors_line(path: str) -> int | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return next((i for i, line in enumerate(text.splitlines(), start=1) if line.startswith("connectors:")), None)


def _check_stack(path: str, stack: str) -> None:
    """An unknown --stack is an error: a typo would otherwise check the base declarations and pass."""
    import yaml

    from pulumi_mistral.declarations import overlay_path

    if overlay_path(path, stack).is_file():
        return
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return  # load_declarations reports the file's own problem, with its line
    stacks = data.get("stacks") if isinstance(data, Mapping) else None
    known = sorted(str(k) for k in stacks) if isinstance(stacks, Mapping) else []
    if stack in known:
        return
    raise InputError(f"unknown stack {stack!r}: {path} has no `stacks: {stack}:` block "
                     f"({'its stacks: ' + ', '.join(known) if known else 'it declares no stacks'}) and there is no "
                     f"{overlay_path(path, stack).name}; fix: correct --stack, or add `stacks: {{{stack}: {{}}}}` "
                     "for a stack without overrides")


def _select(declared: list[Declared], names: Sequence[str], *, write_pins: bool) -> list[Declared]:
    """The declared connectors named by --connector (resource or connector name); an unknown name is an error."""
    wanted = set(names)
    chosen = [d for d in declared if d.resource in wanted or d.name in wanted]
    unknown = sorted(wanted - {d.resource for d in chosen} - {d.name for d in chosen})
    if unknown and not write_pins:  # with --write-pins a live name that is not declared works too
        raise InputError(f"--connector {', '.join(unknown)}: not declared in the source (declared: "
                         f"{', '.join(sorted(d.resource for d in declared)) or 'none'})")
    return chosen


def _live_tools_of(client: ConnectorsClient, declared: list[Declared], names: Sequence[str]) -> dict[str, list[Any]]:
    targets: list[tuple[str, str]] = [(d.resource, d.connector_id or d.name or d.resource) for d in declared]
    known = {n for _, n in targets} | {r for r, _ in targets} | {d.name for d in declared}
    targets += [(n, n) for n in names if n not in known]
    return {resource: live_tools(client, id_or_name) for resource, id_or_name in targets}


def _write(path: str, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _env_timeout() -> float:
    raw = os.environ.get(ENV_TIMEOUT)
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        return positive_float(raw)
    except argparse.ArgumentTypeError as exc:
        raise InputError(f"{ENV_TIMEOUT}: {exc}") from None


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or (exc.args[0] if exc.args else str(exc))
    return " ".join(str(text).split())


def run(args: argparse.Namespace) -> int:
    from pulumi_mistral.client import ConnectorsClient

    def fail(message: str) -> int:
        print(f"pulumi-mistral drift: error: {message}", file=sys.stderr)
        return EXIT_ERROR

    counter = RequestCounter()
    try:
        timeout = args.timeout if args.timeout is not None else _env_timeout()
        declared, source, source_line = _load(args)
        if args.connector:
            declared = _select(declared, args.connector, write_pins=args.write_pins)
        require_api_key()
        progress = Progress(sys.stderr, bool(args.progress or sys.stderr.isatty()))
        # max_retry_time = timeout: retries of a hung or failing MCP server stay within the one budget.
        with ConnectorsClient(server_url=args.server_url, on_request=counter.add, timeout=timeout,
                              max_retry_time=timeout) as client:
            if args.write_pins:
                tools = _live_tools_of(client, declared, args.connector)
                text = render_pins({r: pinning.pins_from_tools(t) for r, t in tools.items()}, args.format)
                if args.tools_lock:
                    _write(args.tools_lock, render_tools_lock(tools))
                code = EXIT_CLEAN
            else:
                report = scan(client, declared, source=source, ignore=args.ignore, concurrency=args.concurrency,
                              progress=progress, unmanaged=not args.connector, source_line=source_line,
                              known_definitions=load_tools_lock(args.tools_lock) if args.tools_lock else None,
                              on_error=lambda m: print(f"pulumi-mistral drift: error: {m}", file=sys.stderr))
                report.requests = counter.snapshot()
                text = render(report, args.format)
                code = report.exit_code
    except (MistralError, InputError) as exc:
        return fail(_one_line(exc))
    if args.output:
        try:
            _write(args.output, text)
        except InputError as exc:
            return fail(str(exc))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.verbose:
        counts = counter.snapshot()
        print(f"pulumi-mistral drift: {counts['total']} API requests ({counts['settings']} listing connectors, "
              f"{counts['tools']} listing tools)", file=sys.stderr)
    return code


def main(argv: Iterable[str] | None = None) -> int:
    """Run ``drift`` with its own parser (``python -m pulumi_mistral.cli.drift``)."""
    parser = Parser(prog="pulumi-mistral drift", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(list(argv) if argv is not None else None))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
