"""`slipway access --online`: a deployed stack's matrix asked of IAM's policy simulator.

moto does not implement SimulatePrincipalPolicy, so IAM is a stub here: botocore's Stubber
checks each request against the IAM API model, and a fake client answers. What IAM would
decide is not rehearsed (docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from botocore.stub import Stubber
from slipway.access import online
from slipway.access.expectations import expectations
from slipway.access.matrix import NOT_EVALUATED, case_for
from slipway.access.stack import stack_access
from slipway.aws import (
    ArtifactStore,
    ArtifactStoreArgs,
    GithubDeployment,
    Roles,
    RolesArgs,
    StackContext,
)
from slipway.aws.registry import Registry, RegistryArgs
from slipway.cli import app
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_pulumi
from typer.testing import CliRunner


def _program() -> None:
    ctx = StackContext("churn", "prod", "ML Team", load_preset("prod"))
    store = ArtifactStore("churn-prod", ArtifactStoreArgs(ctx))
    registry = Registry("churn-prod", RegistryArgs(ctx))
    Roles(
        "churn-prod",
        RolesArgs(
            ctx,
            bucket_arn=store.bucket_arn,
            kms_key_arn=store.kms_key_arn,
            model_package_group_arn=registry.group_arn,
            github=GithubDeployment("example-org/churn", drift_monitor=True),
        ),
    )
    pulumi.export("preset", "prod")
    pulumi.export("bucketName", store.bucket_name)
    pulumi.export("kmsKeyArn", store.kms_key_arn)


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pulumi(_program, project="churn", stack="prod")


def _export(run: ProgramRun) -> dict[str, Any]:
    """The run as `pulumi stack export` writes a deployment (version 3)."""
    resources: list[dict[str, Any]] = [
        {
            "urn": "urn:pulumi:prod::churn::pulumi:pulumi:Stack::churn-prod",
            "type": "pulumi:pulumi:Stack",
            "custom": False,
            "outputs": run.outputs,
        }
    ]
    for r in run.resources:
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "custom": r.custom,
                "inputs": r.inputs,
                "outputs": r.state,
                "parent": r.parent_urn,
            }
        )
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


class FakeIam:
    """Answers every simulation with ``decision`` and keeps the requests."""

    def __init__(self, decision: str = "implicitDeny") -> None:
        self.decision = decision
        self.calls: list[dict[str, Any]] = []

    def simulate_principal_policy(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        return {
            "EvaluationResults": [
                {
                    "EvalActionName": params["ActionNames"][0],
                    "EvalDecision": self.decision,
                    "MatchedStatements": [],
                }
            ]
        }


def test_an_exported_stack_reads_as_the_program_run(run: ProgramRun) -> None:
    exported = online.run_from_export(json.loads(json.dumps(_export(run))))
    assert online.project_of(exported) == "churn"
    offline, back = stack_access(run, "churn", "prod"), stack_access(exported, "churn", "prod")
    assert back.roles == offline.roles
    assert back.resource_policies == offline.resource_policies
    assert back.outputs == offline.outputs


def test_each_request_is_one_simulation_of_the_role_and_trusts_are_not_evaluated(
    run: ProgramRun, tmp_path: Path
) -> None:
    export = tmp_path / "prod.json"
    export.write_text(json.dumps(_export(run)))
    iam = FakeIam("implicitDeny")
    matrix = online.check("prod", tmp_path, export, client=iam)
    trusts = [r for r in matrix.rows if r.expectation.request.action.startswith("sts:Assume")]
    assert trusts and matrix.not_evaluated() == trusts
    assert {r.decision.decision for r in trusts} == {NOT_EVALUATED}
    assert len(iam.calls) == len(matrix.rows) - len(trusts)
    # IAM denied everything: exactly the must-allow rows it could judge are mismatches
    wanted = [r for r in matrix.rows if r.evaluated and r.expectation.allow]
    assert matrix.mismatches() == wanted and wanted
    deploy = stack_access(run, "churn", "prod").roles["deploy"].arn
    assert {c["PolicySourceArn"] for c in iam.calls} >= {deploy}


def test_the_requests_are_valid_simulate_principal_policy_calls(run: ProgramRun) -> None:
    """botocore's Stubber refuses a parameter the IAM API model does not have or types."""
    stack = stack_access(run, "churn", "prod")
    cases = [case_for(e, stack, [stack]) for e in expectations(stack, run)]
    picked = [
        next(c for c in cases if c.resource_policy is not None and not c.documented_keys),
        next(c for c in cases if any(isinstance(v, tuple) for v in c.request.context.values())),
        next(c for c in cases if c.resource_policy is None and not c.documented_keys),
    ]
    client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    simulator = online.SimulatePrincipalPolicy(client)
    with Stubber(client) as stub:
        for case in picked:
            params = simulator.request(case)
            answer = {
                "EvaluationResults": [
                    {
                        "EvalActionName": case.request.action,
                        "EvalDecision": "allowed",
                        "MatchedStatements": [{"SourcePolicyId": "churn-prod-deploy-policy"}],
                    }
                ]
            }
            stub.add_response("simulate_principal_policy", answer, params)
        decisions = simulator.evaluate(picked)
        stub.assert_no_pending_responses()
    assert {d.decision for d in decisions} == {"Allowed"}
    assert decisions[0].statements == ("churn-prod-deploy-policy",)


def test_the_command_needs_online_and_says_what_is_wrong(tmp_path: Path) -> None:
    cli = CliRunner()
    result = cli.invoke(app, ["access", "--stack", "prod"])
    assert result.exit_code == 2 and "--online: required" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = cli.invoke(app, ["access", "--online", "--stack", "prod", "--export", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: stack export: no deployment.resources (not `pulumi stack export`?)"
    )
