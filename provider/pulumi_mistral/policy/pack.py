"""The pulumi_policy adapter: every rule as a resource or stack validation for both Connector types, and the pack.

Needs the ``policy`` extra (``pulumi-policy``); nothing else in the package imports this module, so the
provider process never loads pulumi_policy. A policy pack's ``__main__.py`` is two lines::

    from pulumi_mistral.policy.pack import serve
    serve()

Each rule of :data:`~pulumi_mistral.policy.rules.RULES` becomes one policy of the same name, ``mandatory``
unless ``--policy-pack-config`` says otherwise, with its parameters as the policy's ``config_schema`` (so the
CLI checks their types and fills in their defaults). The policies look at the dynamic resource
(``pulumi-python:dynamic/connector:Connector``, snake_case properties) and the native one
(``mistral:index:Connector``, camelCase) alike, through :func:`~pulumi_mistral.policy.view.declared_view`.
A property not known during a preview is :data:`~pulumi_mistral.policy.view.UNKNOWN` to the rules, which
then say nothing: no false violation, and no "can't run policy during preview" notice either.

``connector-visibility`` has a remediation: at level ``remediate`` an unset ``visibility`` becomes
``private`` (the only fix that is never ambiguous); its validation still runs, as ``mandatory``.

The stack rules read each connector's inputs as its resource validations saw them (:class:`SeenInputs`), not the
outputs a stack validation is given: the native plugin's planned outputs of an update keep a property the
program removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from pulumi_mistral.policy.config import SCHEMAS, defaults, parameter_problems
from pulumi_mistral.policy.rules import RULES, Rule
from pulumi_mistral.policy.view import TYPES, UNKNOWN, ConnectorView, declared_view

__all__ = [
    "PACK_NAME",
    "PolicyConfigError",
    "SeenInputs",
    "params_of",
    "plain",
    "policies",
    "remediate_visibility",
    "serve",
    "view_of",
]

PACK_NAME = "mistral-connectors"
DESCRIPTION = "Mistral AI connectors: refuse unsafe connectors at preview (pulumi_mistral.policy)."


class PolicyConfigError(ValueError):
    """A parameter the CLI let through but the rule cannot use (an unknown name, a bad regular expression)."""


def plain(value: Any) -> Any:
    """A pulumi_policy property proxy as plain dicts and lists, with :data:`UNKNOWN` where a value is unknown."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in list(value):
            try:
                out[str(key)] = plain(value[key])
            except UnknownValueError:
                out[str(key)] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def view_of(resource_type: str, name: str, urn: str | None, props: Mapping[str, Any]) -> ConnectorView:
    """The rules' view of one resource as the policy API shows it."""
    return declared_view(name, plain(props), urn=urn, type_=resource_type)


def params_of(rule_id: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's parameters: the defaults, overlaid with the policy config the CLI sent (numbers arrive as
    doubles). Raises :class:`PolicyConfigError` for what the CLI's schema check lets through."""
    config = dict(plain(given or {}))
    problems = parameter_problems(rule_id, config)
    if problems:
        raise PolicyConfigError(f"policy config of {rule_id}: {'; '.join(problems)}")
    params = defaults(rule_id)
    for key, value in config.items():
        params[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    return params


class SeenInputs:
    """The inputs each connector's resource validations got in this run, by URN, for the stack validations.

    A stack validation is given each resource's outputs as its provider planned them, not its inputs. The
    dynamic provider plans none (the engine passes the inputs on), but the native plugin's plan of an update
    keeps every old output that the new inputs do not override: a ``toolDrift`` the program no longer sets
    still shows there, and ``connector-server-tool-policy`` would compare the old value. The engine runs the
    resource validations of every resource first, in this same process, with the inputs; a connector no
    resource validation saw (every resource rule disabled) falls back to its planned outputs.

        >>> seen = SeenInputs()
        >>> seen.record("urn:a", {"server": "https://a.example.com/mcp"})
        >>> seen.props("urn:a", {"server": "https://a.example.com/mcp", "toolDrift": "audit"})
        {'server': 'https://a.example.com/mcp'}
    """

    def __init__(self) -> None:
        self._by_urn: dict[str, Mapping[str, Any]] = {}

    def record(self, urn: str, props: Mapping[str, Any]) -> None:
        self._by_urn[urn] = props

    def props(self, urn: str, planned: Mapping[str, Any]) -> Mapping[str, Any]:
        """The inputs recorded for ``urn``, else ``planned`` (the outputs the stack validation was given)."""
        return self._by_urn.get(urn, planned)


def _resource_validation(rule: Rule, seen: SeenInputs) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in TYPES:
            return
        params = params_of(rule.id, args.get_config())
        props = plain(args.props)
        seen.record(args.urn, props)
        view = view_of(args.resource_type, args.name, args.urn, props)
        for message in rule.check(view, params):
            report_violation(message, None)

    return validate


def _stack_validation(rule: Rule, seen: SeenInputs) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        params = params_of(rule.id, args.get_config())
        views = [
            view_of(r.resource_type, r.name, r.urn, seen.props(r.urn, r.props))
            for r in args.resources
            if r.resource_type in TYPES
        ]
        for message, urn in rule.check(views, params):
            report_violation(message, urn)

    return validate


def remediate_visibility(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """An unset ``visibility`` becomes ``private``; anything else (set, or unknown) is left alone.

    The properties are changed in place and returned, as pulumi_policy documents: its proxy keeps every
    secret (headers, auth_data, connection_secrets) secret in what goes back to the engine.
    """
    if args.resource_type not in TYPES:
        return None
    try:
        current = args.props.get("visibility")
    except UnknownValueError:
        return None
    if current is not None:
        return None
    props = cast(Any, args.props)
    props["visibility"] = "private"
    return cast(Mapping[str, Any], props)


def policies(level: EnforcementLevel = EnforcementLevel.MANDATORY) -> list[Policy]:
    """Every rule as a pulumi_policy policy (resource rules for both Connector types, stack rules), sharing one
    :class:`SeenInputs`."""
    seen = SeenInputs()
    made: list[Policy] = []
    for rule in RULES:
        schema = PolicyConfigSchema(properties={k: dict(v) for k, v in SCHEMAS[rule.id].items()})
        if rule.scope == "resource":
            made.append(
                ResourceValidationPolicy(
                    name=rule.id,
                    description=rule.description,
                    validate=_resource_validation(rule, seen),
                    remediate=cast(Any, remediate_visibility) if rule.id == "connector-visibility" else None,
                    enforcement_level=level,
                    config_schema=schema,
                )
            )
        else:
            made.append(
                StackValidationPolicy(
                    name=rule.id,
                    description=rule.description,
                    validate=_stack_validation(rule, seen),
                    enforcement_level=level,
                    config_schema=schema,
                )
            )
    return made


def serve(name: str = PACK_NAME, *, level: EnforcementLevel = EnforcementLevel.MANDATORY) -> None:
    """Run the policy pack (blocks: the CLI talks to it over gRPC until it stops it)."""
    PolicyPack(name=name, policies=policies(level), enforcement_level=level, description=DESCRIPTION)
