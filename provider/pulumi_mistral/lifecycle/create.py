"""The connector create: POST with recovery after ambiguous failures and 409s, adoption, and rollback.

Transactional: if :func:`create_connector` raises, nothing it made is left behind (an adopted connector stays:
it was there before). Recovery never duplicates: a create whose answer was lost is looked up by name, and a
connector carrying exactly what was sent is taken as ours.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

from pulumi_mistral.core import diff as _diff
from pulumi_mistral.errors import ConflictError, MistralError, NotFoundError
from pulumi_mistral.lifecycle.outputs import CREATE_FIELDS, connector_dict, matches
from pulumi_mistral.lifecycle.state import ProcessState

__all__ = ["create_connector", "delete_quietly"]

_PATCH_AFTER_CREATE: tuple[str, ...] = ("connection_config", "connection_secrets")
# After an ambiguous create failure the connector may become visible a little later: look it up a few times.
_RECOVERY_LOOKUPS = 4
_RECOVERY_DELAY_S = 0.25


def create_connector(state: ProcessState, inputs: Mapping[str, Any]) -> tuple[Any, bool]:
    """The connector for checked ``inputs``: created, recovered, or adopted (``adopt``); ``(connector, adopted)``."""
    name, client = inputs["name"], state.client()
    connector: Any = None
    if inputs.get("adopt"):
        with contextlib.suppress(NotFoundError):
            connector = client.get(name, fetch_connection_secrets=True)
    if connector is not None:
        _refuse_a_second_resource(state, connector, name)
        return _adopt(state, connector, inputs), True
    connector = _post(state, inputs)
    patch = {k: inputs[k] for k in _PATCH_AFTER_CREATE if inputs.get(k) is not None}
    if patch:
        try:
            connector = client.update(connector.id, **patch)
        except MistralError as exc:
            delete_quietly(state, connector.id)  # transactional create: leave nothing half-made behind
            raise MistralError(
                f"connector '{name}' was created but setting {', '.join(sorted(patch))} failed ({exc.message}); "
                "it was deleted again, so nothing was left behind: fix the cause and run the update again"
            ) from exc
    return connector, False


def delete_quietly(state: ProcessState, connector_id: str) -> None:
    """Undo a create: delete the connector, whatever the answer (best effort), and drop the caches."""
    with contextlib.suppress(MistralError):
        state.client().delete(connector_id)
    state.wrote(connector_id)


def _post(state: ProcessState, inputs: Mapping[str, Any]) -> Any:
    from pulumi_mistral.client import UNSET

    # name, description and server are always set once check() has passed; the other fields may be absent.
    name, description, server = inputs["name"], inputs["description"], inputs["server"]
    optional = {
        k: (inputs[k] if inputs.get(k) is not None else UNSET)
        for k in CREATE_FIELDS
        if k not in ("name", "description", "server")
    }
    for attempt in range(2):  # a second POST only when the first certainly did not land
        try:
            created = state.client().create(name=name, description=description, server=server, **optional)
            state.remember_created(created.id)  # at once: another resource's 409 may look the name up now
            return created
        except ConflictError as exc:
            # The name is taken. A connector that is exactly what this stack declares is our own earlier
            # create whose answer was lost (in this run, or in an earlier one whose look-ups failed too):
            # recover it. Anything else belongs to someone else: another resource, or made elsewhere.
            found, taken = _find_ours(state, inputs)
            if found is not None:
                return found
            if not taken:
                raise ConflictError(
                    f"a connector named '{name}' exists (409) but looking it up to see whether it is this "
                    "stack's own failed; run the deployment again",
                    status_code=409,
                ) from exc
            raise ConflictError(
                f"a connector named '{name}' already exists in this workspace with other settings. If another "
                f"resource of this stack also declares name='{name}', rename one of them (adopt=True would leave "
                "two resources managing one connector); if it was made elsewhere (the console, another stack), "
                "set adopt=True to take it over and manage it from this resource, or choose another name (or "
                "omit name to get a unique auto-generated one)",
                status_code=409,
            ) from exc
        except MistralError as exc:
            if not getattr(exc, "may_have_landed", False):
                raise
            found, taken = _find_ours(state, inputs)
            if found is not None:
                return found
            if taken:
                raise ConflictError(
                    f"creating connector '{name}' failed ambiguously and a connector with that name but "
                    f"different settings exists; if another resource of this stack also declares name='{name}', "
                    "rename one of them; otherwise set adopt=True to take it over, or choose another name",
                    status_code=409,
                ) from exc
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _find_ours(state: ProcessState, inputs: Mapping[str, Any]) -> tuple[Any, bool]:
    """After a create whose outcome is unknown, or a 409: ``(connector, taken)``.

    ``connector`` is the one holding the name when it carries exactly what we send (it is ours), else None;
    ``taken`` says a connector with other settings holds the name. A connector this process created for
    another resource is never ours: that is two resources declaring one name. A few bounded look-ups ride
    out a server that is still failing.
    """
    name = inputs["name"]
    for i in range(_RECOVERY_LOOKUPS):
        try:
            found = state.client().get(name, fetch_connection_secrets=True)
        except MistralError:
            found = None  # not there (yet), or the server is still unwell: try again after a pause
        if found is not None:
            _refuse_a_second_resource(state, found, name)
            if not matches(found, inputs):
                return None, True
            state.remember_created(found.id)  # recovered: ours from now on
            return found, False
        time.sleep(_RECOVERY_DELAY_S * (i + 1))
    return None, False


def _refuse_a_second_resource(state: ProcessState, connector: Any, name: str) -> None:
    if state.created_here(connector.id):
        raise ConflictError(
            f"two resources of this stack declare name='{name}': this deployment has just created (or taken "
            f"over) connector '{name}' for another resource; rename one of them (adopt=True would leave two "
            "resources managing one connector, and every refresh would show changes)",
            status_code=409,
        )


def _adopt(state: ProcessState, connector: Any, inputs: Mapping[str, Any]) -> Any:
    live = _diff.live_state(connector_dict(connector), None)
    wanted_vis = inputs.get("visibility")
    if wanted_vis is not None and live.get("visibility") not in (None, wanted_vis):
        raise MistralError(
            f"cannot adopt connector '{inputs['name']}': its visibility is '{live.get('visibility')}' but "
            f"'{wanted_vis}' is declared, and visibility cannot be changed in place; declare "
            f"visibility='{live.get('visibility')}' or delete the existing connector first"
        )
    payload = _diff.update_payload(live, inputs)
    adopted = state.client().update(connector.id, **payload) if payload else connector
    state.remember_created(adopted.id)
    return adopted
