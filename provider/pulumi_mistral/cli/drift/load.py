"""The declared connectors of a drift run: a connectors.yaml or a stack export, and the checks of that input.

``load_declared_yaml`` reads a ``connectors.yaml`` for one stack (the declarations module's rules and errors),
``load_stack_export`` the JSON of ``pulumi stack export`` (or a stack-runner state file); both return
:class:`DeclaredConnector` values. ``check_stack`` and ``select_connectors`` are the input checks of the
command that are about the declarations: an unknown ``--stack`` or ``--connector`` is an error, never a clean
report of something else. Every problem is an :class:`~pulumi_mistral.errors.InputError` (one line).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_mistral.core import spec
from pulumi_mistral.core.compare import UNKNOWN
from pulumi_mistral.core.secret_markers import reveal
from pulumi_mistral.errors import InputError

__all__ = [
    "CONNECTOR_TYPE",
    "DeclaredConnector",
    "check_stack",
    "connectors_line",
    "load_declared_yaml",
    "load_stack_export",
    "select_connectors",
]

CONNECTOR_TYPE = "pulumi-python:dynamic/connector:Connector"


@dataclass
class DeclaredConnector:
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


def load_stack_export(text: str, *, source: str = "state.json") -> list[DeclaredConnector]:
    """The Connector resources of a ``pulumi stack export`` (or a stack-runner state file) as declarations.

    ``inputs`` are the desired state, ``outputs.connector_id`` the id, ``outputs.tools`` the recorded tools.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source} is not JSON (line {exc.lineno}): expected the output of `pulumi stack export`"
        ) from None
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: expected a JSON object from `pulumi stack export`")
    deployment = data.get("deployment")
    if not isinstance(deployment, Mapping):
        if "resources" not in data:  # neither `pulumi stack export` nor a stack-runner state file
            raise InputError(
                f"{source}: not a stack export: expected a `deployment` object (the output of "
                "`pulumi stack export`) or a stack-runner state with `resources`"
            )
        deployment = data
    resources = deployment.get("resources") or []
    if isinstance(resources, Mapping):  # the stack runner's state: urn -> resource
        resources = [{"urn": urn, **res} for urn, res in resources.items() if isinstance(res, Mapping)]
    if not isinstance(resources, list):
        raise InputError(f"{source}: `deployment.resources` must be a list")
    found: list[DeclaredConnector] = []
    for res in resources:
        if not isinstance(res, Mapping) or res.get("type") != CONNECTOR_TYPE or res.get("delete"):
            continue
        inputs = reveal(res.get("inputs") or {}, UNKNOWN)  # plaintext decoded, ciphertext UNKNOWN
        outputs = reveal(res.get("outputs") or {}, UNKNOWN)
        desired = {k: v for k, v in inputs.items() if not str(k).startswith("__")}
        if desired.get("name") is None and isinstance(outputs.get("name"), str):
            desired["name"] = outputs["name"]  # auto-named: the deployed name is the one to compare
        urn = str(res.get("urn") or "")
        recorded = outputs.get("tools")
        connector_id = outputs.get("connector_id") or res.get("id")
        found.append(
            DeclaredConnector(
                resource=urn.rsplit("::", 1)[-1] or str(desired.get("name")),
                inputs=spec.normalize_inputs(desired),
                connector_id=connector_id if isinstance(connector_id, str) else None,
                recorded_tools=[t for t in recorded if isinstance(t, Mapping)] if isinstance(recorded, list) else None,
                line=_line_of(text, json.dumps(urn)) if urn else None,
            )
        )
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


def load_declared_yaml(path: str, stack: str | None = None) -> list[DeclaredConnector]:
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
        found.append(DeclaredConnector(resource=resource, inputs=resolve_secrets(props, _resolve_ref), line=line))
    return found


def connectors_line(path: str) -> int | None:
    """The line of a declarations file's ``connectors:`` key (where unmanaged findings point), or None."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return next((i for i, line in enumerate(text.splitlines(), start=1) if line.startswith("connectors:")), None)


def check_stack(path: str, stack: str) -> None:
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
    raise InputError(
        f"unknown stack {stack!r}: {path} has no `stacks: {stack}:` block "
        f"({'its stacks: ' + ', '.join(known) if known else 'it declares no stacks'}) and there is no "
        f"{overlay_path(path, stack).name}; fix: correct --stack, or add `stacks: {{{stack}: {{}}}}` "
        "for a stack without overrides"
    )


def select_connectors(
    declared: list[DeclaredConnector], names: Sequence[str], *, write_pins: bool
) -> list[DeclaredConnector]:
    """The declared connectors named by --connector (resource or connector name); an unknown name is an error."""
    wanted = set(names)
    chosen = [d for d in declared if d.resource in wanted or d.name in wanted]
    unknown = sorted(wanted - {d.resource for d in chosen} - {d.name for d in chosen})
    if unknown and not write_pins:  # with --write-pins a live name that is not declared works too
        raise InputError(
            f"--connector {', '.join(unknown)}: not declared in the source (declared: "
            f"{', '.join(sorted(d.resource for d in declared)) or 'none'})"
        )
    return chosen
