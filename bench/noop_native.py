"""The native door's floor: a native provider plugin that does nothing but echo, serving ``mistral:index:Connector``.

`bench/engine.py` installs this file as an executable ``pulumi-resource-mistral`` (its first line pointing at the
benchmark's interpreter) in a directory of its own, and the floor project's ``plugins.providers`` entry points the
``mistral`` package there; the program, the generated SDK and the resource token are the measured project's. So the
engine does the same work for both (registrations, Check, Diff, state), and the plugin pays what any Python native
plugin pays (the interpreter, the SDK's experimental servicer, gRPC) and nothing of ours: no lifecycle, no client,
no API. Its Configure answers as ours does; its create and read answer outputs of a Connector's shape (the
output-only fields with fixed values), so both stacks hold state of the same size.
"""

from __future__ import annotations

import sys
import uuid

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import main

VERSION = "0.0.0"  # replaced by the version of the package when installed (the SDK asks for that plugin version)
STAMP = "2026-01-01T00:00:00.000000Z"


def _outputs(id_: str, inputs: dict[str, PropertyValue]) -> dict[str, PropertyValue]:
    outs = dict(inputs)
    outs.update(
        connectorId=PropertyValue(id_),
        createdAt=PropertyValue(STAMP),
        modifiedAt=PropertyValue(STAMP),
        authType=PropertyValue("none"),
        toolNames=PropertyValue([]),
        visibility=inputs.get("visibility") or PropertyValue("shared_workspace"),
    )
    return outs


class NoopProvider(p.Provider):
    """Answers every step at once and sends nothing anywhere."""

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        return p.ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=True)

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        return p.CheckResponse(inputs=request.new_inputs)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        return p.DiffResponse(changes=False)

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        id_ = str(uuid.uuid4())
        return p.CreateResponse(resource_id=id_, properties=_outputs(id_, request.properties))

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        return p.ReadResponse(resource_id=request.resource_id, properties=request.properties, inputs=request.inputs)

    async def delete(self, request: p.DeleteRequest) -> None:
        return None


if __name__ == "__main__":
    main(sys.argv[1:], VERSION, NoopProvider())
