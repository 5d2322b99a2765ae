"""The connector lifecycle on plain values, shared by every door (the dynamic provider, the native one); no pulumi.

A door keeps one :class:`ProcessState` per process, builds one :class:`ConnectorLifecycle` over it with its own
``is_unknown`` predicate, and translates between its protocol and plain snake_case dicts::

    state = ProcessState(warn=sink)                       # default sink: "warning: ..." lines on stderr
    life = ConnectorLifecycle(state, is_unknown=door_is_unknown)
    life.configure(config, os.environ)
    checked = life.check(olds, news, random_seed=seed)    # Checked(inputs, failures)
    plan = life.diff(connector_id, old_outputs, new_inputs)  # Plan(changes=(PropertyChange, ...), ...)
    created = life.create(checked.inputs)                 # Created(connector_id, outputs)
    found = life.read(connector_id, old_outputs or None)  # ReadOutcome | None (None: gone, on a refresh)
    outputs = life.update(connector_id, old_outputs, new_inputs)
    life.delete(connector_id)

See docs/architecture.md ("lifecycle") for what each door is expected to do around these calls.
"""

from __future__ import annotations

from pulumi_mistral.lifecycle.connector import ConnectorLifecycle
from pulumi_mistral.lifecycle.outputs import OUTPUT_ONLY_FIELDS
from pulumi_mistral.lifecycle.results import (
    UNKNOWN,
    Autonaming,
    Checked,
    Created,
    Plan,
    PropertyChange,
    ReadOutcome,
    is_unknown,
)
from pulumi_mistral.lifecycle.state import ProcessState, Settings, settings_from_config, warn_on_stderr
from pulumi_mistral.lifecycle.tools import TOOL_OUTPUT_FIELDS

__all__ = [
    "OUTPUT_ONLY_FIELDS",
    "TOOL_OUTPUT_FIELDS",
    "UNKNOWN",
    "Autonaming",
    "Checked",
    "ConnectorLifecycle",
    "Created",
    "Plan",
    "ProcessState",
    "PropertyChange",
    "ReadOutcome",
    "Settings",
    "is_unknown",
    "settings_from_config",
    "warn_on_stderr",
]
