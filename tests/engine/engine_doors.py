"""The two doors of the connector lifecycle as the engine tier drives them: one scenario, parametrized by door.

* the **dynamic** door: ``pulumi_mistral.Connector``, type ``pulumi-python:dynamic/connector:Connector``, its
  properties in the state in snake_case, a pickled ``__provider`` in its outputs;
* the **native** door: ``pulumi_mistral.native.Connector`` served by the plugin ``pulumi-resource-mistral``, type
  ``mistral:index:Connector``, its properties in the state in camelCase, a provider resource
  ``pulumi:providers:mistral`` holding its configuration.

The projects the shared scenarios use (full, many, tools, and the quickstart example) have native twins,
``projects/native-<name>``, written the same way with ``pulumi_mistral.native`` and exporting the same stack
outputs, so a scenario's assertions on stack outputs and on the API hold for both.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_mistral.plugin.values import camel

PROJECTS = Path(__file__).resolve().parent / "projects"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

__all__ = ["DOORS", "DYNAMIC", "NATIVE", "PROJECTS", "Door"]


@dataclass(frozen=True)
class Door:
    """One door: how its projects are found and how its connectors look in the state."""

    name: str
    connector_type: str
    provider_type: str

    def __str__(self) -> str:  # the test id
        return self.name

    @property
    def native(self) -> bool:
        return self.name == "native"

    def project(self, name: str) -> Path:
        """The project ``name`` on this door: ``projects/NAME`` (or ``examples/NAME``), or its native twin."""
        if self.native:
            return PROJECTS / f"native-{name}"
        return PROJECTS / name if (PROJECTS / name).is_dir() else EXAMPLES / name

    def prop(self, name: str) -> str:
        """A connector property's name in the state (``auth_data`` is ``authData`` on the native door)."""
        return camel(name) if self.native else name

    def connectors(self, stack: Any) -> list[dict[str, Any]]:
        """The stack's connectors as ``pulumi stack export`` shows them."""
        return list(stack.resources(self.connector_type))


DYNAMIC = Door("dynamic", "pulumi-python:dynamic/connector:Connector", "pulumi:providers:pulumi-python")
NATIVE = Door("native", "mistral:index:Connector", "pulumi:providers:mistral")
DOORS = (DYNAMIC, NATIVE)


def pip_install_target(source: Path, site: Path) -> None:
    """``pip install --target site source`` (no dependencies, no build isolation): a package the engine tier
    builds (a generated SDK, a declaring package) put where one program's ``PYTHONPATH`` finds it."""
    command = ["-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(site), str(source)]
    subprocess.run([sys.executable, *command], check=True, capture_output=True, timeout=300)
