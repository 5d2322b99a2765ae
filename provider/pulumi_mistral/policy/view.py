"""One snake_case view of a connector, whatever declared it: the dynamic or the native resource, or the live API.

The rules read a :class:`ConnectorView`, never raw properties. :func:`declared_view` takes the properties a
policy sees (snake_case from the dynamic resource, plus ``__provider``; camelCase from the native
``mistral:index:Connector``, see ``schema.json``) and keeps the connector's fields under their snake_case
names; :func:`live_view` takes a connector as the API returns it. A value not known yet (a preview of a
computed input) is :data:`UNKNOWN`, and a rule that needs it says nothing rather than guess.

    >>> declared_view("docs", {"server": "https://x.example.com/mcp", "iconUrl": "https://x/i.png"}).get("icon_url")
    'https://x/i.png'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_mistral.core.names import camel
from pulumi_mistral.core.spec import (
    ALL_FIELDS,
    AUTH_DATA_FIELDS,
    UNKNOWN,
    holds_unknown,
    ints_from_floats,
    is_auto_name,
)

__all__ = [
    "CAMEL_TO_SNAKE",
    "DYNAMIC_TYPE",
    "NATIVE_TYPE",
    "TYPES",
    "UNKNOWN",
    "ConnectorView",
    "camel",
    "declared_view",
    "is_known",
    "live_view",
]

DYNAMIC_TYPE = "pulumi-python:dynamic/connector:Connector"
NATIVE_TYPE = "mistral:index:Connector"
TYPES: tuple[str, ...] = (DYNAMIC_TYPE, NATIVE_TYPE)


# Both spellings of every field, and of the auth_data keys, to the snake_case one.
CAMEL_TO_SNAKE: dict[str, str] = {camel(f): f for f in (*ALL_FIELDS, *AUTH_DATA_FIELDS)}


def is_known(value: Any) -> bool:
    """False for :data:`UNKNOWN` and for a map or list holding it anywhere."""
    return not holds_unknown(value)


def _snake(value: Any, *, keys: bool) -> Any:
    if isinstance(value, Mapping):
        # Only the auth_data keys are renamed inside a value: header and pin names are the user's own.
        return {
            (CAMEL_TO_SNAKE.get(str(k), str(k)) if keys else str(k)): _snake(v, keys=False) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_snake(v, keys=False) for v in value]
    return ints_from_floats(value)


@dataclass(frozen=True)
class ConnectorView:
    """A connector's fields under their snake_case names (``props``), and where it comes from.

    ``resource`` is the Pulumi resource name (or the live connector's name), ``urn`` the resource's URN when
    there is one, ``type`` its type token (``"live"`` for a connector read from the API).
    """

    resource: str
    props: Mapping[str, Any] = field(default_factory=dict)
    urn: str | None = None
    type: str = DYNAMIC_TYPE

    def get(self, name: str) -> Any:
        """A field's value: None when it is not set, :data:`UNKNOWN` when it is not known yet."""
        return self.props.get(name)

    @property
    def label(self) -> str:
        """How messages name the connector: its name when known, else its resource name."""
        name = self.get("name")
        return name if isinstance(name, str) and name else self.resource

    @property
    def auto_named(self) -> bool:
        """True when the connector's name is drawn by the provider (no ``name`` input, or a drawn one)."""
        name, prefix = self.get("name"), self.get("name_prefix")
        if isinstance(prefix, str):
            return name is None or name is UNKNOWN or (isinstance(name, str) and is_auto_name(name, prefix))
        return name is None and self.type != "live"

    @property
    def base_name(self) -> Any:
        """The name a person chose: the ``name`` input, or for an auto-named connector its prefix (the
        ``name_prefix`` of the dynamic resource, the resource name of the native one)."""
        if not self.auto_named:
            return self.get("name")
        prefix = self.get("name_prefix")
        return prefix if prefix is not None else self.resource


def declared_view(
    resource: str, props: Mapping[str, Any], *, urn: str | None = None, type_: str = DYNAMIC_TYPE
) -> ConnectorView:
    """The view of a declared connector from its resource properties, in either spelling.

    Keys that are not connector fields (``__provider``, outputs such as ``connector_id``) are left out;
    numbers the engine sent as doubles are whole numbers again.
    """
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = CAMEL_TO_SNAKE.get(str(key), str(key))
        if name in ALL_FIELDS and value is not None:
            out[name] = _snake(value, keys=name == "auth_data")
    return ConnectorView(resource=resource, props=out, urn=urn, type=type_)


def live_view(connector: Mapping[str, Any]) -> ConnectorView:
    """The view of a live connector (``Connector.model_dump()``): only the fields the API shows. A field the
    API did not return is :data:`UNKNOWN` (the real API may leave out ``visibility``), never "unset"."""
    props = {
        k: UNKNOWN if connector.get(k) is None else connector[k]
        for k in ("name", "description", "server", "icon_url", "visibility", "system_prompt")
    }
    return ConnectorView(
        resource=str(connector.get("name") or connector.get("id") or "?"), props=props, urn=None, type="live"
    )
