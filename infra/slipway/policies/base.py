"""Building blocks of the pack's policies: declaring one, reading what Pulumi hands it.

A policy is a pulumi-policy ``ResourceValidationPolicy`` (one resource's inputs, before it
is created or changed) or ``StackValidationPolicy`` (every resource's outputs, after the
update). ``resource_policy``/``stack_policy`` wrap a check that yields problem messages
and record which resource types the policy judges (``JUDGES``), so the offline rehearsal
(``slipway.policies.offline``) can show each policy met real resources.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from slipway.presets import Preset, PresetError, load_preset

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
# Components whose children are registered by another plugin (pulumi-eks runs in Node.js):
# a real preview judges those children, the in-process rehearsal never sees them.
REMOTE_COMPONENT_PREFIXES = ("eks:index:",)

JUDGES: dict[str, Callable[[str], bool]] = {}
"""Policy name -> whether it judges a resource type (built-in and plugin policies alike)."""

ResourceCheck = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackValidationArgs], Iterable[tuple[str, str | None]]]


def _judges(types: Iterable[str] | Callable[[str], bool]) -> Callable[[str], bool]:
    if callable(types):
        return types
    judged = frozenset(types)
    return judged.__contains__


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str] | Callable[[str], bool],
    check: ResourceCheck,
    *,
    enforcement: EnforcementLevel = MANDATORY,
    remediation: str | None = None,
) -> ResourceValidationPolicy:
    """A policy that runs ``check`` on each resource of ``types`` (type tokens, or a
    predicate on the type token) and reports what it yields."""
    judged = JUDGES[name] = _judges(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if judged(args.resource_type):
            for problem in check(args):
                report(problem, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        remediation_steps=remediation,
    )


def stack_policy(
    name: str,
    description: str,
    types: Iterable[str],
    check: StackCheck,
    *,
    enforcement: EnforcementLevel = MANDATORY,
    remediation: str | None = None,
) -> StackValidationPolicy:
    """A policy over the whole stack; ``check`` yields (message, URN of the culprit).
    ``types``: the resource types it looks at."""
    JUDGES[name] = _judges(types)

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for problem, urn in check(args):
            report(problem, urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        remediation_steps=remediation,
    )


def stack_preset(args: ResourceValidationArgs | StackValidationArgs) -> Preset:
    """The preset the stack's ``slipway:preset`` config names; not applicable without one.

    The Pulumi CLI hands a policy pack the stack's configuration (``PULUMI_CONFIG``), which
    pulumi-policy loads before each check.
    """
    import pulumi

    name = pulumi.Config("slipway").get("preset")
    if not name:
        args.not_applicable("the stack has no slipway:preset config (not a Slipway stack)")
    try:
        return load_preset(str(name))
    except PresetError as error:
        args.not_applicable(str(error))
    raise AssertionError("unreachable")  # pragma: no cover - not_applicable raises


def component_types(urn: str) -> list[str]:
    """Types of the components ``urn``'s resource sits in, outermost first."""
    qualified = urn.split("::")[2] if urn.count("::") >= 3 else ""
    return qualified.split("$")[:-1]


def inside_remote_component(urn: str) -> str | None:
    """The remote component (e.g. ``eks:index:Cluster``) that created the resource, if any."""
    for type_ in component_types(urn):
        if type_.startswith(REMOTE_COMPONENT_PREFIXES):
            return type_
    return None


def statements(document: Any) -> Iterator[Mapping[str, Any]]:
    """Statements of an IAM policy document (JSON text or mapping), lists normalized."""
    parsed = json.loads(document) if isinstance(document, str) else document
    if not isinstance(parsed, Mapping):
        return
    found = parsed.get("Statement", [])
    for statement in [found] if isinstance(found, Mapping) else found:
        yield {
            key: [value] if key in LIST_KEYS and isinstance(value, str) else value
            for key, value in statement.items()
        }


LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value) if isinstance(value, Sequence) else [value]


def of_type(resources: Sequence[PolicyResource], type_: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == type_]


def targets(setting: PolicyResource, prop: str, resource: PolicyResource) -> bool:
    """Whether ``setting``'s ``prop`` names ``resource``: by the dependency Pulumi recorded
    (known even in a preview), else by value (its id or name)."""
    if resource in setting.property_dependencies.get(prop, []):
        return True
    value = setting.props.get(prop)
    names = {resource.props.get(key) for key in ("id", "bucket", "name", "arn")}
    return value is not None and value in names - {None}
