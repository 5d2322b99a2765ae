"""testres: a tiny resource plugin run from source, for the language host's tier (RunPlugin, import codegen, SDKs).

One type, ``testres:index:Thing`` (inputs ``value`` and a secret ``token``), kept in a JSON file named by
``TESTRES_STATE``. It exists so that the engine tier can run a plugin from ``PulumiPlugin.yaml``, import a
resource with ``pulumi import`` and generate an SDK before the project's own native provider arrives.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import main as serve

SCHEMA = {
    "name": "testres",
    "version": "0.0.1",
    "language": {"python": {"packageName": "pulumi_testres"}},
    "resources": {
        "testres:index:Thing": {
            "description": "A thing kept in a JSON file.",
            "inputProperties": {
                "value": {"type": "string"},
                "token": {"type": "string", "secret": True},
            },
            "requiredInputs": ["value"],
            "properties": {
                "value": {"type": "string"},
                "token": {"type": "string", "secret": True},
            },
            "required": ["value"],
        }
    },
}


def _store() -> Path:
    return Path(os.environ["TESTRES_STATE"])


def _load() -> dict[str, dict[str, str]]:
    return json.loads(_store().read_text()) if _store().exists() else {}


def _save(things: dict[str, dict[str, str]]) -> None:
    _store().write_text(json.dumps(things))


def _plain(props: dict[str, PropertyValue]) -> dict[str, str]:
    return {k: v.value for k, v in props.items() if isinstance(v.value, str)}


def _props(thing: dict[str, str]) -> dict[str, PropertyValue]:
    return {k: PropertyValue(v, is_secret=(k == "token")) for k, v in thing.items()}


class Things(p.Provider):
    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        return p.GetSchemaResponse(schema=json.dumps(SCHEMA))

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        thing = _plain(request.properties)
        if request.preview:
            return p.CreateResponse(properties=_props(thing))
        things = _load()
        thing_id = uuid.uuid4().hex[:12]
        things[thing_id] = thing
        _save(things)
        return p.CreateResponse(resource_id=thing_id, properties=_props(thing))

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        thing = _load().get(request.resource_id)
        if thing is None:
            if not request.properties:  # an import or a get: the id must exist
                raise KeyError(f"thing {request.resource_id} does not exist")
            return p.ReadResponse()
        inputs = {k: v for k, v in thing.items() if k != "token"}  # never hand a secret to generated code
        return p.ReadResponse(resource_id=request.resource_id, properties=_props(thing), inputs=_props(inputs))

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        old, new = _plain(request.old_state), _plain(request.new_inputs)
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return p.DiffResponse(
            changes=bool(changed),
            detailed_diff={k: p.PropertyDiff(p.PropertyDiffKind.UPDATE, input_diff=True) for k in changed},
        )

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        thing = _plain(request.news)
        if not request.preview:
            things = _load()
            things[request.resource_id] = thing
            _save(things)
        return p.UpdateResponse(properties=_props(thing))

    async def delete(self, request: p.DeleteRequest) -> None:
        things = _load()
        things.pop(request.resource_id, None)
        _save(things)


if __name__ == "__main__":
    serve(sys.argv, "0.0.1", Things())
