"""A minimal policy pack: a connector whose description is the stack config value ``forbidden`` is refused."""

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def no_forbidden_description(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    forbidden = pulumi.Config("hostpack").get("forbidden")  # stack config, through the host's policy proxy
    if forbidden and args.props.get("description") == forbidden:
        report_violation(f"description '{forbidden}' is forbidden by the stack's hostpack:forbidden")


PolicyPack(
    "host-test-pack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="no-forbidden-description",
            description="A connector's description is not the stack's hostpack:forbidden value.",
            validate=no_forbidden_description,
        ),
    ],
)
