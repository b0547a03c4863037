"""Helpers of the component tests: a stack context per preset, policy statements."""

from __future__ import annotations

import json
from typing import Any

from slipway.aws import StackContext
from slipway.presets import load_preset
from slipway.testing import ProgramRun, RecordedResource, iter_policy_statements

OWNER = "ML Team"


def stack_context(preset: str = "dev", project: str = "churn") -> StackContext:
    return StackContext(
        project=project, environment=preset, owner=OWNER, preset=load_preset(preset)
    )


def statements(resource: RecordedResource, key: str = "policy") -> list[dict[str, Any]]:
    return list(iter_policy_statements(resource.inputs[key]))


def policy_of(run: ProgramRun, role_name: str) -> list[dict[str, Any]]:
    """Statements of the inline policy attached to the role registered as ``role_name``."""
    role = run.named(role_name)
    for attached in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        if attached.inputs["role"] == role.state["name"]:
            return statements(attached)
    raise AssertionError(f"no inline policy on {role_name}")


def trust_of(run: ProgramRun, role_name: str) -> list[dict[str, Any]]:
    return list(iter_policy_statements(json.loads(run.named(role_name).inputs["assumeRolePolicy"])))
