"""connectors.yaml as desired state: layers, per-stack overrides, validation (pure; errors at file:line:column).

:func:`load_declarations` (pure: PyYAML and :mod:`pulumi_mistral.core.spec`, no pulumi, no I/O beyond reading
the files) returns ``{resource name: desired inputs}`` for one stack, with secret references left as
:class:`SecretRef` objects; its signature is stable. Tools that must not import pulumi (``pulumi-mistral drift
--declared``) share its exact rules; ``declarations.program.declare_connectors`` resolves the references.

The file format (see docs/declarations.md)::

    version: 1                      # optional; the only version there is
    defaults:                       # merged into every connector (the connector's own values win)
      visibility: private
    connectors:                     # resource name -> properties; `name` defaults to the resource name
      docs:
        description: Docs search
        server: https://mcp.example.com/mcp
        headers:
          X-Api-Key: {secret: docsApiKey}       # from `pulumi config set --secret docsApiKey ...`
        auth_data:
          client_id: my-app
          client_secret: {env: DOCS_CLIENT_SECRET}
    stacks:                         # per-stack overrides, same shape as the top level (defaults, connectors)
      prod:
        connectors:
          docs: {server: "https://mcp.prod.example.com/mcp"}

Per-stack overrides may also live in an overlay file next to the base one, ``connectors.<stack>.yaml``
(keys ``defaults`` and ``connectors``). Layers apply in this order, later ones winning: base ``defaults``,
the stack's ``defaults`` (block, then overlay file), the connector's base properties, the stack's connector
properties (block, then overlay file). Maps merge key by key, any other value replaces, ``null`` removes a
property, and a connector set to ``null`` in a stack layer is not declared in that stack.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_mistral.core import spec
from pulumi_mistral.core.json_values import type_name
from pulumi_mistral.declarations.positions import MAX_DEPTH, Document, Issue, Location, PropertyPath, parse_file
from pulumi_mistral.errors import DeclarationError

__all__ = [
    "DECLARABLE_FIELDS",
    "SECRET_MAPS",
    "SecretRef",
    "load_declarations",
    "overlay_path",
    "resolve_secrets",
    "secret_references",
]

FORMAT_VERSION = 1
# What a declaration may set: the API inputs plus the provider's control inputs (name_prefix is internal).
DECLARABLE_FIELDS: tuple[str, ...] = (*spec.INPUT_FIELDS, "adopt", "tool_pins", "tool_drift")
TOP_LEVEL_KEYS: tuple[str, ...] = ("version", "defaults", "connectors", "stacks")
STACK_KEYS: tuple[str, ...] = ("defaults", "connectors")
OVERLAY_KEYS: tuple[str, ...] = ("version", "defaults", "connectors")
REF_KINDS: tuple[str, ...] = ("secret", "env")
# Maps whose every value is a secret, and the one secret inside auth_data.
SECRET_MAPS: tuple[str, ...] = ("headers", "connection_secrets")


@dataclass(frozen=True)
class SecretRef:
    """A reference to a secret kept outside the file: ``{secret: configKey}`` (stack config) or ``{env: VAR}``.

    ``key`` may carry a config namespace (``{secret: "mistral:docsKey"}``). Equality ignores the location.

        >>> SecretRef("secret", "docsApiKey")
        SecretRef(secret: docsApiKey)
    """

    kind: str
    key: str
    location: Location | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"SecretRef({self.kind}: {self.key})"

    def __str__(self) -> str:
        return f"{{{self.kind}: {self.key}}}"


# ---- one layer: shape checks, unknown keys, secret references --------------------------------------------------


def _hint(key: str, candidates: tuple[str, ...]) -> str:
    return spec.suggest(key, candidates)


def _check_keys(
    doc: Document, path: PropertyPath, value: Mapping[str, Any], allowed: tuple[str, ...], what: str
) -> None:
    for key in value:
        if key not in allowed:
            hint = _hint(key, allowed) or f"; allowed: {', '.join(allowed)}"
            doc.issue((*path, key), f"is not {what}{hint}", key=True)


# Stands in for a malformed reference (already reported), so validation does not report it a second time.
_INVALID_REF = SecretRef("invalid", "")


def _as_ref(doc: Document, path: PropertyPath, value: Any) -> SecretRef:
    """The reference written at ``path``, or ``_INVALID_REF`` (after recording why) when it is not one."""
    hint = (
        "fix: reference it as {secret: <config key>} (set with `pulumi config set --secret <config key> ...`) "
        "or {env: <VARIABLE>}"
    )
    if isinstance(value, SecretRef):
        return value
    if not isinstance(value, Mapping):
        shown = "written in the file" if isinstance(value, str) else f"a {type_name(value)}"
        doc.issue(path, f"is a secret but its value is {shown}; secrets are never written in the file; {hint}")
        return _INVALID_REF
    if len(value) != 1:
        doc.issue(path, f"a secret reference has exactly one key, secret or env; {hint}")
        return _INVALID_REF
    kind, key = next(iter(value.items()))
    if kind not in REF_KINDS:
        doc.issue((*path, kind), f"is not a kind of secret reference{_hint(kind, REF_KINDS)}; {hint}", key=True)
        return _INVALID_REF
    if not isinstance(key, str) or not key.strip():
        doc.issue((*path, kind), f"must name a {'config key' if kind == 'secret' else 'variable'} (a string)")
        return _INVALID_REF
    return SecretRef(kind, key, doc.value_at(path))


def _refs_in_props(doc: Document, path: PropertyPath, props: dict[str, Any]) -> None:
    """Replace the references in secret positions by SecretRef objects; literals there are errors."""
    for field_name in SECRET_MAPS:
        items = props.get(field_name)
        if isinstance(items, dict):
            for key, item in list(items.items()):
                if item is not None:  # null removes an inherited entry
                    items[key] = _as_ref(doc, (*path, field_name, key), item)
    auth = props.get("auth_data")
    if isinstance(auth, dict):
        if auth.get("client_secret") is not None:
            auth["client_secret"] = _as_ref(doc, (*path, "auth_data", "client_secret"), auth["client_secret"])
        client_id = auth.get("client_id")
        if isinstance(client_id, Mapping) and set(client_id) <= set(REF_KINDS):
            auth["client_id"] = _as_ref(doc, (*path, "auth_data", "client_id"), client_id)


def _props_layer(doc: Document, path: PropertyPath, value: Any, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        doc.issue(path, f"must be a map of connector properties (got {type_name(value)})")
        return {}
    _check_keys(doc, path, value, DECLARABLE_FIELDS, what)
    props = {k: v for k, v in value.items() if k in DECLARABLE_FIELDS}
    _refs_in_props(doc, path, props)
    return props


@dataclass
class _Layer:
    """Defaults and connectors of one layer (base, a stack block or an overlay file), with its document."""

    doc: Document
    prefix: PropertyPath
    defaults: dict[str, Any] = field(default_factory=dict)
    connectors: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # not a map: reported once, not validated again


def _layer(doc: Document, prefix: PropertyPath, value: Any, allowed: tuple[str, ...], *, base: bool) -> _Layer:
    layer = _Layer(doc, prefix)
    if value is None:
        return layer
    if not isinstance(value, dict):
        doc.issue(prefix, f"must be a map with keys {', '.join(allowed)} (got {type_name(value)})")
        return layer
    _check_keys(doc, prefix, value, allowed, "a known key here")
    if "version" in value and value["version"] != FORMAT_VERSION:
        doc.issue((*prefix, "version"), f"must be {FORMAT_VERSION} (the only format version there is)")
    layer.defaults = _props_layer(doc, (*prefix, "defaults"), value.get("defaults"), "a connector property") or {}
    if "name" in layer.defaults:
        doc.issue(
            (*prefix, "defaults", "name"),
            "cannot be a default (names are unique); fix: set name per connector",
            key=True,
        )
        layer.defaults.pop("name")
    connectors = value.get("connectors")
    if connectors is None:
        return layer
    if not isinstance(connectors, dict):
        doc.issue(
            (*prefix, "connectors"),
            f"must be a map of resource names to connector properties (got {type_name(connectors)})",
        )
        return layer
    for name, props in connectors.items():
        path = (*prefix, "connectors", name)
        parsed = _props_layer(doc, path, props, "a connector property")
        if props is not None and not isinstance(props, dict):
            layer.broken.add(name)
        layer.connectors[name] = ({} if parsed is None else parsed) if base else parsed
    return layer


# ---- merging with provenance ----------------------------------------------------------------------------------


class _Merged:
    """One connector's properties after merging layers, with the location each value came from."""

    def __init__(self, resource_name: str, where: Location) -> None:
        self.resource_name = resource_name
        self.where = where
        self.props: dict[str, Any] = {}
        self.marks: dict[PropertyPath, Location] = {}

    def apply(self, layer: _Layer, src: Mapping[str, Any], src_path: PropertyPath) -> None:
        self._merge(self.props, (), layer.doc, src, src_path)

    def _forget(self, rel: PropertyPath) -> None:
        for key in [k for k in self.marks if k[: len(rel)] == rel]:
            del self.marks[key]

    def _merge(
        self, dst: dict[str, Any], rel: PropertyPath, doc: Document, src: Mapping[str, Any], src_path: PropertyPath
    ) -> None:
        for key, value in src.items():
            here = (*rel, key)
            if value is None:
                dst.pop(key, None)
                self._forget(here)
                continue
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                self._merge(dst[key], here, doc, value, (*src_path, key))
                continue
            self._forget(here)
            dst[key] = _copy(value)
            # Only the paths inside this value: scanning every recorded path would be quadratic.
            for sub in _subpaths(value):
                written = (*src_path, key, *sub)
                loc = doc.values.get(written)
                if loc is not None:
                    target = (*here, *sub)
                    self.marks[target] = loc

    def location(self, prop: str) -> Location:
        """Where the property named by a dotted path (as spec reports it) was written."""
        best: tuple[int, Location] | None = None
        for path, loc in self.marks.items():
            dotted = ".".join(path)
            if dotted == prop:
                return loc
            if prop.startswith(dotted + ".") and (best is None or len(dotted) > best[0]):
                best = (len(dotted), loc)
        return best[1] if best else self.where


def _subpaths(value: Any, depth: int = 0) -> Iterator[PropertyPath]:
    """Every path inside ``value`` (itself first), as the walker recorded them (list indexes as strings)."""
    yield ()
    if depth > MAX_DEPTH:
        return
    items: Iterable[tuple[str, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    for key, item in items:
        for sub in _subpaths(item, depth + 1):
            yield (key, *sub)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# ---- the loader --------------------------------------------------------------------------------------------------


def overlay_path(path: str | os.PathLike[str], stack: str) -> Path:
    """The per-stack overlay file for ``path``: ``connectors.yaml`` -> ``connectors.<stack>.yaml``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.{stack}{p.suffix}")


def load_declarations(path: str | os.PathLike[str], stack: str | None = None) -> dict[str, dict[str, Any]]:
    """The connectors declared in ``path`` for ``stack``: ``{resource name: inputs}``, in file order (pure).

    Each value holds the merged, validated inputs (``name`` filled in from the resource name when not
    given); secrets are :class:`SecretRef` objects (resolve them with :func:`resolve_secrets`). With
    ``stack``, the ``stacks.<stack>`` block and the overlay file ``connectors.<stack>.yaml`` (if present)
    are applied. Every problem, in every file, is raised at once as one :class:`DeclarationError`.

    Example::

        decls = load_declarations("connectors.yaml", "prod")
        decls["docs"]["server"]        # 'https://mcp.prod.example.com/mcp'
        decls["docs"]["headers"]       # {'X-Api-Key': SecretRef(secret: docsApiKey)}
    """
    base_doc = parse_file(Path(path))
    docs = [base_doc]
    layers: list[_Layer] = []
    if base_doc.data is not None:
        if not isinstance(base_doc.data, dict):
            base_doc.issue(
                (), f"must be a map with the keys {', '.join(TOP_LEVEL_KEYS)} (got {type_name(base_doc.data)})"
            )
        else:
            if "connectors" not in base_doc.data:
                base_doc.issue((), "has no `connectors:` map; fix: add one (resource name -> properties)")
            layers.append(_layer(base_doc, (), base_doc.data, TOP_LEVEL_KEYS, base=True))
            stacks = base_doc.data.get("stacks")
            if stacks is not None and not isinstance(stacks, dict):
                base_doc.issue(("stacks",), f"must be a map of stack names to overrides (got {type_name(stacks)})")
            elif isinstance(stacks, dict):
                for name, block in stacks.items():
                    layer = _layer(base_doc, ("stacks", name), block, STACK_KEYS, base=False)
                    if name == stack:
                        layers.append(layer)
    if stack is not None and base_doc.data is not None:
        overlay = overlay_path(path, stack)
        if overlay.is_file():
            odoc = parse_file(overlay)
            docs.append(odoc)
            if odoc.data is not None:
                layers.append(_layer(odoc, (), odoc.data, OVERLAY_KEYS, base=False))
    issues = [i for d in docs for i in d.issues]
    result = _merge_layers(layers, issues) if layers else {}
    if issues:
        raise DeclarationError(issues)
    return result


def _merge_layers(layers: list[_Layer], issues: list[Issue]) -> dict[str, dict[str, Any]]:
    # Every declared name once, base order first (a list membership test here would be quadratic).
    names = dict.fromkeys(n for layer in layers for n in layer.connectors)
    result: dict[str, dict[str, Any]] = {}
    seen_names: dict[str, str] = {}
    for resource_name in names:
        dropped = any(
            resource_name in layer.connectors and layer.connectors[resource_name] is None for layer in layers[1:]
        )
        if dropped:
            continue
        first = next(layer for layer in layers if resource_name in layer.connectors)
        where = first.doc.key_at((*first.prefix, "connectors", resource_name))
        merged = _Merged(resource_name, where)
        for layer in layers:
            merged.apply(layer, layer.defaults, (*layer.prefix, "defaults"))
        for layer in layers:
            own = layer.connectors.get(resource_name)
            if own:
                merged.apply(layer, own, (*layer.prefix, "connectors", resource_name))
        props = spec.normalize_inputs(merged.props)
        if props.get("name") is None:
            props["name"] = resource_name
            merged.marks[("name",)] = where
        if any(resource_name in layer.broken for layer in layers):
            continue
        for failure in spec.validate_inputs(props, is_unknown=lambda v: isinstance(v, SecretRef)):
            issues.append(
                Issue(
                    merged.location(failure.property), f"connectors.{resource_name}.{failure.property}", failure.reason
                )
            )
        name = props.get("name")
        if isinstance(name, str):
            if name in seen_names:
                issues.append(
                    Issue(
                        merged.location("name"),
                        f"connectors.{resource_name}.name",
                        f"'{name}' is also the name of connectors.{seen_names[name]}; connector names "
                        "are unique in a workspace: fix: give one of them another name",
                    )
                )
            seen_names.setdefault(name, resource_name)
        result[resource_name] = props
    return result


# ---- secret references -----------------------------------------------------------------------------------------


def secret_references(declarations: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, SecretRef]]:
    """Every reference in ``declarations``: ``(resource name, dotted property path, ref)``, in order (pure).

    >>> secret_references({"docs": {"headers": {"X-Key": SecretRef("secret", "k")}}})
    [('docs', 'headers.X-Key', SecretRef(secret: k))]
    """
    found: list[tuple[str, str, SecretRef]] = []

    def walk(resource: str, path: PropertyPath, value: Any) -> None:
        if isinstance(value, SecretRef):
            found.append((resource, ".".join(path), value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(resource, (*path, key), item)

    for resource, props in declarations.items():
        walk(resource, (), props)
    return found


def resolve_secrets(props: Any, lookup: Callable[[SecretRef], Any]) -> Any:
    """``props`` with every :class:`SecretRef` replaced by ``lookup(ref)`` (pure; ``props`` is not changed).

    >>> resolve_secrets({"headers": {"X-Key": SecretRef("env", "KEY")}}, lambda ref: "v")
    {'headers': {'X-Key': 'v'}}
    """
    if isinstance(props, SecretRef):
        return lookup(props)
    if isinstance(props, Mapping):
        return {k: resolve_secrets(v, lookup) for k, v in props.items()}
    if isinstance(props, list):
        return [resolve_secrets(v, lookup) for v in props]
    return props
