"""`pulumi-mistral export`: every connector of a workspace as connectors.yaml (and stack code) to adopt them.

The bulk import story: Pulumi cannot ``import`` dynamic resources, so the export declares every live connector
as it is, with ``adopt: true``. Deployed, each declaration takes over the existing connector (no create, no
update), and the next preview shows no changes. Secret values are never exported (the API may not even return
them): each secret becomes a ``{secret: <config key>}`` reference, and the command prints the
``pulumi config set --secret`` line for each key.

    pulumi-mistral export --output connectors.yaml --python __main__.py
    pulumi-mistral export --import-file import.json      # then: pulumi import --file import.json

``--import-file`` writes Pulumi's import file instead, for the native door (``mistral:index:Connector``, which
``pulumi import`` supports): one entry per connector, named after it. Secret inputs are not in it (the plugin's
import reads leave them out, so the printed code holds none); the command lists them for the program to supply.

Pure parts (:func:`connector_declaration`, :func:`render_yaml`, :func:`render_python`) take wire connectors
and return text, so they are tested without a server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import yaml

from pulumi_mistral._version import __version__
from pulumi_mistral.cli import positive_int, require_api_key
from pulumi_mistral.cli.files import write_atomic
from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.core import spec
from pulumi_mistral.errors import MistralError

__all__ = [
    "Export",
    "add_arguments",
    "config_key",
    "connector_declaration",
    "export_connectors",
    "render_import_file",
    "render_python",
    "render_python_explicit",
    "render_yaml",
    "run",
]

PROGRESS_EVERY = 100
# Plain (non-secret) fields, in the order they are written.
_PLAIN_FIELDS: tuple[str, ...] = (
    "description",
    "server",
    "visibility",
    "icon_url",
    "system_prompt",
    "connection_config",
)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]


def config_key(*parts: str) -> str:
    """A camelCase stack-config key from ``parts`` (letters and digits only, so any shell and Pulumi take it).

    >>> config_key("docs-search", "header", "X-Api-Key")
    'docsSearchHeaderXApiKey'
    """
    words = [w for part in parts for w in _words(part)]
    if not words:
        return "secret"
    head, *rest = words
    key = head[:1].lower() + head[1:] + "".join(w[:1].upper() + w[1:] for w in rest)
    return key if key[:1].isalpha() else f"c{key}"


@dataclass
class Export:
    """What an export produced: declarations by connector name, the secret config keys, warnings."""

    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # connector id by name
    secret_keys: list[tuple[str, str]] = field(default_factory=list)  # (config key, what it holds)
    warnings: list[str] = field(default_factory=list)
    _used_keys: set[str] = field(default_factory=set)

    def _key(self, *parts: str) -> str:
        base = config_key(*parts)
        key, n = base, 2
        while key in self._used_keys:  # distinct names may camelCase alike (a-b, a_b)
            key, n = f"{base}{n}", n + 1
        self._used_keys.add(key)
        return key

    def secret_ref(self, what: str, *parts: str) -> dict[str, str]:
        key = self._key(*parts)
        self.secret_keys.append((key, what))
        return {"secret": key}


def _data(connector: Any) -> dict[str, Any]:
    if isinstance(connector, Mapping):
        return dict(connector)
    return dict(connector.model_dump(mode="json"))


def _secret_names(data: Mapping[str, Any], names_key: str, map_key: str) -> Any:
    """The names of a secret map: as the API lists them, else the keys of the map when it came back whole."""
    names = data.get(names_key)
    if names is None and isinstance(data.get(map_key), Mapping):
        names = sorted(data[map_key])
    return names


def connector_declaration(connector: Any, export: Export) -> dict[str, Any]:
    """One live connector (wire model or dict) as a declaration: plain fields as live, secrets as references.

    A field the API did not return is left out (not managed), never written as empty.
    """
    data = _data(connector)
    name = data["name"]
    decl: dict[str, Any] = {}
    for key in _PLAIN_FIELDS:
        value = data.get(key)
        if value is None or (key == "connection_config" and not value):
            continue
        decl[key] = value
    header_names = _secret_names(data, "header_names", "headers")
    if header_names:
        decl["headers"] = {
            h: export.secret_ref(f"header {h} of connector {name}", name, "header", h) for h in header_names
        }
    elif header_names is None:
        export.warnings.append(
            f"connector {name}: the API did not list its header names; if it sends headers, "
            "declare them by hand (with secret references) before deploying"
        )
    auth = data.get("auth_data")
    if isinstance(auth, Mapping) and auth.get("client_id") is not None:
        decl["auth_data"] = {
            "client_id": auth["client_id"],
            "client_secret": export.secret_ref(f"OAuth client secret of connector {name}", name, "client secret"),
        }
    secret_names = _secret_names(data, "connection_secret_names", "connection_secrets")
    if secret_names:
        decl["connection_secrets"] = {
            s: export.secret_ref(f"connection secret {s} of connector {name}", name, "secret", s) for s in secret_names
        }
    problems = spec.validate_inputs(
        {**decl, "name": name}, is_unknown=lambda v: isinstance(v, Mapping) and set(v) == {"secret"}
    )
    for failure in problems:
        export.warnings.append(f"connector {name}: {failure} (fix it in the file before deploying)")
    return decl


def export_connectors(connectors: Iterable[Any], *, progress: TextIO | None = None) -> Export:
    """Declarations for every connector, sorted by name (stable, reviewable diffs between exports)."""
    export = Export()
    collected: list[dict[str, Any]] = []
    for count, connector in enumerate(connectors, start=1):
        collected.append(_data(connector))
        if progress is not None and count % PROGRESS_EVERY == 0:
            print(f"export: read {count} connectors...", file=progress, flush=True)
    for data in sorted(collected, key=lambda d: d["name"]):
        export.connectors[data["name"]] = connector_declaration(data, export)
        export.ids[data["name"]] = str(data["id"])
    return export


class _Flow(dict):  # type: ignore[type-arg]
    """A map written inline: secret references read as one token, ``{secret: docsHeaderXApiKey}``."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_FOLDED_BREAKS = frozenset("\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # Multi-line prompts read better as blocks; PyYAML falls back to quoting when a block cannot hold them.
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) else None
    if _FOLDED_BREAKS & set(data):
        # Unicode line breaks would be folded into spaces in plain, single-quoted and block scalars; escape them.
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(str, _represent_str)


def _flow_refs(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"secret"}:
            return _Flow(value)
        return {k: _flow_refs(v) for k, v in value.items()}
    return value


def _public_url(url: str) -> str:
    """``url`` without user info or query (either could carry a credential): it is written into the file."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def render_yaml(export: Export, *, source: str | None = None, now: datetime | None = None) -> str:
    """The connectors.yaml text for ``export``: a header comment, ``adopt: true`` defaults, every connector."""
    source = _public_url(source) if source else None
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"# Exported by pulumi-mistral {__version__} export on {when}"
        + (f" from {source}" if source else "")
        + f": {len(export.connectors)} connectors.",
        "# Deploying this file adopts the existing connectors (adopt: true): nothing is created or changed.",
        "# Secret values are never exported. Set each referenced key first:",
        "#   pulumi config set --secret <key> <value>    (the export printed one line per key)",
        "",
    ]
    body = {"version": 1, "defaults": {"adopt": True}, "connectors": _flow_refs(export.connectors)}
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return "\n".join(header) + text


def render_python(yaml_path: str) -> str:
    """A Pulumi program (``__main__.py``) that declares every connector of ``yaml_path`` (relative to it)."""
    return f'''"""Connectors of this workspace, declared in {yaml_path} (generated by `pulumi-mistral export`)."""

import pulumi

import pulumi_mistral

connectors = pulumi_mistral.declare_connectors({yaml_path!r})

pulumi.export("connector_ids", {{name: c.connector_id for name, c in connectors.items()}})
'''


def _py(value: Any) -> str:
    """``value`` as Python source; a secret reference becomes a secret read from stack config."""
    if isinstance(value, Mapping):
        if set(value) == {"secret"}:
            return f"config.require_secret({value['secret']!r})"
        return "{" + ", ".join(f"{k!r}: {_py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    return repr(value)


def render_python_explicit(export: Export) -> str:
    """A Pulumi program with one ``Connector(...)`` call per exported connector (no YAML at deploy time)."""
    lines = [
        '"""Connectors of this workspace, one Connector each (generated by `pulumi-mistral export`)."""',
        "",
        "import pulumi",
        "",
        "from pulumi_mistral import Connector",
        "",
        "config = pulumi.Config()",
        "connectors: dict[str, Connector] = {}",
        "",
    ]
    for name, decl in export.connectors.items():
        lines.append(f"connectors[{name!r}] = Connector(")
        lines.append(f"    {name!r},")
        lines.append(f"    name={name!r},")
        lines.extend(f"    {key}={_py(value)}," for key, value in decl.items())
        lines.append("    adopt=True,")
        lines.append(")")
    lines += ["", 'pulumi.export("connector_ids", {name: c.connector_id for name, c in connectors.items()})', ""]
    return "\n".join(lines)


NATIVE_TYPE = "mistral:index:Connector"


def render_import_file(export: Export) -> str:
    """Pulumi's import file (``pulumi import --file``) for every exported connector, on the native door."""
    resources = [{"type": NATIVE_TYPE, "name": name, "id": export.ids[name]} for name in export.connectors]
    return json.dumps({"resources": resources}, indent=2) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `pulumi-mistral export`."""
    parser.add_argument(
        "--output",
        "-o",
        default="connectors.yaml",
        help="where to write the declarations ('-' for stdout; default: connectors.yaml)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help="also write a Pulumi program (e.g. __main__.py) that declares them",
    )
    parser.add_argument(
        "--python-style",
        choices=("declare", "explicit"),
        default="declare",
        help="with --python: a program around declare_connectors (default) or one Connector(...) call per connector",
    )
    parser.add_argument(
        "--import-file",
        metavar="PATH",
        default=None,
        help="write Pulumi's import file for the native resource instead (then `pulumi import "
        "--file PATH`); secret inputs are listed, never written",
    )
    parser.add_argument(
        "--server-url",
        default=None,
        help="API base URL (default: MISTRAL_SERVER_URL, else the Mistral API); "
        "the API key is read from MISTRAL_API_KEY",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--page-size", type=positive_int, default=MAX_PAGE_SIZE, help=argparse.SUPPRESS)
    parser.epilog = "Exit status: 0 written, 1 error (usage errors included)."


def run(args: argparse.Namespace) -> int:
    """Run `pulumi-mistral export` (see :func:`add_arguments`); returns the exit status.

    Example::

        MISTRAL_API_KEY=... pulumi-mistral export --output connectors.yaml --python __main__.py
    """
    from pulumi_mistral.client import ConnectorsClient

    err = sys.stderr
    if args.import_file:
        targets = [args.import_file]
    else:
        targets = [p for p in (None if args.output == "-" else args.output, args.python) if p]
    existing = [p for p in targets if Path(p).exists()]
    if existing and not args.force:
        # A hand-written connectors.yaml or program must never be replaced by surprise.
        print(
            f"pulumi-mistral export: {', '.join(existing)} already exists; fix: choose another --output/--python "
            "or pass --force to overwrite",
            file=err,
        )
        return 1
    try:
        require_api_key()
        with ConnectorsClient(server_url=args.server_url) as client:
            source = args.server_url or os.environ.get("MISTRAL_SERVER_URL")
            connectors = client.iter_connectors(page_size=args.page_size, fetch_connection_secrets=False)
            export = export_connectors(connectors, progress=err)
    except MistralError as exc:
        print(f"pulumi-mistral export: {exc.message}", file=err)
        return 1
    if args.import_file:
        return _write_import_file(export, args.import_file)
    try:
        _write_outputs(args, export, render_yaml(export, source=source))
    except OSError as exc:
        print(f"pulumi-mistral export: cannot write: {exc}", file=err)
        return 1
    _report(args, export)
    return 0


def _write_outputs(args: argparse.Namespace, export: Export, text: str) -> None:
    """connectors.yaml to ``--output`` (or stdout), and the program to ``--python`` when asked."""
    to_stdout = args.output == "-"
    if to_stdout:
        sys.stdout.write(text)
    else:
        write_atomic(args.output, text)
    if args.python:
        py_path = Path(args.python)
        target = "connectors.yaml" if to_stdout else os.path.relpath(Path(args.output), py_path.parent or ".")
        explicit = args.python_style == "explicit"
        program = render_python_explicit(export) if explicit else render_python(Path(target).as_posix())
        write_atomic(py_path, program)


def _report(args: argparse.Namespace, export: Export) -> None:
    """The warnings, what was written where, and the secrets to set before deploying (never their values)."""
    to_stdout = args.output == "-"
    for warning in export.warnings:
        print(f"export: warning: {warning}", file=sys.stderr)
    out = sys.stderr if to_stdout else sys.stdout
    where = "stdout" if to_stdout else args.output
    program = f" and a program to {args.python}" if args.python else ""
    print(f"export: wrote {len(export.connectors)} connectors to {where}{program}", file=out)
    if export.secret_keys:
        print(
            f"export: {len(export.secret_keys)} secrets are referenced, not exported; set each before deploying:",
            file=out,
        )
        for key, what in export.secret_keys:
            print(f"  pulumi config set --secret {key}    # {what}; type or pipe the value on stdin", file=out)


def _write_import_file(export: Export, path: str) -> int:
    """``--import-file``: the import file, and the secret inputs the program must supply (never their values)."""
    try:
        write_atomic(path, render_import_file(export))
    except OSError as exc:
        print(f"pulumi-mistral export: cannot write: {exc}", file=sys.stderr)
        return 1
    for warning in export.warnings:
        print(f"export: warning: {warning}", file=sys.stderr)
    print(
        f"export: wrote an import file for {len(export.connectors)} connectors to {path}; next: "
        f"pulumi import --file {path}"
    )
    if export.secret_keys:
        print(
            f"export: {len(export.secret_keys)} secret inputs are not imported (the API keeps them; the printed "
            "code leaves them out); declare each in the program from a secret, e.g. config.require_secret(KEY):"
        )
        for key, what in export.secret_keys:
            print(f"  {key}    # {what}")
    return 0
